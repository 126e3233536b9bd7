"""The flow's guards in-process (mlfargate.flow), on real Terraform core (embedded) and real checkov:
the plan is gated too, a destroy plan is never applied by ``apply``, the confirmation sees what will
change, and the results and events say what happened.

tests/runner/test_gate_on_plan.py proves the plan gate through the CLI; these tests prove it on the flow
API the CLI and the TUI both drive, in-process, where ``make mutation`` can see it.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from mlfargate import flow
from mlfargate.errors import MlfargateError
from mlfargate.terraform import operations
from mlfargate.terraform.engine import Engine
from mlfargate.terraform.process import ProgressEvent
from tests.runner.test_gate_on_plan import add_plan_only_finding

pytestmark = pytest.mark.slow

POLICY_FIXTURES = Path(__file__).resolve().parents[1] / "policy" / "fixtures"
FIXTURE_PLAN = POLICY_FIXTURES / "plan" / "plan.json"


def phases(events: list[flow.Event]) -> list[tuple[str, str, str]]:
    return [
        (type(e).__name__, e.phase, e.message)
        for e in events
        if isinstance(e, flow.PhaseStarted | flow.PhaseFinished)
    ]


def test_a_finding_only_in_the_plan_blocks_apply_before_anyone_is_asked(
    embedded: Engine, make_ws: Callable[..., Path]
) -> None:
    ws = make_ws(name="svc-plan-only")
    planned = flow.plan(embedded, ws)
    assert planned.gate.ok and len(planned.gate.reports) == 2
    add_plan_only_finding(planned.saved.plan_json)
    events: list[flow.Event] = []
    with pytest.raises(flow.GateFailedError) as blocked:
        flow.apply(
            embedded, ws, lambda request: pytest.fail("the gate comes before the confirmation"), events.append
        )
    configuration, plan = blocked.value.reports
    assert configuration.kind == "directory" and configuration.ok
    assert plan.kind == "plan" and [f.check_id for f in plan.failed if f.check_id == "CKV_AWS_51"] == [
        "CKV_AWS_51"
    ]
    assert str(blocked.value).startswith(f"policy gate failed with {len(plan.failed)} unwaived finding(s)")
    assert [len(e.reports) for e in events if isinstance(e, flow.GateChecked)] == [2]
    assert not any(isinstance(e, flow.SummaryReady) for e in events)
    assert operations.state_resources(embedded, ws) == []


def test_apply_refuses_a_destroy_plan(embedded: Engine, make_ws: Callable[..., Path]) -> None:
    ws = make_ws(name="svc-destroy-plan")
    operations.init(embedded, ws)
    operations.plan(embedded, ws, destroy=True)
    with pytest.raises(MlfargateError) as refused:
        flow.apply(embedded, ws, lambda request: pytest.fail("never asked"))
    assert str(refused.value) == f"{ws}: the saved plan is a destroy plan; run `mlfargate destroy`"


def test_apply_and_destroy_report_what_they_do(embedded: Engine, make_ws: Callable[..., Path]) -> None:
    ws = make_ws(name="svc-events")
    flow.plan(embedded, ws)
    events: list[flow.Event] = []
    asked: list[flow.ConfirmRequest] = []

    def confirm(request: flow.ConfirmRequest) -> str:
        asked.append(request)
        return request.name

    applied = flow.apply(embedded, ws, confirm, on_event=events.append)
    # The confirmation names the workspace (absolute) and shows what will change; so does the event
    # before it.
    assert asked[0].workspace == ws.resolve() and asked[0].verb == "apply" and asked[0].name == "svc-events"
    summaries = [e.summary for e in events if isinstance(e, flow.SummaryReady)]
    assert len(summaries) == 1 and summaries[0].totals.add == 2
    assert phases(events) == [
        ("PhaseStarted", "gate", "policy gate (checkov)"),
        ("PhaseFinished", "gate", "policy gate (checkov)"),
        ("PhaseStarted", "apply", "terraform apply (apply)"),
        ("PhaseFinished", "apply", "terraform apply (apply)"),
    ]
    progress = [e for e in events if isinstance(e, ProgressEvent) and e.kind == "complete"]
    assert len(progress) == 2 and {e.total for e in progress} == {2}  # counted against the plan's total
    assert applied.verb == "apply" and applied.applied is True and applied.summary.totals.add == 2
    assert isinstance(applied.seconds, float) and applied.seconds > 0

    events.clear()
    asked.clear()
    destroyed = flow.destroy(embedded, ws, confirm, on_event=events.append)
    assert asked[0].verb == "destroy" and asked[0].summary.totals.destroy == 2
    assert phases(events) == [
        ("PhaseStarted", "init", "terraform init"),
        ("PhaseFinished", "init", "terraform init"),
        ("PhaseStarted", "plan", "terraform plan -destroy"),
        ("PhaseFinished", "plan", "terraform plan -destroy"),
        ("PhaseStarted", "destroy", "terraform apply (destroy)"),
        ("PhaseFinished", "destroy", "terraform apply (destroy)"),
    ]
    during_plan = events[2 : events.index(next(e for e in events if isinstance(e, flow.SummaryReady)))]
    assert any(isinstance(e, ProgressEvent) for e in during_plan)  # the destroy plan's own progress
    assert destroyed.verb == "destroy" and destroyed.applied is True and destroyed.seconds > 0
    assert operations.state_resources(embedded, ws) == []

    nothing = flow.destroy(embedded, ws, lambda request: pytest.fail("nothing to confirm"))
    assert nothing.verb == "destroy" and nothing.applied is False and nothing.summary.empty
    assert nothing.seconds == 0.0


def test_a_refused_destroy_changes_nothing(embedded: Engine, make_ws: Callable[..., Path]) -> None:
    ws = make_ws(name="svc-keep")
    flow.plan(embedded, ws)
    flow.apply(embedded, ws, lambda request: request.name)
    with pytest.raises(flow.NotConfirmedError) as refused:
        flow.destroy(embedded, ws, lambda request: "svc-kee")
    assert str(refused.value) == "not confirmed: typed 'svc-kee', expected 'svc-keep'; nothing was changed"
    assert operations.state_resources(embedded, ws) == ["terraform_data.a", "terraform_data.b"]


def test_the_plan_gate_reads_waivers_and_lines_from_the_workspace(tmp_path: Path) -> None:
    # The saved plan's JSON lives in DIR/.mlfargate/; its findings are matched against DIR's .tf files,
    # so the configuration's waiver holds on the plan too and findings point at main.tf lines.
    ws = tmp_path / "svc-waived"
    ws.mkdir()
    shutil.copy(POLICY_FIXTURES / "plan" / "main.tf", ws / "main.tf")
    assert flow.saved_plan_json(ws) is None
    (ws / ".mlfargate").mkdir()
    shutil.copy(FIXTURE_PLAN, ws / ".mlfargate" / "plan.json")
    plan_json = flow.saved_plan_json(ws)
    assert plan_json == ws / ".mlfargate" / "plan.json"
    events: list[flow.Event] = []
    result = flow.gate(ws, plan_json, events.append)
    configuration, plan = result.reports
    assert configuration.kind == "directory" and plan.kind == "plan"
    assert [(w.check_id, w.location) for w in plan.waived] == [("CKV_AWS_136", "main.tf:2")]
    assert [(f.check_id, f.location) for f in plan.failed] == [("CKV_AWS_51", "main.tf:2")]
    assert not result.ok and result.to_dict()["ok"] is False
    assert phases(events) == [
        ("PhaseStarted", "gate", "policy gate (checkov)"),
        ("PhaseFinished", "gate", "policy gate (checkov)"),
    ]


def test_the_gate_without_a_saved_plan_scans_the_configuration_only(tmp_path: Path) -> None:
    ws = tmp_path / "svc-clean"
    shutil.copytree(POLICY_FIXTURES / "pass", ws)
    result = flow.gate(ws, ws / ".mlfargate" / "plan.json")  # named, but no plan was made
    assert [r.kind for r in result.reports] == ["directory"] and result.ok
    assert flow.gate(ws).reports[0].target == result.reports[0].target
