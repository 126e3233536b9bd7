"""The deploy dialogs: the typed confirmation (type the workspace name to apply or destroy) and the
question before interrupting Terraform (Ctrl+C), or before forcing it."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from tui.widgets.note import Note

if TYPE_CHECKING:
    from mlfargate.flow import ConfirmRequest
    from mlfargate.terraform.plan_summary import PlanSummary


def summary_text(summary: PlanSummary) -> Text:
    t = summary.totals
    text = Text()
    for n, label, style in (
        (t.add, "to add", "green"),
        (t.change, "to change", "yellow"),
        (t.replace, "to replace", "bold red"),
        (t.destroy, "to destroy", "bold red"),
    ):
        if text:
            text.append(", ")
        text.append(f"{n} {label}", style=style if n else "dim")
    for r in summary.replacements:
        because = f" (because of {', '.join(r.paths)})" if r.paths else ""
        text.append(f"\n⚠ replace {r.address}{because}: destroyed and created again", style="yellow")
    return text


class ConfirmScreen(ModalScreen[str | None]):
    """Type the workspace name to apply (or destroy). The core decides what confirms
    (:func:`mlfargate.flow.confirmed`): a wrong name is refused here, in place, and nothing runs."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, request: ConfirmRequest) -> None:
        super().__init__(id="confirm-screen")
        self.request = request
        self.refusals = 0

    def compose(self) -> ComposeResult:
        r = self.request
        verb = "Destroy everything" if r.verb == "destroy" else "Apply the saved plan to"
        with Vertical(id="confirm-box", classes="dialog"):
            yield Static(Text(f"{verb} {r.name}?", style="bold"), id="confirm-title")
            yield Static(summary_text(r.summary), id="confirm-summary")
            yield Static(
                Text.assemble("Type the workspace name ", (r.name, "bold"), f" to {r.verb}:"),
                id="confirm-ask",
            )
            yield Input(placeholder=r.name, id="confirm-name")
            yield Note("", id="confirm-status", markup=False)
            with Horizontal(classes="buttons"):
                yield Button(
                    r.verb.capitalize(),
                    id="confirm-go",
                    variant="error" if r.verb == "destroy" else "primary",
                    compact=True,
                )
                yield Button("Cancel", id="confirm-cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#confirm-name", Input).focus()

    @on(Input.Submitted, "#confirm-name")
    @on(Button.Pressed, "#confirm-go")
    def _go(self) -> None:
        from mlfargate.flow import confirmed

        typed = self.query_one("#confirm-name", Input).value
        if confirmed(typed, self.request.name):
            self.dismiss(typed)
            return
        self.refusals += 1
        self.app.bell()
        self.query_one("#confirm-status", Static).update(
            Text(
                f"{typed!r} is not the workspace name: type {self.request.name} exactly "
                f"(Esc cancels; nothing runs until it matches)",
                style="red",
            )
        )

    @on(Button.Pressed, "#confirm-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class InterruptScreen(ModalScreen[bool]):
    """Ctrl+C while Terraform runs: interrupt it gracefully? (Or, when it is already stopping: force?)"""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "keep", "Keep running")]

    def __init__(self, what: str, *, force: bool = False, quitting: bool = False) -> None:
        super().__init__(id="interrupt-screen")
        self.what = what
        self.force = force
        self.quitting = quitting

    def compose(self) -> ComposeResult:
        if self.force:
            title = f"Terraform is still stopping ({self.what}). Force it?"
            body = (
                "Forcing can lose state: a resource being created may exist in AWS without being recorded "
                "in the state. Waiting lets Terraform finish what it started and save the state."
            )
            go, stay = "Force stop", "Wait"
        else:
            title = f"{'Quit while' if self.quitting else 'Interrupt'} {self.what}{' runs' if self.quitting else ''}?"
            body = (
                "Terraform stops gracefully: the resource operations in flight finish and the state is saved; "
                "the rest is not done. The screen then says what the state holds."
            )
            if self.quitting:
                body += " The app quits once Terraform has stopped."
            go, stay = ("Stop and quit" if self.quitting else "Interrupt"), "Keep running"
        with Vertical(id="interrupt-box", classes="dialog"):
            yield Static(Text(title, style="bold"))
            yield Static(body)
            with Horizontal(classes="buttons"):
                yield Button(go, id="interrupt-go", variant="error", compact=True)
                yield Button(stay, id="interrupt-keep", compact=True)

    def on_mount(self) -> None:
        self.query_one("#interrupt-keep", Button).focus()

    @on(Button.Pressed, "#interrupt-go")
    def _go(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#interrupt-keep")
    def action_keep(self) -> None:
        self.dismiss(False)
