"""The wizard screen: the step list (with each step's verdict) and the cost so far on the side, the
current step's body in a content switcher (every visited step keeps its widgets and values), Back /
Next under it. Step bodies are imported and mounted when first shown, so the first screen only
pays for its own step."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, ContentSwitcher, Footer, OptionList, Static
from textual.widgets.option_list import Option

from tui.messages import CoreReady, GoToStep, SpecChanged
from tui.state import STEP_KEYS, STEPS, Analysis, WizardState, step
from tui.widgets.note import Note

if TYPE_CHECKING:
    from tui.app import MlfargateApp
    from tui.wizard.base import StepBody

#: Below this many columns the step list gives way (app.tcss, ``-narrow``).
NARROW_BELOW = 100
#: step key -> (module, class) of its body, imported on first use.
BODIES: dict[str, tuple[str, str]] = {
    "account": ("tui.wizard.account", "AccountStep"),
    "network": ("tui.wizard.network", "NetworkStep"),
    "model": ("tui.wizard.model", "ModelStep"),
    "spot": ("tui.wizard.spot", "SpotStep"),
    "scaling": ("tui.wizard.scaling", "ScalingStep"),
    "review": ("tui.wizard.review", "ReviewStep"),
    "generate": ("tui.wizard.generate", "GenerateStep"),
}


def body_class(key: str) -> type[StepBody]:
    module, name = BODIES[key]
    cls: type[StepBody] = getattr(importlib.import_module(module), name)
    return cls


def step_prompt(index: int, key: str, current: str, analysis: Analysis | None) -> Text:
    title = step(key).title
    if key == current:
        mark, style = "▸", "bold"
    elif analysis is None or key == "generate":
        mark, style = " ", ""
    elif analysis.has_errors(key):
        mark, style = "✗", "red"
    else:
        mark, style = "✓", "green"
    text = Text(f"{mark} ", style=style)
    text.append(f"{index} {title}")
    return text


class WizardScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("alt+right,ctrl+n", "next", "Next", priority=True),
        Binding("alt+left", "back", "Back", priority=True),
    ]

    def __init__(self, state: WizardState, start: str) -> None:
        super().__init__(id="wizard-screen")
        self.state = state
        self.start = start
        self.current = start
        self.bodies: dict[str, StepBody] = {}
        self.stale: set[str] = set()
        self.core_ready = False
        self.prompts: dict[str, Text] = {}

    @property
    def wizard_app(self) -> MlfargateApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield Note("", id="title-bar", markup=False)
        with Horizontal(id="wizard"):
            with Vertical(id="side"):
                yield OptionList(
                    *[
                        Option(step_prompt(i, s.key, self.start, None), id=s.key)
                        for i, s in enumerate(STEPS, 1)
                    ],
                    id="steps",
                )
                yield Note("cost now\n…", id="cost", markup=False)
            with Vertical(id="content"):
                with Horizontal(id="title-row"):
                    yield Note("", id="step-title", markup=False)
                    yield Note("", id="cost-inline", markup=False)
                first = body_class(self.start)(self.state)
                self.bodies[self.start] = first
                yield ContentSwitcher(first, id="bodies", initial=first.id)
                with Horizontal(id="nav"):
                    yield Note("", id="nav-status", markup=False)
                    yield Button("◂ Back", id="back", compact=True)
                    yield Button("Next ▸", id="next", compact=True, variant="primary")
        yield Footer()

    def on_resize(self, event: events.Resize) -> None:
        # The wide layout is the default: a class only below 100 columns, so a wide terminal never
        # restyles the screen on start.
        self.set_class(event.size.width < NARROW_BELOW, "-narrow")

    async def on_mount(self) -> None:
        self.query_one("#steps", OptionList).can_focus = True
        await self.go(self.start)

    # --- navigation -------------------------------------------------------------------------------

    async def go(self, key: str) -> None:
        body = self.bodies.get(key)
        switcher = self.query_one(ContentSwitcher)
        if body is None:
            body = body_class(key)(self.state)
            self.bodies[key] = body
            await switcher.mount(body)
            if self.core_ready:
                body.refresh_view(self.state.analysis())
        elif key in self.stale and self.core_ready:
            body.refresh_view(self.state.analysis())
        self.stale.discard(key)
        switcher.current = body.id
        self.current = key
        index = STEP_KEYS.index(key)
        self.query_one("#step-title", Static).update(f"{index + 1}/{len(STEPS)} · {step(key).title}")
        self.query_one("#back", Button).disabled = index == 0
        nxt = self.query_one("#next", Button)
        nxt.display = key != "generate"
        self._update_side(self.state.analysis() if self.core_ready else None)
        body.entered()
        body.focus_first()

    async def action_next(self) -> None:
        if self.current == "generate":
            return
        errors = self.state.analysis().errors_for(self.current)
        if errors:
            self.app.bell()
            self.query_one("#nav-status", Static).update(f"{len(errors)} error(s) in this step: fix to go on")
            self.query_one("#nav-status", Static).set_class(True, "-bad")
            body = self.bodies[self.current]
            body.refresh_view(self.state.analysis())
            return
        await self.go(STEP_KEYS[STEP_KEYS.index(self.current) + 1])

    async def action_back(self) -> None:
        index = STEP_KEYS.index(self.current)
        if index > 0:
            await self.go(STEP_KEYS[index - 1])

    async def action_go(self, key: str) -> None:
        await self.go(key)

    @on(Button.Pressed, "#next")
    async def _next_pressed(self) -> None:
        await self.action_next()

    @on(Button.Pressed, "#back")
    async def _back_pressed(self) -> None:
        await self.action_back()

    @on(OptionList.OptionSelected, "#steps")
    async def _step_chosen(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            await self.go(event.option.id)

    async def on_go_to_step(self, message: GoToStep) -> None:
        await self.go(message.step)

    # --- the draft changed ------------------------------------------------------------------------

    def on_core_ready(self, _: CoreReady) -> None:
        self.core_ready = True
        self.refresh_all(None)

    def on_spec_changed(self, message: SpecChanged) -> None:
        message.stop()
        if message.reload:
            for key, body in self.bodies.items():
                if key != message.origin:
                    body.load()
        self.refresh_all(message.origin)

    def refresh_all(self, origin: str | None) -> None:
        """Re-read the core's verdict; the current step and the side panel show it now, the other
        mounted steps when they are shown next."""
        with self.wizard_app.guard("checking the spec"):
            analysis = self.state.analysis()
            self._update_side(analysis)
            self.bodies[self.current].refresh_view(analysis)
            self.stale.update(k for k in self.bodies if k != self.current)
            status = self.query_one("#nav-status", Static)
            if not analysis.errors_for(self.current):
                status.update("")
                status.set_class(False, "-bad")

    def _update_side(self, analysis: Analysis | None) -> None:
        steps = self.query_one("#steps", OptionList)
        for i, s in enumerate(STEPS, 1):
            prompt = step_prompt(i, s.key, self.current, analysis)
            if self.prompts.get(s.key) != prompt:
                self.prompts[s.key] = prompt
                steps.replace_option_prompt(s.key, prompt)
        steps.highlighted = STEP_KEYS.index(self.current)
        self.query_one("#title-bar", Static).update(self.wizard_app.show_title())
        cost = self.query_one("#cost", Static)
        inline = self.query_one("#cost-inline", Static)
        if analysis is None:
            cost.update("cost now\n…")
            inline.update("")
            return
        est = analysis.estimate
        if est is None:
            cost.update(Text.assemble(("cost now\n", "bold"), (analysis.cost_problem or "", "dim")))
            inline.update(Text("cost: fix errors first", style="dim"))
            return
        inline.update(f"${est.monthly_floor:,.0f} – ${est.monthly_ceiling:,.0f} /mo")
        prices = "bundled prices" if est.price_source.startswith("bundled") else "refreshed prices"
        marked = any(line.price.estimate for line in est.lines)
        cost.update(
            Text.assemble(
                ("cost now\n", "bold"),
                f"${est.monthly_floor:,.0f} – ${est.monthly_ceiling:,.0f} /mo\n",
                (f"{prices} {est.price_date}" + ("\nsome are estimates" if marked else ""), "dim"),
            )
        )
