"""The in-process gate (with its parse cache, shared interpreter and memoised expressions) reports exactly
what the unmodified checkov CLI reports on the same directory."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mlfargate.policy import gate

REPO = Path(__file__).resolve().parents[2]
CHECKOV = Path(sys.executable).parent / "checkov"


@pytest.mark.slow
@pytest.mark.parametrize("target", ["tests/policy/fixtures/fail", "environments/prod"])
def test_gate_agrees_with_the_checkov_cli(target: str) -> None:
    directory = REPO / target
    out = subprocess.run(
        [str(CHECKOV), "-d", str(directory), "--framework", "terraform", "-o", "json"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    raw = json.loads(out.stdout)
    raw = raw[0] if isinstance(raw, list) else raw
    cli_failed = sorted((c["check_id"], c["resource"]) for c in raw["results"]["failed_checks"])
    gate.scan_directory(directory)  # the second scan below is warm: caches in use
    report = gate.scan_directory(directory)
    assert sorted((f.check_id, f.resource) for f in report.failed) == cli_failed
    assert report.passed == raw["summary"]["passed"]
    assert len(report.waived) == raw["summary"]["skipped"]
    assert raw["summary"]["passed"] > 0
