"""The gate on the plan, end to end: a finding that exists only in the plan (not in the configuration)
blocks `check` and `apply` (issue #21: removing the plan scan from plan/apply/check went unnoticed).

Terraform cannot plan aws_* resources here (no provider download), so the plan-only finding is put into
the saved plan's JSON the way Terraform writes one: an aws_ecr_repository with mutable tags, copied from
tests/policy/fixtures/plan/plan.json (CKV_AWS_51). The configuration has only terraform_data, so the
directory scan passes and only the plan scan can see it — as with values known only at plan time.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from mlfargate.terraform import engine as engine_mod
from mlfargate.terraform import operations

REPO = Path(__file__).resolve().parents[2]
FIXTURE_PLAN = REPO / "tests" / "policy" / "fixtures" / "plan" / "plan.json"

pytestmark = pytest.mark.slow


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mlfargate.cli", *args], capture_output=True, text=True, cwd=REPO, timeout=300
    )


def add_plan_only_finding(plan_json: Path) -> None:
    plan = json.loads(plan_json.read_text())
    fixture = json.loads(FIXTURE_PLAN.read_text())
    plan["planned_values"]["root_module"]["resources"] += fixture["planned_values"]["root_module"][
        "resources"
    ]
    plan["resource_changes"] += fixture["resource_changes"]
    plan_json.write_text(json.dumps(plan))


def test_a_finding_only_in_the_plan_blocks_check_and_apply(make_ws: Callable[..., Path]) -> None:
    ws = make_ws(name="svc-plan-gate")
    planned = cli("plan", str(ws), "--terraform", "embedded")
    assert planned.returncode == 0, planned.stdout + planned.stderr
    assert "gate (configuration" in planned.stdout and "gate (plan" in planned.stdout

    add_plan_only_finding(ws / ".mlfargate" / "plan.json")

    checked = cli("check", str(ws))
    assert checked.returncode == 1
    lines = checked.stdout.splitlines()
    assert any(line.startswith("gate (configuration") and ": pass:" in line for line in lines)
    assert any(line.startswith("gate (plan") and ": FAIL:" in line for line in lines)
    assert "CKV_AWS_51 aws_ecr_repository.model" in checked.stdout

    applied = cli("apply", str(ws), "--yes", "--terraform", "embedded")
    assert applied.returncode == 1
    assert "CKV_AWS_51" in applied.stdout
    assert applied.stderr.strip().splitlines()[-1].startswith("error: policy gate failed with 2 unwaived")
    assert operations.state_resources(engine_mod.select("embedded"), ws) == []
