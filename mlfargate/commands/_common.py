"""The one module the CLI commands share (besides the core): printing, tables, the engine options, and
how the deploy flow's results and events are shown in a terminal. With ``cli.py``, the only layer that
prints. Commands import the core and this module, never each other."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from mlfargate import flow
    from mlfargate.live.collect import Watcher
    from mlfargate.policy.report import PolicyReport
    from mlfargate.spec.model import Spec
    from mlfargate.terraform.engine import Engine
    from mlfargate.terraform.plan_summary import PlanSummary

#: The type of the object ``register(subparsers)`` receives.
if TYPE_CHECKING:
    Subparsers = argparse._SubParsersAction[argparse.ArgumentParser]
else:
    Subparsers = argparse._SubParsersAction


class OutputClosed(Exception):
    """The reader of stdout or stderr went away (``mlfargate cost x.yaml | head -1``): the command stops
    there, quietly, as a Unix tool does (``cli.main`` exits 141, 128 + SIGPIPE)."""


def _write(stream: TextIO, text: str) -> None:
    try:
        stream.write(text)
    except BrokenPipeError:  # also through checkov's colorama wrapper of sys.stdout
        raise OutputClosed from None


def emit_json(data: Any) -> None:
    """Print one JSON document (commands with ``--json`` print exactly this to stdout)."""
    _write(sys.stdout, json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")


def out(line: str = "") -> None:
    _write(sys.stdout, f"{line}\n")


def err(line: str) -> None:
    """One line on stderr: whatever it echoes (a path, a Terraform message), it stays one printable line."""
    from mlfargate.errors import one_line

    _write(sys.stderr, f"{one_line(line)}\n")


# --------------------------------------------------------------------------------------------------
# Tables and numbers


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[int] = ()) -> list[str]:
    """Plain-text columns; ``right`` lists the columns to right-align (numbers)."""
    widths = [max(len(str(c)) for c in col) for col in zip(headers, *rows, strict=False)]

    def fmt(cells: Sequence[str]) -> str:
        return "  ".join(
            str(c).rjust(w) if i in right else str(c).ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=False))
        ).rstrip()

    return [fmt(headers), "  ".join("-" * w for w in widths), *(fmt(r) for r in rows)]


def money(value: float) -> str:
    return f"{value:,.2f}"


def qty(value: float) -> str:
    return f"{value:,.2f}".rstrip("0").rstrip(".") if value else "0"


# --------------------------------------------------------------------------------------------------
# Terraform engine options


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


def engine_from(args: argparse.Namespace) -> Engine:
    from mlfargate.terraform import engine

    return engine.select(args.terraform, args.plugin_dir, args.cli_config)


# --------------------------------------------------------------------------------------------------
# The live service (status, doctor SPEC)


def add_live_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--endpoint-url",
        metavar="URL",
        help="send every AWS call to this endpoint (an emulator such as moto_server); "
        "default: $MLFARGATE_AWS_ENDPOINT_URL, else AWS",
    )
    parser.add_argument(
        "--cluster", metavar="C", help="ECS cluster (default: the spec's <name>-<environment>)"
    )
    parser.add_argument(
        "--service", metavar="S", help="ECS service (default: the spec's <name>-<environment>)"
    )


def watch_seconds(text: str) -> int:
    """``--watch SECONDS``: a whole number of seconds in the allowed range, else one clear error."""
    from mlfargate.errors import MlfargateError
    from mlfargate.live.watch import MAX_EVERY_S, MIN_EVERY_S

    try:
        value = int(text)
    except ValueError:
        value = 0
    if not MIN_EVERY_S <= value <= MAX_EVERY_S:
        raise MlfargateError(
            f"--watch {text!r}: give a whole number of seconds from {MIN_EVERY_S} to {MAX_EVERY_S} (default 15)"
        )
    return value


def live_watcher(spec: Spec, args: argparse.Namespace) -> Watcher:
    """The live stage's watcher for ``spec`` with the command's --endpoint-url/--cluster/--service."""
    from mlfargate.errors import MlfargateError
    from mlfargate.live.collect import watcher_for

    url = args.endpoint_url
    if url is not None and not url.startswith(("http://", "https://")):
        raise MlfargateError(f"--endpoint-url {url!r}: give an http:// or https:// URL")
    for flag, value in (("--cluster", args.cluster), ("--service", args.service)):
        if value is not None and not value.strip():
            raise MlfargateError(f"{flag} is empty: give the ECS {flag[2:]} name")
    return watcher_for(spec, endpoint_url=url, cluster=args.cluster, service=args.service)


# --------------------------------------------------------------------------------------------------
# The deploy flow in a terminal


def render_gate(reports: list[PolicyReport]) -> None:
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


def render_summary(summary: PlanSummary) -> None:
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


def show_events(json_mode: bool) -> flow.OnEvent:
    """The flow's events in a terminal: the plan summary before the confirmation (stdout), Terraform's
    per-resource progress (stderr); interrupts always, even with --json."""
    from mlfargate import flow
    from mlfargate.terraform.process import ProgressEvent

    def show(event: flow.Event) -> None:
        if isinstance(event, flow.SummaryReady) and not json_mode:
            render_summary(event.summary)
        if not isinstance(event, ProgressEvent):
            return
        if event.kind == "interrupt":
            err(event.message)
            return
        if json_mode or event.kind not in ("start", "complete", "errored", "progress", "log"):
            return
        count = f"{event.done}/{event.total}" if event.total else f"{event.done}"
        err(f"[{event.elapsed_s:6.1f}s] {count:>7} {event.message.strip()}")

    return show


def typed_confirmation(yes: bool) -> flow.Confirm:
    """The CLI's confirmation: the workspace name typed at a terminal prompt (``--yes`` skips it). The
    core decides whether what was typed confirms (:func:`mlfargate.flow.confirmed`)."""
    from mlfargate import flow

    def ask(request: flow.ConfirmRequest) -> str | None:
        if yes:
            return request.name
        if not sys.stdin.isatty():
            raise flow.NotConfirmedError(
                f"refusing to {request.verb} without confirmation: stdin is not a terminal; pass --yes"
            )
        try:
            return input(f"Type the workspace name ({request.name}) to {request.verb}: ")
        except EOFError:
            return None

    return ask
