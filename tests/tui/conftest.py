"""What every TUI test shares: an isolated environment (no price cache, AWS files and log of the
machine's own), and helpers that let a pilot wait for the wizard to settle."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from textual.app import App
from textual.pilot import Pilot
from textual.screen import Screen

from tui.app import MlfargateApp
from tui.wizard.screen import WizardScreen

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
FIXED_NOW = datetime(2026, 1, 14, 9, 30, 0).astimezone()
SIZE = (120, 44)


def fixed_clock() -> datetime:
    return FIXED_NOW


@pytest.fixture(autouse=True)
def isolated(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """No refreshed price cache (the bundled prices), empty AWS files, the log in a temp dir, and never
    the instance metadata address."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("MLFARGATE_CACHE_DIR", str(home / "cache"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(home / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(home / "aws-credentials"))
    monkeypatch.setenv("MLFARGATE_TUI_LOG", str(home / "tui.log"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("MLFARGATE_AWS_ENDPOINT_URL", raising=False)
    yield home


def make_app(spec: Path, **kwargs: Any) -> MlfargateApp:
    return MlfargateApp(spec, clock=fixed_clock, cursor_blink=False, **kwargs)


async def settle(app: MlfargateApp, pilot: Pilot[None]) -> None:
    """Wait until the core is warm, workers are done and the screen has caught up."""
    for _ in range(200):
        await pilot.pause()
        wizard = app.wizard
        if wizard is not None and wizard.core_ready:
            break
        await pilot.pause(0.05)
    else:
        raise AssertionError("the wizard never became ready")
    await app.workers.wait_for_complete()
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()


def wizard(app: MlfargateApp) -> WizardScreen:
    assert app.wizard is not None
    return app.wizard


async def type_into(pilot: Pilot[None], selector: str, text: str) -> None:
    """Focus a field, clear it and type ``text`` key by key, as an operator would."""
    app = pilot.app
    field = app.screen.query_one(selector)
    field.focus()
    await pilot.pause()
    await pilot.press("ctrl+a", "ctrl+k")
    if text:
        await pilot.press(*list(text))
    await pilot.pause()


def errors_shown(app: MlfargateApp, step: str) -> list[str]:
    from tui.widgets.spec_errors import ErrorList

    return [str(e) for e in app.screen.query_one(f"#errors-{step}", ErrorList).errors]


async def goto(app: MlfargateApp, pilot: Pilot[None], step: str) -> None:
    await wizard(app).go(step)
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()


async def run_generate(app: MlfargateApp, pilot: Pilot[None]) -> None:
    """Press Generate & check and wait until it is done (the button is enabled again)."""
    await pilot.click("#generate")
    for _ in range(900):
        await pilot.pause(0.1)
        if not app.screen.query_one("#generate").disabled:
            break
    await app.workers.wait_for_complete()
    await pilot.pause()


async def until(
    pilot: Pilot[None],
    condition: Callable[[], bool],
    seconds: float = 10.0,
    shown: Callable[[], str] | None = None,
) -> None:
    """Let the app run until ``condition`` holds (a refresh can take a few message rounds); ``shown``
    describes what the screen held instead, for the failure message."""
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await pilot.pause(0.05)
    assert condition(), f"the screen never showed what was expected{': ' + shown() if shown else ''}"


def modal_shown(app: App[Any], screen_type: type[Screen[Any]]) -> Callable[[], bool]:
    """A condition for :func:`until`: a ``screen_type`` modal is on top AND composed (the screen is
    pushed a message round before its widgets are mounted; a query in between finds nothing)."""
    return lambda: isinstance(app.screen, screen_type) and app.screen.is_mounted and bool(app.screen.children)
