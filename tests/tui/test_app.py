"""The app around the wizard: help, the command palette's entries, quitting with unsaved changes, and
unexpected errors reaching the operator as one line and a log path, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.command import CommandPalette

from mlfargate import account
from tests.tui.conftest import SIZE, make_app, settle, type_into, wizard
from tui import app as app_module
from tui.screens.dialogs import HelpScreen, QuitScreen


async def test_help_opens_with_question_mark_but_not_inside_a_field(tmp_path: Path) -> None:
    app = make_app(tmp_path / "new.yaml")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.screen.query_one("#f-name").focus()
        await pilot.press("?")
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)  # typed into the field instead
        assert app.state.get("name") == "?"  # focus selects the text; the key replaced it
        app.screen.query_one("#steps").focus()
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)


async def test_palette_has_the_steps_save_and_generate(tmp_path: Path) -> None:
    app = make_app(tmp_path / "new.yaml")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert titles[:9] == [
            "Step 1: Account",
            "Step 2: Network",
            "Step 3: Model & GPU sizing",
            "Step 4: Spot mix",
            "Step 5: Scaling",
            "Step 6: Review",
            "Step 7: Generate & check",
            "Save spec",
            "Generate & check",
        ]
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"Step 5")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await pilot.pause(0.3)
        assert wizard(app).current == "scaling"
        await pilot.press("ctrl+p")
        await pilot.press(*"Save spec")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await pilot.pause(0.3)
        assert (tmp_path / "new.yaml").exists()


async def test_quit_asks_about_unsaved_changes(tmp_path: Path) -> None:
    path = tmp_path / "new.yaml"
    app = make_app(path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert isinstance(app.screen, QuitScreen)  # a new spec is unsaved
        await pilot.click("#cancel")
        await pilot.pause()
        assert app.is_running and not isinstance(app.screen, QuitScreen)
        await pilot.press("ctrl+q")
        await pilot.pause()
        await pilot.click("#save")
        await pilot.pause()
    assert path.exists() and app.return_code == 0
    app = make_app(path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("ctrl+q")  # nothing changed: no question
        await pilot.pause()
    assert app.return_code == 0
    app = make_app(path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await wizard(app).go("account")
        await pilot.pause()
        await type_into(pilot, "#f-name", "other")
        await pilot.press("ctrl+q")
        await pilot.pause()
        await pilot.click("#discard")
        await pilot.pause()
    assert "name: sentiment" in path.read_text()


async def test_an_unexpected_error_in_a_worker_is_a_notification_and_a_log(
    tmp_path: Path, isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(region: str, profile: str | None = None) -> account.Identity:
        raise RuntimeError("something nobody expected\nwith a second line")

    monkeypatch.setattr(account, "caller_identity", boom)
    app = make_app(tmp_path / "new.yaml")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.click("#check")
        await app.workers.wait_for_complete()
        await pilot.pause()
        log = isolated / "tui.log"
        messages = [n.message for n in app._notifications]
        assert f"unexpected error: RuntimeError: something nobody expected; details in {log}" in messages
        assert "Traceback (most recent call last)" in log.read_text()
        assert app.is_running  # the wizard carries on


async def test_an_error_inside_a_handler_is_a_notification_too(
    tmp_path: Path, isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app(tmp_path / "new.yaml")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)

        def broken() -> None:
            raise KeyError("price")

        monkeypatch.setattr(app.state, "analysis", broken)
        await type_into(pilot, "#f-name", "x")
        assert any(
            n.message.startswith("unexpected error: KeyError: 'price'; details in ")
            for n in app._notifications
        )
        assert app.is_running


def test_main_refuses_a_directory_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert app_module.main([str(tmp_path)]) == 2
    assert capsys.readouterr().err == f"error: {tmp_path}: is a directory, expected a YAML file\n"


def test_a_crash_is_one_line_and_a_log(
    tmp_path: Path, isolated: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An exception no handler expected stops the app: main() prints one line with the log's path."""

    class Crashing(app_module.MlfargateApp):
        def on_ready(self) -> None:
            raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(app_module, "MlfargateApp", Crashing)
    headless = Crashing.run
    monkeypatch.setattr(Crashing, "run", lambda self: headless(self, headless=True))
    code = app_module.main([str(tmp_path / "new.yaml")])
    err = capsys.readouterr().err
    assert code == 1
    assert err == (
        "mlfargate-tui stopped on an unexpected error: ZeroDivisionError: division by zero; "
        f"details in {isolated / 'tui.log'}\n"
    )
    assert "Traceback" not in err
