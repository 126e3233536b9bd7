"""Pilot runs of the real Textual app on real spec files."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Static

from tui.app import MlfargateApp
from tui.widgets.spec_errors import SpecErrorTable

REPO = Path(__file__).resolve().parents[2]


async def wait_for_status(app: MlfargateApp, pilot: object) -> str:
    for _ in range(100):
        await app.workers.wait_for_complete()
        await pilot.pause()  # type: ignore[attr-defined]
        text = str(app.screen.query_one("#status", Static).render())
        if text != "Loading…":
            return text
    raise AssertionError("status never left Loading…")


async def test_valid_spec_shows_summary() -> None:
    app = MlfargateApp(REPO / "examples/gpu-ec2-spot-schedules.yaml")
    async with app.run_test() as pilot:
        status = await wait_for_status(app, pilot)
        assert status.startswith("ok: sentiment-prod in us-east-1: ECS on EC2")
        assert app.screen.query_one(SpecErrorTable).row_count == 0


async def test_gpu_on_fargate_is_explained_and_reload_picks_up_fixes(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    good = (REPO / "examples/gpu-ec2-spot-schedules.yaml").read_text()
    spec.write_text(good.replace("capacity: ec2", "capacity: fargate"))
    app = MlfargateApp(spec)
    async with app.run_test() as pilot:
        status = await wait_for_status(app, pilot)
        assert "problem(s) to fix" in status
        table = app.screen.query_one(SpecErrorTable)
        keys = [table.get_row_at(i)[0] for i in range(table.row_count)]
        assert "compute.capacity" in keys
        spec.write_text(good)
        await pilot.press("r")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert str(app.screen.query_one("#status", Static).render()).startswith("ok: ")
        assert table.row_count == 0


async def test_missing_file_is_one_line(tmp_path: Path) -> None:
    app = MlfargateApp(tmp_path / "absent.yaml")
    async with app.run_test() as pilot:
        status = await wait_for_status(app, pilot)
        assert status.endswith("absent.yaml: no such file")


def test_review_screen_snapshot(snap_compare: object, monkeypatch: object) -> None:
    monkeypatch.chdir(REPO)  # type: ignore[attr-defined]
    app = MlfargateApp(Path("examples/cpu-fargate-spot.yaml"))

    async def settle(pilot: object) -> None:
        await wait_for_status(app, pilot)

    assert snap_compare(app, terminal_size=(110, 24), run_before=settle)  # type: ignore[operator]
