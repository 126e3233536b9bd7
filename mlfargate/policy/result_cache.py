"""A content-addressed cache of the gate's reports, so a new process does not import checkov to repeat a
scan of files it has already judged.

Importing checkov is most of a cold ``mlfargate check`` (seconds); the scan itself is a fraction. A
report is stored under a key that covers everything the verdict depends on:

* the bytes and real paths of every file the scan reads: the workspace's Terraform files (``.tf``,
  ``.tf.json``, ``.tfvars``, ``.tfvars.json``, walked as the gate walks them), the files of every local
  module reached through a literal ``source = "./..."``/``"../..."``/``"/..."`` (Terraform only allows
  literal module sources), everything under the Terraform data directory's ``modules/`` (installed
  remote modules and ``modules.json``), and for a plan scan the plan JSON;
* the checkov version, the mlfargate version and the source of the gate itself (``mlfargate/policy``),
  so a changed check, triage or patch never reuses an old verdict; ``TF_DATA_DIR``.

A cached entry holds its own key and is used only when it parses into a report with that key: a corrupt,
truncated or foreign file is ignored (and replaced), never trusted. Entries live in the user's cache
directory (:func:`mlfargate.files.user_cache_dir`, ``gate/``); deleting it is always safe.
``MLFARGATE_GATE_CACHE=0`` turns the cache off.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterator
from dataclasses import fields
from functools import cache
from pathlib import Path
from typing import Any

from mlfargate import __version__
from mlfargate.files import OutputPathError, user_cache_dir, write_text_atomic
from mlfargate.policy.report import Finding, PolicyReport, Waiver

CACHE_SWITCH_ENV = "MLFARGATE_GATE_CACHE"
_SUFFIXES = (".tf", ".tf.json", ".tfvars", ".tfvars.json")
_LOCAL_SOURCE = re.compile(r"""\bsource\s*[=:]\s*"((?:\./|\.\./|/)[^"]*)\"""")
#: Bumped when the stored shape changes.
_FORMAT = 1


def enabled() -> bool:
    return os.environ.get(CACHE_SWITCH_ENV, "1") != "0"


@cache
def _code_fingerprint() -> str:
    from importlib import metadata

    digest = hashlib.sha256(f"{_FORMAT}\0{__version__}\0{metadata.version('checkov')}".encode())
    for path in sorted(Path(__file__).resolve().parent.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _terraform_files(directory: Path, recursive: bool) -> Iterator[Path]:
    if not recursive:
        yield from (p for p in sorted(directory.iterdir()) if p.is_file() and p.name.endswith(_SUFFIXES))
        return
    for current, dirs, files in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "node_modules")
        yield from (Path(current) / f for f in sorted(files) if f.endswith(_SUFFIXES))


def inputs(root: Path) -> list[Path]:
    """Every file a scan of ``root`` can read (a superset is harmless: it only narrows cache hits)."""
    found: dict[Path, None] = {}
    pending = [(root, True)]
    seen: set[Path] = set()
    while pending:
        directory, recursive = pending.pop()
        if directory in seen or not directory.is_dir():
            continue
        seen.add(directory)
        for file in _terraform_files(directory, recursive):
            found[file] = None
            try:
                text = file.read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
            for source in _LOCAL_SOURCE.findall(text):
                target = (file.parent / source.split("//")[0]).resolve()
                pending.append((target, False))
    data_modules = root / (os.environ.get("TF_DATA_DIR") or ".terraform") / "modules"
    if data_modules.is_dir():
        for current, _, files in os.walk(data_modules):
            found.update((Path(current) / f, None) for f in sorted(files))
    return sorted(found)


def key(root: Path, plan_json: Path | None = None) -> str | None:
    """The cache key of a scan of ``root`` (and of ``plan_json``), or None when an input is unreadable
    (then the scan runs and nothing is cached)."""
    digest = hashlib.sha256(_code_fingerprint().encode())
    digest.update(f"\0{os.path.realpath(root)}\0{os.environ.get('TF_DATA_DIR', '')}\0".encode())
    paths = inputs(root) + ([plan_json] if plan_json is not None else [])
    try:
        for path in paths:
            digest.update(os.path.realpath(path).encode() + b"\0" + path.read_bytes() + b"\0")
    except OSError:
        return None
    return digest.hexdigest()


def _path(cache_key: str) -> Path:
    return user_cache_dir() / "gate" / f"{cache_key}.json"


def load(cache_key: str | None, target: str) -> PolicyReport | None:
    """The cached report for ``cache_key`` (with ``target`` as its label), or None."""
    if cache_key is None or not enabled():
        return None
    try:
        data = json.loads(_path(cache_key).read_text(encoding="utf-8"))
        if data.get("key") != cache_key:
            return None
        return _report(data["report"], target)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def store(cache_key: str | None, report: PolicyReport) -> None:
    """Remember ``report`` under ``cache_key``; a cache that cannot be written is skipped silently."""
    if cache_key is None or not enabled():
        return
    data = {
        "key": cache_key,
        "report": {
            "kind": report.kind,
            "passed": report.passed,
            "failed": [_plain(f) for f in report.failed],
            "waived": [_plain(w) for w in report.waived],
            "parsing_errors": list(report.parsing_errors),
            "unchecked": list(report.unchecked),
        },
    }
    try:
        write_text_atomic(_path(cache_key), json.dumps(data), overwrite=True)
    except (OSError, OutputPathError):  # an unwritable cache directory: the check itself goes on
        return


def _plain(item: Finding | Waiver) -> dict[str, Any]:
    return {f.name: getattr(item, f.name) for f in fields(item)}


def _report(data: dict[str, Any], target: str) -> PolicyReport:
    kind = data["kind"]
    if kind not in ("directory", "plan"):
        raise ValueError(kind)
    report = PolicyReport(
        target=target,
        kind=kind,
        failed=[Finding(**f) for f in data["failed"]],
        waived=[Waiver(**w) for w in data["waived"]],
        passed=int(data["passed"]),
        parsing_errors=[str(p) for p in data["parsing_errors"]],
        unchecked=[str(u) for u in data["unchecked"]],
    )
    items: list[Finding | Waiver] = [*report.failed, *report.waived]
    for item in items:
        if not all(isinstance(getattr(item, f.name), (str, int, type(None))) for f in fields(item)):
            raise TypeError(item)
    return report
