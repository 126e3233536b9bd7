"""``mlfargate check DIR``: the policy gate (checkov in-process) on a workspace and its saved plan."""

from __future__ import annotations

import argparse

from mlfargate.commands._common import Subparsers, emit_json, err, examples, progress, render_gate


def register(sub: Subparsers) -> None:
    p = sub.add_parser(
        "check",
        help="policy gate: checkov on a workspace (and its saved plan)",
        description="Run the policy gate (checkov, in-process) on a Terraform workspace, following "
        "local modules, and on its saved plan when `mlfargate plan` made one. Prints the verdict, every "
        "failure, and the waivers grouped by check (every waiver with --verbose or --json); says what it "
        "is checking while it works (stderr). Exits 1 when any unwaived failure remains.",
        epilog=examples(
            "mlfargate check environments/prod",
            "mlfargate check environments/prod --verbose",
            "mlfargate check environments/prod --json",
        ),
    )
    p.add_argument("dir", help="Terraform workspace directory")
    p.add_argument(
        "--verbose",
        action="store_true",
        help="list every waiver (default: grouped by check, one reason each)",
    )
    p.add_argument("--json", action="store_true", help="machine-readable output (every waiver; no progress)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from mlfargate import flow

    workspace = flow.resolve_workspace(args.dir)
    with progress(args.json) as show:  # what it is checking, while checkov works (stderr)
        result = flow.gate(workspace, flow.saved_plan_json(workspace), on_event=show)
    if args.json:
        emit_json(result.to_dict())
        return 0 if result.ok else 1
    render_gate(result.reports, verbose=args.verbose)
    if not result.ok:
        err(f"error: {flow.GateFailedError(result.reports)}")
        return 1
    return 0
