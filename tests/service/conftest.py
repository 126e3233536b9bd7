"""Fixtures for the model server tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.service.helpers import ServerProcess


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "moto: needs the moto S3 server (boto3, moto); deselect with -m 'not moto'"
    )


@pytest.fixture
def server_process(tmp_path: Path) -> Iterator[Callable[..., ServerProcess]]:
    """Start ``python -m service.mlserve`` processes (env given as keyword args, ``nofile``: the child's
    open-file limit); SIGTERM them after."""
    started: list[ServerProcess] = []

    def start(nofile: int | None = None, **env: str) -> ServerProcess:
        env = {k.upper(): v for k, v in env.items()}
        sp = ServerProcess(env, tmp_path / f"server{len(started)}.log", nofile=nofile)
        started.append(sp)
        return sp

    yield start
    for sp in started:
        sp.stop()
