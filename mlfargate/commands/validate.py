"""``mlfargate validate SPEC``: shape and AWS rules; exit 2 with every error line on failure."""

from __future__ import annotations

import argparse
from pathlib import Path

from mlfargate.commands._common import Subparsers, emit_json, out
from mlfargate.spec.model import DEFAULT_FILE, Spec
from mlfargate.spec.rules import load_valid


def summary(spec: Spec) -> str:
    c = spec.compute
    where = {"fargate": "Fargate", "ec2": "ECS on EC2", "managed_instances": "ECS Managed Instances"}[
        c.capacity
    ]
    hw = (
        f"{c.gpus} GPU/task on {', '.join(c.instance_types)}"
        if c.gpus
        else f"{c.cpu} CPU units/{c.memory} MiB"
    )
    spot = f"{spec.spot.spot_percentage}% Spot above {spec.spot.on_demand_base} on-demand"
    sched = f", {len(spec.scaling.schedules)} schedule(s)" if spec.scaling.schedules else ""
    return (
        f"{spec.prefix} in {spec.aws.region}: {where}, {hw}, {spot}, "
        f"{spec.scaling.min_tasks}..{spec.scaling.max_tasks} tasks{sched}"
    )


def run(args: argparse.Namespace) -> int:
    spec = load_valid(Path(args.spec))
    if args.json:
        emit_json(
            {"valid": True, "name": spec.name, "environment": spec.environment, "summary": summary(spec)}
        )
    else:
        out(f"ok: {summary(spec)}")
    return 0


def register(sub: Subparsers) -> None:
    p = sub.add_parser("validate", help="check a spec against its shape and the AWS rules")
    p.add_argument("spec", nargs="?", default=DEFAULT_FILE, help=f"spec file (default {DEFAULT_FILE})")
    p.add_argument("--json", action="store_true", help="print a JSON object instead of a line")
    p.set_defaults(handler=run)
