"""``mlfargate apply DIR``: apply the saved plan, only if it matches the configuration and passes the gate."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
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
from mlfargate.commands.plan import render_summary
from mlfargate.errors import MlfargateError


class NotConfirmedError(MlfargateError):
    exit_code = 1


def register(sub: Subparsers) -> None:
    p = sub.add_parser(
        "apply",
        help="apply the saved plan (gate + typed confirmation)",
        description="Apply the plan saved by `mlfargate plan`. Refuses a missing plan, a plan made from "
        "another configuration, and a plan that fails the policy gate; asks for the workspace name to be "
        "typed unless --yes. Ctrl-C stops Terraform gracefully (state saved).",
    )
    p.add_argument("dir", help="Terraform workspace directory")
    add_engine_args(p)
    p.add_argument("--yes", action="store_true", help="do not ask for the workspace name")
    p.add_argument("--json", action="store_true", help="machine-readable output (needs --yes)")
    p.set_defaults(handler=run)


def confirm(workspace: Path, verb: str, yes: bool) -> None:
    name = workspace.resolve().name
    if yes:
        return
    if not sys.stdin.isatty():
        raise NotConfirmedError(
            f"refusing to {verb} without confirmation: stdin is not a terminal; pass --yes"
        )
    typed = input(f"Type the workspace name ({name}) to {verb}: ").strip()
    if typed != name:
        raise NotConfirmedError(f"not confirmed: typed {typed!r}, expected {name!r}; nothing was changed")


def progress_printer(json_mode: bool) -> Any:
    def show(event: Any) -> None:
        if event.kind == "interrupt":
            err(event.message)
            return
        if json_mode or event.kind not in ("start", "complete", "errored", "progress", "log"):
            return
        count = f"{event.done}/{event.total}" if event.total else f"{event.done}"
        err(f"[{event.elapsed_s:6.1f}s] {count:>7} {event.message.strip()}")

    return show


def apply_saved(engine: Any, saved: Any, summary: Any, json_mode: bool) -> Any:
    from mlfargate.terraform import operations as tfops

    return tfops.apply(engine, saved, on_event=progress_printer(json_mode), total=summary.operations)


def run(args: argparse.Namespace) -> int:
    from mlfargate.terraform import plan_summary
    from mlfargate.terraform import state as tfstate

    workspace = workspace_dir(args.dir)
    engine = engine_from(args)
    saved = tfstate.load_saved_plan(workspace)
    if saved.destroy:
        raise MlfargateError(f"{workspace}: the saved plan is a destroy plan; run `mlfargate destroy`")
    reports = run_gate(workspace, saved.plan_json)
    if not all(r.ok for r in reports):
        if not args.json:
            render_gate(reports)
        raise gate_failed(reports)
    summary = plan_summary.summarize_file(saved.plan_json)
    if not args.json:
        render_summary(summary)
    confirm(workspace, "apply", args.yes or args.json)
    result = apply_saved(engine, saved, summary, args.json)
    if args.json:
        emit_json({"applied": True, "summary": summary.to_dict(), "seconds": round(result.seconds, 2)})
    else:
        out(f"applied in {result.seconds:.1f}s")
    return 0
