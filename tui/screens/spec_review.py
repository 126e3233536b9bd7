"""The spec review screen: load a spec, apply every rule, show the deployment or what to fix."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from mlfargate.errors import MlfargateError, SpecError, SpecErrors
from mlfargate.spec.model import Spec, load
from mlfargate.spec.rules import check
from tui.widgets.spec_errors import SpecErrorTable

FARGATE_NOTE = (
    "Fargate has no GPUs: GPU model servers run on ECS on EC2 (GPU AMI, Auto Scaling group, Spot via "
    "mixed instances) or ECS Managed Instances. CPU-only servers run on Fargate / Fargate Spot."
)


@dataclass(frozen=True)
class Review:
    """What the screen shows for one spec file (computed off the UI thread)."""

    spec: Spec | None
    errors: list[SpecError]
    problem: str | None = None


def review(path: Path) -> Review:
    try:
        spec = load(path)
    except SpecErrors as exc:
        return Review(None, exc.errors)
    except MlfargateError as exc:
        return Review(None, [], str(exc))
    return Review(spec, check(spec))


class SpecReviewScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "reload", "Reload"),
        Binding("q", "app.quit", "Quit"),
    ]

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="body"):
            yield Static(f"Spec: {self.path}", id="title")
            yield Static("Loading…", id="status")
            yield Static(FARGATE_NOTE, id="note")
            yield SpecErrorTable(id="errors")
        yield Footer()

    def on_mount(self) -> None:
        self.action_reload()

    def action_reload(self) -> None:
        self.load_review()

    @work(thread=True, exclusive=True)
    def load_review(self) -> None:
        result = review(self.path)
        self.app.call_from_thread(self.show, result)

    def show(self, result: Review) -> None:
        status = self.query_one("#status", Static)
        table = self.query_one(SpecErrorTable)
        table.show(result.errors)
        if result.problem:
            status.update(result.problem)
            status.set_classes("bad")
        elif result.errors:
            status.update(f"{len(result.errors)} problem(s) to fix before this spec can be deployed")
            status.set_classes("bad")
        elif result.spec is not None:
            status.update(f"ok: {result.spec.summary()}")
            status.set_classes("good")
