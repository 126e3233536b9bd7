"""``mlfargate destroy DIR``: plan -destroy, summary, typed confirmation, apply."""

from __future__ import annotations

import argparse

from mlfargate.commands._common import (
    Subparsers,
    add_engine_args,
    emit_json,
    engine_from,
    examples,
    out,
    progress,
    typed_confirmation,
)


def register(sub: Subparsers) -> None:
    p = sub.add_parser(
        "destroy",
        help="plan -destroy, summary, typed confirmation, apply",
        description="Destroy everything the workspace manages: plan -destroy, show the summary, ask for "
        "the workspace name to be typed (unless --yes), apply.",
        epilog=examples(
            "mlfargate destroy environments/dev", "mlfargate destroy environments/dev --yes --json"
        ),
    )
    p.add_argument("dir", help="Terraform workspace directory")
    add_engine_args(p)
    p.add_argument("--yes", action="store_true", help="do not ask for the workspace name")
    p.add_argument("--json", action="store_true", help="machine-readable output (needs --yes)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from mlfargate import flow

    workspace = flow.resolve_workspace(args.dir)
    with progress(args.json) as show:
        result = flow.destroy(engine_from(args), workspace, typed_confirmation(args.yes), on_event=show)
    if not result.applied:
        if args.json:
            emit_json({"destroyed": False, "summary": result.summary.to_dict()})
        else:
            out("nothing to destroy")
        return 0
    if args.json:
        emit_json(
            {"destroyed": True, "summary": result.summary.to_dict(), "seconds": round(result.seconds, 2)}
        )
    else:
        out(f"destroyed in {result.seconds:.1f}s")
    return 0
