"""An on-disk memo of checkov's expression evaluation, so a new process does not evaluate again what earlier
ones did.

Rendering variables is most of a scan once files are parsed, and most of it is evaluating Terraform
expressions as text (``evaluate_terraform``, then asteval). Both are pure functions of the text (see
:func:`mlfargate.policy.checkov_patches.reuse_expression_evaluator`), and two checks of a regenerated
workspace evaluate almost the same texts (a changed spec value changes a few). One file holds the memo of
the installed versions: ``{"key", "evaluate": [[text, ok, value or error]], "rendered": [[text,
keep_interpolations, value]]}``, the most recently used last, at most :data:`MAX_ENTRIES` of each.

Trust: only plain JSON data that reads back equal is written (a set or tuple result stays in the process);
the file is used only when its key covers the versions of checkov, asteval, mlfargate, Python and this
format, and every entry has the right shape: otherwise it is ignored whole, never trusted. Texts with
``timestamp(`` are never memoised. Written through a temporary file and a rename; when two processes write,
one memo wins, whole. Lives in the user's cache directory (``gate-eval/``); deleting it is always safe;
``MLFARGATE_GATE_CACHE=0`` turns it off.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

from mlfargate import __version__
from mlfargate.files import OutputPathError, user_cache_dir, write_text_atomic
from mlfargate.policy.parse_cache import is_plain

_FORMAT = 1
#: Entries of each memo kept on disk (a generated workspace evaluates ~2,500 distinct texts).
MAX_ENTRIES = 20_000
_SUBDIR = "gate-eval"

Evaluated = dict[str, tuple[bool, Any]]
Rendered = dict[tuple[str, bool], Any]


def enabled() -> bool:
    from mlfargate.policy.result_cache import enabled as gate_cache_enabled

    return gate_cache_enabled()


@cache
def _key() -> str:
    from importlib import metadata

    parts = [
        f"format={_FORMAT}",
        f"mlfargate={__version__}",
        f"python={sys.version_info[0]}.{sys.version_info[1]}",
    ]
    parts += [f"{name}={metadata.version(name)}" for name in ("checkov", "asteval")]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def _path() -> Path:
    return user_cache_dir() / _SUBDIR / "memo.json"


def load() -> tuple[Evaluated, Rendered]:
    """The stored memos, or empty ones when there is no trustworthy file for the installed versions."""
    if not enabled():
        return {}, {}
    try:
        data = json.loads(_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}, {}
    if type(data) is not dict or data.get("key") != _key():
        return {}, {}
    evaluate, rendered = data.get("evaluate"), data.get("rendered")
    if type(evaluate) is not list or type(rendered) is not list:
        return {}, {}
    evaluated: Evaluated = {}
    for item in evaluate:
        if type(item) is not list or len(item) != 3 or type(item[0]) is not str or type(item[1]) is not bool:
            return {}, {}
        text, ok, value = item
        if not is_plain(value) or (not ok and type(value) is not str):
            return {}, {}
        evaluated[text] = (ok, value)
    renders: Rendered = {}
    for item in rendered:
        if type(item) is not list or len(item) != 3 or type(item[0]) is not str or type(item[1]) is not bool:
            return {}, {}
        if not is_plain(item[2]):
            return {}, {}
        renders[(item[0], item[1])] = item[2]
    return evaluated, renders


def _plain_items(items: Iterable[tuple[Any, Any, Any]]) -> list[list[Any]]:
    kept = []
    for a, b, value in items:
        if not is_plain(value):
            continue
        text = json.dumps(value)
        if json.loads(text) == value:
            kept.append([a, b, value])
    return kept[-MAX_ENTRIES:]


def save(evaluated: Evaluated, rendered: Rendered) -> None:
    """Write the memos (in their order: least recently used first); an unwritable cache is skipped."""
    if not enabled():
        return
    data = {
        "key": _key(),
        "evaluate": _plain_items((text, ok, value) for text, (ok, value) in evaluated.items()),
        "rendered": _plain_items((text, keep, value) for (text, keep), value in rendered.items()),
    }
    try:
        write_text_atomic(_path(), json.dumps(data, separators=(",", ":")), overwrite=True)
    except (OSError, OutputPathError):  # a cache is never worth failing a check
        return
