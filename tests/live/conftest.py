"""Fixtures for the live stage (see tests/live/helpers.py for how moto's rough edges are handled)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mlfargate import aws
from tests.live.helpers import SPEC_TEXT, Deployment, post


@pytest.fixture
def spec_file(tmp_path: Path) -> Path:
    path = tmp_path / "mlfargate.yaml"
    path.write_text(SPEC_TEXT)
    return path


@pytest.fixture
def moto_live(moto_reset: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A clean moto account with tasks pinned in their lifecycle state and one attempt per call."""
    monkeypatch.setenv(aws.MAX_ATTEMPTS_ENV, "1")
    post(
        f"{moto_reset}/moto-api/state-manager/set-transition",
        {"model_name": "ecs::task", "transition": {"progression": "manual", "times": 1_000_000}},
    )
    yield moto_reset
    post(f"{moto_reset}/moto-api/state-manager/unset-transition", {"model_name": "ecs::task"})


@pytest.fixture
def deployment(moto_live: str) -> Deployment:
    return Deployment(moto_live).create()
