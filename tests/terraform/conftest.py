"""Shared paths and helpers for the Terraform checks (schema, Terraform core, checkov, docs)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MODULES = REPO / "modules"
EXAMPLES = MODULES / "examples"
MODULE_NAMES = sorted(p.name for p in MODULES.iterdir() if p.is_dir() and p.name != "examples")
EXAMPLE_NAMES = sorted(p.name for p in EXAMPLES.iterdir() if p.is_dir())
ALL_ROOTS = [MODULES / m for m in MODULE_NAMES] + [EXAMPLES / e for e in EXAMPLE_NAMES]


@pytest.fixture
def modules_copy(tmp_path: Path) -> Path:
    """A private copy of modules/ (examples keep their ../../<module> sources) to break on purpose."""
    target = tmp_path / "modules"
    shutil.copytree(MODULES, target, ignore=shutil.ignore_patterns(".terraform", "*.tfstate*"))
    return target


def replace_in(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))
