"""plan / apply / destroy / check say what they are doing while they work (issue 16): each phase as it
happens, init's own lines (a provider or module download) and Terraform's per-resource progress on
stderr; on a terminal (a real pty here) one status line redrawn in place, with a spinner and the
elapsed time, even while no event arrives; plain lines in a pipe; nothing of this with --json."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Callable
from pathlib import Path

from tests.runner.conftest import HeldServer, held_init

REPO = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONUTF8": "1"}
CLI = [sys.executable, "-m", "mlfargate.cli"]
#: The status line: redrawn in place (carriage return, erase line), a spinner frame, the phase, its seconds.
STATUS = re.compile(r"\r\x1b\[2K[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] (?P<phase>[a-z() -]+?) +(?P<seconds>\d+\.\d)s")


def mlfargate(*args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=ENV,
        stdin=subprocess.DEVNULL,
        timeout=timeout,
    )


class Terminal:
    """``mlfargate ARGS`` with a pty as its stdin, stdout and stderr (a person at a terminal)."""

    def __init__(self, *args: str, columns: int = 200) -> None:
        self.leader, follower = pty.openpty()
        fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
        self.proc = subprocess.Popen(
            [*CLI, *args], stdin=follower, stdout=follower, stderr=follower, cwd=REPO, env=ENV, close_fds=True
        )
        os.close(follower)
        self.output = ""

    def read_until(self, done: Callable[[str], bool], timeout: float = 180) -> str:
        deadline = time.monotonic() + timeout
        while not done(self.output) and time.monotonic() < deadline:
            ready, _, _ = select.select([self.leader], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(self.leader, 65536)
                except OSError:  # the child closed the terminal
                    break
                if not chunk:
                    break
                self.output += chunk.decode(errors="replace")
            elif self.proc.poll() is not None:
                break
        return self.output

    def type(self, text: str) -> None:
        os.write(self.leader, text.encode())

    def finish(self) -> int:
        self.read_until(lambda _: False, timeout=240)
        rc = self.proc.wait(timeout=60)
        os.close(self.leader)
        return rc


def _lines(stderr: str) -> list[str]:
    return [re.sub(r"\d+\.\ds", "Ns", line) for line in stderr.splitlines()]


def test_plan_apply_destroy_show_each_phase_in_plain_lines(make_ws: Callable[..., Path]) -> None:
    ws = make_ws(name="svc-progress")
    plan = mlfargate("plan", str(ws), "--terraform", "embedded")
    assert plan.returncode == 0, plan.stderr
    lines = _lines(plan.stderr)
    assert "\r" not in plan.stderr and "\x1b" not in plan.stderr  # no terminal: no spinner
    phases = [line for line in lines if not line.startswith(" ")]
    assert phases == [
        "terraform init ...",
        "terraform init: done in Ns",
        "terraform plan ...",
        "terraform plan: done in Ns",
        "policy gate (checkov) ...",
        "policy gate (checkov): done in Ns",
    ]
    # init's own lines, as it printed them, under its phase; then what the gate checks.
    init = lines[1 : lines.index("terraform init: done in Ns")]
    assert "  Initializing provider plugins found in the configuration..." in init
    assert "  Terraform has been successfully initialized!" in init
    gate = lines[lines.index("policy gate (checkov) ...") + 1 : -1]
    assert gate == [f"  checking the configuration in {ws}", "  checking the saved plan plan.json"]
    assert plan.stdout.startswith("plan: 2 to add")  # the summary stays on stdout

    applied = mlfargate("apply", str(ws), "--terraform", "embedded", "--yes")
    assert applied.returncode == 0, applied.stderr
    lines = _lines(applied.stderr)
    assert lines[:4] == [
        "policy gate (checkov) ...",
        f"  checking the configuration in {ws}",
        "  checking the saved plan plan.json",
        "policy gate (checkov): done in Ns",
    ]
    assert lines[4] == "terraform apply (apply) ..." and lines[-1] == "terraform apply (apply): done in Ns"
    resources = [re.sub(r"\[id=[^]]+\]", "[id]", line.split("] ", 1)[1].strip()) for line in lines[5:-1]]
    assert resources == [
        "0/2 terraform_data.a: Creating...",
        "1/2 terraform_data.a: Creation complete after 0s [id]",
        "1/2 terraform_data.b: Creating...",
        "2/2 terraform_data.b: Creation complete after 0s [id]",
    ]

    # With a state, the plan reads each resource back: one line per refresh.
    destroyed = mlfargate("destroy", str(ws), "--terraform", "embedded", "--yes")
    assert destroyed.returncode == 0, destroyed.stderr
    lines = _lines(destroyed.stderr)
    assert [line for line in lines if not line.startswith((" ", "["))] == [
        "terraform init ...",
        "terraform init: done in Ns",
        "terraform plan -destroy ...",
        "terraform plan -destroy: done in Ns",
        "terraform apply (destroy) ...",
        "terraform apply (destroy): done in Ns",
    ]
    refreshed = lines[
        lines.index("terraform plan -destroy ...") + 1 : lines.index("terraform plan -destroy: done in Ns")
    ]
    assert sorted(line.split(":")[0] for line in refreshed) == ["  terraform_data.a", "  terraform_data.b"]
    assert all("Refresh complete" in line for line in refreshed)


def test_json_keeps_progress_out(make_ws: Callable[..., Path]) -> None:
    ws = make_ws(name="svc-json")
    plan = mlfargate("plan", str(ws), "--terraform", "embedded", "--json")
    assert plan.returncode == 0, plan.stderr
    assert json.loads(plan.stdout)["summary"]["totals"]["add"] == 2  # stdout: one JSON document
    assert plan.stderr == ""
    applied = mlfargate("apply", str(ws), "--terraform", "embedded", "--yes", "--json")
    assert applied.returncode == 0 and json.loads(applied.stdout)["applied"] is True
    assert applied.stderr == ""
    destroyed = mlfargate("destroy", str(ws), "--terraform", "embedded", "--yes", "--json")
    assert destroyed.returncode == 0 and json.loads(destroyed.stdout)["destroyed"] is True
    assert destroyed.stderr == ""


def test_a_slow_init_streams_its_lines_while_it_waits(
    make_ws: Callable[..., Path], held_server: HeldServer
) -> None:
    """Not a terminal: the phase and init's lines arrive while init is still downloading."""
    ws = make_ws(held_init(held_server), name="svc-held")
    proc = subprocess.Popen(
        [*CLI, "plan", str(ws), "--terraform", "embedded"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, cwd=REPO, env=ENV,
    )  # fmt: skip
    try:
        assert held_server.arrived.wait(120), "init never asked for the module"
        seen = b""
        assert proc.stderr is not None
        deadline = time.monotonic() + 30
        while b"Downloading" not in seen and time.monotonic() < deadline:
            ready, _, _ = select.select([proc.stderr], [], [], 0.2)
            if ready:
                seen += os.read(proc.stderr.fileno(), 65536)
        text = seen.decode()
        assert text.startswith("terraform init ...\n  Initializing modules...\n")
        assert f"  Downloading {held_server.url}/m.zip for m..." in text
        assert proc.poll() is None  # still waiting for the module: all of this came while it ran
    finally:
        held_server.release.set()
        out, err = proc.communicate(timeout=240)
    # The plan is made; the gate refuses the unpinned http module source (CKV_TF_1), as it should.
    assert proc.returncode == 1 and out.startswith(b"plan: 1 to add"), err
    assert b"policy gate failed" in err


def test_a_terminal_gets_a_status_line_that_keeps_moving(
    make_ws: Callable[..., Path], held_server: HeldServer
) -> None:
    """On a terminal the phase's status line is redrawn with its elapsed time while init waits for a
    download that sends nothing: it never looks hung."""
    ws = make_ws(held_init(held_server), name="svc-tty")
    term = Terminal("plan", str(ws), "--terraform", "embedded")
    assert held_server.arrived.wait(120), "init never asked for the module"
    # Wait for the status line to show the download, then for a second more of redraws.
    term.read_until(lambda text: "Downloading" in text)
    mark = len(term.output)
    time.sleep(1.2)
    term.read_until(lambda text: False, timeout=0.5)
    redraws = [m for m in STATUS.finditer(term.output, mark) if m["phase"] == "terraform init"]
    assert len(redraws) >= 5, term.output[mark:]
    assert float(redraws[-1]["seconds"]) - float(redraws[0]["seconds"]) >= 0.8  # the clock moves on its own
    assert f"Downloading {held_server.url}/m.zip for m..." in term.output[mark:]  # the step it is on
    held_server.release.set()
    rc = term.finish()
    assert rc == 1 and "policy gate failed" in term.output, term.output  # the unpinned http module
    out = term.output
    # Finished phases stay on the screen, marked; the summary starts on a clean line.
    for phase in ("terraform init", "terraform plan", "policy gate (checkov)"):
        assert re.search(rf"\r\x1b\[2K✓ {re.escape(phase)}: done in \d+\.\ds\r?\n", out), phase
    # (checkov's colorama wraps stdout on a terminal: its resets are the only bytes in between)
    assert re.search(r"✓ policy gate \(checkov\): done in \d+\.\ds\r\n(\x1b\[0m)*plan: 1 to add", out)


def test_apply_on_a_terminal_asks_on_a_clean_line(make_ws: Callable[..., Path]) -> None:
    """The status line is gone before the typed confirmation is asked for, and apply's per-resource
    lines stay above its status line."""
    ws = make_ws(name="svc-tty-apply")
    assert mlfargate("plan", str(ws), "--terraform", "embedded").returncode == 0
    term = Terminal("apply", str(ws), "--terraform", "embedded")
    before = term.read_until(lambda text: "Type the workspace name" in text)
    assert "Type the workspace name (svc-tty-apply) to apply" in before
    prompt_line = before.rsplit("\n", 1)[1]
    assert "⠋" not in prompt_line and "policy gate" not in prompt_line  # no status line left under the prompt
    assert re.search(r"✓ policy gate \(checkov\): done in \d+\.\ds", before)
    term.type("svc-tty-apply\n")
    rc = term.finish()
    assert rc == 0, term.output
    after = term.output[len(before) :]
    assert re.search(r"\r\x1b\[2K\[ *\d+\.\ds\] +2/2 terraform_data\.b: Creation complete", after)
    assert re.search(r"✓ terraform apply \(apply\): done in \d+\.\ds", after)
    assert "applied in " in after
