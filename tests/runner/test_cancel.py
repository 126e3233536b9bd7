"""Stopping Terraform from another thread (the TUI's Ctrl+C): :class:`mlfargate.terraform.process.Cancel`.

A SIGINT handler can only be installed in the main thread, so a flow step running in a worker thread is
stopped through a Cancel: the signal goes to the Terraform child only (never to our own process), once
for the graceful stop, once more to force."""

from __future__ import annotations

import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from mlfargate import flow
from mlfargate.terraform import operations, plan_summary
from mlfargate.terraform import process as tfprocess
from mlfargate.terraform.diagnostics import InterruptedError_
from mlfargate.terraform.engine import Engine
from mlfargate.terraform.process import Cancel, ProgressEvent
from tests.runner.conftest import SLOW

#: A stand-in "terraform" that counts the SIGINTs it receives: the first makes it say it is stopping
#: (and keep running, as Terraform finishes what is in flight), the second ends it with 130.
COUNTER = """\
import signal, sys, time
count = 0
def on_sigint(signum, frame):
    global count
    count += 1
    print(f"sigint {count}", flush=True)
    if count >= 2:
        sys.exit(130)
signal.signal(signal.SIGINT, on_sigint)
print("ready", flush=True)
deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    time.sleep(0.05)
"""


@pytest.fixture
def own_sigints() -> Iterator[list[int]]:
    """SIGINTs our own process receives while the test runs (there must be none)."""
    seen: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: seen.append(signum))
    try:
        yield seen
    finally:
        signal.signal(signal.SIGINT, previous)


def counter_engine(tmp_path: Path) -> Engine:
    script = tmp_path / "fake-terraform"
    script.write_text(f"#!{sys.executable}\n{COUNTER}")
    script.chmod(0o755)
    return Engine("binary", "terraform", str(script), "test")


def in_thread(target: Callable[[], object]) -> tuple[threading.Thread, dict[str, object]]:
    box: dict[str, object] = {}

    def body() -> None:
        try:
            box["result"] = target()
        except BaseException as exc:  # handed to the test thread
            box["error"] = exc

    thread = threading.Thread(target=body, daemon=True)
    thread.start()
    return thread, box


def wait_for(condition: Callable[[], bool], seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_stop_sends_one_sigint_to_the_child_and_force_one_more(
    tmp_path: Path, own_sigints: list[int]
) -> None:
    events: list[ProgressEvent] = []
    cancel = Cancel()
    engine = counter_engine(tmp_path)
    thread, box = in_thread(
        lambda: tfprocess.run(engine, tmp_path, ["apply"], on_event=events.append, cancel=cancel, lines=True)
    )
    wait_for(lambda: any(e.message == "ready" for e in events))
    cancel.stop()
    cancel.stop()  # a second stop sends nothing more
    wait_for(lambda: any(e.message == "sigint 1" for e in events))
    time.sleep(0.5)
    assert not any(e.message == "sigint 2" for e in events)
    assert [e.message for e in events if e.kind == "interrupt"] == [
        "interrupt received: Terraform is stopping gracefully and saving state"
    ]
    cancel.force()
    thread.join(30)
    result = box["result"]
    assert isinstance(result, tfprocess.RunResult)
    assert result.returncode == 130 and result.interrupted
    assert [e.message for e in events if e.kind == "init"] == ["ready", "sigint 1", "sigint 2"]
    assert [e.message for e in events if e.kind == "interrupt"][-1].startswith("forcing Terraform to stop")
    assert own_sigints == []  # the signals went to the child, never to us


def test_a_stopped_cancel_starts_nothing(embedded: Engine, make_ws: Callable[..., Path]) -> None:
    ws = make_ws()
    cancel = Cancel()
    cancel.stop()
    with pytest.raises(InterruptedError_, match="init interrupted: nothing was planned or changed"):
        flow.plan(embedded, ws, cancel=cancel)
    assert not (ws / ".terraform").exists() and not (ws / ".mlfargate").exists()


@pytest.mark.slow
def test_stopping_an_apply_from_a_worker_thread_leaves_consistent_state(
    embedded: Engine, make_ws: Callable[..., Path], own_sigints: list[int]
) -> None:
    ws = make_ws(SLOW, name="svc-cancel")
    flow.plan(embedded, ws)
    events: list[flow.Event] = []
    cancel = Cancel()
    thread, box = in_thread(
        lambda: flow.apply(embedded, ws, lambda request: request.name, events.append, cancel=cancel)
    )

    def slow_running() -> bool:
        return any(
            isinstance(e, ProgressEvent)
            and e.address == "terraform_data.slow"
            and e.kind in ("start", "progress")
            for e in list(events)
        )

    wait_for(slow_running)
    stopped_at = time.monotonic()
    cancel.stop()
    thread.join(60)
    assert not thread.is_alive()
    error = box.get("error")
    assert isinstance(error, InterruptedError_), box
    assert "apply interrupted" in str(error) and error.exit_code == 130
    assert time.monotonic() - stopped_at < 25  # the 30 s sleep did not run out: the stop stopped it
    messages = [e.message for e in events if isinstance(e, ProgressEvent) and e.kind == "interrupt"]
    assert messages == ["interrupt received: Terraform is stopping gracefully and saving state"]
    assert own_sigints == []

    # The state is consistent: readable, unlocked (a new plan takes the lock), holds what completed;
    # the resource whose provisioner was stopped is recorded tainted, so the next apply replaces it.
    assert operations.state_entries(embedded, ws) == [
        operations.StateEntry("terraform_data.fast", tainted=False),
        operations.StateEntry("terraform_data.slow", tainted=True),
    ]
    replan = plan_summary.summarize_file(operations.plan(embedded, ws).plan_json)
    assert [(r.address, r.reason) for r in replan.replacements] == [
        ("terraform_data.slow", "replace_because_tainted")
    ]
    assert replan.totals.add == 0 and replan.totals.destroy == 0
