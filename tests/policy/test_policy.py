"""The policy gate on real directories with real checkov (in-process)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mlfargate.policy import gate
from mlfargate.policy import report as policy_report

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).resolve().parents[2]


def test_clean_workspace_passes() -> None:
    report = gate.scan_directory(FIXTURES / "pass")
    assert report.ok, [f.check_id for f in report.failed]
    assert report.failed == [] and report.waived == []
    assert report.passed >= 5


def test_failures_carry_check_resource_location_and_follow_local_modules() -> None:
    report = gate.scan_directory(FIXTURES / "fail")
    assert not report.ok
    got = {(f.check_id, f.resource, f.location) for f in report.failed}
    assert ("CKV_AWS_51", "aws_ecr_repository.model", "main.tf:7") in got
    assert ("CKV_AWS_163", "aws_ecr_repository.model", "main.tf:7") in got
    # Inside the local module: found only because the gate follows `module "logs"`.
    assert ("CKV_AWS_338", "module.logs.aws_cloudwatch_log_group.this", "modules/logs/main.tf:5") in got
    assert ("CKV_AWS_158", "module.logs.aws_cloudwatch_log_group.this", "modules/logs/main.tf:5") in got
    ecr = next(f for f in report.failed if f.check_id == "CKV_AWS_51")
    assert ecr.check_name == "Ensure ECR Image Tags are immutable"
    assert (ecr.line, ecr.end_line) == (7, 10)


def test_severity_grouping_is_honest_about_its_source() -> None:
    report = gate.scan_directory(FIXTURES / "fail")
    groups = report.by_severity()
    assert list(groups) == [s for s in policy_report.SEVERITIES if s in groups]  # most severe first
    for finding in report.failed:
        if finding.severity_source == "mlfargate":
            assert policy_report.TRIAGE[finding.check_id] == finding.severity
        elif finding.severity_source == "none":
            assert finding.severity == "UNKNOWN"
    # Offline checkov has no severities: ours are labelled as our triage.
    assert {f.severity_source for f in report.failed} <= {"mlfargate", "none", "checkov"}
    assert groups["HIGH"][0].check_id == "CKV_AWS_51"


def test_waivers_with_reasons_pass_and_are_listed() -> None:
    report = gate.scan_directory(FIXTURES / "waiver")
    assert report.ok
    waived = {w.check_id: w for w in report.waived}
    assert set(waived) == {"CKV_AWS_51", "CKV_AWS_136"}
    assert waived["CKV_AWS_51"].reason.startswith("release tags are rewritten")
    assert waived["CKV_AWS_51"].location == "main.tf:2"
    assert waived["CKV_AWS_51"].resource == "aws_ecr_repository.model"


def test_waiver_without_reason_waives_nothing() -> None:
    report = gate.scan_directory(FIXTURES / "waiver_no_reason")
    assert not report.ok
    assert [(f.check_id, f.note is not None) for f in report.failed] == [("CKV_AWS_51", True)]
    assert [w.check_id for w in report.waived] == ["CKV_AWS_136"]


def test_plan_scan_uses_configuration_for_lines_and_waivers() -> None:
    report = gate.scan_plan(FIXTURES / "plan" / "plan.json")
    assert report.kind == "plan"
    assert [(f.check_id, f.location) for f in report.failed] == [("CKV_AWS_51", "main.tf:2")]
    assert [(w.check_id, w.location) for w in report.waived] == [("CKV_AWS_136", "main.tf:2")]


def test_plan_scan_without_configuration_still_fails_the_waived_check(tmp_path: Path) -> None:
    plan = tmp_path / "plan.json"
    plan.write_text((FIXTURES / "plan" / "plan.json").read_text())
    report = gate.scan_plan(plan)
    assert {f.check_id for f in report.failed} == {"CKV_AWS_51", "CKV_AWS_136"}
    assert report.waived == []


def test_report_json_round_trips() -> None:
    data = json.loads(json.dumps(gate.scan_directory(FIXTURES / "fail").to_dict()))
    assert data["ok"] is False and data["kind"] == "directory"
    assert sum(data["counts"].values()) == len(data["failed"])
    assert all(":" in f["location"] for f in data["failed"])


def test_unparseable_file_blocks_the_gate(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text('resource "aws_ecr_repository" "x" {\n  name = \n')
    report = gate.scan_directory(tmp_path)
    assert report.parsing_errors == ["main.tf"]
    assert not report.ok


@pytest.mark.parametrize("what", ["missing", "empty"])
def test_bad_directory_is_one_clear_error(tmp_path: Path, what: str) -> None:
    target = tmp_path / "nope" if what == "missing" else tmp_path
    with pytest.raises(policy_report.PolicyError, match=r"workspace directory"):
        gate.scan_directory(target)


def test_bad_plan_json_is_one_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "plan.json"
    bad.write_text("{not json")
    with pytest.raises(policy_report.PolicyError, match="terraform show -json"):
        gate.scan_plan(bad)
    with pytest.raises(policy_report.PolicyError, match="mlfargate plan"):
        gate.scan_plan(tmp_path / "absent.json")


def test_checkov_import_is_lazy_and_then_warm() -> None:
    """Importing mlfargate.policy does not import checkov; the first scan does, once; a second scan in
    the process reuses the loaded checkov and the parse of every unchanged file."""
    target = str(FIXTURES / "fail")
    code = (
        "import sys; from pathlib import Path; from mlfargate.policy import checkov_patches, gate; "
        "assert 'checkov' not in sys.modules; "
        f"first = gate.scan_directory(Path({target!r})); assert gate.is_loaded(); "
        "loaded, parsed = gate._Checkov._loaded, dict(checkov_patches._PARSE_CACHE); "
        f"second = gate.scan_directory(Path({target!r})); "
        "assert gate._Checkov._loaded is loaded and checkov_patches._PARSE_CACHE == parsed and parsed; "
        "assert first.to_dict() | {'seconds': 0} == second.to_dict() | {'seconds': 0}; print('warm')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "warm"


EXAMPLES = REPO / "modules" / "examples"
EXAMPLE_NAMES = ["fargate", "ec2-gpu", "managed-instances-gpu"]


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_gate_on_example_workspaces(name: str) -> None:
    """The module author's example workspaces must pass the gate (or waive with reasons)."""
    workspace = EXAMPLES / name
    assert any(workspace.glob("*.tf")), f"{workspace.relative_to(REPO)} has no .tf files"
    report = gate.scan_directory(workspace)
    assert report.parsing_errors == []
    assert report.ok, "\n".join(f"{f.check_id} {f.resource} {f.location}" for f in report.failed)
    assert all(w.reason for w in report.waived)
