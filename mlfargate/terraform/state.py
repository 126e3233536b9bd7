"""A workspace's on-disk state as Terraform and mlfargate leave it.

Terraform's data directory (``.terraform`` or ``$TF_DATA_DIR``) and the modules ``init`` installed
(``modules/modules.json``); the fingerprint of the configuration a plan depends on; and saved plans in
``DIR/.mlfargate/``: ``tfplan`` (Terraform's plan file), ``plan.json`` (``terraform show -json``) and
``plan.meta.json`` (the fingerprint). ``apply`` refuses a plan whose fingerprint no longer matches the
configuration.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from mlfargate.errors import MlfargateError

STATE_DIR = ".mlfargate"
PLAN_FILE = "tfplan"
PLAN_JSON = "plan.json"
PLAN_META = "plan.meta.json"


class PlanRequiredError(MlfargateError):
    """No saved plan, or a saved plan made from another configuration."""


_CONFIG_SUFFIXES = (".tf", ".tf.json", ".tfvars", ".tfvars.json")


def terraform_data_dir(root: Path) -> Path:
    """Where Terraform keeps a workspace's modules and providers: ``TF_DATA_DIR`` (relative to the
    workspace, as Terraform reads it), else ``.terraform``."""
    data_dir = Path(os.environ.get("TF_DATA_DIR") or ".terraform")
    return (root / data_dir).resolve()


def installed_modules(root: Path) -> dict[str, Path]:
    """The modules ``terraform init``/``get`` installed for the workspace ``root``, by call path
    (``Key`` in ``modules.json``: ``network``, ``parent.child``) -> directory. Terraform installs every
    call into its own directory, even two calls of one source, and records the source normalised
    (``git::/x`` becomes ``git::file:///x``), so the call path is the key, never the source string.
    Honours ``TF_DATA_DIR`` (relative to the workspace, as Terraform reads it); {} before init."""
    manifest = terraform_data_dir(root) / "modules" / "modules.json"
    try:
        modules = json.loads(manifest.read_bytes()).get("Modules", [])
    except (OSError, ValueError, AttributeError):
        return {}
    found: dict[str, Path] = {}
    for module in modules if isinstance(modules, list) else []:
        if isinstance(module, dict) and module.get("Key") and module.get("Dir"):
            directory = (root / str(module["Dir"])).resolve()
            if directory.is_dir():
                found[str(module["Key"])] = directory
    return found


def fingerprint(workspace: Path) -> str:
    """sha256 over the configuration a plan depends on: the workspace's ``.tf``/``.tfvars`` files,
    its lock file, and the files of local modules it calls (from :func:`installed_modules`)."""
    root = workspace.resolve()
    files: set[Path] = set(_config_files(root))
    lock = root / ".terraform.lock.hcl"
    if lock.is_file():
        files.add(lock)
    data_dir = terraform_data_dir(root)
    for directory in installed_modules(root).values():
        if not directory.is_relative_to(data_dir):  # local modules; remote ones are pinned by source
            files.update(_config_files(directory, recursive=False))
    digest = hashlib.sha256()
    for path in sorted(files):
        digest.update(os.path.relpath(path, root).encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def _config_files(directory: Path, recursive: bool = True) -> Iterator[Path]:
    candidates = directory.rglob("*") if recursive else directory.glob("*")
    for path in candidates:
        rel = path.relative_to(directory).parts
        if any(part.startswith(".") for part in rel):
            continue
        if path.is_file() and path.name.endswith(_CONFIG_SUFFIXES):
            yield path


@dataclass(frozen=True)
class SavedPlan:
    workspace: Path
    plan_file: Path
    plan_json: Path
    fingerprint: str
    destroy: bool
    created: float


def saved_plan_paths(workspace: Path) -> tuple[Path, Path, Path]:
    d = workspace / STATE_DIR
    return d / PLAN_FILE, d / PLAN_JSON, d / PLAN_META


def load_saved_plan(workspace: Path) -> SavedPlan:
    """The saved plan, if it was made from the current configuration; else :class:`PlanRequiredError`."""
    workspace = workspace.resolve()  # Terraform runs with -chdir: the plan path must be absolute
    plan_file, plan_json, meta_file = saved_plan_paths(workspace)
    if not (plan_file.is_file() and plan_json.is_file() and meta_file.is_file()):
        raise PlanRequiredError(f"{workspace}: no saved plan; run `mlfargate plan {workspace}` first")
    try:
        meta = json.loads(meta_file.read_text())
    except ValueError as exc:
        raise PlanRequiredError(f"{meta_file}: unreadable; run `mlfargate plan {workspace}` again") from exc
    if meta.get("fingerprint") != fingerprint(workspace):
        raise PlanRequiredError(
            f"{workspace}: the configuration changed since the saved plan; run `mlfargate plan {workspace}` again"
        )
    return SavedPlan(
        workspace,
        plan_file,
        plan_json,
        str(meta["fingerprint"]),
        bool(meta.get("destroy")),
        float(meta["created"]),
    )


def discard_saved_plan(workspace: Path) -> None:
    """Remove the saved plan, and ``.mlfargate/`` with it when nothing else is in there."""
    paths = saved_plan_paths(workspace)
    for path in paths:
        path.unlink(missing_ok=True)
    with contextlib.suppress(OSError):  # missing, or holds something that is not ours to delete
        paths[0].parent.rmdir()
