"""``mlfargate destroy DIR``: plan -destroy, summary, typed confirmation, apply."""

from __future__ import annotations

import argparse

from mlfargate.commands._common import Subparsers, emit_json, out
from mlfargate.commands.apply import apply_saved, confirm
from mlfargate.commands.check import add_engine_args, engine_from, workspace_dir
from mlfargate.commands.plan import render_summary


def register(sub: Subparsers) -> None:
    p = sub.add_parser(
        "destroy",
        help="plan -destroy, summary, typed confirmation, apply",
        description="Destroy everything the workspace manages: plan -destroy, show the summary, ask for "
        "the workspace name to be typed (unless --yes), apply.",
    )
    p.add_argument("dir", help="Terraform workspace directory")
    add_engine_args(p)
    p.add_argument("--yes", action="store_true", help="do not ask for the workspace name")
    p.add_argument("--json", action="store_true", help="machine-readable output (needs --yes)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from mlfargate.terraform import operations as tfops
    from mlfargate.terraform import plan_summary
    from mlfargate.terraform import state as tfstate

    workspace = workspace_dir(args.dir)
    engine = engine_from(args)
    tfops.init(engine, workspace)
    saved = tfops.plan(engine, workspace, destroy=True)
    summary = plan_summary.summarize_file(saved.plan_json)
    if summary.empty:
        tfstate.discard_saved_plan(workspace)
        if args.json:
            emit_json({"destroyed": False, "summary": summary.to_dict()})
        else:
            out("nothing to destroy")
        return 0
    if not args.json:
        render_summary(summary)
    confirm(workspace, "destroy", args.yes)
    result = apply_saved(engine, saved, summary, args.json)
    if args.json:
        emit_json({"destroyed": True, "summary": summary.to_dict(), "seconds": round(result.seconds, 2)})
    else:
        out(f"destroyed in {result.seconds:.1f}s")
    return 0
