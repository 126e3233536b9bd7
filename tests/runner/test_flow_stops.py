"""The flow's stops and events in-process, on real Terraform core (embedded, ``terraform_data``): a
stop asked for before or during the confirmation starts nothing (nobody is asked twice, nothing
changes); a stop that lands as a phase starts stops that phase; the gate says what it reads, on an HCL
workspace and on a CDK Terrain stack; a stale stack is synthesized in its own phase first.

tests/runner/test_cancel.py stops a real apply mid-way from a worker thread (slow); these are the fast,
in-process proofs ``make mutation`` runs against mlfargate/flow.py.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from mlfargate import flow
from mlfargate.generate import cdktf
from mlfargate.terraform import operations
from mlfargate.terraform.diagnostics import InterruptedError_
from mlfargate.terraform.engine import Engine
from mlfargate.terraform.process import Cancel

POLICY_FIXTURES = Path(__file__).resolve().parents[1] / "policy" / "fixtures"

#: tests/runner/conftest.py's FAST as Terraform JSON, the way cdktn synthesizes a stack.
FAST_JSON = {
    "resource": {"terraform_data": {"a": {"input": "a"}, "b": {"input": "${terraform_data.a.output}"}}}
}


def _never(request: flow.ConfirmRequest) -> str | None:
    raise AssertionError(f"nobody should be asked to {request.verb}")


def _started(events: list[flow.Event]) -> list[str]:
    return [e.phase for e in events if isinstance(e, flow.PhaseStarted)]


def _applied(embedded: Engine, ws: Path) -> list[str]:
    return operations.state_resources(embedded, ws)


def test_a_stop_before_apply_asks_nobody_and_changes_nothing(
    embedded: Engine, make_ws: Callable[..., Path]
) -> None:
    ws = make_ws(name="svc-stop-early")
    flow.plan(embedded, ws)
    cancel = Cancel()
    cancel.stop()
    events: list[flow.Event] = []
    with pytest.raises(InterruptedError_) as stopped:
        flow.apply(embedded, ws, _never, events.append, cancel=cancel)
    assert str(stopped.value) == "apply interrupted before it started: nothing was changed"
    assert not any(isinstance(e, flow.SummaryReady) for e in events)
    assert _applied(embedded, ws) == []


@pytest.mark.parametrize("verb", ["apply", "destroy"])
@pytest.mark.parametrize("when", ["confirmed", "phase started"])
def test_a_stop_during_the_confirmation_or_as_the_change_starts_changes_nothing(
    embedded: Engine, make_ws: Callable[..., Path], verb: str, when: str
) -> None:
    """The TUI's Ctrl+C can land while the modal closes (the name was typed) or as the apply phase
    starts: either way Terraform never starts changing anything."""
    ws = make_ws(name=f"svc-stop-{verb}")
    flow.plan(embedded, ws)
    if verb == "destroy":
        flow.apply(embedded, ws, lambda request: request.name)
    before = _applied(embedded, ws)
    cancel = Cancel()
    events: list[flow.Event] = []

    def confirm(request: flow.ConfirmRequest) -> str:
        if when == "confirmed":
            cancel.stop()
        return request.name

    def on_event(event: flow.Event) -> None:
        events.append(event)
        if when == "phase started" and isinstance(event, flow.PhaseStarted) and event.phase == verb:
            cancel.stop()

    call = flow.apply if verb == "apply" else flow.destroy
    with pytest.raises(InterruptedError_) as stopped:
        call(embedded, ws, confirm, on_event, cancel=cancel)
    if when == "confirmed":  # stopped by the flow itself, before the phase
        assert str(stopped.value) == f"{verb} interrupted before it started: nothing was changed"
        assert verb not in _started(events)
    else:  # stopped by the engine before Terraform started
        assert str(stopped.value) == "apply interrupted before it started: nothing was changed"
    assert _applied(embedded, ws) == before


@pytest.mark.parametrize(
    ("phase", "message"),
    [
        ("init", "init interrupted: nothing was planned or changed"),
        ("plan", "plan interrupted: no plan was saved and nothing was changed"),
    ],
)
def test_a_stop_as_destroy_plans_stops_there(
    embedded: Engine, make_ws: Callable[..., Path], phase: str, message: str
) -> None:
    ws = make_ws(name="svc-stop-destroy-plan")
    flow.plan(embedded, ws)
    flow.apply(embedded, ws, lambda request: request.name)
    cancel = Cancel()

    def on_event(event: flow.Event) -> None:
        if isinstance(event, flow.PhaseStarted) and event.phase == phase:
            cancel.stop()

    with pytest.raises(InterruptedError_) as stopped:
        flow.destroy(embedded, ws, _never, on_event, cancel=cancel)
    assert str(stopped.value) == message
    assert _applied(embedded, ws) == ["terraform_data.a", "terraform_data.b"]


def test_destroy_reports_terraforms_progress_of_each_phase(
    embedded: Engine, make_ws: Callable[..., Path]
) -> None:
    from mlfargate.terraform.process import ProgressEvent

    ws = make_ws(name="svc-destroy-events")
    flow.plan(embedded, ws)
    flow.apply(embedded, ws, lambda request: request.name)
    events: list[flow.Event] = []
    phase = ""

    def on_event(event: flow.Event) -> None:
        nonlocal phase
        if isinstance(event, flow.PhaseStarted):
            phase = event.phase
        events.append(event)
        if isinstance(event, ProgressEvent):
            seen.add(phase)

    seen: set[str] = set()
    destroyed = flow.destroy(embedded, ws, lambda request: request.name, on_event)
    assert destroyed.applied and _applied(embedded, ws) == []
    assert _started(events) == ["init", "plan", "destroy"]
    # Terraform's own progress reaches the front-end in every phase, not only while destroying.
    assert seen == {"init", "plan", "destroy"}


def test_the_gate_says_what_it_reads(tmp_path: Path) -> None:
    ws = tmp_path / "svc-gate-steps"
    ws.mkdir()
    shutil.copy(POLICY_FIXTURES / "plan" / "main.tf", ws / "main.tf")
    (ws / ".mlfargate").mkdir()
    shutil.copy(POLICY_FIXTURES / "plan" / "plan.json", ws / ".mlfargate" / "plan.json")
    events: list[flow.Event] = []
    flow.gate(ws, ws / ".mlfargate" / "plan.json", events.append)
    assert [(e.phase, e.message) for e in events if isinstance(e, flow.PhaseStep)] == [
        ("gate", f"checking the configuration in {ws}"),
        ("gate", "checking the saved plan plan.json"),
    ]


def _stack(tmp_path: Path) -> Path:
    """A CDK Terrain workspace with no spec copy: its one stack is used as it is (nothing to synthesize
    it from)."""
    root = tmp_path / "svc-cdk"
    stack = root / "cdktf.out" / "stacks" / "svc"
    stack.mkdir(parents=True)
    (root / "cdktf.json").write_text('{"app": "python -m cdktf_app"}\n')
    (stack / "cdk.tf.json").write_text(json.dumps(FAST_JSON))
    return stack


def test_the_gate_on_a_stack_without_a_spec_copy_says_it_has_no_twin(tmp_path: Path) -> None:
    stack = _stack(tmp_path)
    events: list[flow.Event] = []
    result = flow.gate(stack, None, events.append)
    assert [(e.phase, e.message) for e in events if isinstance(e, flow.PhaseStep)] == [
        ("gate", f"checking the HCL twin of the CDK Terrain stack in {stack}")
    ]
    [report] = result.reports
    assert (
        report.target
        == "cdktf.out/stacks/svc/cdk.tf.json (no mlfargate.yaml beside it to render an HCL twin from)"
    )
    assert not result.ok  # no twin and no plan: nothing was checked, so it cannot pass
    # With a saved plan, the plan is what is gated.
    (stack / ".mlfargate").mkdir()
    shutil.copy(POLICY_FIXTURES / "plan" / "plan.json", stack / ".mlfargate" / "plan.json")
    planned = flow.gate(stack, stack / ".mlfargate" / "plan.json")
    assert [r.kind for r in planned.reports] == ["plan"]
    assert planned.reports[0].target.endswith(
        "(the configuration is not scanned: cdktf.out/stacks/svc/cdk.tf.json has no HCL twin)"
    )


@pytest.mark.parametrize("call", ["gate", "destroy"])
def test_a_stale_stack_is_synthesized_in_its_own_phase_first(
    embedded: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, call: str
) -> None:
    """The synthesis itself (Node, cdktn) is tested in test_cdktf_workspace.py; here: the flow runs it
    first, as a phase of its own the front-end shows."""
    stack = _stack(tmp_path)
    synthesized: list[Path] = []
    monkeypatch.setattr(cdktf, "synth_reason", lambda found: "the spec copy changed")
    monkeypatch.setattr(cdktf, "synth_workspace", lambda found: synthesized.append(found.stack_dir))
    events: list[flow.Event] = []
    if call == "gate":
        flow.gate(stack, None, events.append)
    else:
        flow.destroy(embedded, stack, _never, events.append)  # nothing to destroy: nobody is asked
    assert synthesized == [stack]
    first = events[0]
    assert isinstance(first, flow.PhaseStarted)
    assert (first.phase, first.message) == ("synth", "CDK Terrain synth (the spec copy changed)")
