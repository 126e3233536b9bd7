"""Step 7, Generate & check: saves the spec, writes the workspace through the core's generator and
runs the policy gate (``mlfargate.flow.gate``) in a worker with progress; shows the findings with
file:line and the waivers, the monthly cost, and the exact CLI commands that continue from here
(plan and apply come to the TUI in a later mode)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, Checkbox, DataTable, ProgressBar, Static

from mlfargate.cost.text import money
from mlfargate.errors import MlfargateError
from tui import errors
from tui.format import shell_path, shown_path
from tui.messages import GenerateDone, GenerateProgress
from tui.state import Analysis, WizardState
from tui.widgets.note import Note
from tui.wizard.base import StepBody, row

if TYPE_CHECKING:
    from mlfargate.flow import GateResult
    from mlfargate.generate.workspace import GenerateResult


def next_commands(workspace: Path) -> list[tuple[str, str]]:
    """The CLI commands that continue from a generated, checked workspace."""
    ws = shell_path(workspace)
    return [
        (
            f"mlfargate plan {ws}",
            "init, a saved plan, its summary and the gate on the plan (needs AWS credentials)",
        ),
        (f"mlfargate apply {ws}", "applies exactly that plan, after you type the workspace name"),
    ]


def written_summary(result: GenerateResult) -> str:
    changed = result.changed
    if not changed:
        return f"{shown_path(Path(result.out_dir))}: up to date ({len(result.changes)} files)"
    counts = {s: sum(1 for c in changed if c.status == s) for s in ("added", "changed", "removed")}
    what = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    return f"wrote {shown_path(Path(result.out_dir))} ({what})"


def run(spec_path: Path, workspace: Path, force: bool, post: Any) -> None:
    """Generate then gate, posting progress and the outcome through ``post`` (a worker's post_message)."""
    from mlfargate import flow
    from mlfargate.generate.model import Options
    from mlfargate.generate.workspace import WorkspaceConflictError, generate

    post(GenerateProgress("generate", "writing the workspace", False))
    try:
        result = generate(spec_path, workspace, Options(force=force))
    except WorkspaceConflictError as exc:
        post(GenerateDone(exc.result, None, str(exc), tuple(exc.edited)))
        return
    except MlfargateError as exc:
        post(GenerateDone(None, None, str(exc)))
        return
    post(GenerateProgress("generate", written_summary(result), True))

    def on_event(event: flow.Event) -> None:
        if isinstance(event, flow.PhaseStarted):
            post(GenerateProgress(event.phase, event.message, False))
        elif isinstance(event, flow.PhaseFinished):
            post(GenerateProgress(event.phase, event.message, True))

    try:
        gate = flow.gate(workspace, None, on_event)
    except MlfargateError as exc:
        post(GenerateDone(result, None, str(exc)))
        return
    post(GenerateDone(result, gate))


class GenerateStep(StepBody):
    STEP = "generate"
    TITLE = "Generate & check"

    def __init__(self, state: WizardState) -> None:
        super().__init__(state)
        self.started: dict[str, datetime] = {}
        self.running = False

    def compose_body(self) -> ComposeResult:
        yield Note(
            "Saves the spec, writes the Terraform workspace and runs the policy gate (checkov) on it. "
            "Nothing touches AWS here.",
            classes="lead",
        )
        yield row("Spec file", Note("", id="spec-file", markup=False))
        yield self.workspace_row()
        yield row(
            "Hand edits",
            Checkbox("overwrite files edited by hand since the last generate", id="force", compact=True),
        )
        with Horizontal(classes="row"):
            yield Button("Generate & check", id="generate", variant="primary", compact=True)
            yield Note("", id="gen-status", classes="hint", markup=False)
        yield ProgressBar(total=None, id="progress", show_eta=False, show_percentage=False, classes="hidden")
        yield Note("", id="phases", markup=False)
        yield Note("", id="gate-head", markup=False)
        yield DataTable[Text](id="findings", cursor_type="row", zebra_stripes=True, classes="hidden")
        yield DataTable[Text](id="waivers", cursor_type="row", zebra_stripes=True, classes="hidden")
        yield Note("", id="gen-cost", markup=False)
        yield Note("", id="continue", classes="next-commands -empty", markup=False)
        yield Button("Plan & apply ▸", id="to-deploy", variant="primary", compact=True, classes="hidden")

    @on(events.Mount)
    def _set_up(self) -> None:  # StepBody.on_mount (load) runs after this
        self.query_one("#findings", DataTable).add_columns(
            "severity", "check", "file:line", "what", "resource"
        )
        self.query_one("#waivers", DataTable).add_columns("waived", "file:line", "reason", "resource")

    def load_more(self) -> None:
        self.query_one("#spec-file", Static).update(shown_path(self.state.spec_path))
        self.show_workspace()

    def entered(self) -> None:
        self.load_more()

    def refresh_more(self, analysis: Analysis) -> None:
        self.show_workspace()
        status = self.query_one("#gen-status", Static)
        if self.running:
            return
        if not analysis.ok:
            status.update(
                Text(
                    f"{len(analysis.errors)} error(s) to fix first, in: {', '.join(analysis.bad_steps())}",
                    style="red",
                )
            )
        else:
            status.update(Text("ready: the spec has no errors", style="green"))

    # --- generate & check ---------------------------------------------------------------------------

    @on(Button.Pressed, "#generate")
    def start(self) -> None:
        if self.running:
            return
        analysis = self.state.analysis()
        if not analysis.ok:
            self.app.bell()
            self.app.notify(
                f"Generate writes valid specs only: {len(analysis.errors)} error(s) in "
                f"{', '.join(analysis.bad_steps())}",
                severity="error",
            )
            return
        try:
            self.state.save()
        except MlfargateError as exc:
            self.app.notify(str(exc), severity="error")
            return
        self.running = True
        self.started = {}
        self.query_one("#generate", Button).disabled = True
        self.query_one("#progress").set_class(False, "hidden")
        self.query_one("#phases", Static).update("")
        for widget_id in ("#gate-head", "#gen-cost", "#continue"):
            self.query_one(widget_id, Static).update("")
        self.query_one("#continue").set_class(True, "-empty")
        self.query_one("#to-deploy").set_class(True, "hidden")
        for table_id in ("#findings", "#waivers"):
            self.query_one(table_id).set_class(True, "hidden")
        self.query_one("#gen-status", Static).update(
            Text(f"saved {shown_path(self.state.spec_path)}", style="dim")
        )
        self.phase_lines: list[Text] = []
        self.run_worker_generate(self.state.spec_path, self.state.workspace, self.query_one(Checkbox).value)

    @work(thread=True, exclusive=True, group="generate", exit_on_error=False)
    def run_worker_generate(self, spec_path: Path, workspace: Path, force: bool) -> None:
        try:
            run(spec_path, workspace, force, self.post_message)
        except Exception as exc:  # unexpected: one line and the log's path, never a traceback
            self.post_message(GenerateDone(None, None, errors.record(exc, "generate & check")))

    def on_generate_progress(self, message: GenerateProgress) -> None:
        message.stop()
        now = self.wizard_app.clock()
        if not message.done:
            self.started[message.phase] = now
            self.phase_lines.append(Text.assemble(("… ", "yellow"), message.text))
        else:
            began = self.started.get(message.phase, now)
            seconds = (now - began).total_seconds()
            self.phase_lines[-1] = Text.assemble(
                ("✓ ", "green"), message.text, (f"  ({seconds:.1f} s)", "dim")
            )
        self.query_one("#phases", Static).update(Text("\n").join(self.phase_lines))

    def on_generate_done(self, message: GenerateDone) -> None:
        message.stop()
        self.running = False
        self.query_one("#generate", Button).disabled = False
        self.query_one("#progress").set_class(True, "hidden")
        if message.result is None or message.gate is None:
            self._failed(message)
            return
        self._show_gate(message.gate)
        self._show_cost()
        commands = next_commands(self.state.workspace)
        text = Text("Continue here (Plan & apply ▸), or in the shell:\n", style="bold")
        for command, what in commands:
            text.append(f"  {command}\n", style="bold cyan")
            text.append(f"      {what}\n", style="dim")
        if message.result.notes:
            text.append("\n" + "\n".join(f"note: {n}" for n in message.result.notes), style="yellow")
        self.query_one("#continue", Static).update(text)
        self.query_one("#continue").set_class(False, "-empty")
        self.query_one("#to-deploy").set_class(False, "hidden")
        self.query_one("#gen-status", Static).update(Text("done", style="green"))

    @on(Button.Pressed, "#to-deploy")
    def _to_deploy(self) -> None:
        self.wizard_app.open_deploy()

    def _failed(self, message: GenerateDone) -> None:
        if self.phase_lines and self.phase_lines[-1].plain.startswith("…"):
            self.phase_lines[-1] = Text.assemble(("✗ ", "red"), self.phase_lines[-1].plain[2:])
            self.query_one("#phases", Static).update(Text("\n").join(self.phase_lines))
        head = self.query_one("#gate-head", Static)
        text = Text(message.problem or "stopped", style="red")
        if message.edited:
            text.append(
                "\nTick 'overwrite files edited by hand' to replace them (their diffs are in the review step).",
                style="yellow",
            )
        head.update(text)
        self.query_one("#gen-status", Static).update(Text("stopped", style="red"))

    def _show_gate(self, gate: GateResult) -> None:
        head = self.query_one("#gate-head", Static)
        parts = []
        for report in gate.reports:
            verdict = ("✓ pass", "green") if report.ok else ("✗ FAIL", "red")
            parts.append(
                Text.assemble(
                    ("policy gate ", "bold"),
                    verdict,
                    f": {len(report.failed)} failed, {len(report.waived)} waived, {report.passed} passed"
                    + (f", {report.unread} unchecked" if report.unread else ""),
                )
            )
            for line in [*report.parsing_errors, *report.unchecked]:
                parts.append(Text(f"  UNCHECKED {line}", style="red"))
        head.update(Text("\n").join(parts))
        findings = self.query_one("#findings", DataTable)
        waivers = self.query_one("#waivers", DataTable)
        findings.clear()
        waivers.clear()
        for report in gate.reports:
            for severity, items in report.by_severity().items():
                for f in items:
                    what = f.check_name + (f" ({f.note})" if f.note else "")
                    findings.add_row(
                        Text(severity, style="red"),
                        Text(f.check_id),
                        Text(f.location),
                        Text(what),
                        Text(f.resource),
                    )
            for w in report.waived:
                waivers.add_row(
                    Text(w.check_id), Text(w.location), Text(w.reason, style="dim"), Text(w.resource)
                )
        findings.set_class(findings.row_count == 0, "hidden")
        waivers.set_class(waivers.row_count == 0, "hidden")

    def _show_cost(self) -> None:
        est = self.state.analysis().estimate
        if est is None:
            return
        prices = "bundled prices" if est.price_source.startswith("bundled") else "refreshed prices"
        self.query_one("#gen-cost", Static).update(
            Text.assemble(
                ("monthly cost ", "bold"),
                f"{money(est.monthly_floor)} floor – {money(est.monthly_ceiling)} ceiling",
                (f"  ({prices}, {est.price_date}; every line in the review step or `mlfargate cost`)", "dim"),
            )
        )
