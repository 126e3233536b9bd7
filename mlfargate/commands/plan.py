"""``mlfargate plan DIR``: init, plan to a saved plan, summarize it, run the gate on it."""

from __future__ import annotations

import argparse

from mlfargate.commands._common import (
    Subparsers,
    add_engine_args,
    emit_json,
    engine_from,
    err,
    examples,
    out,
    progress,
    render_gate,
    render_summary,
)


def register(sub: Subparsers) -> None:
    p = sub.add_parser(
        "plan",
        help="init, plan to a saved plan, summary, policy gate",
        description="Run terraform init (no input, lock file respected) and plan to DIR/.mlfargate/tfplan, "
        "show a summary per resource type with replacements called out, then run the policy gate on "
        "the plan. `mlfargate apply` applies exactly this plan.",
        epilog=examples(
            "mlfargate plan environments/prod",
            "mlfargate plan environments/prod --terraform embedded --plugin-dir ~/provider-mirror",
            "mlfargate plan environments/prod --json > plan.json",
        ),
    )
    p.add_argument("dir", help="Terraform workspace directory")
    add_engine_args(p)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from mlfargate import flow
    from mlfargate.image import pin

    workspace = flow.resolve_workspace(args.dir)
    # Events: what Ctrl-C does is said while Terraform stops (stderr), as apply and destroy say it.
    with progress(args.json) as show:
        result = flow.plan(engine_from(args), workspace, on_event=show)
    image = pin.note(workspace, "plan")  # the image the service will run, or what to do first
    if args.json:
        emit_json({**result.to_dict(), "image": image})
        return 0 if result.gate.ok else 1
    render_summary(result.summary)
    render_gate(result.gate.reports, every_waiver=f"`mlfargate check {args.dir} --verbose`")
    out(f"saved plan: {result.saved.plan_file}")
    if image:
        out(image)
    if not result.gate.ok:
        err(f"error: {flow.GateFailedError(result.gate.reports)}; `mlfargate apply` will refuse this plan")
        return 1
    return 0
