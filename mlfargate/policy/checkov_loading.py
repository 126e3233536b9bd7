"""Import only the part of checkov a Terraform scan of this workspace needs: most of a cold check is import.

Importing checkov's Terraform runner imports every Terraform check module of every provider (~1,300
resource and data checks: AWS, Azure, GCP, Alibaba, OCI, ...) and libraries that an offline directory scan
never calls. A check module only registers its checks for the resource (or data) types it names, so a
check whose types do not occur in the workspace can never run on it. Two things are deferred:

* Check modules. A *manifest* records, for every resource and data check module of the installed checkov,
  the entity types its checks register for. It is written after the first full import (the first check
  on a machine) into the user's cache directory (``gate-manifest/``), keyed by the checkov, mlfargate and
  format versions and the names, sizes and modification times of the check files. A later process imports
  only the modules registering a type that occurs in the workspace, every module registering a wildcard
  pattern, and every module that registered nothing. The types come from the workspace's files before the
  scan (:func:`block_types`, a superset: any ``resource``/``data`` header), and the scan itself is the
  backstop: the gate compares them with the types checkov actually parsed and, if one was missed, imports
  its checks and scans again (:meth:`Loader.ensure`), so a scan never runs without a check that applies.
  A manifest that is missing, unreadable, foreign or stale (another key) is ignored: everything is imported
  and a new one written.
* Libraries never touched by a Terraform directory scan (:data:`LAZY_PACKAGES`) are imported lazily
  (:class:`importlib.util.LazyLoader`): the module object exists at once and runs on first use, so a code
  path that does use one gets the real module.

tests/policy/test_policy_matches_cli.py proves the gate still reports exactly what the checkov CLI reports
with all of this on.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import json
import os
import re
import sys
import threading
from collections.abc import Iterable, Sequence
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

from mlfargate import __version__
from mlfargate.files import OutputPathError, user_cache_dir, write_text_atomic

#: Top-level packages imported by checkov's runner modules but never used by an offline Terraform
#: directory scan (measured: still unloaded after scanning every example workspace): the platform's async
#: HTTP client and a terminal-width helper of checkov's CLI output. Only packages nothing else in
#: mlfargate uses: Python 3.11's LazyLoader is not safe when two threads first touch a module at once,
#: so boto3 (also unused by a scan, but the TUI's workers make AWS clients) is imported as usual.
LAZY_PACKAGES = frozenset({"aiohttp", "wcwidth"})

#: The packages whose submodules are the Terraform resource and data checks, one per provider.
CHECK_PACKAGES = ("checkov.terraform.checks.resource", "checkov.terraform.checks.data")
_FORMAT = 1
_SUBDIR = "gate-manifest"
#: A block header: ``resource "aws_s3_bucket" "name" {`` (labels quoted or bare).
_BLOCK = re.compile(r"""(?m)^[ \t]*(?:resource|data)[ \t]+"?([A-Za-z0-9_-]+)"?""")


def block_types(texts: Iterable[str]) -> set[str]:
    """Every resource/data type named in a block header of these Terraform files (a superset is
    harmless: it only imports more checks)."""
    found: set[str] = set()
    for text in texts:
        found.update(_BLOCK.findall(text))
    return found


def definition_types(definitions: Any) -> set[str]:
    """The resource and data types in checkov's parsed definitions (``Runner.definitions``)."""
    found: set[str] = set()
    for definition in (definitions or {}).values():
        if not isinstance(definition, dict):
            continue
        for block_type in ("resource", "data"):
            for block in definition.get(block_type) or []:
                if isinstance(block, dict):
                    found.update(k for k in block if isinstance(k, str))
    return found


def _check_dirs() -> list[Path]:
    spec = importlib.util.find_spec("checkov")
    if spec is None or not spec.submodule_search_locations:
        return []
    base = Path(next(iter(spec.submodule_search_locations))) / "terraform" / "checks"
    return [base / "resource", base / "data"]


@cache
def _manifest_key() -> str:
    """Covers the installed checks: versions, and each check file's name, size and modification time."""
    from importlib import metadata

    digest = hashlib.sha256(f"{_FORMAT}\0{__version__}\0{metadata.version('checkov')}\0".encode())
    for directory in _check_dirs():
        for current, dirs, files in os.walk(directory):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            for name in sorted(f for f in files if f.endswith(".py")):
                stat = os.stat(os.path.join(current, name))
                rel = os.path.relpath(os.path.join(current, name), directory.parent)
                digest.update(f"{rel}\0{stat.st_size}\0{stat.st_mtime_ns}\0".encode())
    return digest.hexdigest()


def _manifest_path() -> Path:
    return user_cache_dir() / _SUBDIR / "manifest.json"


def _cache_enabled() -> bool:
    from mlfargate.policy.result_cache import enabled

    return enabled()


def load_manifest() -> dict[str, list[str]] | None:
    """module name -> the entity types (or patterns) its checks register for; None when there is no
    trustworthy manifest for the installed checkov."""
    if not _cache_enabled():
        return None
    try:
        data = json.loads(_manifest_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if type(data) is not dict or data.get("key") != _manifest_key():
        return None
    modules = data.get("modules")
    if type(modules) is not dict or not modules:
        return None
    for name, entities in modules.items():
        if not name.startswith(tuple(p + "." for p in CHECK_PACKAGES)):
            return None
        if type(entities) is not list or not all(type(e) is str for e in entities):
            return None
    return modules


def _registries() -> list[Any]:
    from checkov.terraform.checks.data.registry import data_registry
    from checkov.terraform.checks.resource.registry import resource_registry

    return [resource_registry, data_registry]


def _check_modules_loaded() -> list[str]:
    """The check modules (package.provider.Module) imported in this process."""
    prefixes = tuple(p + "." for p in CHECK_PACKAGES)
    return sorted(n for n in list(sys.modules) if n.startswith(prefixes) and n.count(".") == 5)


def write_manifest() -> None:
    """Record what every check module registers (only after a full import: every module is loaded)."""
    if not _cache_enabled():
        return
    modules: dict[str, set[str]] = {name: set() for name in _check_modules_loaded()}
    for registry in _registries():
        for entity, check in registry.all_checks():
            module = type(check).__module__
            if module in modules:
                modules[module].add(entity)
    data = {"key": _manifest_key(), "modules": {k: sorted(v) for k, v in sorted(modules.items())}}
    try:
        write_text_atomic(_manifest_path(), json.dumps(data), overwrite=True)
    except (OSError, OutputPathError):  # a cache is never worth failing a check
        return


def _is_wildcard(entity: str) -> bool:
    # As checkov's BaseCheckRegistry._is_wildcard decides.
    return "*" in entity or "?" in entity or ("[" in entity and "]" in entity)


def needed(manifest: dict[str, list[str]], types: Iterable[str]) -> set[str]:
    """The check modules a scan of a workspace with these types must import."""
    present = set(types)
    return {
        name
        for name, entities in manifest.items()
        if not entities or any(e in present or _is_wildcard(e) for e in entities)
    }


class _FilteredPackage(importlib.abc.Loader):
    """Runs a provider package's ``__init__`` as is, then narrows its ``__all__`` (the check modules its
    parent's ``from ... import *`` imports) to the selected ones."""

    def __init__(self, real: Any, selected: set[str]) -> None:
        self.real = real
        self.selected = selected

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        created: ModuleType | None = self.real.create_module(spec)
        return created

    def exec_module(self, module: ModuleType) -> None:
        self.real.exec_module(module)
        names = getattr(module, "__all__", None)
        if isinstance(names, list):
            setattr(module, "__all__", [n for n in names if f"{module.__name__}.{n}" in self.selected])  # noqa: B010


class _Finder(importlib.abc.MetaPathFinder):
    def __init__(self, selected: set[str] | None) -> None:
        self.selected = selected

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        lazy = fullname in LAZY_PACKAGES
        provider = (
            self.selected is not None
            and fullname.count(".") == 4
            and fullname.rsplit(".", 1)[0] in CHECK_PACKAGES
        )
        if not lazy and not provider:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        if lazy:
            spec.loader = importlib.util.LazyLoader(spec.loader)
        elif spec.submodule_search_locations is not None and self.selected is not None:
            spec.loader = _FilteredPackage(spec.loader, self.selected)
        return spec


class Loader:
    """Imports checkov's Terraform runner with only the checks that ``types`` need (all of them without a
    manifest), and more on demand."""

    def __init__(self) -> None:
        self.manifest: dict[str, list[str]] | None = None
        self.complete = False
        self._lock = threading.Lock()

    def import_runner(self, types: set[str] | None) -> None:
        """Import ``checkov.terraform.runner`` (once per process); ``types`` None imports every check."""
        self.manifest = load_manifest()
        selected = needed(self.manifest, types) if self.manifest is not None and types is not None else None
        finder = _Finder(selected)
        sys.meta_path.insert(0, finder)
        try:
            import checkov.terraform.runner  # noqa: F401
        finally:
            sys.meta_path.remove(finder)
        if selected is None:
            self.complete = True
            if self.manifest is None:
                write_manifest()

    def ensure(self, types: Iterable[str]) -> bool:
        """Import the checks these types need that are not imported yet; whether any was."""
        with self._lock:
            if self.complete or self.manifest is None:
                return False
            missing = sorted(needed(self.manifest, types) - set(sys.modules))
            for name in missing:
                importlib.import_module(name)
            return bool(missing)

    def ensure_all(self) -> None:
        """Import every check (a plan scan: its types are the plan's)."""
        with self._lock:
            if self.complete or self.manifest is None:
                self.complete = True
                return
            for name in sorted(set(self.manifest) - set(sys.modules)):
                importlib.import_module(name)
            self.complete = True
