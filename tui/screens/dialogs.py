"""Modal dialogs the app opens over any mode: help, and quitting with unsaved changes."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from tui.state import STEPS

KEYS = (
    ("alt+→ / ctrl+n", "next step (refused while this step has errors)"),
    ("alt+←", "previous step (values are kept)"),
    ("tab / shift+tab", "next / previous field"),
    ("ctrl+s", "save the spec (atomic write; says so when it still has errors)"),
    ("ctrl+p", "command palette: go to a step, save, generate"),
    ("? / f1", "this help"),
    ("ctrl+q", "quit (asks when there are unsaved changes)"),
)

STEP_HELP = {
    "account": "profile from your AWS files, region (AZ count), optional account check, name + environment",
    "network": "a new VPC (CIDR, AZs, NAT with its monthly cost) or an existing VPC and its subnets",
    "model": "CPU or GPU; model size -> the GPU types that fit; capacity; task CPU/memory; the container",
    "spot": "on-demand base and Spot share, with the monthly floor/ceiling; an optional budget alert",
    "scaling": "min/max tasks, target tracking, schedules (presets or cron) and the week they produce",
    "review": "the spec as YAML (editable), every cost line, the files Generate will write and their diff",
    "generate": "save, write the workspace, run the policy gate; then the commands to plan and apply",
}


DEPLOY_KEYS = (
    ("p", "plan: init, a saved plan, its summary by module, the policy gate on it"),
    ("a", "apply exactly that plan (type the workspace name to confirm)"),
    ("x", "destroy everything the workspace manages (same typed confirmation)"),
    ("ctrl+c", "while Terraform runs: asks, then stops it gracefully (state saved)"),
    ("d / esc", "the dashboard / back to the wizard"),
)
DASHBOARD_KEYS = (
    ("r", "refresh now (ECS every 15 s, CloudWatch at most once a minute)"),
    ("/ · s", "filter the tables · sort the focused table (or click a header)"),
    ("w / q", "back to the wizard / quit"),
)


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,question_mark,f1", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        text = Text()
        text.append("mlfargate wizard\n\n", style="bold")
        text.append(
            "Each step edits part of the deployment spec. Every field is checked as you type by the same "
            "rules as `mlfargate validate`; a step's errors are listed under it, in the CLI's words, and "
            "the step list marks steps with errors (✗). The cost in the corner is `mlfargate cost`'s.\n\n"
        )
        text.append("Keys\n", style="bold")
        for keys, what in KEYS:
            text.append(f"  {keys:<16}", style="bold cyan")
            text.append(f"{what}\n")
        text.append("\nSteps\n", style="bold")
        for i, s in enumerate(STEPS, 1):
            text.append(f"  {i} {s.title:<20}", style="bold")
            text.append(f"{STEP_HELP[s.key]}\n")
        for title, rows in (("Plan & apply (step 7's button)", DEPLOY_KEYS), ("Dashboard", DASHBOARD_KEYS)):
            text.append(f"\n{title}\n", style="bold")
            for key, meaning in rows:
                text.append(f"  {key:<16}", style="bold cyan")
                text.append(f"{meaning}\n")
        text.append("\nThe mouse works too: click a step, a field, a button or a table row.", style="dim")
        with Vertical(id="help-box", classes="dialog"):
            with VerticalScroll():
                yield Static(text, markup=False)
            yield Button("Close", id="close", compact=True)

    @on(Button.Pressed, "#close")
    def _close(self) -> None:
        self.dismiss(None)


class QuitScreen(ModalScreen[str]):
    """Unsaved changes: save and quit, quit without saving, or stay."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "dismiss('cancel')", "Cancel")]

    def __init__(self, path: str, errors: int) -> None:
        super().__init__()
        self.path = path
        self.errors = errors

    def compose(self) -> ComposeResult:
        extra = f" It has {self.errors} error(s): saving keeps them for later." if self.errors else ""
        with Vertical(id="quit-box", classes="dialog"):
            yield Static(f"{self.path} has unsaved changes.{extra}", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Save and quit", id="save", variant="primary", compact=True)
                yield Button("Quit without saving", id="discard", variant="error", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    @on(Button.Pressed)
    def _chosen(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id or "cancel")
