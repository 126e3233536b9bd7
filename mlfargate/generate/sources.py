"""Where a workspace's module blocks take their source from: this checkout's ``modules/`` (a relative
path when the workspace is inside the checkout) or a pinned git repository. Both serializers (HCL and
CDK Terrain) resolve sources through :func:`module_source`."""

from __future__ import annotations

import os
import re
from pathlib import Path

from mlfargate.generate.model import ModuleSource, Options, RenderError

#: Where ``--modules-source git`` points unless MLFARGATE_MODULES_REPO says otherwise.
DEFAULT_MODULES_REPO = "https://github.com/mlfargate/mlfargate.git"
MODULES_REPO_ENV = "MLFARGATE_MODULES_REPO"


def repo_root() -> Path:
    """The checkout this package runs from (modules/ lives beside mlfargate/)."""
    return Path(__file__).resolve().parents[2]


def modules_dir() -> Path:
    return repo_root() / "modules"


def modules_repo() -> str:
    return os.environ.get(MODULES_REPO_ENV) or DEFAULT_MODULES_REPO


_GIT_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/{}-]*$")


def git_source(ref: str | None, repo: str | None = None) -> ModuleSource:
    if not ref:
        raise RenderError(
            "--modules-source git needs --modules-ref REF (a tag or commit to pin, e.g. v1.0.0); "
            "an unpinned module source would change under a reviewed workspace"
        )
    if not _GIT_REF.match(ref) or ".." in ref:
        raise RenderError(f"--modules-ref {ref!r} is not a git tag, branch or commit name")
    return ModuleSource("git", repo or modules_repo(), ref)


def local_source(out_dir: Path, modules: Path | None = None) -> ModuleSource:
    """Relative path from ``out_dir`` to modules/ when both are in the same checkout; else absolute.

    An absolute path only works on this machine: the plan carries a note saying so, and
    ``--modules-source git`` is the way to a workspace that works elsewhere.
    """
    modules = (modules or modules_dir()).resolve()
    if not modules.is_dir():
        raise RenderError(
            f"local module sources need the modules/ directory of an mlfargate checkout ({modules} is "
            "missing); use --modules-source git --modules-ref REF"
        )
    out = out_dir.resolve()
    root = modules.parent
    if out == root or root in out.parents:
        return ModuleSource("local", Path(os.path.relpath(modules, out)).as_posix())
    return ModuleSource("local", modules.as_posix())


def module_source(options: Options, terraform_dir: Path) -> ModuleSource:
    """The module source for a Terraform root at ``terraform_dir`` (the final location, not a temp dir)."""
    if options.modules_source == "git":
        return git_source(options.modules_ref, options.modules_repo)
    if options.modules_ref:
        raise RenderError("--modules-ref applies to --modules-source git only")
    return local_source(terraform_dir)
