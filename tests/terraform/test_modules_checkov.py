"""checkov (through mlfargate.policy.gate.scan_directory) on every module and example: zero unwaived
failures, every waiver listed in modules/README.md, and a deliberately broken copy fails."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mlfargate.policy.gate import scan_directory
from tests.terraform.conftest import ALL_ROOTS, MODULES, replace_in

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("root", ALL_ROOTS, ids=lambda p: p.name)
def test_no_unwaived_failures(root: Path) -> None:
    report = scan_directory(root)
    assert report.parsing_errors == []
    assert [f"{f.check_id} {f.resource} {f.location}" for f in report.failed] == []
    # autoscaling has no resource checkov has a rule for; every other root is really checked.
    assert report.passed > 0 or root.name == "autoscaling"


def test_every_waiver_is_in_the_readme_table_with_a_reason() -> None:
    table = (MODULES / "README.md").read_text()
    inline = set()
    for tf in MODULES.rglob("*.tf"):
        for check_id, reason in re.findall(r"#checkov:skip=([A-Z0-9_]+):(.*)", tf.read_text()):
            assert len(reason.strip()) > 20, f"{tf}: {check_id} needs a real reason"
            inline.add((tf.parent.name, check_id))
    assert inline
    for module, check_id in inline:
        assert re.search(rf"\|\s*`?{module}`?\s*\|[^\n]*{check_id}", table), (
            f"{module} {check_id} missing from table"
        )


def test_mutable_ecr_tags_fail(modules_copy: Path) -> None:
    replace_in(
        modules_copy / "ecr" / "main.tf",
        'image_tag_mutability = "IMMUTABLE"',
        'image_tag_mutability = "MUTABLE"',
    )
    report = scan_directory(modules_copy / "ecr")
    assert "CKV_AWS_51" in {f.check_id for f in report.failed}


def test_public_ip_on_tasks_fails_in_an_example(modules_copy: Path) -> None:
    replace_in(
        modules_copy / "ecs-service" / "main.tf", "assign_public_ip = false", "assign_public_ip = true"
    )
    report = scan_directory(modules_copy / "examples" / "fargate")
    assert "CKV_AWS_333" in {f.check_id for f in report.failed}
