"""Plan, apply and destroy the wizard's workspace, over the same core as ``mlfargate plan/apply/destroy``.

* Plan: ``flow.plan`` in a worker with live progress (init and its provider installation lines, the
  refreshes and planned changes, the gate), then the summary by module with replacements and the
  attribute that forces each, and the gate's verdict on the plan.
* Apply: only the saved, current plan whose gate passed (``flow.apply`` checks again); the modal asks
  for the workspace name; a progress bar over the planned operations and one row per resource (its
  status, elapsed time and Terraform's own time for it).
* Destroy: ``flow.destroy`` (plan -destroy, its summary in the same modal, typed confirmation).
* Ctrl+C while Terraform runs asks, then stops it gracefully through a
  :class:`~mlfargate.terraform.process.Cancel` (the signal goes to Terraform, never to this process);
  the screen then says what the state holds.
* A failure shows Terraform's own diagnostics (summary and detail) under the one-line error, and what
  is missing (credentials, providers) with what to do; Esc goes back to the wizard.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, DataTable, Footer, Input, ProgressBar, Static
from textual.worker import get_current_worker

from mlfargate.errors import MlfargateError
from tui.deploy.run import EngineOptions, confirm_on_ui, run_step
from tui.format import shown_path
from tui.messages import CredentialsChecked, FlowDone, FlowEvent
from tui.screens.confirm import InterruptScreen, summary_text
from tui.widgets.keyed_table import KeyedTable
from tui.widgets.note import Note

if TYPE_CHECKING:
    import concurrent.futures

    from mlfargate import flow
    from mlfargate.spec.model import Spec
    from mlfargate.terraform.plan_summary import PlanSummary
    from mlfargate.terraform.process import Cancel, ProgressEvent
    from tui.app import MlfargateApp

REASONS = {
    "replace_because_cannot_update": "cannot be updated in place",
    "replace_because_tainted": "tainted",
    "replace_by_request": "-replace was requested",
    "replace_by_triggers": "replace_triggered_by",
}
DOING = {"create": "creating…", "delete": "destroying…", "update": "updating…", "read": "reading…"}
DONE = {"create": "created", "delete": "destroyed", "update": "updated", "read": "read"}
LOG_COLUMNS = (("at", "at"), ("status", "status"), ("resource", "resource"), ("took", "took"))
PLAN_COLUMNS = ("module", "add", "change", "replace", "destroy")


class DeployScreen(Screen[None]):
    #: Plan has the focus when the screen opens: the first focusable widget is the mirror's field, and
    #: a "p" pressed to plan would be typed into it.
    AUTO_FOCUS = "#plan"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("p", "plan", "Plan"),
        Binding("a", "apply", "Apply"),
        Binding("x", "destroy", "Destroy"),
        Binding("d", "dashboard", "Dashboard"),
        Binding("escape", "wizard", "Wizard"),
        Binding("ctrl+c", "interrupt", "Interrupt", priority=True),
    ]

    def __init__(self, workspace: Path, options: EngineOptions, spec: Spec | None) -> None:
        super().__init__(id="deploy-screen")
        self.workspace = workspace
        self.options = options
        self.spec = spec
        self.running: str | None = None
        self.cancel: Cancel | None = None
        self.plan_result: flow.PlanResult | None = None
        self.summary: PlanSummary | None = None
        self.started: dict[str, datetime] = {}
        self.phase_lines: list[tuple[str, Text]] = []
        self.counts = {"refresh": 0, "planned": 0}
        self.quit_after = False
        self.notes: list[Text] = []
        self.credentials: CredentialsChecked | None = None
        self.applied_ok = False

    @property
    def mlfargate_app(self) -> MlfargateApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield Note("", id="title-bar", markup=False)
        with Horizontal(id="deploy-head"):
            yield Note("", id="deploy-where", markup=False)
            yield Note("", id="deploy-engine", markup=False)
        with Horizontal(id="deploy-mirror", classes="row"):
            yield Note("Provider mirror", classes="row-label", markup=False)
            yield Input(
                self.options.plugin_dir or "",
                placeholder="directory of providers (init -plugin-dir); empty: the registry",
                id="plugin-dir",
            )
        with Horizontal(id="deploy-actions", classes="buttons"):
            yield Button("Plan", id="plan", variant="primary", compact=True)
            yield Button("Apply…", id="apply", compact=True, disabled=True)
            yield Button("Destroy…", id="destroy", variant="error", compact=True)
            yield Button("Dashboard ▸", id="dashboard", compact=True)
            yield Button("◂ Wizard", id="wizard", compact=True)
        yield Note("", id="deploy-status", markup=False)
        with VerticalScroll(id="deploy-body"):
            yield Note("", id="phases", markup=False)
            yield Note("", id="init-line", markup=False)
            with Vertical(id="problem", classes="hidden"):
                yield Note("", id="problem-text", markup=False)
            with Vertical(id="plan-box", classes="hidden"):
                yield Note("", id="plan-totals", markup=False)
                yield DataTable[Text](
                    id="plan-table", cursor_type="row", zebra_stripes=True, show_cursor=False
                )
                yield Note("", id="replacements", markup=False)
                yield Note("", id="gate-line", markup=False)
            with Vertical(id="apply-box", classes="hidden"):
                yield ProgressBar(id="apply-progress", show_eta=False)
                yield Note("", id="apply-current", markup=False)
                yield KeyedTable(LOG_COLUMNS, id="apply-log")
            with Vertical(id="state-box", classes="hidden"):
                yield Note("", id="state-text", markup=False)
            yield Note("", id="deploy-notes", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#plan-table", DataTable).add_columns(*PLAN_COLUMNS)
        title = self.spec.prefix if self.spec else self.workspace.name
        region = f" · {self.spec.aws.region}" if self.spec else ""
        self.query_one("#title-bar", Static).update(
            Text(f"mlfargate — {title}{region} · deploy", style="bold")
        )
        self.query_one("#deploy-where", Static).update(
            Text.assemble(("workspace ", "dim"), (shown_path(self.workspace), "bold"))
        )
        self.query_one("#deploy-engine", Static).update(
            Text("engine: chosen when a step starts", style="dim")
        )
        self._show_status("Plan runs init, a saved plan, its summary and the policy gate on it")
        self.query_one("#plan", Button).focus()

    # --- starting steps ---------------------------------------------------------------------------

    def _options(self) -> EngineOptions:
        mirror = self.query_one("#plugin-dir", Input).value.strip()
        return EngineOptions(self.options.terraform, mirror or None, self.options.cli_config)

    def start(self, verb: str) -> None:
        if self.running is not None:
            self.app.bell()
            self.notify(f"{self.running} is running: wait, or Ctrl+C to interrupt it", timeout=5)
            return
        if verb == "apply" and not self._can_apply():
            self.app.bell()
            self.notify("Apply needs a current plan that passed the gate: press Plan first", timeout=6)
            return
        from mlfargate.terraform.process import Cancel

        self.running = verb
        self.cancel = Cancel()
        self.started = {}
        self.notes = []
        self.counts = {"refresh": 0, "planned": 0}
        if verb != "apply":
            self.phase_lines = []
            self.plan_result = None
            self.summary = None
            self.query_one("#plan-box").add_class("hidden")
        else:
            # The apply's own phases (the gate again on the saved plan, then Terraform); the plan's
            # summary and gate verdict stay on screen below.
            self.phase_lines = []
        self.credentials = None
        self.applied_ok = False
        for box in ("#problem", "#state-box", "#apply-box"):
            self.query_one(box).add_class("hidden")
        self.query_one("#init-line", Static).update("")
        self.query_one("#apply-log", KeyedTable).sync({})
        self._show_phases()
        self._show_notes()
        self._buttons()
        self._show_status(f"{verb} running… (Ctrl+C interrupts)", "yellow")
        options = self._options()
        try:
            engine = options.engine()
        except MlfargateError as exc:
            self.running = None
            self._buttons()
            self._problem([Text(str(exc), style="bold red")], exc)
            self._show_status("stopped", "red")
            return
        self.query_one("#deploy-engine", Static).update(
            Text.assemble(("engine: ", "dim"), engine.describe(), (f" (chosen by {engine.source})", "dim"))
        )
        self._worker(verb, options)

    @work(thread=True, exclusive=True, group="deploy", exit_on_error=False, name="deploy")
    def _worker(self, verb: str, options: EngineOptions) -> None:
        worker = get_current_worker()
        cancel = self.cancel
        assert cancel is not None
        confirm = confirm_on_ui(self.app.call_from_thread, self._ask, lambda: worker.is_cancelled)
        run_step(verb, self.workspace, options, self.spec, self.post_message, confirm, cancel)

    def _ask(self, request: flow.ConfirmRequest, answer: concurrent.futures.Future[str | None]) -> None:
        """On the UI thread: the typed confirmation; the worker waits for ``answer``."""
        from tui.screens.confirm import ConfirmScreen

        def chosen(typed: str | None) -> None:
            if typed is not None:
                self._show_status(f"{request.verb} running… (Ctrl+C interrupts)", "yellow")
            if not answer.done():
                answer.set_result(typed)

        self._show_status(f"type the workspace name to {request.verb}", "yellow")
        self.app.push_screen(ConfirmScreen(request), chosen)

    def _can_apply(self) -> bool:
        r = self.plan_result
        return r is not None and r.gate.ok and not r.summary.empty and not self.applied_ok

    # --- actions ----------------------------------------------------------------------------------

    @on(Button.Pressed, "#plan")
    def action_plan(self) -> None:
        self.start("plan")

    @on(Button.Pressed, "#apply")
    def action_apply(self) -> None:
        self.start("apply")

    @on(Button.Pressed, "#destroy")
    def action_destroy(self) -> None:
        self.start("destroy")

    @on(Button.Pressed, "#dashboard")
    def action_dashboard(self) -> None:
        self.mlfargate_app.open_dashboard()

    @on(Button.Pressed, "#wizard")
    def action_wizard(self) -> None:
        self.mlfargate_app.open_wizard()

    def action_interrupt(self) -> None:
        """Ctrl+C: ask, then stop Terraform gracefully; asked again while it stops: force it."""
        cancel = self.cancel
        if self.running is None or cancel is None:
            self.notify("nothing is running (Ctrl+Q quits)", timeout=4)
            return
        force = cancel.requested

        def chosen(yes: bool | None) -> None:
            if not yes or self.running is None:
                return
            if force:
                cancel.force()
            else:
                cancel.stop()
                self._show_status("stopping Terraform gracefully (the state is saved)…", "yellow")

        self.app.push_screen(InterruptScreen(f"terraform {self.running}", force=force), chosen)

    def ask_quit(self) -> None:
        """Quitting while Terraform runs: ask, stop it gracefully, quit when it has stopped."""

        def chosen(yes: bool | None) -> None:
            if yes and self.running is not None and self.cancel is not None:
                self.quit_after = True
                self.cancel.stop()
                self._show_status("stopping Terraform gracefully, then quitting…", "yellow")

        self.app.push_screen(InterruptScreen(f"terraform {self.running}", quitting=True), chosen)

    def stop_for_exit(self) -> None:
        """The app is closing: stop Terraform gracefully (the worker ends once it has saved the state)."""
        if self.running is not None and self.cancel is not None:
            self.cancel.stop()

    def on_unmount(self) -> None:
        self.stop_for_exit()

    # --- events from the worker -------------------------------------------------------------------

    def on_flow_event(self, message: FlowEvent) -> None:
        from mlfargate import flow
        from mlfargate.terraform.process import ProgressEvent

        message.stop()
        event = message.event
        now = self.mlfargate_app.clock()
        if isinstance(event, flow.PhaseStarted):
            self.started[event.phase] = now
            self.phase_lines.append((event.phase, Text.assemble(("… ", "yellow"), event.message)))
            if event.phase in ("apply", "destroy"):
                self._start_progress()
            self._show_phases()
        elif isinstance(event, flow.PhaseFinished):
            seconds = (now - self.started.get(event.phase, now)).total_seconds()
            detail = self._plan_counts() if event.phase == "plan" else ""
            self._replace_phase(
                event.phase,
                Text.assemble(("✓ ", "green"), event.message, (f"{detail} ({seconds:.1f} s)", "dim")),
            )
            if event.phase == "init":
                self.query_one("#init-line", Static).update("")
        elif isinstance(event, flow.GateChecked):
            self._show_gate(event.reports)
        elif isinstance(event, flow.SummaryReady):
            self.summary = event.summary
            self._show_summary(event.summary)
        elif isinstance(event, ProgressEvent):
            self._progress(event, now)

    def _progress(self, event: ProgressEvent, now: datetime) -> None:
        if event.kind == "init":
            self.query_one("#init-line", Static).update(Text(event.message, style="dim"))
        elif event.kind in ("refresh", "planned"):
            self.counts[event.kind] += 1
            label = next((t for k, t in self.phase_lines if k == "plan"), None)
            if label is not None and label.plain.startswith("…"):
                base = label.plain.split(":")[0][2:]
                self._replace_phase(
                    "plan", Text.assemble(("… ", "yellow"), base, (self._plan_counts(), "dim"))
                )
        elif event.kind in ("start", "complete", "errored"):
            self._resource(event, now)
        elif event.kind == "interrupt":
            self.notes.append(Text(event.message, style="bold yellow"))
            self._show_notes()

    def _plan_counts(self) -> str:
        """What the plan has read and planned so far (Terraform's own refresh and planned-change events)."""
        return f": {self.counts['refresh']} refreshed, {self.counts['planned']} planned"

    def _resource(self, event: ProgressEvent, now: datetime) -> None:
        if event.address is None:
            return
        verb = self.running or "apply"
        began = self.started.get(verb, now)
        at = f"{(now - began).total_seconds():6.1f}s"
        action = event.action or ("delete" if verb == "destroy" else "create")
        log = self.query_one("#apply-log", KeyedTable)
        rows = dict(log.given_rows)
        if event.kind == "start":
            status = Text(DOING.get(action, f"{action}…"), style="yellow")
            took = Text("")
            self.query_one("#apply-current", Static).update(
                Text.assemble((f"{DOING.get(action, action)} ", "yellow"), event.address)
            )
        elif event.kind == "complete":
            status = Text(f"✓ {DONE.get(action, action)}", style="green")
            took = Text(f"{event.resource_elapsed_s:.0f}s" if event.resource_elapsed_s is not None else "")
            bar = self.query_one("#apply-progress", ProgressBar)
            if event.total:
                bar.update(total=event.total)
            bar.update(progress=event.done)
        else:
            status = Text("✗ failed", style="bold red")
            took = Text(f"{event.resource_elapsed_s:.0f}s" if event.resource_elapsed_s is not None else "")
            self.notes.append(Text(event.message, style="red"))
            self._show_notes()
        previous = rows.get(event.address)
        rows[event.address] = [
            previous[0] if previous and event.kind != "start" else Text(at, style="dim"),
            status,
            Text(event.address),
            took,
        ]
        log.sync(rows)
        if log.row_count:
            log.move_cursor(row=log.get_row_index(event.address), animate=False)

    def on_credentials_checked(self, message: CredentialsChecked) -> None:
        message.stop()
        self.credentials = message
        if message.problem is not None:
            style = "yellow" if message.kind == "offline" else "bold red"
            self.notes.append(Text.assemble(("credentials: ", "bold"), (message.problem, style)))
        elif message.account:
            self.notes.append(Text(f"credentials: account {message.account}", style="dim"))
        self._show_notes()

    def on_flow_done(self, message: FlowDone) -> None:
        from mlfargate import flow

        message.stop()
        verb = self.running or message.verb
        self.running = None
        self._close_phase()
        if message.error is not None:
            self._failed(verb, message)
        elif isinstance(message.result, flow.PlanResult):
            self.plan_result = message.result
            self.summary = message.result.summary
            self._show_summary(message.result.summary)
            self._show_gate(message.result.gate.reports)
            if message.result.summary.empty:
                self._show_status("no changes: the infrastructure matches the configuration", "green")
            elif message.result.gate.ok:
                self._show_status(
                    f"plan saved ({message.result.summary.operations} operations): Apply applies exactly this plan",
                    "green",
                )
            else:
                self._show_status("the policy gate failed on this plan: Apply refuses it", "red")
        elif isinstance(message.result, flow.ApplyResult):
            self._applied(message.result)
        self._buttons()
        if self.quit_after:
            self.app.exit()

    def _applied(self, result: flow.ApplyResult) -> None:
        if not result.applied:
            self._show_status("nothing to destroy: the state is empty", "green")
            return
        bar = self.query_one("#apply-progress", ProgressBar)
        bar.update(total=max(1, result.summary.operations), progress=result.summary.operations)
        self.plan_result = None
        self.applied_ok = True
        if result.verb == "destroy":
            self._show_status(f"destroyed in {result.seconds:.1f} s", "green")
            return
        self._show_status(f"applied in {result.seconds:.1f} s: opening the dashboard (d)", "green")
        self.mlfargate_app.open_dashboard(after_apply=True)

    def _failed(self, verb: str, message: FlowDone) -> None:
        from mlfargate import flow
        from mlfargate.terraform.diagnostics import InterruptedError_, TerraformError

        error = message.error
        assert error is not None
        lines: list[Text] = []
        if isinstance(error, InterruptedError_):
            self._show_status(str(error), "yellow")
        elif isinstance(error, flow.NotConfirmedError):
            self._show_status(str(error), "yellow")
            self._buttons()
            return
        else:
            self._show_status(f"{verb} stopped", "red")
            lines.append(Text(str(error), style="bold red"))
        if isinstance(error, flow.GateFailedError):
            self._show_gate(error.reports)
        if self.credentials is not None and self.credentials.problem and self.credentials.kind != "offline":
            lines.append(
                Text.assemble(("missing: AWS credentials: ", "bold"), (self.credentials.problem, "red"))
            )
        if not isinstance(error, InterruptedError_) and lines:
            self._problem(lines, error if isinstance(error, TerraformError) else None)
        if message.state is not None or message.state_problem is not None:
            self._state_left(verb, message)

    # --- rendering --------------------------------------------------------------------------------

    def _show_status(self, text: str, style: str = "dim") -> None:
        self.query_one("#deploy-status", Static).update(Text(text, style=style))

    def _buttons(self) -> None:
        idle = self.running is None
        self.query_one("#plan", Button).disabled = not idle
        self.query_one("#destroy", Button).disabled = not idle
        self.query_one("#apply", Button).disabled = not (idle and self._can_apply())
        self.query_one("#plugin-dir", Input).disabled = not idle

    def _replace_phase(self, phase: str, text: Text) -> None:
        for i in range(len(self.phase_lines) - 1, -1, -1):
            if self.phase_lines[i][0] == phase:
                self.phase_lines[i] = (phase, text)
                break
        self._show_phases()

    def _close_phase(self) -> None:
        """A phase still marked running when the step ended did not finish."""
        for i, (phase, text) in enumerate(self.phase_lines):
            if text.plain.startswith("…"):
                self.phase_lines[i] = (phase, Text.assemble(("✗ ", "red"), text.plain[2:]))
        self._show_phases()

    def _show_phases(self) -> None:
        self.query_one("#phases", Static).update(Text("\n").join(t for _, t in self.phase_lines))

    def _show_notes(self) -> None:
        self.query_one("#deploy-notes", Static).update(Text("\n").join(self.notes))

    def _show_summary(self, summary: PlanSummary) -> None:
        self.query_one("#plan-box").remove_class("hidden")
        self.query_one("#plan-totals", Static).update(
            Text.assemble(("plan: ", "bold"), summary_text(summary).split("\n")[0])
        )
        table = self.query_one("#plan-table", DataTable)
        table.clear()
        replaced = {r.module for r in summary.replacements}
        for module, c in sorted(summary.by_module.items()):
            cells = [
                Text(module, style="bold yellow" if module in replaced else ""),
                *(
                    Text(str(n), justify="right", style=(style if n else "dim"))
                    for n, style in (
                        (c.add, "green"),
                        (c.change, "yellow"),
                        (c.replace, "bold red"),
                        (c.destroy, "bold red"),
                    )
                ),
            ]
            table.add_row(*cells, key=module)
        table.display = bool(summary.by_module)
        lines = []
        for r in summary.replacements:
            why = REASONS.get(r.reason or "", r.reason or "")
            forced = f" because {', '.join(r.paths)} changed" if r.paths else ""
            lines.append(
                Text.assemble(
                    ("⚠ replace ", "bold yellow"),
                    (r.address, "bold"),
                    (f"{forced}", "yellow"),
                    (f" ({why})" if why else "", "dim"),
                    (": destroyed and created again", "yellow"),
                )
            )
        self.query_one("#replacements", Static).update(Text("\n").join(lines))

    def _show_gate(self, reports: list[Any]) -> None:
        parts = []
        for report in reports:
            what = "configuration" if report.kind == "directory" else "plan"
            verdict = ("✓ pass", "green") if report.ok else ("✗ FAIL", "bold red")
            parts.append(
                Text.assemble(
                    (f"policy gate on the {what}: ", "bold"),
                    verdict,
                    f" ({len(report.failed)} failed, {len(report.waived)} waived, {report.passed} passed"
                    + (f", {report.unread} unchecked" if report.unread else "")
                    + ")",
                )
            )
            for f in report.failed[:5]:
                parts.append(
                    Text(f"  {f.check_id} {f.resource} at {f.location}: {f.check_name}", style="red")
                )
            for line in [*report.parsing_errors, *report.unchecked][:5]:
                parts.append(Text(f"  UNCHECKED {line}", style="red"))
        self.query_one("#plan-box").remove_class("hidden")
        self.query_one("#gate-line", Static).update(Text("\n").join(parts))

    def _start_progress(self) -> None:
        box = self.query_one("#apply-box")
        box.remove_class("hidden")
        total = self.summary.operations if self.summary is not None else None
        bar = self.query_one("#apply-progress", ProgressBar)
        bar.update(total=total or None, progress=0)
        self.query_one("#apply-current", Static).update("")

    def _problem(self, lines: list[Text], error: Any) -> None:
        """The error, Terraform's own diagnostics (summary and detail), and what to do."""
        from mlfargate.terraform.diagnostics import ProviderUnavailableError

        text = Text("\n").join(lines)
        diagnostics = getattr(error, "diagnostics", ()) if error is not None else ()
        if diagnostics:
            text.append("\n\nTerraform said:", style="bold")
            for d in diagnostics:
                text.append(f"\nError: {d.summary}", style="bold")
                if d.detail:
                    text.append("\n" + "\n".join(f"  {line}" for line in d.detail.splitlines()), style="")
        if isinstance(error, ProviderUnavailableError):
            text.append(
                "\n\nWhat to do: put the providers in a mirror directory (`terraform providers mirror DIR` on a "
                "machine that can reach the registry) and give DIR as the provider mirror above, or start "
                "mlfargate-tui with --cli-config FILE (a filesystem_mirror); then Plan again.",
                style="cyan",
            )
        text.append("\n\nEsc: back to the wizard", style="dim")
        self.query_one("#problem-text", Static).update(text)
        self.query_one("#problem").remove_class("hidden")

    def _state_left(self, verb: str, message: FlowDone) -> None:
        text = Text()
        text.append(f"What the state holds after the {verb} stopped", style="bold")
        if message.state is None:
            text.append(f"\nthe state could not be read: {message.state_problem}", style="red")
        elif not message.state:
            text.append("\nnothing: the state is empty", style="green")
        else:
            kept = len(message.state)
            text.append(f" ({kept} resource{'s' if kept != 1 else ''}):")
            for entry in message.state:
                if entry.tainted:
                    text.append(f"\n  ⚠ {entry.address}", style="yellow")
                    text.append("  tainted: it did not finish; the next apply replaces it", style="dim")
                else:
                    text.append(f"\n  ✓ {entry.address}", style="green")
        summary = self.summary
        if summary is not None:
            text.append(f"\nThe saved plan ({summary.operations} operations) was discarded.", style="dim")
        text.append("\nPlan again to see what is left to do.", style="cyan")
        self.query_one("#state-text", Static).update(text)
        self.query_one("#state-box").remove_class("hidden")
