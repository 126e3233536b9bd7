"""The gate and remote module sources: a git module is read from ``.terraform/modules`` once real
Terraform core (embedded) has installed it from a real git repository; before that the call is
listed as unchecked and blocks. No network: the repository is a local ``git::file://`` one."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mlfargate.generate.workspace import Options, generate
from mlfargate.policy import gate
from mlfargate.terraform import engine as engine_mod
from mlfargate.terraform import process as tfprocess
from mlfargate.terraform import state as tfstate

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git installs git:: module sources")

ROOT = Path(__file__).resolve().parents[2]

MODULE = """
variable "mutability" {
  type = string
}

resource "aws_ecr_repository" "this" {
  #checkov:skip=CKV_AWS_136:test module: AES256 is what this fixture wants
  name                 = "remote"
  image_tag_mutability = var.mutability
  image_scanning_configuration {
    scan_on_push = true
  }
}
"""


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
        cwd=cwd, check=True, capture_output=True,
    )  # fmt: skip


def _repo(tmp_path: Path, files: dict[str, str] | None = None, tree: Path | None = None) -> Path:
    repo = tmp_path / "repo"
    if tree is not None:
        shutil.copytree(tree, repo / "modules", ignore=shutil.ignore_patterns(".terraform*", "*.tfstate*"))
    for name, text in (files or {}).items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    _git(repo if repo.exists() else tmp_path, "init", "-q", str(repo))
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "modules")
    _git(repo, "tag", "v1.0.0")
    return repo


def _workspace(tmp_path: Path, repo: Path, mutability: str) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir(exist_ok=True)
    (ws / "main.tf").write_text(
        'module "registry" {\n'
        "  #checkov:skip=CKV_TF_1:pinned to the release tag v1.0.0 of the test repository\n"
        f'  source     = "git::file://{repo}//modules/ecr?ref=v1.0.0"\n'
        f'  mutability = "{mutability}"\n'
        "}\n"
    )
    return ws


def _get(ws: Path) -> None:
    result = tfprocess.run(engine_mod.select("embedded"), ws, ["get", "-no-color"])
    assert result.returncode == 0, result.stderr


def test_an_uninstalled_git_module_blocks_and_says_how_to_install_it(tmp_path: Path) -> None:
    ws = _workspace(tmp_path, _repo(tmp_path, {"modules/ecr/main.tf": MODULE}), "MUTABLE")
    report = gate.scan_directory(ws)
    assert not report.ok
    assert report.failed == []  # nothing of the module was read
    [line] = report.unchecked
    assert line.startswith("main.tf: module 'registry' (source git::file://")
    assert "remote module not installed" in line and "terraform get" in line


def test_an_installed_git_module_is_checked_with_the_callers_arguments_and_its_waivers(
    tmp_path: Path,
) -> None:
    repo = _repo(tmp_path, {"modules/ecr/main.tf": MODULE})
    ws = _workspace(tmp_path, repo, "MUTABLE")
    _get(ws)  # real Terraform core clones the module into .terraform/modules
    report = gate.scan_directory(ws)
    assert report.unchecked == []
    failed = {(f.check_id, f.resource) for f in report.failed}
    assert ("CKV_AWS_51", "module.registry.aws_ecr_repository.this") in failed  # var.mutability = MUTABLE
    [finding] = [f for f in report.failed if f.check_id == "CKV_AWS_51"]
    assert finding.file == ".terraform/modules/registry/modules/ecr/main.tf"
    assert {(w.check_id, w.resource) for w in report.waived} >= {
        ("CKV_AWS_136", "module.registry.aws_ecr_repository.this"),  # the module's own inline waiver
    }
    # The caller's argument decides the check: IMMUTABLE passes it.
    (ws / "main.tf").write_text((ws / "main.tf").read_text().replace('"MUTABLE"', '"IMMUTABLE"'))
    fixed = gate.scan_directory(ws)
    assert "CKV_AWS_51" not in {f.check_id for f in fixed.failed}
    assert fixed.unchecked == []


def test_a_generated_git_sourced_workspace_gates_like_the_local_one(tmp_path: Path) -> None:
    spec = ROOT / "examples" / "gpu-ec2-spot-schedules.yaml"
    repo = _repo(tmp_path, tree=ROOT / "modules")
    local = generate(spec, tmp_path / "local").out_dir
    remote = generate(
        spec,
        tmp_path / "remote",
        Options(modules_source="git", modules_repo=f"file://{repo}", modules_ref="v1.0.0"),
    ).out_dir

    before = gate.scan_directory(remote)
    assert not before.ok and len(before.unchecked) == (local / "main.tf").read_text().count("\nmodule ")

    _get(remote)
    after = gate.scan_directory(remote)
    expected = gate.scan_directory(local)
    assert after.ok, after.failed + after.unchecked  # type: ignore[operator]
    # The same checks on the same resources, waived for the same reasons: only the module-source
    # waivers differ (a git tag waives CKV_TF_1; local sources waive CKV_TF_1 and CKV_TF_2).
    source_checks = {"CKV_TF_1", "CKV_TF_2"}
    assert {(w.check_id, w.resource, w.reason) for w in after.waived if w.check_id not in source_checks} == {
        (w.check_id, w.resource, w.reason) for w in expected.waived if w.check_id not in source_checks
    }
    assert after.passed - expected.passed == len(before.unchecked)  # CKV_TF_2 passes on a tagged ref


def test_two_calls_of_one_module_and_a_source_terraform_normalises(tmp_path: Path) -> None:
    """Terraform installs each call into its own directory and records ``git::/path`` as
    ``git::file:///path``: both calls are found by their call path and checked."""
    repo = _repo(tmp_path, {"modules/ecr/main.tf": MODULE})
    ws = tmp_path / "ws"
    ws.mkdir()
    calls = [
        ("a", f"git::file://{repo}//modules/ecr?ref=v1.0.0"),
        ("b", f"git::{repo}//modules/ecr?ref=v1.0.0"),
    ]
    (ws / "main.tf").write_text(
        "".join(
            f'module "{name}" {{\n'
            "  #checkov:skip=CKV_TF_1:pinned to the release tag v1.0.0 of the test repository\n"
            f'  source     = "{source}"\n  mutability = "MUTABLE"\n}}\n\n'
            for name, source in calls
        )
    )
    _get(ws)
    manifest = json.loads((ws / ".terraform" / "modules" / "modules.json").read_text())
    assert {m["Key"] for m in manifest["Modules"]} == {"", "a", "b"}  # one directory per call
    report = gate.scan_directory(ws)
    assert report.unchecked == []
    assert {(f.check_id, f.resource) for f in report.failed} >= {
        ("CKV_AWS_51", "module.a.aws_ecr_repository.this"),
        ("CKV_AWS_51", "module.b.aws_ecr_repository.this"),
    }


def test_installed_modules_reads_terraforms_manifest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The manifest as Terraform writes it: one entry per call path (nested calls joined by dots),
    directories relative to the workspace; TF_DATA_DIR moves it."""
    ws = tmp_path / "ws"
    for d in ("vpc", "vpc/modules/sub", "x"):
        (ws / ".terraform" / "modules" / d).mkdir(parents=True, exist_ok=True)
    modules = [
        {"Key": "", "Source": "", "Dir": "."},
        {
            "Key": "vpc",
            "Source": "registry.terraform.io/acme/vpc/aws",
            "Version": "5.1.0",
            "Dir": ".terraform/modules/vpc",
        },
        {"Key": "vpc.sub", "Source": "./modules/sub", "Dir": ".terraform/modules/vpc/modules/sub"},
        {"Key": "gone", "Source": "git::https://example.com/m.git", "Dir": ".terraform/modules/gone"},
    ]
    (ws / ".terraform" / "modules" / "modules.json").write_text(json.dumps({"Modules": modules}))
    found = tfstate.installed_modules(ws)
    assert found == {
        "vpc": (ws / ".terraform/modules/vpc").resolve(),
        "vpc.sub": (ws / ".terraform/modules/vpc/modules/sub").resolve(),
    }  # the root entry and a directory that no longer exists are left out
    monkeypatch.setenv("TF_DATA_DIR", "elsewhere")
    assert tfstate.installed_modules(ws) == {}
    (ws / ".terraform").rename(ws / "elsewhere")
    modules[1]["Dir"] = "elsewhere/modules/vpc"
    (ws / "elsewhere" / "modules" / "modules.json").write_text(json.dumps({"Modules": modules[:2]}))
    assert tfstate.installed_modules(ws) == {"vpc": (ws / "elsewhere/modules/vpc").resolve()}


def test_tf_json_files_are_unchecked_not_passed(tmp_path: Path) -> None:
    """checkov's Terraform runner skips .tf.json (CDK Terrain's output): listed and blocking; module
    calls written in JSON are still followed for the missing-module check."""
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "cdk.tf.json").write_text(json.dumps({"module": {"m": {"source": "./nope"}}}))
    report = gate.scan_directory(ws)
    assert not report.ok
    assert report.unchecked == [
        "cdk.tf.json: checkov does not read .tf.json files, so it is unchecked; gate the HCL workspace of "
        "the same spec (`mlfargate generate --format hcl`: the same module calls)",
        "cdk.tf.json: module 'm' (source ./nope): no .tf files there, so it cannot be checked",
    ]


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mlfargate.cli", *args], capture_output=True, text=True, cwd=ROOT, timeout=300
    )


def test_cli_check_blocks_until_plan_installs_the_module(tmp_path: Path) -> None:
    data_module = (
        'variable "n" {\n  type = string\n}\n\nresource "terraform_data" "x" {\n  input = var.n\n}\n'
    )
    repo = _repo(tmp_path, {"modules/data/main.tf": data_module})
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "main.tf").write_text(
        'module "data" {\n'
        "  #checkov:skip=CKV_TF_1:pinned to the release tag v1.0.0 of the test repository\n"
        f'  source = "git::file://{repo}//modules/data?ref=v1.0.0"\n'
        '  n      = "x"\n'
        "}\n"
    )
    before = _cli("check", str(ws))
    assert before.returncode == 1, before.stderr
    assert "  UNCHECKED main.tf: module 'data' (source git::file://" in before.stdout
    assert before.stderr.strip().splitlines()[-1].startswith("error: policy gate failed")
    assert "Traceback" not in before.stderr

    plan = _cli("plan", str(ws), "--terraform", "embedded")  # init installs the module, then the gate
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert "UNCHECKED" not in plan.stdout
    after = _cli("check", str(ws))
    assert after.returncode == 0, after.stdout


def test_two_versions_of_one_registry_module_are_each_read(tmp_path: Path) -> None:
    """Registry modules cannot be installed offline, so the install is laid out as Terraform lays it
    out (one directory per call, ``modules.json`` by call path); the gate must read v2's code for v2."""
    ws = tmp_path / "ws"
    for key, mutability in (("v1", "IMMUTABLE"), ("v2", "MUTABLE")):
        module = ws / ".terraform" / "modules" / key
        module.mkdir(parents=True)
        (module / "main.tf").write_text(MODULE.replace("var.mutability", f'"{mutability}"'))
    manifest = [{"Key": "", "Source": "", "Dir": "."}] + [
        {
            "Key": k,
            "Source": "registry.terraform.io/acme/ecr/aws",
            "Version": v,
            "Dir": f".terraform/modules/{k}",
        }
        for k, v in (("v1", "1.0.0"), ("v2", "2.0.0"))
    ]
    (ws / ".terraform" / "modules" / "modules.json").write_text(json.dumps({"Modules": manifest}))
    (ws / "main.tf").write_text(
        'module "v1" {\n  source  = "acme/ecr/aws"\n  version = "1.0.0"\n}\n\n'
        'module "v2" {\n  source  = "acme/ecr/aws"\n  version = "2.0.0"\n}\n'
    )
    report = gate.scan_directory(ws)
    assert report.unchecked == []
    assert {f.resource for f in report.failed if f.check_id == "CKV_AWS_51"} == {
        "module.v2.aws_ecr_repository.this"
    }


def test_directories_outside_the_module_tree_are_walked_too(tmp_path: Path) -> None:
    """checkov scans every directory under the workspace; what it cannot read there is listed too."""
    ws = tmp_path / "ws"
    (ws / "cdk").mkdir(parents=True)
    (ws / "sub").mkdir()
    (ws / "main.tf").write_text('resource "terraform_data" "x" {}\n')
    (ws / "cdk" / "cdk.tf.json").write_text(json.dumps({"resource": {}}))
    (ws / "sub" / "main.tf").write_text(
        'module "r" {\n  source = "git::https://example.com/m.git?ref=v1"\n}\n'
    )
    report = gate.scan_directory(ws)
    assert [line.split(":")[0] for line in report.unchecked] == ["cdk/cdk.tf.json", "sub/main.tf"]
    assert "outside the workspace's module tree" in report.unchecked[1]
