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
import math
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from mlfargate.errors import MlfargateError

STATE_DIR = ".mlfargate"
PLAN_FILE = "tfplan"
PLAN_JSON = "plan.json"
PLAN_META = "plan.meta.json"


class PlanRequiredError(MlfargateError):
    """No saved plan, a saved plan made from another configuration, or one that cannot be used."""


class StateWriteError(MlfargateError):
    """``.mlfargate/`` (the saved plan) cannot be written or removed."""


class ConfigReadError(MlfargateError):
    """A configuration file the plan's fingerprint covers cannot be read."""


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
    its lock file, the files of local modules it calls (from :func:`installed_modules`), and for a
    CDK Terrain stack the cdktf.json and spec copy it is synthesized from."""
    root = workspace.resolve()
    files: set[Path] = set(_config_files(root)) | set(_cdktf_inputs(root))
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
        try:
            digest.update(path.read_bytes())
        except OSError as exc:
            raise ConfigReadError(
                f"{path}: cannot read it ({exc.strerror or exc}); Terraform and the saved plan's "
                "fingerprint read every configuration file: make it readable"
            ) from None
        digest.update(b"\0")
    return digest.hexdigest()


def _cdktf_inputs(root: Path) -> list[Path]:
    """A CDK Terrain stack (``<workspace>/cdktf.out/stacks/<stack>``) is synthesized from the
    workspace's cdktf.json and spec copy: they are its configuration too (a plan made before the spec
    copy changed is not the plan of the stack the next synth writes)."""
    from mlfargate.generate.model import CDKTF_OUT, SPEC_COPY

    if root.parent.name != "stacks" or root.parents[1].name != CDKTF_OUT:
        return []
    workspace = root.parents[2]
    return [p for p in (workspace / "cdktf.json", workspace / SPEC_COPY) if p.is_file()]


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
    """The saved plan, if it was made from the current configuration and its files are whole; else
    :class:`PlanRequiredError` (one line: "saved plan is unusable: <why>; run `mlfargate plan DIR` again")."""
    workspace = workspace.resolve()  # Terraform runs with -chdir: the plan path must be absolute
    plan_file, plan_json, meta_file = saved_plan_paths(workspace)
    if not (plan_file.is_file() and plan_json.is_file() and meta_file.is_file()):
        raise PlanRequiredError(f"{workspace}: no saved plan; run `mlfargate plan {workspace}` first")

    def unusable(why: str) -> PlanRequiredError:
        return PlanRequiredError(f"saved plan is unusable: {why}; run `mlfargate plan {workspace}` again")

    meta = _read_json(meta_file, unusable)
    if not isinstance(meta, dict):
        raise unusable(f"{PLAN_META} holds {_kind(meta)}, not an object")
    for key in ("fingerprint", "destroy", "created"):
        if key not in meta:
            raise unusable(f"{PLAN_META} has no {key!r}")
    fp, destroy, created = meta["fingerprint"], meta["destroy"], meta["created"]
    if not (isinstance(fp, str) and re.fullmatch(r"[0-9a-f]{64}", fp)):
        raise unusable(f"{PLAN_META} 'fingerprint' is {_shown(fp)}, not a SHA-256 hex digest")
    if not isinstance(destroy, bool):  # "false" is not false: never read a string as a destroy plan
        raise unusable(f"{PLAN_META} 'destroy' is {_shown(destroy)}, not true or false")
    if isinstance(created, bool) or not isinstance(created, int | float) or not math.isfinite(created):
        raise unusable(f"{PLAN_META} 'created' is {_shown(created)}, not a time in seconds")
    shown = _read_json(plan_json, unusable)
    if not isinstance(shown, dict):
        raise unusable(f"{PLAN_JSON} holds {_kind(shown)}, not Terraform's plan object")
    changes = shown.get("resource_changes", [])
    if not (isinstance(changes, list) and all(isinstance(c, dict) for c in changes)):
        raise unusable(f"{PLAN_JSON} resource_changes are not Terraform's change objects")
    if fp != fingerprint(workspace):
        raise PlanRequiredError(
            f"{workspace}: the configuration changed since the saved plan; run `mlfargate plan {workspace}` again"
        )
    return SavedPlan(workspace, plan_file, plan_json, fp, destroy, float(created))


def _read_json(path: Path, unusable: Callable[[str], PlanRequiredError]) -> object:
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise unusable(f"cannot read {path.name} ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise unusable(f"{path.name} is not UTF-8 text") from None
    try:
        return json.loads(text)
    except ValueError as exc:
        detail = f"{exc.msg} at line {exc.lineno}" if isinstance(exc, json.JSONDecodeError) else str(exc)
        raise unusable(f"{path.name} is not JSON ({detail})") from None
    except RecursionError:
        raise unusable(f"{path.name} is nested too deeply") from None


def _kind(value: object) -> str:
    names = {list: "a list", str: "a string", int: "a number", float: "a number", bool: "a boolean"}
    return names.get(type(value), "null" if value is None else type(value).__name__)


def _shown(value: object) -> str:
    text = json.dumps(value, ensure_ascii=True)
    return text if len(text) <= 80 else text[:79] + "…"


def discard_saved_plan(workspace: Path) -> None:
    """Remove the saved plan, and ``.mlfargate/`` with it when nothing else is in there. A file that
    cannot be removed is a :class:`StateWriteError`: a stale plan must never stay behind silently."""
    paths = saved_plan_paths(workspace)
    for path in paths:
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:
            raise StateWriteError(
                f"{path.parent}: cannot remove the saved plan's {path.name} ({exc.strerror or exc}); "
                f"make {STATE_DIR}/ writable, or remove it, and run `mlfargate plan` again"
            ) from None
    with contextlib.suppress(OSError):  # missing, or holds something that is not ours to delete
        paths[0].parent.rmdir()


def make_state_dir(workspace: Path) -> None:
    """Create ``.mlfargate/`` for a new saved plan (:class:`StateWriteError` when the workspace is read-only)."""
    try:
        (workspace / STATE_DIR).mkdir(exist_ok=True)
    except OSError as exc:
        raise StateWriteError(
            f"{workspace}: cannot create {STATE_DIR}/ for the saved plan ({exc.strerror or exc}); "
            "make the workspace writable and run `mlfargate plan` again"
        ) from None


def write_state_file(path: Path, text: str) -> None:
    """Write one file of the saved plan (:class:`StateWriteError` when it cannot be written)."""
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise StateWriteError(
            f"{path.parent}: cannot write the saved plan's {path.name} ({exc.strerror or exc}); "
            f"make {STATE_DIR}/ writable and run `mlfargate plan` again"
        ) from None
