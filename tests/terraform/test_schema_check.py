"""The offline schema check: the repo's modules pass, and deliberate mistakes of every kind fail."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from mlfargate.cli import main
from mlfargate.policy import provider_schema as schema_check
from tests.terraform.conftest import ALL_ROOTS, MODULES


def _check(tmp_path: Path, hcl: str) -> list[str]:
    (tmp_path / "main.tf").write_text(hcl)
    return [f"{i.address}: {i.message}" for i in schema_check.check_directory(tmp_path).issues]


@pytest.mark.parametrize("root", ALL_ROOTS, ids=lambda p: p.name)
def test_modules_and_examples_pass(root: Path) -> None:
    report = schema_check.check_directory(root)
    assert report.files_checked >= 1
    assert report.issues == []


def test_whole_tree_checks_every_aws_block() -> None:
    report = schema_check.check_directory(MODULES)
    assert report.ok
    assert report.blocks_checked >= 100
    assert report.provider_version.startswith("6.")
    assert report.cdktn_provider_aws_version


def test_unknown_argument_with_line_and_suggestion(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(
        'resource "aws_ecr_repository" "r" {\n  name = "x"\n  image_tag_mutabilty = "IMMUTABLE"\n}\n'
    )
    [issue] = schema_check.check_directory(tmp_path).issues
    assert (issue.file, issue.line, issue.address) == ("main.tf", 3, "aws_ecr_repository.r")
    assert 'unknown argument "image_tag_mutabilty"' in issue.message
    assert "image_tag_mutability" in issue.message


def test_missing_required_argument_and_block(tmp_path: Path) -> None:
    issues = _check(
        tmp_path,
        'resource "aws_ecs_capacity_provider" "p" {\n  name = "x"\n'
        '  managed_instances_provider {\n    infrastructure_role_arn = "r"\n  }\n}\n'
        'resource "aws_ecr_repository" "r" {}\n',
    )
    assert (
        'aws_ecs_capacity_provider.p.managed_instances_provider: missing required block "instance_launch_template"'
        in issues
    )
    assert 'aws_ecr_repository.r: missing required argument "name"' in issues


def test_nested_block_unknown_argument(tmp_path: Path) -> None:
    issues = _check(
        tmp_path,
        'resource "aws_launch_template" "t" {\n  metadata_options {\n    http_tokenz = "required"\n  }\n}\n',
    )
    assert any('aws_launch_template.t.metadata_options: unknown argument "http_tokenz"' in i for i in issues)


def test_block_written_as_argument_and_back(tmp_path: Path) -> None:
    issues = _check(
        tmp_path,
        'resource "aws_ecr_repository" "r" {\n  name = "x"\n'
        '  encryption_configuration = { encryption_type = "KMS" }\n'
        "  image_tag_mutability {\n  }\n}\n",
    )
    assert any('"encryption_configuration" is a block' in i for i in issues)
    assert any('"image_tag_mutability" is an argument' in i for i in issues)


def test_dynamic_blocks_are_checked(tmp_path: Path) -> None:
    issues = _check(
        tmp_path,
        'resource "aws_ecs_service" "s" {\n  name = "x"\n'
        '  dynamic "capacity_provider_strategy" {\n    for_each = var.s\n    content {\n'
        "      capacity_provider = capacity_provider_strategy.value\n      weigth = 1\n    }\n  }\n"
        '  dynamic "no_such_block" {\n    for_each = var.s\n    content {}\n  }\n'
        '  dynamic "load_balancer" {\n    for_each = var.s\n'
        '    content {\n      target_group_arn = "t"\n    }\n  }\n}\n',
    )
    assert any('capacity_provider_strategy: unknown argument "weigth"' in i for i in issues)
    assert any('dynamic block "no_such_block": no such block' in i for i in issues)
    assert any('load_balancer: missing required argument "container_name"' in i for i in issues)


def test_data_sources_and_unknown_types(tmp_path: Path) -> None:
    issues = _check(
        tmp_path,
        'data "aws_iam_policy_document" "d" {\n  statement {\n    actionz = ["s3:GetObject"]\n  }\n}\n'
        'resource "aws_not_a_thing" "x" {}\n'
        'resource "terraform_data" "ignored" {\n  whatever = 1\n}\n',
    )
    assert (
        "data.aws_iam_policy_document.d.statement: unknown argument \"actionz\" (did you mean 'actions'?)"
        in issues
    )
    assert any(i.startswith("aws_not_a_thing.x: unknown resource type") for i in issues)
    assert not any("terraform_data" in i for i in issues)


def test_meta_arguments_are_allowed(tmp_path: Path) -> None:
    issues = _check(
        tmp_path,
        'resource "aws_ecr_repository" "r" {\n  count = 1\n  name = "x"\n  provider = aws.other\n'
        "  depends_on = []\n  lifecycle {\n    prevent_destroy = true\n  }\n}\n",
    )
    assert issues == []


def test_directory_walk_stays_inside_path(tmp_path: Path) -> None:
    inner = tmp_path / "inner"
    inner.mkdir()
    (tmp_path / "outside.tf").write_text('resource "aws_ecr_repository" "bad" {}\n')
    (inner / "main.tf").write_text('module "m" {\n  source = "../"\n}\n')
    report = schema_check.check_directory(inner)
    assert report.files_checked == 1 and report.ok


def test_unparsable_hcl_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text('resource "aws_ecr_repository" "r" {\n  name = \n')
    with pytest.raises(schema_check.SchemaCheckError, match=r"main.tf: cannot parse HCL"):
        schema_check.check_directory(tmp_path)


def test_cached_schema_is_used_not_the_assembly(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom() -> dict[str, object]:
        raise AssertionError("the jsii assembly must not be read when the cache matches")

    schema_check.load_schema.cache_clear()
    monkeypatch.setattr(schema_check, "extract_from_installed_package", boom)
    schema = schema_check.load_schema()
    with gzip.open(schema_check.BUNDLED_SCHEMA) as fh:
        bundled = json.load(fh)
    assert schema["cdktn_provider_aws_version"] == bundled["cdktn_provider_aws_version"]
    assert schema["provider_version"] == bundled["provider_version"]
    schema_check.load_schema.cache_clear()


def test_stale_cache_reextracts_into_user_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A different installed cdktn-provider-aws version must not silently use the bundled schema."""
    calls = []
    fake = {
        "cdktn_provider_aws_version": "99.0.0",
        "provider_version": "6.99.0",
        "resources": {},
        "data_sources": {},
        "blocks": {},
    }

    def extract() -> dict[str, object]:
        calls.append(1)
        return fake

    monkeypatch.setenv("MLFARGATE_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(schema_check, "_installed_version", lambda: "99.0.0")
    monkeypatch.setattr(schema_check, "extract_from_installed_package", extract)
    schema_check.load_schema.cache_clear()
    try:
        assert schema_check.load_schema()["provider_version"] == "6.99.0"
        assert schema_check.user_cache_path("99.0.0").exists()
        schema_check.load_schema.cache_clear()
        assert schema_check.load_schema()["provider_version"] == "6.99.0"
        assert calls == [1]  # second load came from the user cache
    finally:
        schema_check.load_schema.cache_clear()


def test_cli_exit_codes_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema-check", str(MODULES / "ecr"), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is True and data["provider_version"].startswith("6.")
    (tmp_path / "main.tf").write_text('resource "aws_ecr_repository" "r" {}\n')
    assert main(["schema-check", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert 'main.tf:1: aws_ecr_repository.r: missing required argument "name"' in out
    assert main(["schema-check", str(tmp_path / "nope")]) == 2
    assert "no such file or directory" in capsys.readouterr().err


def test_nothing_to_check_is_an_error_not_a_pass(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    (tmp_path / "notes.md").write_text("# not terraform\n")
    for target in (empty, tmp_path / "notes.md"):
        assert main(["schema-check", str(target)]) == 2
        err = capsys.readouterr().err
        assert (
            err.strip() == f"error: {target}: no .tf files to check; give a Terraform directory or a .tf file"
        )
