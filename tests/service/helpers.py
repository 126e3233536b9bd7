"""Helpers for the model server tests: in-process apps (httpx ASGI transport) and real processes."""

from __future__ import annotations

import asyncio
import os
import re
import resource
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx

from service.mlserve.app import create_app
from service.mlserve.config import Settings
from service.mlserve.device import CudaProbe
from tests.conftest import REPO, free_port

# The GPU check (service/gpu_check.sh) sets this to "cuda" so torch-model tests run on the GPU.
TORCH_USE_GPU = os.environ.get("MLSERVE_TEST_USE_GPU", "auto")


def settings(model_path: Path | str, **kw: Any) -> Settings:
    base = Settings(model_path=str(model_path), use_gpu="cpu", max_batch_delay_ms=20.0, drain_timeout_s=10.0)
    return replace(base, **kw)


@asynccontextmanager
async def serve(
    s: Settings, cuda_available: CudaProbe | None = None, wait_ready: bool = True
) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its lifespan running, and a client talking to it in-process."""
    app = create_app(s, cuda_available=cuda_available)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://mlserve", timeout=30) as client:
            client.app = app  # type: ignore[attr-defined]
            if wait_ready:
                await until_ready(client)
            yield client


async def until_ready(client: httpx.AsyncClient, timeout: float = 60.0) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while True:
        r = await client.get("/ready")
        if r.status_code == 200 or r.json().get("status") == "failed" or time.monotonic() > deadline:
            return r
        await asyncio.sleep(0.02)


def metric(text: str, name: str, **labels: str) -> float:
    """Sum of the samples of ``name`` (exact series name; any labels, or those given) in a Prometheus
    text page."""
    total, found = 0.0, False
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        series, _, value = line.rpartition(" ")
        base, _, rest = series.partition("{")
        if base != name:
            continue
        got = dict(re.findall(r'(\w+)="([^"]*)"', rest))
        if all(got.get(k) == v for k, v in labels.items()):
            total += float(value)
            found = True
    if not found:
        raise KeyError(name)
    return total


def pythonpath(*first: Path) -> str:
    """``first`` ahead of the caller's PYTHONPATH (which may carry packages, e.g. on the GPU machine)."""
    inherited = os.environ.get("PYTHONPATH", "")
    return os.pathsep.join([*(str(p) for p in first), *([inherited] if inherited else [])])


class ServerProcess:
    """``python -m service.mlserve`` on a free loopback port, as the container runs it.

    ``nofile`` lowers the child's open-file limit (RLIMIT_NOFILE, soft and hard), as a container's
    ``ulimit -n`` would, so that connection exhaustion can be tested with a few hundred sockets.
    """

    def __init__(self, env: dict[str, str], log: Path, nofile: int | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        full = dict(os.environ)
        full.update(env)
        full.update(HOST="127.0.0.1", PORT=str(self.port), PYTHONPATH=pythonpath(REPO))
        self._log = log.open("w")

        def limit_files() -> None:
            if nofile is not None:
                resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))

        self.proc = subprocess.Popen(
            [sys.executable, "-m", "service.mlserve"],
            cwd=REPO,
            env=full,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            preexec_fn=limit_files if nofile is not None else None,
        )
        self.log_path = log

    def wait_http(self, path: str = "/health", timeout: float = 60.0) -> httpx.Response:
        deadline = time.monotonic() + timeout
        while True:
            try:
                return httpx.get(self.url + path, timeout=2)
            except httpx.TransportError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"server not answering; log:\n{self.log_path.read_text()}") from None
                time.sleep(0.05)

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while self.wait_http("/ready").status_code != 200:
            assert time.monotonic() < deadline, f"not ready in {timeout}s; log:\n{self.log_path.read_text()}"
            time.sleep(0.05)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
