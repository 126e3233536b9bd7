"""Step 6, Review: the spec as YAML (editable, for keys no step has a field for), the monthly floor
and ceiling with every cost line of the core's estimate, and the files Generate will write, with a
diff against the workspace when it exists (the generator's check-only mode, in a worker)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from rich.syntax import Syntax
from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.timer import Timer
from textual.widgets import Button, DataTable, Static

from mlfargate.cost.text import money
from mlfargate.errors import MlfargateError
from tui.format import shown_path
from tui.messages import PreviewReady, SpecChanged
from tui.state import STEPS, Analysis, WizardState
from tui.widgets.money import MoneyTable
from tui.widgets.note import Note
from tui.wizard.base import StepBody

if TYPE_CHECKING:
    from mlfargate.generate.workspace import FileChange

MARKS = {
    "added": ("+", "green"),
    "changed": ("~", "yellow"),
    "removed": ("-", "red"),
    "unchanged": ("=", "dim"),
}
SYNTAX_THEME = "ansi_dark"


def preview(token: int, text: str, spec_path: Path | None, workspace: Path) -> PreviewReady:
    """What generating would change (nothing is written): from the saved spec when it is current, else
    from a copy of the draft in a temporary directory."""
    from mlfargate.generate.model import Options
    from mlfargate.generate.workspace import generate

    try:
        if spec_path is not None:
            return PreviewReady(token, generate(spec_path, workspace, Options(check_only=True)))
        with tempfile.TemporaryDirectory(prefix="mlfargate-preview-") as tmp:
            draft = Path(tmp) / "mlfargate.yaml"
            draft.write_text(text, encoding="utf-8")
            return PreviewReady(token, generate(draft, workspace, Options(check_only=True)))
    except MlfargateError as exc:
        return PreviewReady(token, None, str(exc))


class ReviewStep(StepBody):
    STEP = "review"
    TITLE = "Review"

    def __init__(self, state: WizardState) -> None:
        super().__init__(state)
        self.token = 0
        self.changes: dict[str, FileChange] = {}
        #: The unified diff of the file the table's cursor is on ("" for none).
        self.diff_text = ""
        self._timer: Timer | None = None

    def compose_body(self) -> ComposeResult:
        yield Note("", id="summary", markup=False)
        with Vertical(id="review-top"):
            with Vertical(id="yaml-pane"):
                with Horizontal(classes="pane-head"):
                    yield Note("", id="yaml-head", markup=False)
                    yield Button("Edit YAML", id="edit", compact=True)
                with VerticalScroll(id="yaml-scroll"):
                    yield Note("", id="yaml", markup=False)
                with Vertical(id="yaml-editing", classes="hidden"):  # the editor is mounted when first used
                    with Horizontal(classes="buttons"):
                        yield Button("Apply", id="apply", compact=True, variant="primary")
                        yield Button("Cancel", id="cancel", compact=True)
                    yield Note("", id="yaml-problem", classes="error-list", markup=False)
            with Vertical(id="cost-pane"):
                yield Note("", id="cost-head", markup=False)
                yield MoneyTable(id="review-cost")
                yield Note("", id="assumptions", classes="hint", markup=False)
        yield self.workspace_row()
        yield Note("", id="files-head", markup=False)
        yield DataTable[Text](id="files", cursor_type="row", zebra_stripes=True)
        yield Note("", id="diff", markup=False)

    @on(events.Mount)
    async def _set_up(self) -> None:  # StepBody.on_mount (load) runs after this
        table = self.query_one("#files", DataTable)
        for col in ("", "file", "note"):
            table.add_column(col, key=col or "mark")
        if self.state.load_problem is not None:
            await self._edit(self.state.base_text)
            self.query_one("#yaml-problem", Static).update(self.state.load_problem)

    def load_more(self) -> None:
        self.show_workspace()

    def entered(self) -> None:
        self.load_more()

    # --- derived views ----------------------------------------------------------------------------

    def refresh_more(self, analysis: Analysis) -> None:
        self.show_workspace()
        self._summary(analysis)
        text = self.state.text()
        state = "unsaved changes" if self.state.dirty else "saved"
        self.query_one("#yaml-head", Static).update(
            Text.assemble(("Spec ", "bold"), shown_path(self.state.spec_path), (f"  ({state})", "dim"))
        )
        self.query_one("#yaml", Static).update(Syntax(text, "yaml", theme=SYNTAX_THEME, line_numbers=True))
        self._cost(analysis)
        self._schedule_preview(analysis)

    def _summary(self, analysis: Analysis) -> None:
        summary = self.query_one("#summary", Static)
        if analysis.ok and analysis.spec is not None:
            summary.update(Text.assemble(("✓ ", "green"), analysis.spec.summary()))
            return
        counts = [
            f"{s.title} ({len(analysis.errors_for(s.key))})" for s in STEPS if analysis.has_errors(s.key)
        ]
        summary.update(
            Text.assemble(
                ("✗ ", "red"),
                f"{len(analysis.errors)} error(s) to fix before Generate: ",
                ", ".join(counts),
                (" (each step lists its own, ctrl+p goes to a step; keys no step edits are below)", "dim"),
            )
        )

    def _cost(self, analysis: Analysis) -> None:
        est = analysis.estimate
        head = self.query_one("#cost-head", Static)
        if est is None:
            head.update(Text.assemble(("Monthly cost ", "bold"), (analysis.cost_problem or "", "dim")))
            self.query_one(MoneyTable).show(None)
            self.query_one("#assumptions", Static).update("")
            return
        head.update(
            Text.assemble(
                ("Monthly cost ", "bold"),
                f"{money(est.monthly_floor)} floor – {money(est.monthly_ceiling)} ceiling",
                (f"  prices: {est.price_source.split(' (cache')[0]}, {est.price_date}", "dim"),
            )
        )
        self.query_one(MoneyTable).show(est)
        marked = (
            "* estimated price, not an observed one\n"
            if any(line.price.estimate for line in est.lines)
            else ""
        )
        self.query_one("#assumptions", Static).update(marked + "\n".join(f"- {a}" for a in est.assumptions))

    # --- the files Generate will write (check-only, in a worker) -------------------------------------

    def _schedule_preview(self, analysis: Analysis) -> None:
        if self._timer is not None:
            self._timer.stop()
        if not analysis.ok:
            self.token += 1
            self.changes = {}
            self.query_one("#files", DataTable).clear()
            self.query_one("#files-head", Static).update(
                Text("Files: shown once the spec has no errors", style="dim")
            )
            self.query_one("#diff", Static).update("")
            return
        self.query_one("#files-head", Static).update(
            Text("Files: comparing with the workspace…", style="dim")
        )
        self._timer = self.set_timer(0.3, self._start_preview)

    def _start_preview(self) -> None:
        self.token += 1
        spec = None if self.state.dirty else self.state.spec_path
        self.run_preview(self.token, self.state.text(), spec, self.state.workspace)

    @work(thread=True, exclusive=True, group="preview", exit_on_error=False)
    def run_preview(self, token: int, text: str, spec: Path | None, workspace: Path) -> None:
        self.post_message(preview(token, text, spec, workspace))

    def on_preview_ready(self, message: PreviewReady) -> None:
        message.stop()
        if message.token != self.token:
            return  # an older request: the draft or the workspace changed since
        head = self.query_one("#files-head", Static)
        table = self.query_one("#files", DataTable)
        table.clear()
        self.changes = {}
        if message.result is None:
            head.update(Text(message.problem or "", style="red"))
            return
        result = message.result
        exists = Path(result.out_dir).is_dir()
        counts = {s: sum(1 for c in result.changes if c.status == s) for s in MARKS}
        what = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
        where = shown_path(Path(result.out_dir))
        head.update(
            Text.assemble(
                ("Files ", "bold"),
                f"{where}: ",
                (f"regenerating ({what})" if exists else f"new workspace ({what})"),
                ("  · Enter on a file shows its diff", "dim"),
            )
        )
        for change in result.changes:
            mark, style = MARKS[change.status]
            note = "edited by hand: Generate keeps it unless you allow overwriting" if change.edited else ""
            table.add_row(
                Text(mark, style=style), Text(change.path), Text(note, style="yellow"), key=change.path
            )
            self.changes[change.path] = change
        if result.changes:
            self._show_diff(result.changes[0].path)

    @on(DataTable.RowHighlighted, "#files")
    def _file(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        if event.row_key.value is not None:
            self._show_diff(str(event.row_key.value))

    @on(DataTable.RowSelected, "#files")
    def _file_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value is not None:
            self._show_diff(str(event.row_key.value))
            self.query_one("#diff").scroll_visible()

    def _show_diff(self, path: str) -> None:
        change = self.changes.get(path)
        diff = self.query_one("#diff", Static)
        self.diff_text = change.diff if change is not None else ""
        if change is None:
            diff.update("")
        elif change.status == "unchanged":
            diff.update(Text(f"{path}: unchanged", style="dim"))
        elif change.status == "added" and not Path(self.state.workspace).is_dir():
            lines = change.diff.count("\n") - 2
            diff.update(Text(f"{path}: new file, {lines} lines", style="dim"))
        else:
            diff.update(Syntax(change.diff, "diff", theme=SYNTAX_THEME))

    def workspace_changed(self) -> None:
        self._schedule_preview(self.state.analysis())

    # --- the YAML editor (every key, including those no step has a field for) ----------------------

    async def _edit(self, text: str) -> None:
        from textual.widgets import TextArea

        editing = self.query_one("#yaml-editing")
        if not editing.query(TextArea):
            editor = TextArea("", id="yaml-editor", show_line_numbers=True)
            editor.cursor_blink = getattr(self.app, "cursor_blink", True)
            await editing.mount(editor, before=0)
        self.query_one("#yaml-scroll").display = False
        editing.set_class(False, "hidden")
        editor = self.query_one("#yaml-editor", TextArea)
        editor.load_text(text)
        editor.focus()

    @on(Button.Pressed, "#edit")
    async def _edit_pressed(self) -> None:
        self.query_one("#yaml-problem", Static).update("")
        await self._edit(self.state.text())

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.query_one("#yaml-editing").set_class(True, "hidden")
        self.query_one("#yaml-scroll").display = True

    @on(Button.Pressed, "#apply")
    def _apply(self) -> None:
        from textual.widgets import TextArea

        text = self.query_one("#yaml-editor", TextArea).text
        try:
            self.state.apply_yaml(text)
        except MlfargateError as exc:
            self.query_one("#yaml-problem", Static).update(str(exc))
            return
        self._cancel()
        self.query_one("#yaml-problem", Static).update("")
        self.post_message(SpecChanged(self.STEP, reload=True))
