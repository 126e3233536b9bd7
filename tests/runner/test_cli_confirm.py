"""apply and destroy through the CLI on a real terminal (a pty): the typed workspace name gates both."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from mlfargate.terraform import engine as engine_mod
from mlfargate.terraform import operations as tfops

REPO = Path(__file__).resolve().parents[2]


def run_in_pty(ws: Path, *args: str, answer: str | None) -> tuple[int, str]:
    """Run ``mlfargate ARGS`` with a pty as stdin/stdout, type ``answer`` and Enter at the prompt (None:
    end of input, Ctrl-D), return (rc, output)."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlfargate.cli", *args, str(ws), "--terraform", "embedded"],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        close_fds=True,
    )
    os.close(follower)
    output = b""
    answered = False
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(leader, 4096)
            except OSError:
                break
            if not chunk:
                break
            output += chunk
            if not answered and b"Type the workspace name" in output:
                os.write(leader, answer.encode() + b"\n" if answer is not None else b"\x04")
                answered = True
        elif proc.poll() is not None:
            break
    rc = proc.wait(timeout=30)
    os.close(leader)
    return rc, output.decode(errors="replace")


def test_apply_and_destroy_need_the_typed_workspace_name(make_ws: Callable[..., Path]) -> None:
    ws = make_ws(name="svc-confirm")
    embedded = engine_mod.select("embedded")
    plan = subprocess.run(
        [sys.executable, "-m", "mlfargate.cli", "plan", str(ws), "--terraform", "embedded"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert plan.returncode == 0, plan.stderr

    rc, output = run_in_pty(ws, "apply", answer="wrong-name")
    assert rc != 0 and "Type the workspace name (svc-confirm) to apply" in output
    assert tfops.state_resources(embedded, ws) == []

    rc, output = run_in_pty(ws, "apply", answer="svc-confirm")
    assert rc == 0, output
    assert tfops.state_resources(embedded, ws) == ["terraform_data.a", "terraform_data.b"]

    rc, output = run_in_pty(ws, "destroy", answer="nope")
    assert rc != 0 and "to destroy" in output
    assert tfops.state_resources(embedded, ws) == ["terraform_data.a", "terraform_data.b"]

    rc, output = run_in_pty(ws, "destroy", answer="svc-confirm")
    assert rc == 0, output
    assert "destroy" in output.lower() and "2" in output
    assert tfops.state_resources(embedded, ws) == []


def _planned(make_ws: Callable[..., Path], name: str) -> Path:
    ws = make_ws(name=name)
    plan = subprocess.run(
        [sys.executable, "-m", "mlfargate.cli", "plan", str(ws), "--terraform", "embedded"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert plan.returncode == 0, plan.stderr
    return ws


# Anything but exactly the workspace name must refuse: just Enter, whitespace, a prefix, the name with
# spaces around it, and end of input (Ctrl-D at the prompt).
NEAR_MISSES = {"empty": "", "spaces": "   ", "prefix": "svc-near", "trailing": "svc-nearly  ", "eof": None}


def test_near_misses_neither_apply_nor_destroy(make_ws: Callable[..., Path]) -> None:
    embedded = engine_mod.select("embedded")
    ws = _planned(make_ws, "svc-nearly")
    for label, answer in NEAR_MISSES.items():
        rc, output = run_in_pty(ws, "apply", answer=answer)
        assert rc == 1, (label, output)
        assert "not confirmed" in output and "nothing was changed" in output and "Traceback" not in output
        assert tfops.state_resources(embedded, ws) == [], label
    # A refusal keeps the saved plan: the right name then applies it.
    rc, output = run_in_pty(ws, "apply", answer="svc-nearly")
    assert rc == 0, output
    for label, answer in NEAR_MISSES.items():
        rc, output = run_in_pty(ws, "destroy", answer=answer)
        assert rc == 1 and "not confirmed" in output, (label, output)
        assert tfops.state_resources(embedded, ws) == ["terraform_data.a", "terraform_data.b"], label


@pytest.mark.parametrize("stdin", ["closed", "the-name"])
def test_without_a_terminal_nothing_applies(make_ws: Callable[..., Path], stdin: str) -> None:
    """stdin that is not a terminal never confirms, even when it carries the right name."""
    embedded = engine_mod.select("embedded")
    ws = _planned(make_ws, "svc-pipe")
    proc = subprocess.run(
        [sys.executable, "-m", "mlfargate.cli", "apply", str(ws), "--terraform", "embedded"],
        cwd=REPO,
        input="" if stdin == "closed" else "svc-pipe\n",
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines()[-1] == (
        "error: refusing to apply without confirmation: stdin is not a terminal; pass --yes"
    )
    assert tfops.state_resources(embedded, ws) == []
