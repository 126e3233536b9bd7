"""An on-disk cache of parsed Terraform files, so a new process does not re-parse files it has parsed before.

checkov parses every ``.tf`` file with a slow lark grammar (python-hcl2) on every run: ~30% of a scan
of a generated workspace once the rest is warm. Between two ``mlfargate check`` runs of a regenerated
workspace almost every file is the same (the modules never change; the root ``main.tf`` does), so a
new process reuses the parse of each file whose bytes it has seen.

An entry is the result of checkov's own ``load_or_die_quietly`` for one file, stored as JSON under a key
that covers everything that result depends on: the SHA-256 of the file's bytes, how checkov treats the
file's name (``.tfvars`` and ``.json`` files are read differently), ``clean_definitions``, and the versions
of checkov, python-hcl2, lark and mlfargate and this module's format. The path is not part of the key: the
same bytes parse the same wherever they are.

Trust: a parse is stored only when it is plain JSON data (dicts with string keys, lists, strings, numbers,
booleans, null) that reads back equal, so what comes back is exactly what the parser returned. An entry is
used only when it parses as JSON, holds its own key and is plain data again: a corrupt, truncated,
foreign or stale (other versions) entry is ignored and the file is parsed, never trusted. Files that fail
to parse are never cached (their error is reported each time). Writes go through a temporary file and a
rename, so concurrent processes never see half an entry. Entries live in the user's cache directory
(:func:`mlfargate.files.user_cache_dir`, ``gate-parse/``); deleting it is always safe. ``MLFARGATE_GATE_CACHE=0``
turns it off with the verdict cache.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from functools import cache
from pathlib import Path
from typing import Any

from mlfargate import __version__
from mlfargate.files import OutputPathError, user_cache_dir, write_text_atomic

#: Bumped when the stored shape changes.
_FORMAT = 1
#: Entries kept; past it the oldest half (by modification time) is removed.
MAX_ENTRIES = 4096
_SUBDIR = "gate-parse"


def enabled() -> bool:
    from mlfargate.policy.result_cache import enabled as gate_cache_enabled

    return gate_cache_enabled()


@cache
def _fingerprint() -> str:
    from importlib import metadata

    versions = [f"{name}={metadata.version(name)}" for name in ("checkov", "bc-python-hcl2", "lark")]
    return "\0".join([f"format={_FORMAT}", f"mlfargate={__version__}", *versions])


def _name_kind(path: str) -> str:
    """How checkov's loader treats a file by its name (``load_or_die_quietly``)."""
    name = os.path.basename(path)
    return "json" if name.endswith(".json") else "tfvars" if name.endswith(".tfvars") else "hcl"


def key(path: str, content: bytes, clean_definitions: bool) -> str:
    digest = hashlib.sha256(_fingerprint().encode())
    digest.update(f"\0{_name_kind(path)}\0{bool(clean_definitions)}\0".encode())
    digest.update(hashlib.sha256(content).digest())
    return digest.hexdigest()


def _directory() -> Path:
    return user_cache_dir() / _SUBDIR


def is_plain(value: Any) -> bool:
    """Whether ``value`` is JSON data that survives a JSON round trip with its types unchanged."""
    kind = type(value)
    if kind is dict:
        return all(type(k) is str and is_plain(v) for k, v in value.items())
    if kind is list:
        return all(is_plain(v) for v in value)
    if kind is float:
        return value == value and value not in (float("inf"), float("-inf"))
    return kind in (str, int, bool, type(None))


def load(cache_key: str) -> dict[str, Any] | None:
    """The cached parse stored under ``cache_key``, or None (absent, unreadable or not trustworthy)."""
    if not enabled():
        return None
    try:
        data = json.loads((_directory() / f"{cache_key}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if type(data) is not dict or data.get("key") != cache_key:
        return None
    parsed = data.get("parsed")
    if type(parsed) is not dict or not is_plain(parsed):
        return None
    return parsed


def store(cache_key: str, parsed: Any) -> None:
    """Remember ``parsed`` under ``cache_key`` when it is plain data that reads back equal; a cache that
    cannot be written is skipped silently."""
    if not enabled() or type(parsed) is not dict or not is_plain(parsed):
        return
    text = json.dumps({"key": cache_key, "parsed": parsed}, separators=(",", ":"))
    if json.loads(text)["parsed"] != parsed:
        return
    try:
        write_text_atomic(_directory() / f"{cache_key}.json", text, overwrite=True)
    except (OSError, OutputPathError):  # a cache is never worth failing a check
        return


def prune(max_entries: int = MAX_ENTRIES) -> None:
    """Keep the cache bounded: past ``max_entries`` entries, remove the oldest half."""
    try:
        with os.scandir(_directory()) as found:
            entries = [(e.stat().st_mtime, e.path) for e in found if e.name.endswith(".json")]
    except OSError:
        return
    if len(entries) <= max_entries:
        return
    for _, path in sorted(entries)[: len(entries) - max_entries // 2]:
        with contextlib.suppress(OSError):
            os.unlink(path)
