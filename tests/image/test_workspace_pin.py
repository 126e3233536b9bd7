"""The ordering of a first deployment, with real Terraform core on a provider-free stand-in of the generated
root (a `terraform_data` "repository" with the same `image_digest` variable and `image_repository_url`
output): plan and apply say what to do next while no image is pinned; `image push` finds the repository
in the applied state's output; a push makes a plan saved before it stale."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlfargate.errors import MlfargateError
from mlfargate.generate.wiring import IMAGE_DIGEST
from mlfargate.image import pin
from mlfargate.image.push import repository_url
from mlfargate.spec.rules import load_valid
from mlfargate.terraform import engine as engine_mod
from tests.conftest import REPO
from tests.image.conftest import ACCOUNT, PREFIX, SPEC_TEXT, mlfargate

pytestmark = pytest.mark.slow

URL = f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/{PREFIX}"
DIGEST = "sha256:" + "0123456789abcdef" * 4

# The generated root's wiring of the pin (environments/dev's variables.tf and terraform.tfvars are
# copied as generated) around resources Terraform core can apply offline.
MAIN = f"""
resource "terraform_data" "repository" {{
  input = "{URL}"
}}

locals {{
  repo = terraform_data.repository.output
}}

resource "terraform_data" "service" {{
  input = {{
    image         = var.image_digest == "" ? "${{local.repo}}:pending" : "${{local.repo}}@${{var.image_digest}}"
    desired_count = var.image_digest == "" ? 0 : 1
  }}
}}

output "image_repository_url" {{
  value = terraform_data.repository.output
}}
"""


def repository_url_or_error(workspace: Path) -> str:
    spec = load_valid(workspace / "mlfargate.yaml")
    try:
        return repository_url(spec, workspace, engine_mod.select("embedded"))
    except MlfargateError as error:
        return str(error)


@pytest.fixture
def workspace(tmp_path: Path, moto_reset: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MLFARGATE_AWS_ENDPOINT_URL", moto_reset)  # an ECR look-up would reach moto only
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "main.tf").write_text(MAIN)
    for name in ("variables.tf", "terraform.tfvars"):
        (ws / name).write_text((REPO / "environments/dev" / name).read_text())
    assert f'variable "{IMAGE_DIGEST.name}"' in (ws / "variables.tf").read_text()
    (ws / "mlfargate.yaml").write_text(SPEC_TEXT)
    return ws


def test_plan_and_apply_say_what_comes_next_until_an_image_is_pinned(workspace: Path) -> None:
    assert repository_url_or_error(workspace).startswith("the workspace's ECR repository")  # not applied yet
    planned = mlfargate("plan", "ws", "--terraform", "embedded", cwd=workspace.parent)
    assert planned.returncode == 0, planned.stderr
    assert planned.stdout.splitlines()[-1] == (
        "next: no image is pinned yet, so the service will run no task: apply this plan (it creates the ECR "
        "repository), then `mlfargate image build ws/mlfargate.yaml` and `mlfargate image push ws/mlfargate.yaml "
        "ws`, then plan and apply again to start the service"
    )
    applied = mlfargate("apply", "ws", "--terraform", "embedded", "--yes", cwd=workspace.parent)
    assert applied.returncode == 0, applied.stderr
    assert applied.stdout.splitlines()[-1] == (
        "next: no image is pinned yet, so the service runs no task: `mlfargate image build ws/mlfargate.yaml` "
        "and `mlfargate image push ws/mlfargate.yaml ws`, then `mlfargate plan ws` and `mlfargate apply ws` "
        "start it"
    )

    # `image push` takes the repository from the applied state (moto holds no repository here: the
    # ECR fallback would fail, as it did before the apply).
    assert repository_url_or_error(workspace) == URL

    # A plan saved before the push is stale once the digest is pinned: apply refuses it.
    replanned = mlfargate("plan", "ws", "--terraform", "embedded", cwd=workspace.parent)
    assert replanned.returncode == 0, replanned.stderr
    pin.write_pin(workspace, URL, "git-0123456789ab-amd64", DIGEST)
    stale = mlfargate("apply", "ws", "--terraform", "embedded", "--yes", cwd=workspace.parent)
    assert stale.returncode == 2
    assert "the configuration changed since the saved plan" in stale.stderr

    # After the push: the plan shows the pinned image, and the service would run it.
    pinned = mlfargate("plan", "ws", "--terraform", "embedded", "--json", cwd=workspace.parent)
    assert pinned.returncode == 0, pinned.stderr
    data = json.loads(pinned.stdout)
    assert data["image"] == f"image: {DIGEST} (pinned in image.auto.tfvars by `mlfargate image push`)"
    plan_json = json.loads((workspace / ".mlfargate" / "plan.json").read_text())
    service = next(r for r in plan_json["resource_changes"] if r["address"] == "terraform_data.service")
    assert service["change"]["after"]["input"] == {"image": f"{URL}@{DIGEST}", "desired_count": 1}


def test_a_workspace_with_the_specs_own_image_gets_no_note(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "main.tf").write_text('resource "terraform_data" "a" {\n  input = "a"\n}\n')
    assert pin.note(ws, "plan") is None and pin.note(ws, "apply") is None
    assert pin.note(tmp_path / "missing", "plan") is None


def test_the_committed_environments_wait_for_their_image() -> None:
    """environments/dev and prod create their repository: no digest pinned, so no task would run."""
    for name in ("dev", "prod"):
        ws = REPO / "environments" / name
        state = pin.state(ws)
        assert state.managed and state.digest is None
        assert 'image_digest = ""' in (ws / "terraform.tfvars").read_text()


def test_a_cdk_terrain_workspace_is_pinned_where_terraform_runs(tmp_path: Path) -> None:
    """Generated with --format cdktf: Terraform runs in cdktf.out/stacks/<stack>/, so the pin goes there."""
    ws = tmp_path / "cdk"
    generated = mlfargate(
        "generate", "mlfargate.yaml", "--out", str(ws), "--format", "cdktf", cwd=REPO / "environments/dev"
    )
    assert generated.returncode == 0, generated.stderr
    stack = ws / "cdktf.out" / "stacks" / PREFIX
    assert pin.terraform_dir(ws) == stack and pin.terraform_dir(stack) == stack
    assert pin.declares_pin(stack) and pin.spec_copy(stack) == ws / "mlfargate.yaml"
    assert pin.state(ws) == pin.ImageState(managed=True, digest=None)
    pin.write_pin(stack, URL, "t", DIGEST)
    assert pin.state(ws).digest == DIGEST and (stack / "image.auto.tfvars").is_file()
