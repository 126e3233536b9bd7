"""Where a workspace's module blocks take their source from. Both serializers (HCL and CDK Terrain)
resolve sources through :func:`module_source`; no machine path is ever written into a workspace:

* a workspace inside an mlfargate checkout (``environments/<name>``) calls the checkout's ``modules/``
  by a relative path (``../../modules/network``): they are reviewed and versioned in the same commit;
* a workspace anywhere else gets a copy of each module it calls, *vendored* into ``<workspace>/modules/
  <name>/`` (from the checkout, or from the copy the installed package carries), each module's version
  recorded in the manifest; regenerating updates the copies and removes the ones no longer called;
* ``--modules-source git --modules-ref REF`` pins a git repository instead.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from mlfargate.generate.model import ModuleSource, Options, RenderError

#: Where ``--modules-source git`` points unless MLFARGATE_MODULES_REPO says otherwise.
DEFAULT_MODULES_REPO = "https://github.com/mlfargate/mlfargate.git"
MODULES_REPO_ENV = "MLFARGATE_MODULES_REPO"
#: Where a workspace outside the checkout keeps its vendored modules, relative to the workspace.
VENDORED_DIR = "modules"
#: The modules an installed package carries (``setup.py`` copies the checkout's ``modules/`` there when
#: it builds the wheel); a checkout uses its own ``modules/``.
BUNDLED_MODULES = Path(__file__).resolve().parents[1] / "data" / "modules"


def repo_root() -> Path:
    """The directory this package runs from (the checkout, or site-packages when installed)."""
    return Path(__file__).resolve().parents[2]


def checkout_root() -> Path | None:
    """The mlfargate checkout this package runs from, when it runs from one (not an installed wheel)."""
    root = repo_root()
    if (root / "modules").is_dir() and (root / "mlfargate").is_dir() and (root / "pyproject.toml").is_file():
        return root
    return None


def modules_dir() -> Path:
    """The modules: the checkout's ``modules/``, or the copy an installed package carries."""
    root = checkout_root()
    return root / "modules" if root is not None else BUNDLED_MODULES


def module_names(modules: Path | None = None) -> list[str]:
    """Every module (a directory of ``.tf`` files) under ``modules`` (``examples/`` is not one)."""
    base = modules or modules_dir()
    return sorted(
        d.name for d in base.iterdir() if d.is_dir() and d.name != "examples" and any(d.glob("*.tf"))
    )


def module_version(module: Path) -> str | None:
    """The newest ``## [X.Y.Z]`` release in the module's CHANGELOG.md (Keep a Changelog: newest first)."""
    try:
        return changelog_version((module / "CHANGELOG.md").read_text(encoding="utf-8"))
    except OSError:
        return None


def changelog_version(text: str) -> str | None:
    """The first ``## [X.Y.Z]`` heading of a CHANGELOG.md's text."""
    found = re.search(r"^## \[(\d+\.\d+\.\d+)\]", text, re.MULTILINE)
    return found.group(1) if found else None


#: Files of a module that are vendored (its configuration and its docs); nothing else is copied.
_VENDORED_FILE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*\.(tf|md)")


def module_files(module: str, modules: Path | None = None) -> dict[str, str]:
    """The files of ``module`` to vendor, name -> text (``main.tf``, ..., ``README.md``, ``CHANGELOG.md``)."""
    directory = (modules or modules_dir()) / module
    if not directory.is_dir():
        raise RenderError(f"module {module!r} is missing from {directory.parent}; reinstall mlfargate")
    return {
        p.name: p.read_text(encoding="utf-8")
        for p in sorted(directory.iterdir())
        if p.is_file() and _VENDORED_FILE.fullmatch(p.name)
    }


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


def _relative(target: Path, start: Path) -> str:
    """A local module path as Terraform wants it: relative, starting with ``./`` or ``../``."""
    rel = Path(os.path.relpath(target, start)).as_posix()
    return rel if rel.startswith("../") else f"./{rel}"


def local_source(
    workspace_dir: Path, terraform_dir: Path | None = None, modules: Path | None = None
) -> ModuleSource:
    """Local module sources for a workspace at ``workspace_dir`` whose Terraform root is
    ``terraform_dir`` (default: the workspace itself; a CDK Terrain workspace's synthesized stack).

    Inside the checkout: a relative path to its ``modules/``. Anywhere else: the vendored copies in
    ``<workspace>/modules/`` (``vendored``), so the workspace works on any machine.
    """
    modules = (modules or modules_dir()).resolve()
    if not modules.is_dir():
        raise RenderError(
            f"local module sources need mlfargate's modules ({modules} is missing; reinstall mlfargate); "
            "or use --modules-source git --modules-ref REF"
        )
    workspace = workspace_dir.resolve()
    where = (terraform_dir or workspace_dir).resolve()
    root = checkout_root()
    if root is not None and modules == (root / "modules").resolve():
        checkout = root.resolve()
        if workspace == checkout or checkout in workspace.parents:
            return ModuleSource("local", _relative(modules, where))
    return ModuleSource("local", _relative(workspace / VENDORED_DIR, where), vendored=True)


def module_source(options: Options, workspace_dir: Path, terraform_dir: Path | None = None) -> ModuleSource:
    """The module source for a workspace at ``workspace_dir`` (its final location, not a temp dir)
    whose Terraform root is ``terraform_dir`` (default: the workspace)."""
    if options.modules_source == "git":
        return git_source(options.modules_ref, options.modules_repo)
    if options.modules_ref:
        raise RenderError("--modules-ref applies to --modules-source git only")
    return local_source(workspace_dir, terraform_dir)
