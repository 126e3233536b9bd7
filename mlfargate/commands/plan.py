"""``mlfargate plan DIR``: init, plan to a saved plan, summarize it, run the gate on it."""

from __future__ import annotations

import argparse
import threading
from typing import Any

from mlfargate.commands._common import Subparsers, emit_json, err, out
from mlfargate.commands.check import (
    add_engine_args,
    engine_from,
    gate_failed,
    render_gate,
    run_gate,
    workspace_dir,
)


def register(sub: Subparsers) -> None:
    p = sub.add_parser(
        "plan",
        help="init, plan to a saved plan, summary, policy gate",
        description="Run terraform init (no input, lock file respected) and plan to DIR/.mlfargate/tfplan, "
        "show a summary per resource type with replacements called out, then run the policy gate on "
        "the plan. `mlfargate apply` applies exactly this plan.",
    )
    p.add_argument("dir", help="Terraform workspace directory")
    add_engine_args(p)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=run)


def render_summary(summary: Any) -> None:
    t = summary.totals
    out(f"plan: {t.add} to add, {t.change} to change, {t.destroy} to destroy, {t.replace} to replace")
    for rtype, c in sorted(summary.by_type.items()):
        parts = [f"{n} {label}" for n, label in ((c.add, "add"), (c.change, "change"),
                 (c.destroy, "destroy"), (c.replace, "REPLACE")) if n]  # fmt: skip
        out(f"  {rtype}: {', '.join(parts)}")
    for r in summary.replacements:
        why = f" ({r.reason})" if r.reason else ""
        paths = f" because of {', '.join(r.paths)}" if r.paths else ""
        out(f"  REPLACE {r.address}{why}{paths}: destroyed and re-created")


def run(args: argparse.Namespace) -> int:
    from mlfargate.policy import gate
    from mlfargate.terraform import operations as tfops
    from mlfargate.terraform import plan_summary

    workspace = workspace_dir(args.dir)
    engine = engine_from(args)
    # Load checkov while Terraform plans, so the gate that follows is warm.
    threading.Thread(target=gate.warm_up, daemon=True).start()
    tfops.init(engine, workspace)
    saved = tfops.plan(engine, workspace)
    summary = plan_summary.summarize_file(saved.plan_json)
    reports = run_gate(workspace, saved.plan_json)
    ok = all(r.ok for r in reports)
    if args.json:
        emit_json(
            {
                "engine": engine.describe(),
                "plan_file": str(saved.plan_file),
                "summary": summary.to_dict(),
                "gate": {"ok": ok, "reports": [r.to_dict() for r in reports]},
            }
        )
        return 0 if ok else 1
    render_summary(summary)
    render_gate(reports)
    out(f"saved plan: {saved.plan_file}")
    if not ok:
        err(f"error: {gate_failed(reports)}; `mlfargate apply` will refuse this plan")
        return 1
    return 0
