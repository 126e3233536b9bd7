"""Every generated workspace (each example, both environments) passes the project's checks:
the offline schema check, Terraform core parsing (root + the local modules it calls) and
``fmt -check``, and checkov with zero unwaived failures following the local module calls. The HCL
and the CDK Terrain outputs make the same module calls with the same arguments. Each check is also
shown to fail on a deliberately broken workspace."""

from __future__ import annotations

import filecmp
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mlfargate.generate.equivalence import differences, hcl_config, json_config
from mlfargate.generate.workspace import Options, generate
from mlfargate.policy import gate
from mlfargate.policy import provider_schema as schema_check
from mlfargate.terraform import config_check as tfcore
from tests.generator.conftest import ALL_SPECS, ENVIRONMENTS, EXAMPLES, REPO, spec_id
from tests.terraform.conftest import replace_in

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def workspaces(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """HCL workspaces: examples generated into temporary directories, environments as committed."""
    base = tmp_path_factory.mktemp("hcl")
    found = {spec_id(p): generate(p, base / p.stem).out_dir for p in EXAMPLES}
    found.update({spec_id(d / "mlfargate.yaml"): d for d in ENVIRONMENTS.values()})
    return found


def _broken_copy(src: Path, dest: Path) -> Path:
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns(".terraform", "*.tfstate*"))
    return dest


IDS = [spec_id(p) for p in ALL_SPECS]


@pytest.mark.parametrize("name", IDS)
def test_schema_check(workspaces: dict[str, Path], name: str) -> None:
    report = schema_check.check_directory(workspaces[name])
    assert report.files_checked >= 5
    assert not report.issues, "\n".join(map(str, report.issues))


def test_schema_check_fails_on_a_broken_workspace(workspaces: dict[str, Path], tmp_path: Path) -> None:
    ws = _broken_copy(workspaces["existing-vpc"], tmp_path / "ws")
    replace_in(ws / "main.tf", '  id = "vpc-', '  vpc_identifier = "vpc-')  # the data source's argument
    report = schema_check.check_directory(ws)
    assert any("vpc_identifier" in str(i) for i in report.issues), report.issues


@pytest.mark.parametrize("name", IDS)
def test_terraform_core_parse_and_fmt(workspaces: dict[str, Path], name: str) -> None:
    diagnostics = [d for d in tfcore.parse_directory(workspaces[name]) if d.severity == "error"]
    assert not diagnostics, "\n".join(map(str, diagnostics))
    assert tfcore.fmt_check(workspaces[name]) == []


def test_terraform_core_fails_on_a_broken_workspace(workspaces: dict[str, Path], tmp_path: Path) -> None:
    ws = _broken_copy(workspaces["dev/mlfargate"], tmp_path / "env" / "dev")
    # Keep the relative module sources valid from the copy's location.
    shutil.copytree(workspaces["dev/mlfargate"].parents[1] / "modules", tmp_path / "modules")
    assert not [d for d in tfcore.parse_directory(ws) if d.severity == "error" and d.file and "dev" in d.file]
    replace_in(
        ws / "main.tf",
        '  name         = "sentiment-dev"',
        '  name         = "sentiment-dev"\n  subnets      = 2',
    )
    errors = [d for d in tfcore.parse_directory(ws) if d.severity == "error"]
    assert any("subnets" in str(d) or "Unsupported argument" in str(d) for d in errors), errors
    (ws / "main.tf").write_text(
        (ws / "main.tf").read_text().replace("  subnets      = 2\n", "  subnets = 2\n")
    )
    assert tfcore.fmt_check(ws)  # misaligned '=' is not fmt-clean


@pytest.mark.parametrize("name", IDS)
def test_checkov_has_no_unwaived_failures(workspaces: dict[str, Path], name: str) -> None:
    report = gate.scan_directory(workspaces[name])
    assert not report.parsing_errors, report.parsing_errors
    assert report.ok, "\n".join(f"{f.check_id} {f.resource} {f.location}" for f in report.failed)
    # checkov followed the module calls: the modules' own inline waivers are in the report.
    assert any(w.resource.startswith("module.") for w in report.waived)


def test_checkov_fails_on_a_broken_workspace(workspaces: dict[str, Path], tmp_path: Path) -> None:
    ws = _broken_copy(workspaces["cpu-fargate-spot"], tmp_path / "ws")
    # Without the root's waivers, the plain-HTTP listener the spec chose (internal, no certificate)
    # fails checkov's HTTPS checks. (checkov answers UNKNOWN, not FAILED, to CKV_TF_1/CKV_TF_2 for the
    # relative local sources every workspace has now: ./modules/<name> vendored, ../../modules in the
    # checkout.)
    text = (ws / "main.tf").read_text()
    (ws / "main.tf").write_text("\n".join(ln for ln in text.splitlines() if "#checkov:skip" not in ln) + "\n")
    report = gate.scan_directory(ws)
    assert not report.ok
    assert {f.check_id for f in report.failed} >= {"CKV_AWS_2", "CKV_AWS_103", "CKV2_AWS_20"}


# --------------------------------------------------------------------------------------------------
# HCL <-> CDK Terrain equivalence


@pytest.fixture(scope="module")
def cdktf_workspaces(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """cdk.tf.json of every spec, synthesized by the CDK Terrain app (one Node process each)."""
    base = tmp_path_factory.mktemp("cdktf")
    found = {}
    for spec in ALL_SPECS:
        out = generate(spec, base / spec_id(spec).replace("/", "-"), Options(format="cdktf")).out_dir
        (stack,) = out.glob("cdktf.out/stacks/*/cdk.tf.json")
        found[spec_id(spec)] = stack
    return found


@pytest.mark.parametrize("name", IDS)
def test_hcl_and_cdktf_are_equivalent(
    workspaces: dict[str, Path], cdktf_workspaces: dict[str, Path], name: str
) -> None:
    hcl = hcl_config(workspaces[name])
    cdk = json_config(cdktf_workspaces[name])
    assert len(hcl["module"]) >= 6
    if name in ("dev/mlfargate", "prod/mlfargate"):
        # The committed environment calls the checkout's modules/; the CDK Terrain workspace generated
        # outside the checkout calls its vendored copies: the same modules.
        for module in cdk["module"].values():
            vendored = module["source"]
            assert vendored.startswith("modules/")
            assert filecmp.cmpfiles(
                cdktf_workspaces[name].parents[3] / vendored,
                REPO / vendored,
                [p.name for p in (REPO / vendored).iterdir()],
                shallow=False,
            )[1:] == ([], [])
            module["source"] = str(REPO / vendored)
    assert differences(hcl, cdk) == []
    # Terraform core loads the synthesized JSON and every module it calls, too.
    errors = [d for d in tfcore.parse_module(cdktf_workspaces[name].parent) if d.severity == "error"]
    assert not errors, "\n".join(map(str, errors))


def test_equivalence_fails_on_a_broken_workspace(
    workspaces: dict[str, Path], cdktf_workspaces: dict[str, Path], tmp_path: Path
) -> None:
    ws = _broken_copy(workspaces["gpu-ec2-spot-schedules"], tmp_path / "ws")
    main_tf = ws / "main.tf"
    original = main_tf.read_text()
    main_tf.write_text(re.sub(r"(spot_percentage\s+=) 70", r"\1 60", original, count=1))
    found = differences(hcl_config(ws), json_config(cdktf_workspaces["gpu-ec2-spot-schedules"]))
    assert found == ["module.gpu_capacity.spot_percentage: 60 != 70"]
    main_tf.write_text(original)
    replace_in(ws / "main.tf", 'module "autoscaling" {', 'module "scaling" {')
    found = differences(hcl_config(ws), json_config(cdktf_workspaces["gpu-ec2-spot-schedules"]))
    assert "module.scaling: only in the first" in found and "module.autoscaling: only in the second" in found


def test_cdktf_json_app_reproduces_the_synth(cdktf_workspaces: dict[str, Path], tmp_path: Path) -> None:
    """What `cdktn synth` runs (cdktf.json's "app", in the workspace, CDKTF_OUTDIR set by the CLI)
    writes the same cdk.tf.json that `mlfargate generate --format cdktf` put there."""
    stack = cdktf_workspaces["prod/mlfargate"]
    workspace_dir = stack.parents[3]
    generated = stack.read_text()
    stack.unlink()
    app = shlex.split(json.loads((workspace_dir / "cdktf.json").read_text())["app"])
    assert app[:3] == ["python", "-m", "cdktf_app"]
    env = {**os.environ, "CDKTF_OUTDIR": str(workspace_dir / "cdktf.out")}
    subprocess.run([sys.executable, *app[1:]], cwd=workspace_dir, env=env, check=True, capture_output=True)
    assert stack.read_text() == generated
    manifest_hashes = json.loads((workspace_dir / ".mlfargate-manifest.json").read_text())["files"]
    assert not generate(
        workspace_dir / "mlfargate.yaml", workspace_dir, Options(format="cdktf", check_only=True)
    ).changed
    assert {n for n in manifest_hashes if not n.startswith("modules/")} == {
        "cdktf.json",
        "mlfargate.yaml",
        ".gitignore",
        str(stack.relative_to(workspace_dir)),
    }
