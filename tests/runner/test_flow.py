"""The deploy flow as a core API (mlfargate.flow): typed results and events, confirmation supplied by the
front-end, nothing printed. Real Terraform core (embedded) on terraform_data workspaces."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from mlfargate import flow
from mlfargate.terraform import operations
from mlfargate.terraform.engine import Engine
from mlfargate.terraform.process import ProgressEvent

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    ("typed", "ok"),
    [
        ("svc", True),
        ("", False),
        ("   ", False),
        ("sv", False),
        ("svc ", False),
        (" svc", False),
        ("svc\n", False),
        ("SVC", False),
        (None, False),
    ],
)
def test_only_the_exact_name_confirms(typed: str | None, ok: bool) -> None:
    assert flow.confirmed(typed, "svc") is ok


def test_an_empty_expected_name_never_confirms() -> None:
    assert not flow.confirmed("", "")


def test_plan_apply_destroy_through_the_flow(
    embedded: Engine, make_ws: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    ws = make_ws(name="svc-flow")
    events: list[flow.Event] = []

    planned = flow.plan(embedded, ws, on_event=events.append)
    assert planned.summary.totals.add == 2 and planned.gate.ok
    assert planned.saved.plan_file.is_file()
    phases = [
        (type(e).__name__, e.phase) for e in events if isinstance(e, flow.PhaseStarted | flow.PhaseFinished)
    ]
    assert phases[:4] == [
        ("PhaseStarted", "init"),
        ("PhaseFinished", "init"),
        ("PhaseStarted", "plan"),
        ("PhaseFinished", "plan"),
    ]
    assert ("PhaseFinished", "gate") in phases
    assert [len(e.reports) for e in events if isinstance(e, flow.GateChecked)] == [2]  # config + plan

    asked: list[flow.ConfirmRequest] = []
    order: list[str] = []

    def refuse(request: flow.ConfirmRequest) -> str:
        asked.append(request)
        order.append("confirm")
        return "svc-flo"

    def record(event: flow.Event) -> None:
        if isinstance(event, flow.SummaryReady):
            order.append("summary")

    with pytest.raises(flow.NotConfirmedError, match="nothing was changed"):
        flow.apply(embedded, ws, refuse, on_event=record)
    assert order == ["summary", "confirm"]
    assert asked[0].verb == "apply" and asked[0].name == "svc-flow" and asked[0].summary.totals.add == 2
    assert operations.state_resources(embedded, ws) == []

    flow.plan(embedded, ws)
    events.clear()
    applied = flow.apply(embedded, ws, lambda request: request.name, on_event=events.append)
    assert applied.applied and applied.summary.totals.add == 2
    completed = [e.address for e in events if isinstance(e, ProgressEvent) and e.kind == "complete"]
    assert sorted(completed) == ["terraform_data.a", "terraform_data.b"]
    assert operations.state_resources(embedded, ws) == ["terraform_data.a", "terraform_data.b"]

    destroyed = flow.destroy(embedded, ws, lambda request: request.name)
    assert destroyed.applied and destroyed.summary.totals.destroy == 2
    assert operations.state_resources(embedded, ws) == []
    nothing = flow.destroy(embedded, ws, lambda request: pytest.fail("nothing to confirm"))
    assert not nothing.applied and not (ws / ".mlfargate").exists()

    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""  # the core prints nothing


def test_a_plan_that_fails_the_gate_is_reported_and_apply_refuses_it(
    embedded: Engine, make_ws: Callable[..., Path]
) -> None:
    # Terraform reads .tf.json; checkov does not, so the gate cannot vouch for it and blocks.
    ws = make_ws(
        name="svc-gate", extra={"more.tf.json": '{"resource": {"terraform_data": {"c": {"input": "c"}}}}'}
    )
    planned = flow.plan(embedded, ws)
    assert planned.summary.totals.add == 3 and not planned.gate.ok
    with pytest.raises(flow.GateFailedError, match="unchecked") as caught:
        flow.apply(embedded, ws, lambda request: pytest.fail("the gate comes before the confirmation"))
    assert caught.value.exit_code == 1 and not caught.value.reports[0].ok
    assert operations.state_resources(embedded, ws) == []
