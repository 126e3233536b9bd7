"""Shared by the gate's cache tests: the caches turned on in a per-test directory, and a failing workspace."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mlfargate.policy import result_cache

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture
def cache_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The gate's caches on (tests run with them off), in a directory of this test's own."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("MLFARGATE_CACHE_DIR", str(cache))
    monkeypatch.setenv(result_cache.CACHE_SWITCH_ENV, "1")
    return cache


def workspace(tmp_path: Path) -> Path:
    """A copy of the failing fixture (a root and a local module) to change freely."""
    ws = tmp_path / "ws"
    shutil.copytree(FIXTURES / "fail", ws)
    return ws
