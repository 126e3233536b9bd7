"""The content-derived tag, on real git work trees: the commit when the context is clean, else a hash of
what the build sees (.dockerignore applied); the architecture in the tag; never `latest`. And which builder
discovery picks, on real executables."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from mlfargate.image import context as ctx
from mlfargate.image.builders import NoBuilderError, find_builder
from tests.image.conftest import write_context

GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.com",
}


def git(repo: Path, *args: str) -> str:
    out = subprocess.run(
        ["git", *args], cwd=repo, capture_output=True, text=True, check=True, env={**os.environ, **GIT_ENV}
    )
    return out.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q")
    write_context(root / "service")
    (root / "service" / ".dockerignore").write_text("**/__pycache__\n*.log\n")
    (root / "docs.md").write_text("docs\n")
    (root / ".gitignore").write_text("__pycache__/\n*.log\nweights.bin\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "first")
    return root


def tag(root: Path, platform: str = "linux/amd64") -> ctx.ContentTag:
    return ctx.content_tag(ctx.resolve(root / "service"), platform)


def test_a_clean_context_is_tagged_with_its_last_commit(repo: Path) -> None:
    first = git(repo, "rev-parse", "HEAD")
    assert tag(repo) == ctx.ContentTag(f"git-{first[:12]}-amd64", f"git commit {first}")
    assert tag(repo, "linux/arm64").tag == f"git-{first[:12]}-arm64"
    # A commit elsewhere in the repository leaves the image's content, and so its tag, alone.
    (repo / "docs.md").write_text("more docs\n")
    git(repo, "commit", "-qam", "docs")
    assert tag(repo).tag == f"git-{first[:12]}-amd64"
    # A commit to the context moves it.
    (repo / "service" / "model.txt").write_text("v2\n")
    git(repo, "commit", "-qam", "model v2")
    assert tag(repo).tag == f"git-{git(repo, 'rev-parse', 'HEAD')[:12]}-amd64"


def test_files_the_build_never_sees_keep_the_context_clean(repo: Path) -> None:
    first = git(repo, "rev-parse", "HEAD")
    cache = repo / "service" / "__pycache__"
    cache.mkdir()
    (cache / "x.pyc").write_bytes(b"\0")
    (repo / "service" / "build.log").write_text("log\n")  # ignored by git and by .dockerignore
    assert tag(repo).tag == f"git-{first[:12]}-amd64"


@pytest.mark.parametrize(
    "change",
    ["edit", "untracked", "ignored-but-built", "dockerfile"],
)
def test_a_change_the_build_would_see_gives_a_hash_tag(repo: Path, change: str) -> None:
    service = repo / "service"
    if change == "edit":
        (service / "model.txt").write_text("uncommitted\n")
    elif change == "untracked":
        (service / "extra.txt").write_text("new\n")
    elif change == "ignored-but-built":
        (service / "weights.bin").write_bytes(b"weights")  # git ignores it, the build copies it
    else:
        (service / "Dockerfile").write_text((service / "Dockerfile").read_text() + "LABEL x=y\n")
    result = tag(repo)
    assert result.tag.startswith("ctx-") and result.tag.endswith("-amd64")
    assert result.origin == f"context hash sha256:{ctx.context_hash(ctx.resolve(service), 'linux/amd64')}"


def test_the_hash_follows_content_mode_platform_and_dockerignore(tmp_path: Path) -> None:
    service = write_context(tmp_path / "ctx")
    build = ctx.resolve(service)
    first = ctx.context_hash(build, "linux/amd64")
    assert ctx.context_hash(build, "linux/amd64") == first  # deterministic
    assert ctx.context_hash(build, "linux/arm64") != first
    (service / "model.txt").chmod(0o755)
    assert ctx.context_hash(build, "linux/amd64") != first
    (service / "model.txt").chmod(0o644)
    assert ctx.context_hash(build, "linux/amd64") == first
    (service / "notes.log").write_text("x")
    with_log = ctx.context_hash(build, "linux/amd64")
    assert with_log != first
    (service / ".dockerignore").write_text("*.log\n")
    ignored = ctx.context_hash(build, "linux/amd64")
    (service / "notes.log").write_text("changed, but never sent to the builder")
    assert ctx.context_hash(build, "linux/amd64") == ignored


def test_dockerignore_patterns() -> None:
    rules = ctx.DockerIgnore("# comment\n**/__pycache__\n*.md\n!README.md\n/build\ndocs/*.txt\n")
    assert rules.excluded("a/b/__pycache__/x.pyc") and rules.excluded("__pycache__")
    assert rules.excluded("notes.md") and not rules.excluded("README.md")
    assert not rules.excluded("sub/notes.md")  # * does not cross /
    assert rules.excluded("build/out.bin") and rules.excluded("docs/a.txt")
    assert not rules.excluded("docs/sub/a.txt") and not rules.excluded("model.txt")


def test_a_missing_context_or_dockerfile_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ctx.ContextError, match="--context is not a directory"):
        ctx.resolve(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ctx.ContextError, match="the context's Dockerfile is not a file"):
        ctx.resolve(tmp_path / "empty")
    with pytest.raises(ctx.ContextError, match="--dockerfile is not a file"):
        ctx.resolve(tmp_path / "empty", tmp_path / "Dockerfile.gpu")


def test_discovery_takes_the_first_usable_builder(tmp_path: Path) -> None:
    """Real executables linked into a PATH of our own: docker without buildx (or without a daemon) is
    passed over, with the reason given when nothing else is there."""
    buildah = shutil.which("buildah")
    if buildah is None:
        pytest.skip("buildah not installed: `make test` installs it")
    only_buildah = tmp_path / "a"
    only_buildah.mkdir()
    (only_buildah / "buildah").symlink_to(buildah)
    chosen = find_builder(path=str(only_buildah))
    assert (chosen.name, chosen.exe) == ("buildah", str(only_buildah / "buildah"))
    docker = shutil.which("docker")
    if docker is None:
        return
    probe = subprocess.run([docker, "buildx", "version"], capture_output=True, check=False)
    if probe.returncode == 0:
        return  # a docker with buildx here: discovery may rightly pick it
    (only_buildah / "docker").symlink_to(docker)
    assert find_builder(path=str(only_buildah)).name == "buildah"
    only_docker = tmp_path / "b"
    only_docker.mkdir()
    (only_docker / "docker").symlink_to(docker)
    with pytest.raises(NoBuilderError) as error:
        find_builder(path=str(only_docker))
    assert "docker with buildx (on PATH, but `docker buildx` is not installed)" in str(error.value)
    with pytest.raises(NoBuilderError, match=r"^--builder docker: docker is on PATH, but `docker buildx`"):
        find_builder("docker", path=str(only_docker))
