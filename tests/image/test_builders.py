"""The command lines each builder gets (the password never on one), the translation of ECR's own push
refusals (texts quoted from real runs), and ECR token failures (botocore Stubber with AWS's error shape)."""

from __future__ import annotations

from pathlib import Path

import pytest
from botocore.stub import Stubber

from mlfargate import aws
from mlfargate.image import push as push_mod
from mlfargate.image import registry
from mlfargate.image.builders import Builder, BuilderFailedError, run_tool

REPO_URL = "123456789012.dkr.ecr.us-east-1.amazonaws.com/sentiment-dev"
LOGIN = registry.RegistryLogin("AWS", "s3cr3t-token")


@pytest.mark.parametrize("name", ["docker", "podman", "buildah"])
def test_the_password_never_reaches_a_command_line(name: str, tmp_path: Path) -> None:
    builder = Builder(name, f"/usr/bin/{name}")  # type: ignore[arg-type]
    login = builder.login_argv("reg.example:5000", "AWS", tmp_path, None)
    assert "--password-stdin" in login and LOGIN.password not in " ".join(login)
    pushes = builder.push_argvs(
        image="localhost/mlfargate/x:t",
        remote="reg/x:t",
        auth_dir=tmp_path,
        cert_dir=None,
        digestfile=tmp_path / "d",
    )
    if name == "docker":
        assert builder.auth_env(tmp_path) == {"DOCKER_CONFIG": str(tmp_path)}  # its config.json goes there
        assert pushes == [
            ["/usr/bin/docker", "tag", "localhost/mlfargate/x:t", "reg/x:t"],
            ["/usr/bin/docker", "push", "reg/x:t"],
        ]
        assert builder.cleanup_argvs("reg/x:t") == [["/usr/bin/docker", "rmi", "reg/x:t"]]
    else:
        assert builder.auth_env(tmp_path) == {}
        assert login[login.index("--authfile") + 1] == str(tmp_path / "auth.json")
        (argv,) = pushes
        assert argv[-2:] == ["localhost/mlfargate/x:t", "docker://reg/x:t"]
        assert argv[argv.index("--format") + 1] == "v2s2" and "--digestfile" in argv


def test_build_lines_carry_the_platform_and_never_latest(tmp_path: Path) -> None:
    for name in ("docker", "podman", "buildah"):
        argv = Builder(name, name).build_argv(  # type: ignore[arg-type]
            context=tmp_path,
            dockerfile=tmp_path / "Dockerfile",
            platform="linux/arm64",
            image="i:t",
            iidfile=tmp_path / "i",
        )
        assert argv[argv.index("--platform") + 1] == "linux/arm64"
        assert argv[argv.index("-t") + 1] == "i:t" and not any("latest" in a for a in argv)
        assert ("buildx" in argv and "--provenance=false" in argv) if name == "docker" else "docker" in argv


@pytest.mark.parametrize(
    "line",
    [
        # moby/buildkit#3776 (docker buildx against ECR)
        "ERROR: tag invalid: The image tag 'git-0123456789ab-amd64' already exists in the 'sentiment-dev' "
        "repository and cannot be overwritten because the repository is immutable.",
        # osscontainertools/kaniko#204 (the registry API's TAG_INVALID)
        "PUT https://123456789012.dkr.ecr.us-east-1.amazonaws.com/v2/sentiment-dev/manifests/t: TAG_INVALID: "
        "The image tag 't' already exists in the 'sentiment-dev' repository and cannot be overwritten because "
        "the tag is immutable.",
    ],
)
def test_ecrs_own_immutable_refusal_is_named_as_such(line: str) -> None:
    error = push_mod._fail(
        Builder("buildah", "buildah"), registry.Repository.parse(REPO_URL), "t", LOGIN, line
    )
    assert isinstance(error, push_mod.ImmutableTagError)
    assert str(error).startswith(f"tag t already exists in {REPO_URL} and tags there are immutable")


def test_a_refused_push_never_repeats_the_password() -> None:
    line = f"Error: writing blob: unauthorized: bad credentials AWS:{LOGIN.password}"
    error = push_mod._fail(Builder("podman", "podman"), registry.Repository.parse(REPO_URL), "t", LOGIN, line)
    assert isinstance(error, registry.RegistryAuthError)
    assert LOGIN.password not in str(error) and "***" in str(error)


def test_a_builder_that_cannot_start_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(BuilderFailedError, match=r"^cannot run .*/nope: No such file or directory$"):
        run_tool([str(tmp_path / "nope"), "build"])
    result = run_tool(["sh", "-c", "echo one; echo two >&2; exit 3"])
    assert (result.returncode, result.tail, result.last_line) == (3, ["one", "two"], "two")


def test_an_ecr_token_refused_by_iam_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """AccessDenied as ECR returns it (AWS's standard not-authorized message)."""
    client = aws.client("ecr", "us-east-1", endpoint_url="http://127.0.0.1:9")  # the Stubber answers
    stub = Stubber(client)
    stub.add_client_error(
        "get_authorization_token",
        service_error_code="AccessDeniedException",
        service_message="User: arn:aws:iam::123456789012:user/ci is not authorized to perform: "
        "ecr:GetAuthorizationToken on resource: * because no identity-based policy allows the "
        "ecr:GetAuthorizationToken action",
        http_status_code=400,
        expected_params={"registryIds": ["123456789012"]},
    )
    monkeypatch.setattr(aws, "client", lambda *args, **kwargs: client)
    with stub, pytest.raises(registry.RegistryAuthError) as error:
        registry.ecr_login(registry.Repository.parse(REPO_URL), None)
    assert str(error.value) == (
        "cannot get an ECR login token (ecr:GetAuthorizationToken for account 123456789012 in us-east-1): "
        "AccessDeniedException: User: arn:aws:iam::123456789012:user/ci is not authorized to perform: "
        "ecr:GetAuthorizationToken on resource: * because no identity-based policy allows the "
        "ecr:GetAuthorizationToken action"
    )


def test_repository_urls_and_the_endpoint_setting(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    repo = registry.Repository.parse(REPO_URL)
    assert (repo.account, repo.region, repo.name, repo.endpoint) == (
        "123456789012",
        "us-east-1",
        "sentiment-dev",
        "123456789012.dkr.ecr.us-east-1.amazonaws.com",
    )
    assert repo.reference("t") == f"{REPO_URL}:t"
    with pytest.raises(registry.RegistryError, match="not a private ECR repository URL"):
        registry.Repository.parse("ghcr.io/acme/sentiment")
    monkeypatch.setenv(registry.REGISTRY_ENDPOINT_ENV, "127.0.0.1:5000")
    assert registry.Repository.parse(REPO_URL).reference("t") == "127.0.0.1:5000/sentiment-dev:t"
    monkeypatch.setenv(registry.REGISTRY_ENDPOINT_ENV, "https://127.0.0.1:5000/")
    with pytest.raises(registry.RegistryError, match=r"is not host\[:port\]"):
        registry.Repository.parse(REPO_URL)
    monkeypatch.setenv(registry.REGISTRY_CERT_DIR_ENV, str(tmp_path / "missing"))
    with pytest.raises(registry.RegistryError, match="not a directory of CA certificates"):
        registry.cert_dir()
