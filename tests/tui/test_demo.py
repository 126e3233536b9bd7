"""``mlfargate-tui --demo [SPEC]``: the dashboard on a local AWS emulator (moto_server on 127.0.0.1).

What is proved here: in a real terminal the demo starts its own emulator (a child process, found by
PID) and no emulator process is left after the app ends, whether it quits (Ctrl+C), is terminated
(SIGTERM) or is killed outright (SIGKILL, the crash no ``finally`` survives); and its dashboard fills
every panel, the demo's own additions marked "demo data", for the built-in spec and for a GPU spec on
EC2 (hosts, GPU reservation)."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import Sparkline, Static

from benchmarks.tui_startup import PtySession, console_script
from mlfargate.live import demo
from mlfargate.spec.rules import load_valid
from tests.tui.conftest import EXAMPLES, make_app, until
from tui.dashboard import view as v
from tui.dashboard.screen import DashboardScreen
from tui.dashboard.source import DemoSource
from tui.widgets.keyed_table import KeyedTable

pytestmark = pytest.mark.slow


def alive(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie waiting to be reaped has ended)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def gone(pid: int, seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.fixture
def session(tmp_path: Path) -> Iterator[PtySession]:
    s = PtySession(
        [console_script(), "--demo"],
        cols=160,
        rows=50,
        env={"MLFARGATE_CACHE_DIR": str(tmp_path / "cache"), "MLFARGATE_TUI_LOG": str(tmp_path / "tui.log")},
    )
    try:
        yield s
    finally:
        if s.proc.poll() is None:
            os.killpg(s.proc.pid, signal.SIGKILL)
            s.proc.wait()
        if s.master != -1:
            os.close(s.master)


@pytest.mark.parametrize(
    ("how", "code"),
    [("ctrl+c", 0), ("SIGTERM", 143), ("SIGKILL", -signal.SIGKILL)],
    ids=["ctrl-c", "sigterm", "sigkill"],
)
def test_the_demo_stops_its_emulator_however_the_app_ends(session: PtySession, how: str, code: int) -> None:
    session.wait_for(" DEMO ", "refreshed", "Doctor", timeout=120)
    emulators = [p for p in children(session.proc.pid) if "moto_server" in cmdline(p)]
    assert len(emulators) == 1, [cmdline(p) for p in children(session.proc.pid)]
    (emulator,) = emulators
    assert "-H 127.0.0.1" in cmdline(emulator)  # loopback only
    if how == "ctrl+c":
        session.send("\x03")
    else:
        session.proc.send_signal(signal.SIGTERM if how == "SIGTERM" else signal.SIGKILL)
    try:
        deadline = time.monotonic() + 60
        while session.proc.poll() is None and time.monotonic() < deadline:
            session.read(0.05)
        assert session.proc.returncode == code
        assert gone(emulator), f"the emulator {emulator} outlived the app ({how})"
        assert "Traceback" not in session.text
    finally:
        if alive(emulator):  # the failure is reported; the test leaves nothing running
            os.kill(emulator, signal.SIGKILL)


@pytest.mark.parametrize(
    "spec_file", [None, EXAMPLES / "gpu-ec2-spot-schedules.yaml"], ids=["built-in", "gpu-ec2"]
)
async def test_the_demo_dashboard_fills_every_panel(spec_file: Path | None) -> None:
    spec = demo.demo_spec() if spec_file is None else load_valid(spec_file)
    emulator = demo.start_emulator(spec.aws.account_id)
    try:
        app = make_app(
            Path("mlfargate.yaml"), start="dashboard", source=DemoSource(spec, emulator), wizard=False
        )
        async with app.run_test(size=(160, 60)) as pilot:
            await until(
                pilot, lambda: isinstance(app.screen, DashboardScreen) and app.screen.refreshes > 0, 120
            )
            await pilot.pause()
            dash = app.screen
            assert isinstance(dash, DashboardScreen)
            assert dash.failure is None and dash.view is not None
            assert dash.view.latest.complete, dash.view.latest.unread  # the demo answers every call
            banner = str(dash.query_one("#demo-banner", Static).render())
            assert banner.startswith(" DEMO  a local AWS emulator (moto) at http://127.0.0.1:")
            # Every panel has content.
            for table in ("tasks", "targets", "stopped", "events"):
                assert dash.query_one(f"#{table}", KeyedTable).row_count > 0, table
            service = str(dash.query_one("#service-text", Static).render())
            assert "running 3" in service and "COMPLETED" in service
            assert "/h" in str(dash.query_one("#cost-text", Static).render())
            scaling = str(dash.query_one("#scaling-text", Static).render())
            assert "next: " in scaling and "Successful" in scaling
            doctor = str(dash.query_one("#doctor-text", Static).render())
            assert "[out-of-memory]" in doctor and "[target-health]" in doctor
            gpu = spec.compute.capacity == "ec2"
            for key, _ in v.METRICS:
                if key == "gpu_reservation" and not gpu:
                    continue
                assert dash.query_one(f"#spark-{key}", Sparkline).display, key
                assert str(dash.query_one(f"#value-{key}", Static).render()) != "no data", key
            # The stopped task is the out-of-memory one, with its codes.
            (stopped,) = dash.query_one("#stopped", KeyedTable).given_rows.values()
            assert [str(c) for c in stopped[2:4]] == ["137", "EssentialContainerExited"]
            # Spot and on-demand both run.
            purchases = {str(cells[2]) for cells in dash.query_one("#tasks", KeyedTable).given_rows.values()}
            assert any("spot" in p for p in purchases) and any("on-demand" in p for p in purchases)
            # What the demo supplies is marked on its panel.
            for panel, what in demo.DemoData.supplied.items():
                subtitle = str(dash.query_one(f"#p-{panel}").border_subtitle)
                assert f"demo data: {what}" in subtitle, panel
    finally:
        emulator.stop()
    assert not alive(emulator.pid)


def test_without_the_emulator_installed_the_demo_says_how_to_get_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tui import app as app_module

    monkeypatch.setattr(demo, "moto_server_path", lambda: None)
    assert app_module.main(["--demo"]) == 2
    err = capsys.readouterr().err
    assert err.splitlines() == [
        "error: the demo needs the local AWS emulator moto_server, which is not installed: "
        "pip install 'mlfargate[demo]' (`make demo` installs it and starts the demo)"
    ]
