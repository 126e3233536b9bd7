"""Warm scans reuse parsed files only while their bytes are unchanged, and give the same report."""

from __future__ import annotations

import shutil
from pathlib import Path

from mlfargate import policy

FIXTURES = Path(__file__).parent / "fixtures"


def findings(report: policy.PolicyReport) -> set[tuple[str, str, str]]:
    return {(f.check_id, f.resource, f.location) for f in report.failed}


def test_repeated_scans_agree_and_see_edits_in_local_modules(tmp_path: Path) -> None:
    ws = tmp_path / "fail"
    shutil.copytree(FIXTURES / "fail", ws)
    first = policy.scan_directory(ws)
    second = policy.scan_directory(ws)
    assert findings(second) == findings(first)
    assert second.passed == first.passed
    assert ("CKV_AWS_338", "module.logs.aws_cloudwatch_log_group.this", "modules/logs/main.tf:5") in findings(
        first
    )

    # Fix the module's log group (retention >= 1 year): the next warm scan must see the new bytes.
    module = ws / "modules" / "logs" / "main.tf"
    text = module.read_text()
    assert "retention_in_days" in text
    fixed = text.replace("retention_in_days = 7", "retention_in_days = 365")
    assert fixed != text
    module.write_text(fixed)
    third = policy.scan_directory(ws)
    assert (
        "CKV_AWS_338",
        "module.logs.aws_cloudwatch_log_group.this",
        "modules/logs/main.tf:5",
    ) not in findings(third)
    assert findings(third) == findings(first) - {
        ("CKV_AWS_338", "module.logs.aws_cloudwatch_log_group.this", "modules/logs/main.tf:5")
    }


def test_a_file_broken_after_a_good_scan_still_blocks(tmp_path: Path) -> None:
    ws = tmp_path / "pass"
    shutil.copytree(FIXTURES / "pass", ws)
    assert policy.scan_directory(ws).ok
    (ws / "main.tf").write_text((ws / "main.tf").read_text() + '\nresource "aws_s3_bucket" "x" {\n')
    assert not policy.scan_directory(ws).ok


def test_a_missing_local_module_blocks_the_gate(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    shutil.copytree(FIXTURES / "pass", ws)
    (ws / "extra.tf").write_text('module "m" {\n  source = "./nope"\n}\n')
    report = policy.scan_directory(ws)
    assert not report.ok
    assert report.unchecked == [
        "extra.tf: module 'm' (source ./nope): no .tf files there, so it cannot be checked"
    ]
