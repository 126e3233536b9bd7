"""Snapshots of every step at a fixed terminal size: cursor blink off, a fixed clock, bundled prices,
and paths relative to the working directory (no machine-specific path in any picture).

Update after an intended change: ``.venv/bin/pytest tests/tui/test_snapshots.py --snapshot-update``,
then look at the pictures (``snapshot_report.html``) before committing them."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.tui.conftest import REPO, goto, make_app, run_generate, settle, type_into

WIDE = (120, 40)
NARROW = (80, 24)
Compare = Callable[..., bool]


@pytest.fixture
def workdir(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A working directory inside the checkout's ignored build/ (same depth every run): the workspace's
    local module paths and the gate's file:line are then the same relative paths on every machine."""
    path = REPO / "build" / f"tui-snapshot-{uuid.uuid4().hex[:8]}"
    path.mkdir(parents=True)
    monkeypatch.chdir(path)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def at(step: str, then: Callable[[Any, Pilot[None]], Any] | None = None) -> Callable[[Pilot[None]], Any]:
    async def run_before(pilot: Pilot[None]) -> None:
        app: Any = pilot.app
        await settle(app, pilot)
        await goto(app, pilot, step)
        if then is not None:
            await then(app, pilot)
        await pilot.pause(0.4)  # the review's file preview waits 0.3 s for typing to stop
        await app.workers.wait_for_complete()
        await pilot.pause()
        app.screen.set_focus(None)

    return run_before


def test_account(snap_compare: Compare, workdir: Path) -> None:
    assert snap_compare(make_app(Path("mlfargate.yaml")), terminal_size=WIDE, run_before=at("account"))


def test_account_with_an_error(snap_compare: Compare, workdir: Path) -> None:
    async def bad_name(app: Any, pilot: Pilot[None]) -> None:
        await type_into(pilot, "#f-name", "Sentiment")
        await pilot.press("ctrl+n")  # refused

    assert snap_compare(
        make_app(Path("mlfargate.yaml")), terminal_size=WIDE, run_before=at("account", bad_name)
    )


def test_account_at_80x24(snap_compare: Compare, workdir: Path) -> None:
    assert snap_compare(make_app(Path("mlfargate.yaml")), terminal_size=NARROW, run_before=at("account"))


def test_network(snap_compare: Compare, workdir: Path) -> None:
    assert snap_compare(make_app(Path("mlfargate.yaml")), terminal_size=WIDE, run_before=at("network"))


def test_model(snap_compare: Compare, workdir: Path) -> None:
    assert snap_compare(make_app(Path("mlfargate.yaml")), terminal_size=WIDE, run_before=at("model"))


def test_spot(snap_compare: Compare, workdir: Path) -> None:
    assert snap_compare(make_app(Path("mlfargate.yaml")), terminal_size=WIDE, run_before=at("spot"))


def test_scaling(snap_compare: Compare, workdir: Path) -> None:
    assert snap_compare(make_app(Path("mlfargate.yaml")), terminal_size=WIDE, run_before=at("scaling"))


def test_review(snap_compare: Compare, workdir: Path) -> None:
    assert snap_compare(make_app(Path("mlfargate.yaml")), terminal_size=WIDE, run_before=at("review"))


@pytest.mark.slow
def test_generate_and_check(snap_compare: Compare, workdir: Path) -> None:
    assert snap_compare(
        make_app(Path("mlfargate.yaml")), terminal_size=WIDE, run_before=at("generate", run_generate)
    )
