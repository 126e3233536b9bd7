"""The build context and the content-derived tag of the image built from it.

The tag names what went into the image, never ``latest``:

* ``git-<commit>-<arch>`` when the context and the Dockerfile are in a git work tree and clean (no
  change, no untracked file, no ignored file that would reach the build): the last commit that
  touched them, so the tag moves exactly when their committed content does;
* ``ctx-<hash>-<arch>`` otherwise: SHA-256 over the Dockerfile, the platform and every file of the
  context the build sees (``.dockerignore`` applied), with paths and executable bits.

``<arch>`` is ``amd64`` or ``arm64``: one context built for two architectures gives two images, and
ECR tags are immutable.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from mlfargate.errors import MlfargateError
from mlfargate.generate.sources import repo_root

#: The commit and hash lengths in a tag (48 bits: collisions are not a practical concern per repository).
_ID_LENGTH = 12


class ContextError(MlfargateError):
    """The build context or the Dockerfile named cannot be used."""


def default_context() -> Path:
    """The model server's build context: ``service/`` of the checkout this package runs from."""
    return repo_root() / "service"


@dataclass(frozen=True)
class BuildContext:
    context: Path
    dockerfile: Path


def resolve(context: Path | None = None, dockerfile: Path | None = None) -> BuildContext:
    """The context directory (default: the packaged ``service/``) and the Dockerfile (default:
    ``<context>/Dockerfile``; a relative ``dockerfile`` is relative to the current directory, as with
    ``docker build -f``)."""
    ctx = context if context is not None else default_context()
    if not ctx.is_dir():
        what = (
            "the default build context (service/ of an mlfargate checkout)"
            if context is None
            else "--context"
        )
        raise ContextError(
            f"{ctx}: {what} is not a directory; give the directory to build with --context DIR"
        )
    file = dockerfile if dockerfile is not None else ctx / "Dockerfile"
    if not file.is_file():
        flag = "--dockerfile" if dockerfile is not None else "the context's Dockerfile"
        raise ContextError(f"{file}: {flag} is not a file; name the Dockerfile with --dockerfile FILE")
    return BuildContext(ctx.resolve(), file.resolve())


# --------------------------------------------------------------------------------------------------
# .dockerignore


class DockerIgnore:
    """The context's ``.dockerignore``: Go ``filepath.Match`` patterns with ``**``, ``!`` exceptions,
    the last matching line wins, and a pattern that matches a directory excludes what is under it."""

    def __init__(self, text: str = "") -> None:
        self.rules: list[tuple[bool, re.Pattern[str]]] = []
        for raw in text.splitlines():
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            include = line.startswith("!")
            pattern = os.path.normpath(line[1:].strip() if include else line).lstrip("/")
            if pattern in ("", "."):
                continue
            self.rules.append((include, re.compile(_translate(pattern))))

    @classmethod
    def of(cls, context: Path) -> DockerIgnore:
        try:
            return cls((context / ".dockerignore").read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError):
            return cls()

    def excluded(self, relpath: str) -> bool:
        parts = relpath.split("/")
        candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        result = False
        for include, rule in self.rules:
            if any(rule.fullmatch(c) for c in candidates):
                result = not include
        return result


def _translate(pattern: str) -> str:
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out += "(?:.*/)?"
            i += 3
        elif pattern.startswith("**", i):
            out += ".*"
            i += 2
        elif pattern[i] == "*":
            out += "[^/]*"
            i += 1
        elif pattern[i] == "?":
            out += "[^/]"
            i += 1
        elif pattern[i] == "[":
            end = pattern.find("]", i + 1)
            if end < 0:
                out += re.escape(pattern[i:])
                break
            body = pattern[i + 1 : end]
            out += "[" + ("^" + body[1:] if body.startswith("^") else body) + "]"
            i = end + 1
        elif pattern[i] == "\\" and i + 1 < len(pattern):
            out += re.escape(pattern[i + 1])
            i += 2
        else:
            out += re.escape(pattern[i])
            i += 1
    return out


# --------------------------------------------------------------------------------------------------
# The tag


@dataclass(frozen=True)
class ContentTag:
    tag: str
    origin: str  # "git commit <sha>" or "context hash sha256:<hex>"


def arch_of(platform: str) -> str:
    return platform.rsplit("/", 1)[-1]


def content_tag(build: BuildContext, platform: str) -> ContentTag:
    """The image's tag: from git when the context is clean and committed, else from its content."""
    commit = clean_commit(build)
    if commit is not None:
        return ContentTag(f"git-{commit[:_ID_LENGTH]}-{arch_of(platform)}", f"git commit {commit}")
    digest = context_hash(build, platform)
    return ContentTag(f"ctx-{digest[:_ID_LENGTH]}-{arch_of(platform)}", f"context hash sha256:{digest}")


def _git(args: list[str], cwd: Path) -> str | None:
    git = shutil.which("git")
    if git is None:
        return None
    try:
        proc = subprocess.run(
            [git, *args], cwd=cwd, capture_output=True, text=True, timeout=30, check=False, errors="replace"
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return proc.stdout if proc.returncode == 0 else None


def clean_commit(build: BuildContext) -> str | None:
    """The last commit that touched the context and the Dockerfile, when both are in one git work tree
    and nothing the build would see differs from it; else None."""
    top_text = _git(["rev-parse", "--show-toplevel"], build.context)
    if not top_text:
        return None
    top = Path(top_text.strip()).resolve()
    if not (build.context.is_relative_to(top) and build.dockerfile.is_relative_to(top)):
        return None
    paths = [build.context.relative_to(top).as_posix() or ".", build.dockerfile.relative_to(top).as_posix()]
    status = _git(
        ["status", "--porcelain=v1", "-z", "--untracked-files=all", "--ignored=matching", "--", *paths], top
    )
    if status is None:
        return None
    ignore = DockerIgnore.of(build.context)
    for entry in filter(None, status.split("\0")):
        code, path = entry[:2], (top / entry[3:]).resolve()
        if "R" in code or "C" in code or path == build.dockerfile or not path.is_relative_to(build.context):
            return None  # a rename or copy, the Dockerfile itself, or a file outside the context differs
        if not ignore.excluded(path.relative_to(build.context).as_posix()):
            return None  # a change the build would see
    log = _git(["log", "-1", "--format=%H", "--", *paths], top)
    commit = (log or "").strip()
    return commit if re.fullmatch(r"[0-9a-f]{40}([0-9a-f]{24})?", commit) else None


def context_hash(build: BuildContext, platform: str) -> str:
    """SHA-256 of what the build sees: the platform, the Dockerfile, and each file of the context that
    ``.dockerignore`` lets through (path, executable bit, content; a symbolic link by its target)."""
    ignore = DockerIgnore.of(build.context)
    digest = hashlib.sha256()
    digest.update(f"platform\0{platform}\0".encode())
    try:
        digest.update(b"dockerfile\0" + build.dockerfile.read_bytes() + b"\0")
        for root, dirs, files in os.walk(build.context, onerror=_raise):
            base = Path(root)
            rel_dir = base.relative_to(build.context).as_posix()
            links = [d for d in dirs if (base / d).is_symlink()]  # hashed as links, never followed
            dirs[:] = sorted(d for d in dirs if d not in links and not _skip(ignore, _join(rel_dir, d)))
            for name in sorted(files + links):
                rel = _join(rel_dir, name)
                if ignore.excluded(rel):
                    continue
                path = base / name
                digest.update(rel.encode() + b"\0")
                if path.is_symlink():
                    digest.update(b"link\0" + os.readlink(path).encode() + b"\0")
                else:
                    mode = b"x" if os.access(path, os.X_OK) else b"-"
                    digest.update(mode + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    except OSError as exc:
        raise ContextError(
            f"{exc.filename or build.context}: cannot read it ({exc.strerror or exc})"
        ) from None
    return digest.hexdigest()


def _raise(error: OSError) -> None:
    raise error


def _join(rel_dir: str, name: str) -> str:
    return name if rel_dir == "." else f"{rel_dir}/{name}"


def _skip(ignore: DockerIgnore, rel: str) -> bool:
    """A directory is skipped whole only when it is excluded and no ``!`` rule could bring back a file
    under it (Docker walks into such directories too)."""
    return ignore.excluded(rel) and not any(include for include, _ in ignore.rules)
