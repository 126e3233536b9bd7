"""`mlfargate image build` / `image push` end to end with real parts: buildah builds an image FROM scratch,
the ECR API is moto's server (GetAuthorizationToken, DescribeRepositories), the registry is a real
distribution 2.8 on 127.0.0.1 with TLS and htpasswd auth holding moto's token password, reached through
MLFARGATE_REGISTRY_ENDPOINT / MLFARGATE_REGISTRY_CERT_DIR. The digest pinned in the workspace must be the
one the registry serves. Bad input: one line each."""

from __future__ import annotations

import contextlib
import hashlib
import json
import subprocess
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest

from mlfargate.image import pin
from mlfargate.terraform import config_check as tfcore
from tests.conftest import REPO
from tests.image.conftest import ACCOUNT, PREFIX, SPEC_TEXT, Registry, ecr_password, mlfargate, write_context

pytestmark = pytest.mark.slow

REPOSITORY = f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/{PREFIX}"


def reset(moto_url: str) -> None:
    urllib.request.urlopen(
        urllib.request.Request(f"{moto_url}/moto-api/reset", method="POST"), timeout=5
    ).close()


def create_repository(moto_url: str) -> None:
    """What the first apply leaves: the ECR repository of modules/ecr (immutable tags)."""
    client = boto3.client("ecr", region_name="us-east-1", endpoint_url=moto_url)
    with contextlib.suppress(client.exceptions.RepositoryAlreadyExistsException):
        client.create_repository(repositoryName=PREFIX, imageTagMutability="IMMUTABLE")


@dataclass(frozen=True)
class Deployment:
    root: Path
    spec: Path
    workspace: Path
    context: Path
    env: dict[str, str]

    def run(self, *args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
        result = mlfargate(*args, cwd=self.root, env={**self.env, **(env or {})})
        assert "Traceback" not in result.stderr, result.stderr
        return result.returncode, result.stdout, result.stderr

    def build(self) -> dict[str, str]:
        code, out, err = self.run(
            "image", "build", "mlfargate.yaml", "--context", "ctx", "--builder", "buildah", "--json"
        )
        assert code == 0, err
        data: dict[str, str] = json.loads(out)
        return data

    def push(
        self, registry: Registry | None = None, env: dict[str, str] | None = None
    ) -> tuple[int, str, str]:
        to = (
            {
                "MLFARGATE_REGISTRY_ENDPOINT": registry.endpoint,
                "MLFARGATE_REGISTRY_CERT_DIR": str(registry.certs),
            }
            if registry
            else {}
        )
        return self.run("image", "push", "mlfargate.yaml", "ws", env={**to, **(env or {})})


def make_deployment(root: Path, moto_url: str, spec_text: str = SPEC_TEXT) -> Deployment:
    root.mkdir(parents=True, exist_ok=True)
    spec = root / "mlfargate.yaml"
    spec.write_text(spec_text)
    env = {"MLFARGATE_AWS_ENDPOINT_URL": moto_url}
    generated = mlfargate("generate", "mlfargate.yaml", "--out", "ws", cwd=root, env=env)
    assert generated.returncode == 0, generated.stderr
    return Deployment(root, spec, root / "ws", write_context(root / "ctx"), env)


@pytest.fixture
def deployment(tmp_path: Path, moto_reset: str, buildah_env: dict[str, str]) -> Deployment:
    return make_deployment(tmp_path / "project", moto_reset)


@dataclass(frozen=True)
class Pushed:
    deployment: Deployment
    registry: Registry
    built: dict[str, str]
    code: int
    out: str
    err: str
    tmp: Path  # TMPDIR of the push


@pytest.fixture(scope="module")
def pushed(
    tmp_path_factory: pytest.TempPathFactory,
    moto_server: str,
    buildah_env: dict[str, str],
    start_registry: Callable[[str], Registry],
) -> Pushed:
    """One first deployment: generate, (apply: the repository), build, push."""
    reset(moto_server)
    registry = start_registry(ecr_password(moto_server))
    dep = make_deployment(tmp_path_factory.mktemp("pushed") / "project", moto_server)
    create_repository(moto_server)
    built = dep.build()
    tmp = dep.root / "tmp"
    tmp.mkdir()
    code, out, err = dep.push(registry, env={"TMPDIR": str(tmp)})
    return Pushed(dep, registry, built, code, out, err, tmp)


def test_push_pins_the_digest_the_registry_serves(pushed: Pushed) -> None:
    assert pushed.code == 0, pushed.err
    tag = pushed.built["tag"]
    assert tag.startswith("ctx-") and tag.endswith("-amd64") and "latest" not in tag  # not in git: a hash
    assert pushed.built["platform"] == "linux/amd64" and pushed.built["builder"] == "buildah"
    pinned = pin.pinned_digest(pushed.deployment.workspace)
    served, body = pushed.registry.manifest(PREFIX, tag)
    assert pinned is not None and served == pinned == f"sha256:{hashlib.sha256(body).hexdigest()}"
    manifest = json.loads(body)
    assert manifest["mediaType"] == "application/vnd.docker.distribution.manifest.v2+json"
    config = json.loads(pushed.registry.blob(PREFIX, manifest["config"]["digest"]))
    assert (config["os"], config["architecture"]) == ("linux", "amd64")  # the spec's x86_64
    assert pushed.out.splitlines() == [
        f"pushed {REPOSITORY}:{tag}",
        f"pinned {REPOSITORY}@{pinned} in ws/image.auto.tfvars",
        "next: `mlfargate plan ws` and `mlfargate apply ws` run the service on it",
    ]


def test_the_token_is_never_printed_and_the_auth_file_is_removed(pushed: Pushed) -> None:
    assert pushed.code == 0, pushed.err
    assert pushed.registry.password not in pushed.out + pushed.err
    assert list(pushed.tmp.iterdir()) == []  # the builder's temporary auth file went with its directory
    for path in pushed.deployment.root.rglob("*"):
        if path.is_file() and "tmp" not in path.parts:
            assert pushed.registry.password.encode() not in path.read_bytes(), path


def test_the_pinned_workspace_runs_the_digest(pushed: Pushed) -> None:
    """Terraform core accepts the pin; the root variable's own rule refuses a tag in its place."""
    ws = pushed.deployment.workspace
    pinned = pin.pinned_digest(ws)
    assert tfcore.check_variable_values(ws, {"aws_region": "us-east-1", "image_digest": pinned}) == []
    refused = tfcore.check_variable_values(ws, {"aws_region": "us-east-1", "image_digest": "latest"})
    assert any("image_digest must be empty" in d.detail for d in refused), refused
    assert pin.note(ws, "plan") == f"image: {pinned} (pinned in image.auto.tfvars by `mlfargate image push`)"
    text = (ws / "image.auto.tfvars").read_text()
    assert f'image_digest = "{pinned}"' in text and f"{REPOSITORY}:{pushed.built['tag']}" in text


def test_a_repush_of_the_same_tag_is_refused_as_immutable(pushed: Pushed, moto_server: str) -> None:
    assert pushed.code == 0, pushed.err
    create_repository(moto_server)  # still there, whatever other tests reset
    pin_file = pushed.deployment.workspace / "image.auto.tfvars"
    before = pin_file.read_text()
    code, out, err = pushed.deployment.push(pushed.registry)
    assert code == 2 and out == ""
    pinned = pin.pinned_digest(pushed.deployment.workspace)
    assert err.splitlines() == [
        f"error: tag {pushed.built['tag']} already exists in {REPOSITORY} (it holds {pinned}; the workspace "
        "already pins it) and tags there are immutable, so it cannot be pushed again: change the image (a new "
        "commit or context gives a new tag) and build again"
    ]
    assert pin_file.read_text() == before


def test_a_wrong_registry_password_is_one_line(
    deployment: Deployment, moto_reset: str, start_registry: Callable[[str], Registry]
) -> None:
    registry = start_registry("not-the-ecr-token")
    create_repository(moto_reset)
    deployment.build()
    code, out, err = deployment.push(registry)
    assert code == 2 and out == ""
    assert err.splitlines() == [
        f"error: registry {registry.endpoint} did not accept the ECR login token (HTTP 401): it is invalid or "
        f"expired, or for another account than the repository's ({ACCOUNT})"
    ]
    assert ecr_password(moto_reset) not in err
    assert not (deployment.workspace / "image.auto.tfvars").exists()


def test_no_builder_found_names_the_ones_looked_for(deployment: Deployment, tmp_path: Path) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    code, out, err = deployment.run(
        "image", "build", "mlfargate.yaml", "--context", "ctx", env={"PATH": str(empty)}
    )
    assert code == 2 and out == ""
    assert err.splitlines() == [
        "error: no image builder found: looked for docker with buildx (not on PATH), podman (not on PATH), "
        "buildah (not on PATH); install one of them, or name one with --builder docker|podman|buildah"
    ]
    code, _, err = deployment.run(
        "image",
        "build",
        "mlfargate.yaml",
        "--context",
        "ctx",
        "--builder",
        "podman",
        env={"PATH": str(empty)},
    )
    assert code == 2
    assert err.splitlines() == [
        "error: --builder podman: podman is not on PATH; install it or name another builder"
    ]
    assert not (deployment.root / ".mlfargate").exists()  # nothing recorded


def test_a_spec_with_its_own_image_is_not_ours_to_push(tmp_path: Path, moto_reset: str) -> None:
    text = (REPO / "examples/gpu-ec2-spot-schedules.yaml").read_text()
    dep = make_deployment(tmp_path / "own", moto_reset, text)
    code, out, err = dep.push()
    assert code == 2 and out == ""
    lines = err.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(
        "error: service.image is 123456789012.dkr.ecr.us-east-1.amazonaws.com/sentiment:"
    )
    assert "outside any repository this workspace creates" in lines[0] and "not mlfargate's to do" in lines[0]


def test_push_before_the_repository_exists_says_apply_first(deployment: Deployment) -> None:
    deployment.build()
    code, out, err = deployment.push()
    assert code == 2 and out == ""
    assert err.splitlines() == [
        f"error: the workspace's ECR repository {PREFIX} does not exist in us-east-1 yet: apply the workspace "
        "first (`mlfargate plan ws` then `mlfargate apply ws`; the service runs no task until an image is pinned)"
    ]


def test_push_without_a_build_and_after_the_context_changed(deployment: Deployment) -> None:
    code, _, err = deployment.push()
    assert code == 2
    assert err.splitlines() == [
        f"error: no image built for {PREFIX} yet: run `mlfargate image build mlfargate.yaml` first"
    ]
    built = deployment.build()
    (deployment.context / "model.txt").write_text("a newer model\n")
    code, _, err = deployment.push()
    assert code == 2 and len(err.splitlines()) == 1
    assert f"changed since localhost/mlfargate/{PREFIX}:{built['tag']} was built" in err
    assert "run `mlfargate image build mlfargate.yaml` again" in err


def test_a_workspace_of_another_spec_is_refused(deployment: Deployment) -> None:
    deployment.build()
    code, _, err = deployment.run("image", "push", "mlfargate.yaml", str(REPO / "environments/prod"))
    assert code == 2
    assert err.splitlines() == [
        f"error: {REPO / 'environments/prod'} was generated for sentiment-prod in us-east-1, but the spec is "
        f"for {PREFIX} in us-east-1: give the workspace generated from this spec"
    ]


def test_no_aws_credentials_is_one_line(deployment: Deployment, tmp_path: Path) -> None:
    deployment.build()
    none = {
        "AWS_ACCESS_KEY_ID": "",
        "AWS_SECRET_ACCESS_KEY": "",
        "AWS_SESSION_TOKEN": "",
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    code, out, err = deployment.push(env=none)
    assert code == 2 and out == ""
    assert err.splitlines() == [
        f"error: cannot look up the ECR repository {PREFIX} in us-east-1: Unable to locate credentials: give "
        "the spec an aws.profile, or put AWS credentials in the environment"
    ]


def test_an_arm64_spec_builds_an_arm64_image(
    tmp_path: Path, moto_reset: str, buildah_env: dict[str, str]
) -> None:
    text = SPEC_TEXT.replace("  memory: 4096\n", "  memory: 4096\n  architecture: arm64\n")
    text = text.replace("spot_percentage: 75", "spot_percentage: 0")  # Fargate Spot is x86_64 only
    dep = make_deployment(tmp_path / "arm", moto_reset, text)
    built = dep.build()
    assert built["platform"] == "linux/arm64" and built["tag"].endswith("-arm64")
    inspected = subprocess.run(
        ["buildah", "inspect", "--format", "{{.OCIv1.OS}}/{{.OCIv1.Architecture}}", built["image"]],
        capture_output=True,
        text=True,
        check=True,
    )
    assert inspected.stdout.strip() == "linux/arm64"


def test_push_when_the_builder_that_built_it_is_gone(deployment: Deployment, tmp_path: Path) -> None:
    built = deployment.build()
    code, _, err = deployment.push(env={"PATH": str(tmp_path)})
    assert code == 2
    assert err.splitlines() == [
        f"error: {built['image']} was built with buildah, which cannot push it now: buildah is not on PATH"
    ]
