"""``mlfargate check DIR``: the policy gate (checkov in-process) on a workspace and its saved plan.

Also holds what plan/apply/destroy/doctor share: the engine options and the gate's rendering."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from mlfargate.commands._common import Subparsers, emit_json, err, out
from mlfargate.errors import MlfargateError


class GateFailedError(MlfargateError):
    """The policy gate found unwaived failures (details printed above the error line)."""

    exit_code = 1


def add_engine_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--terraform",
        metavar="PATH",
        help="terraform/tofu binary to run, or 'embedded' (default: $MLFARGATE_TERRAFORM, then "
        "terraform or tofu on PATH, then the embedded engine)",
    )
    parser.add_argument("--plugin-dir", metavar="DIR", help="provider mirror directory for init (air-gapped)")
    parser.add_argument(
        "--cli-config", metavar="FILE", help="Terraform CLI config (e.g. with a filesystem_mirror)"
    )


def engine_from(args: argparse.Namespace) -> Any:
    from mlfargate.terraform import engine

    return engine.select(args.terraform, args.plugin_dir, args.cli_config)


def workspace_dir(value: str) -> Path:
    """The workspace named on the command line, resolved once here: Terraform runs with ``-chdir``,
    so every path handed to it (the saved plan above all) must be absolute."""
    path = Path(value)
    if not path.is_dir():
        raise MlfargateError(f"{value}: not a directory; give a Terraform workspace directory")
    return path.resolve()


def run_gate(workspace: Path, plan_json: Path | None) -> list[Any]:
    """Scan the workspace and, when given, the plan JSON; returns the PolicyReports."""
    from mlfargate.policy import gate

    reports = [gate.scan_directory(workspace)]
    if plan_json is not None and plan_json.is_file():
        reports.append(gate.scan_plan(plan_json, workspace))
    return reports


def render_gate(reports: list[Any]) -> None:
    for report in reports:
        what = "configuration" if report.kind == "directory" else "plan"
        verdict = "pass" if report.ok else "FAIL"
        out(
            f"gate ({what} {report.target}): {verdict}: {len(report.failed)} failed, "
            f"{len(report.waived)} waived, {report.passed} passed"
            + (f", {report.unread} unchecked" if report.unread else "")
        )
        for path in report.parsing_errors:
            out(f"  UNPARSED {path}: checkov could not parse it, so it is unchecked")
        for line in report.unchecked:
            out(f"  UNCHECKED {line}")
        for severity, findings in report.by_severity().items():
            out(f"  {severity}")
            for f in findings:
                note = f" ({f.note})" if f.note else ""
                out(f"    {f.check_id} {f.resource} at {f.location}: {f.check_name}{note}")
        for w in report.waived:
            out(f"  waived {w.check_id} {w.resource} at {w.location}: {w.reason}")


def gate_failed(reports: list[Any]) -> GateFailedError:
    failed = sum(len(r.failed) for r in reports)
    unread = sum(r.unread for r in reports)
    parts = []
    if failed:
        parts.append(
            f"{failed} unwaived finding(s): fix them or waive each with `#checkov:skip=CHECK_ID:reason` in "
            "the resource"
        )
    if unread:
        parts.append(f"{unread} unchecked file(s) or module call(s): see UNPARSED/UNCHECKED above")
    return GateFailedError(f"policy gate failed with {'; '.join(parts)}")


def register(sub: Subparsers) -> None:
    p = sub.add_parser(
        "check",
        help="policy gate: checkov on a workspace (and its saved plan)",
        description="Run the policy gate (checkov, in-process) on a Terraform workspace, following "
        "local modules, and on its saved plan when `mlfargate plan` made one. Exits 1 when any "
        "unwaived failure remains.",
    )
    p.add_argument("dir", help="Terraform workspace directory")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from mlfargate.terraform.state import saved_plan_paths

    workspace = workspace_dir(args.dir)
    _, plan_json, _ = saved_plan_paths(workspace)
    reports = run_gate(workspace, plan_json)
    ok = all(r.ok for r in reports)
    if args.json:
        emit_json({"ok": ok, "reports": [r.to_dict() for r in reports]})
        return 0 if ok else 1
    render_gate(reports)
    if not ok:
        err(f"error: {gate_failed(reports)}")
        return 1
    return 0
