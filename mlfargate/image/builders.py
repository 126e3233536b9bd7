"""Image builders: which one runs, and its command lines.

Looked for in this order unless one is named: docker with buildx (``docker buildx build``, and a
daemon that answers), podman, buildah. podman and buildah need no daemon; their own settings apply
as usual (``CONTAINERS_STORAGE_CONF``, ``STORAGE_DRIVER``, ``BUILDAH_ISOLATION``, registries.conf).

Registry credentials go to a temporary auth file of the builder's own (``--authfile`` for podman and
buildah, ``DOCKER_CONFIG`` for docker) in a private directory the caller removes; the password goes
through standard input, never the command line.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from mlfargate.errors import MlfargateError

BuilderName = Literal["docker", "podman", "buildah"]
#: Discovery order when no builder is named.
BUILDERS: tuple[BuilderName, ...] = ("docker", "podman", "buildah")
#: The builder's output is streamed line by line to this callback (the CLI prints it to stderr).
OnOutput = Callable[[str], None]
_PROBE_TIMEOUT_S = 20


class NoBuilderError(MlfargateError):
    """No usable image builder on this machine (or the one named is not usable)."""


class BuilderFailedError(MlfargateError):
    """A builder command failed; the message ends with its last output line."""


def quiet(_: str) -> None:
    """An :data:`OnOutput` that drops the builder's output."""
    return None


@dataclass(frozen=True)
class ToolResult:
    returncode: int
    tail: list[str]  # the last lines of its output (stdout and stderr together)

    @property
    def last_line(self) -> str:
        return next((line for line in reversed(self.tail) if line.strip()), "(no output)")


def run_tool(
    argv: Sequence[str],
    *,
    env: dict[str, str] | None = None,
    stdin: str | None = None,
    on_output: OnOutput = quiet,
    timeout: float | None = None,
) -> ToolResult:
    """Run a builder command, streaming its output lines; ``stdin`` (a password) is written and closed.
    Ctrl-C reaches the builder too (same process group): wait for it to stop, then re-raise."""
    tail: deque[str] = deque(maxlen=40)
    try:
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            env={**os.environ, **(env or {})},
        )
    except OSError as exc:
        raise BuilderFailedError(f"cannot run {argv[0]}: {exc.strerror or exc}") from None
    with proc:
        try:
            if stdin is not None:
                assert proc.stdin is not None
                proc.stdin.write(stdin)
                proc.stdin.close()
            assert proc.stdout is not None
            for line in proc.stdout:
                line = line.rstrip("\n")
                tail.append(line)
                on_output(line)
            returncode = proc.wait(timeout=timeout)
        except KeyboardInterrupt:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
            raise
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            return ToolResult(124, [*tail, f"timed out after {timeout:.0f} s"])
    return ToolResult(returncode, list(tail))


@dataclass(frozen=True)
class Builder:
    """One image builder and how to call it."""

    name: BuilderName
    exe: str

    @property
    def daemonless(self) -> bool:
        return self.name != "docker"

    def build_argv(
        self, *, context: Path, dockerfile: Path, platform: str, image: str, iidfile: Path
    ) -> list[str]:
        common = ["--platform", platform, "-f", str(dockerfile), "-t", image, "--iidfile", str(iidfile)]
        if self.name == "docker":
            # --load: into the local image store, where `push` finds it; no provenance attestation, so
            # the pushed image is one manifest (an attestation would make it an index).
            return [self.exe, "buildx", "build", "--load", "--provenance=false", *common, str(context)]
        # Docker image format: OCI images drop HEALTHCHECK (the model server's Dockerfile has one).
        return [self.exe, "build", "--format", "docker", *common, str(context)]

    def auth_env(self, auth_dir: Path) -> dict[str, str]:
        return {"DOCKER_CONFIG": str(auth_dir)} if self.name == "docker" else {}

    def _auth_args(self, auth_dir: Path, cert_dir: Path | None) -> list[str]:
        if self.name == "docker":
            return []
        args = ["--authfile", str(auth_dir / "auth.json")]
        if cert_dir is not None:
            args += ["--cert-dir", str(cert_dir)]
        return args

    def login_argv(self, host: str, username: str, auth_dir: Path, cert_dir: Path | None) -> list[str]:
        """Log in with the password on standard input."""
        return [
            self.exe,
            "login",
            *self._auth_args(auth_dir, cert_dir),
            "--username",
            username,
            "--password-stdin",
            host,
        ]

    def push_argvs(
        self, *, image: str, remote: str, auth_dir: Path, cert_dir: Path | None, digestfile: Path
    ) -> list[list[str]]:
        """The commands that push the local ``image`` to ``remote`` (``host/repository:tag``)."""
        if self.name == "docker":
            return [[self.exe, "tag", image, remote], [self.exe, "push", remote]]
        return [
            [
                self.exe,
                "push",
                *self._auth_args(auth_dir, cert_dir),
                "--format",
                "v2s2",  # Docker v2 schema 2, as built (keeps HEALTHCHECK; what ECR has always served)
                "--digestfile",
                str(digestfile),
                image,
                f"docker://{remote}",
            ]
        ]

    def cleanup_argvs(self, remote: str) -> list[list[str]]:
        """Drop the registry-named tag docker's push needed (the local image stays)."""
        return [[self.exe, "rmi", remote]] if self.name == "docker" else []


def probe(name: BuilderName, path: str | None = None) -> tuple[str | None, str]:
    """(executable, "") when the builder ``name`` is usable, else (None, why not: "not on PATH", ...)."""
    exe = shutil.which(name, path=path)
    if exe is None:
        return None, "not on PATH"
    if name != "docker":
        return exe, ""
    try:
        buildx = subprocess.run(
            [exe, "buildx", "version"], capture_output=True, text=True, timeout=_PROBE_TIMEOUT_S, check=False
        )
        if buildx.returncode != 0:
            return None, "on PATH, but `docker buildx` is not installed"
        info = subprocess.run(
            [exe, "info", "--format", "{{.ServerVersion}}"],
            capture_output=True,
            text=True,
            timeout=_PROBE_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"on PATH, but does not answer ({type(exc).__name__})"
    if info.returncode != 0:
        return None, "on PATH with buildx, but its daemon does not answer"
    return exe, ""


def _looked_for(name: BuilderName) -> str:
    return "docker with buildx" if name == "docker" else name


def find_builder(named: str | None = None, path: str | None = None) -> Builder:
    """The builder named, or the first usable one of :data:`BUILDERS`; ``path`` overrides ``$PATH``."""
    if named is not None:
        choice = next((b for b in BUILDERS if b == named), None)
        if choice is None:
            raise NoBuilderError(
                f"--builder {named!r} is not a builder mlfargate drives; use one of: {', '.join(BUILDERS)}"
            )
        exe, why = probe(choice, path)
        if exe is None:
            raise NoBuilderError(f"--builder {choice}: {choice} is {why}; install it or name another builder")
        return Builder(choice, exe)
    reasons = []
    for name in BUILDERS:
        exe, why = probe(name, path)
        if exe is not None:
            return Builder(name, exe)
        reasons.append(f"{_looked_for(name)} ({why})")
    raise NoBuilderError(
        f"no image builder found: looked for {', '.join(reasons)}; install one of them, "
        "or name one with --builder docker|podman|buildah"
    )
