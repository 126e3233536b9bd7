"""The gate's verdict on checkov's records: a waiver needs a real reason, every unwaived failure is
reported once, in severity order, with the severity's source said honestly.

The first test scans a fixture with real checkov. The others hand ``gate._convert`` records built with
checkov's own ``Record``/``Report`` classes for what an offline scan of these fixtures never produces:
a severity from the Prisma Cloud platform, a guideline, a record without a line range, the same finding
twice (a plan report can repeat a resource), several sub-reports.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from checkov.common.bridgecrew.severities import Severities
from checkov.common.models.enums import CheckResult
from checkov.common.output.record import Record
from checkov.common.output.report import Report

from mlfargate.policy import gate
from mlfargate.policy.report import NO_REASON, Finding, Waiver

FIXTURES = Path(__file__).parent / "fixtures"
NOTE = "waiver has no reason: write ID:reason"


def test_only_a_skip_with_a_real_reason_waives() -> None:
    path = FIXTURES / "waiver_mixed"
    report = gate.scan_directory(path)
    assert report.target == str(path) and report.kind == "directory"
    assert not report.ok
    ecr51, ecr136 = (
        "Ensure ECR Image Tags are immutable",
        "Ensure that ECR repositories are encrypted using KMS",
    )
    # A bare skip, an empty reason and a reason of spaces all waive nothing, and say why; HIGH first.
    assert report.failed == [
        Finding(
            "CKV_AWS_51", ecr51, "HIGH", "mlfargate", "aws_ecr_repository.a", "main.tf", 2, 10, None, NOTE
        ),
        Finding(
            "CKV_AWS_51", ecr51, "HIGH", "mlfargate", "aws_ecr_repository.b", "main.tf", 13, 21, None, NOTE
        ),
        Finding(
            "CKV_AWS_136", ecr136, "LOW", "mlfargate", "aws_ecr_repository.b", "main.tf", 13, 21, None, NOTE
        ),
        Finding(
            "CKV_AWS_136", ecr136, "LOW", "mlfargate", "aws_ecr_repository.c", "main.tf", 23, 30, None, None
        ),
    ]
    assert report.waived == [
        Waiver(
            "CKV_AWS_136",
            ecr136,
            "aws_ecr_repository.a",
            "main.tf",
            2,
            "AES256 at rest is accepted for public model weights",
        ),
        Waiver(
            "CKV_AWS_51",
            ecr51,
            "aws_ecr_repository.c",
            "main.tf",
            23,
            "digests are pinned in the task definition",
        ),
    ]
    assert report.passed == 3


def record(
    check_id: str,
    root: Path,
    *,
    resource: str = "aws_ecr_repository.model",
    result: CheckResult = CheckResult.FAILED,
    comment: str | None = None,
    lines: list[int] | None = None,
    severity: str | None = None,
    guideline: str | None = None,
    file: str = "main.tf",
) -> Record:
    check_result: dict[str, Any] = {"result": result}
    if comment is not None:
        check_result["suppress_comment"] = comment
    rec = Record(
        check_id=check_id,
        check_name=f"name of {check_id}",
        check_result=check_result,  # type: ignore[arg-type]
        code_block=[],
        file_path=f"/{file}",
        file_line_range=[3, 9] if lines is None else lines,
        resource=resource,
        evaluations=None,
        check_class="",
        file_abs_path=str(root / file),
        severity=Severities[severity] if severity else None,
    )
    rec.guideline = guideline
    return rec


def report_of(*records: Record, passed: int = 0) -> Report:
    out = Report("terraform")
    for rec in records:
        out.add_record(rec)
    for i in range(passed):
        out.add_record(
            record("CKV_AWS_2", Path("/"), resource=f"aws_lb_listener.l{i}", result=CheckResult.PASSED)
        )
    return out


def convert(result: Report | list[Report], root: Path) -> Any:
    return gate._convert(gate._Checkov.get(), result, root, "the target", "plan")


def test_a_severity_from_checkov_wins_over_our_triage(tmp_path: Path) -> None:
    # CKV_AWS_136 is LOW in mlfargate's triage; the platform's HIGH (IMPORTANT is its alias) wins.
    out = convert(report_of(record("CKV_AWS_136", tmp_path, severity="IMPORTANT")), tmp_path)
    assert [(f.severity, f.severity_source) for f in out.failed] == [("HIGH", "checkov")]
    # A platform severity outside our scale (OFF, NONE) is not invented into one: triage decides.
    for name in ("OFF", "NONE"):
        out = convert(report_of(record("CKV_AWS_136", tmp_path, severity=name)), tmp_path)
        assert [(f.severity, f.severity_source) for f in out.failed] == [("LOW", "mlfargate")]


def test_an_untriaged_check_without_a_severity_is_unknown(tmp_path: Path) -> None:
    out = convert(report_of(record("CKV_AWS_9999", tmp_path)), tmp_path)
    assert [(f.severity, f.severity_source) for f in out.failed] == [("UNKNOWN", "none")]
    assert not out.ok


def test_a_finding_keeps_its_guideline_and_lines(tmp_path: Path) -> None:
    guide = "https://docs.prismacloud.io/en/enterprise-edition/policy-reference/aws-policies/x"
    out = convert(
        report_of(
            record("CKV_AWS_51", tmp_path, guideline=guide), record("CKV_AWS_163", tmp_path, guideline="")
        ),
        tmp_path,
    )
    assert {f.check_id: f.guideline for f in out.failed} == {"CKV_AWS_51": guide, "CKV_AWS_163": None}
    assert {(f.line, f.end_line, f.file, f.check_name) for f in out.failed} == {
        (3, 9, "main.tf", f"name of {f.check_id}") for f in out.failed
    }


def test_records_without_a_line_range_are_placed_at_line_zero(tmp_path: Path) -> None:
    out = convert(
        report_of(
            record("CKV_AWS_51", tmp_path, lines=[]),
            record(
                "CKV_AWS_136", tmp_path, lines=[], result=CheckResult.SKIPPED, comment="kept for a reason"
            ),
        ),
        tmp_path,
    )
    assert [(f.check_id, f.line, f.end_line) for f in out.failed] == [("CKV_AWS_51", 0, 0)]
    assert [(w.check_id, w.line, w.reason) for w in out.waived] == [("CKV_AWS_136", 0, "kept for a reason")]


@pytest.mark.parametrize("comment", [NO_REASON, "", "   ", None])
def test_a_skip_without_a_reason_is_a_failure_that_says_why(tmp_path: Path, comment: str | None) -> None:
    skipped = record("CKV_AWS_51", tmp_path, result=CheckResult.SKIPPED, comment=comment)
    out = convert(report_of(skipped), tmp_path)
    assert out.waived == [] and not out.ok
    assert [(f.check_id, f.location, f.note) for f in out.failed] == [("CKV_AWS_51", "main.tf:3", NOTE)]


def test_a_repeated_finding_is_reported_once_and_the_next_one_still_is(tmp_path: Path) -> None:
    first = report_of(record("CKV_AWS_51", tmp_path), record("CKV_AWS_51", tmp_path), passed=2)
    second = report_of(record("CKV_AWS_51", tmp_path), record("CKV_AWS_163", tmp_path), passed=3)
    out = convert([first, second], tmp_path)
    assert [f.check_id for f in out.failed] == ["CKV_AWS_51", "CKV_AWS_163"]  # HIGH before MEDIUM
    assert out.passed == 5  # both sub-reports count
    # The same check on another resource or in another file is another finding.
    out = convert(
        report_of(
            record("CKV_AWS_51", tmp_path),
            record("CKV_AWS_51", tmp_path, resource="aws_ecr_repository.other"),
            record("CKV_AWS_51", tmp_path, file="other.tf"),
        ),
        tmp_path,
    )
    assert [(f.resource, f.file) for f in out.failed] == [
        ("aws_ecr_repository.model", "main.tf"),
        ("aws_ecr_repository.other", "main.tf"),
        ("aws_ecr_repository.model", "other.tf"),
    ]


def test_findings_and_waivers_come_sorted(tmp_path: Path) -> None:
    out = convert(
        report_of(
            record("CKV_AWS_338", tmp_path, file="z.tf", lines=[1, 2]),  # LOW
            record("CKV_AWS_163", tmp_path, file="b.tf", lines=[5, 6]),  # MEDIUM
            record("CKV_AWS_91", tmp_path, file="a.tf", lines=[9, 9]),  # MEDIUM
            record("CKV_AWS_131", tmp_path, file="a.tf", lines=[2, 3]),  # MEDIUM
            record("CKV_AWS_51", tmp_path, file="z.tf", lines=[7, 8]),  # HIGH
            record(
                "CKV_AWS_65", tmp_path, file="c.tf", lines=[4, 4], result=CheckResult.SKIPPED, comment="r1"
            ),
            record(
                "CKV_AWS_2", tmp_path, file="a.tf", lines=[8, 8], result=CheckResult.SKIPPED, comment="r2"
            ),
            record(
                "CKV_AWS_103", tmp_path, file="a.tf", lines=[8, 8], result=CheckResult.SKIPPED, comment="r3"
            ),
        ),
        tmp_path,
    )
    assert [f.location + " " + f.check_id for f in out.failed] == [
        "z.tf:7 CKV_AWS_51",
        "a.tf:2 CKV_AWS_131",
        "a.tf:9 CKV_AWS_91",
        "b.tf:5 CKV_AWS_163",
        "z.tf:1 CKV_AWS_338",
    ]
    assert [w.location + " " + w.check_id for w in out.waived] == [
        "a.tf:8 CKV_AWS_103",
        "a.tf:8 CKV_AWS_2",
        "c.tf:4 CKV_AWS_65",
    ]
