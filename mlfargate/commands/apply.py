"""``mlfargate apply DIR``: apply the saved plan, only if it matches the configuration and passes the gate."""

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
    render_gate,
    typed_confirmation,
)


def register(sub: Subparsers) -> None:
    p = sub.add_parser(
        "apply",
        help="apply the saved plan (gate + typed confirmation)",
        description="Apply the plan saved by `mlfargate plan`. Refuses a missing plan, a plan made from "
        "another configuration, and a plan that fails the policy gate; asks for the workspace name to be "
        "typed unless --yes. Ctrl-C stops Terraform gracefully (state saved).",
        epilog=examples(
            "mlfargate plan environments/prod && mlfargate apply environments/prod",
            "mlfargate apply environments/prod --yes --json",
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
    engine = engine_from(args)
    try:
        with progress(args.json) as show:
            result = flow.apply(engine, workspace, typed_confirmation(args.yes or args.json), on_event=show)
    except flow.GateFailedError as failed:
        if not args.json:
            render_gate(failed.reports, every_waiver=f"`mlfargate check {args.dir} --verbose`")
        raise
    from mlfargate.image import pin

    image = pin.note(workspace, "apply")  # the image the service runs, or the next step of a first deployment
    if args.json:
        summary = result.summary.to_dict()
        emit_json({"applied": True, "summary": summary, "seconds": round(result.seconds, 2), "image": image})
    else:
        out(f"applied in {result.seconds:.1f}s")
        if image:
            out(image)
    return 0
