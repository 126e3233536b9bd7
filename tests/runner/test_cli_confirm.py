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

from mlfargate.terraform import engine as engine_mod
from mlfargate.terraform import operations as tfops

REPO = Path(__file__).resolve().parents[2]


def run_in_pty(ws: Path, *args: str, answer: str) -> tuple[int, str]:
    """Run ``mlfargate ARGS`` with a pty as stdin/stdout, type ``answer`` at the prompt, return (rc, output)."""
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
                os.write(leader, answer.encode() + b"\n")
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
