"""What every step body shares: fields bound to spec key paths, the step's errors from the core, and
the hooks the wizard screen calls (load values, refresh derived views, enter, leave)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widget import Widget
from textual.widgets import Input, Select, Static
from textual.worker import Worker

from tui.format import shown_path
from tui.messages import SpecChanged
from tui.state import default_for, show
from tui.widgets.fields import ERROR_CLASS, ChoiceField, TextField
from tui.widgets.note import Note
from tui.widgets.spec_errors import ErrorList

if TYPE_CHECKING:
    from tui.app import MlfargateApp
    from tui.state import Analysis, WizardState


#: The path of the workspace field (not a spec key: where Generate writes).
WORKSPACE = "@workspace"


def workspace_hint(state: WizardState) -> str:
    if state.workspace_choice is None:
        return "default: workspaces/<name>-<environment> beside the spec (or the spec's own workspace)"
    return "clear it for the default"


def row(label: str, *widgets: Widget, hint: str = "", hint_id: str | None = None) -> Horizontal:
    """A form row: a label, the field(s), and a hint line after them."""
    parts: list[Widget] = [Note(label, classes="row-label", markup=False), *widgets]
    if hint or hint_id:
        parts.append(Note(hint, id=hint_id, classes="hint", markup=False))
    return Horizontal(*parts, classes="row")


class StepBody(VerticalScroll):
    """One step of the wizard. Subclasses compose their fields (``TextField`` / ``ChoiceField`` bound to
    key paths are written to the draft by this class) and override the hooks."""

    STEP: ClassVar[str]
    TITLE: ClassVar[str]

    def __init__(self, state: WizardState) -> None:
        super().__init__(id=f"step-{self.STEP}", classes="step-body")
        self.state = state
        self._fields: list[TextField | ChoiceField] | None = None

    @property
    def wizard_app(self) -> MlfargateApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield from self.compose_body()
        yield ErrorList(id=f"errors-{self.STEP}")

    def compose_body(self) -> ComposeResult:
        raise NotImplementedError

    def on_mount(self) -> None:
        self.load()

    # --- hooks the wizard calls -------------------------------------------------------------------

    def load(self) -> None:
        """Show the draft's values in every bound field (the draft changed under this step)."""
        self.load_fields()
        self.load_more()

    @property
    def fields(self) -> list[TextField | ChoiceField]:
        """The bound fields (found once: a step's widgets do not change after compose)."""
        if self._fields is None:
            self._fields = [*self.query(TextField), *self.query(ChoiceField)]
        return self._fields

    def load_fields(self) -> None:
        for text_field in self.query(TextField):
            if text_field.path.startswith("@"):
                continue
            with text_field.prevent(Input.Changed):
                text_field.value = show(self.state.get(text_field.path))
        for choice in self.query(ChoiceField):
            if not choice.path.startswith("@"):
                choice.choose(self.state.get(choice.path))

    def load_more(self) -> None:
        """Widgets a step binds by hand (radio sets, tables)."""

    def refresh_view(self, analysis: Analysis) -> None:
        """Show the core's verdict on the draft: the step's errors, marked fields, derived views."""
        errors = analysis.errors_for(self.STEP)
        self.query_one(ErrorList).show(errors)
        for widget in self.fields:
            widget.set_class(any(widget.matches(e.path) for e in errors), ERROR_CLASS)
            if not widget.path.startswith("@"):
                widget.show_default(default_for(widget.path))
        self.refresh_more(analysis)

    def refresh_more(self, analysis: Analysis) -> None:
        """Derived views (costs, tables, charts)."""

    def entered(self) -> None:
        """The step became the current one."""

    # --- writing the draft ------------------------------------------------------------------------

    def changed(self) -> None:
        self.post_message(SpecChanged(self.STEP))

    def set_value(self, path: str, value: Any) -> None:
        self.state.set(path, value)
        self.changed()

    # --- the workspace path (review and generate both show it) ------------------------------------

    def workspace_row(self) -> Horizontal:
        return row(
            "Workspace",
            TextField(WORKSPACE, id=f"{self.STEP}-workspace", classes="workspace-field"),
            hint_id=f"{self.STEP}-workspace-hint",
        )

    def show_workspace(self) -> None:
        """The workspace path; its default needs the core, so it is shown once the core is loaded, and
        never rewritten under the operator's typing."""
        field = self.query_one(".workspace-field", TextField)
        wizard = self.wizard_app.wizard
        if wizard is None or not wizard.core_ready or field.has_focus:
            return
        shown = shown_path(self.state.workspace)
        if field.value != shown:
            with self.prevent(Input.Changed):
                field.value = shown
        self.query_one(f"#{self.STEP}-workspace-hint", Static).update(workspace_hint(self.state))

    def workspace_changed(self) -> None:
        """The operator typed another workspace path."""

    # Textual calls an ``on_*`` handler of every class in the MRO, so subclasses do not override these
    # two: they implement the hooks below.

    def on_input_changed(self, event: Input.Changed) -> None:
        field = event.input
        if not isinstance(field, TextField):
            return
        event.stop()
        if field.path == WORKSPACE:
            self.state.workspace_choice = Path(event.value) if event.value.strip() else None
            self.query_one(f"#{self.STEP}-workspace-hint", Static).update(workspace_hint(self.state))
            self.workspace_changed()
        elif field.path.startswith("@"):
            self.other_input(field)
        else:
            self.state.set_text(field.path, field.kind, field.value)
            self.after_input(field)
            self.changed()

    def on_select_changed(self, event: Select.Changed) -> None:
        field = event.select
        if not isinstance(field, ChoiceField):
            return
        event.stop()
        value = None if event.value is Select.NULL else event.value
        if field.path.startswith("@"):
            self.other_choice(field, value)
        else:
            self.state.set(field.path, value)
            self.after_choice(field.path, value)
            self.changed()

    def other_input(self, field: TextField) -> None:
        """A field that is not a spec key (``@...``) changed."""

    def after_input(self, field: TextField) -> None:
        """A spec field changed the draft (already written)."""

    def other_choice(self, field: ChoiceField, value: Any) -> None:
        """A choice that is not a spec key (``@...``) changed."""

    def after_choice(self, path: str, value: Any) -> None:
        """A choice changed the draft (some choices narrow others: a Fargate CPU size, its memory)."""

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A step's worker failed unexpectedly (its expected failures are messages): tell the operator."""
        self.wizard_app.on_worker_state_changed(event)

    def focus_first(self) -> None:
        for widget in self.query("*"):
            if widget.focusable:
                widget.focus()
                return
