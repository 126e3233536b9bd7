"""The server as the container runs it: a real process on a free loopback port."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import numpy as np
import pytest

from tests.conftest import REPO
from tests.service import models
from tests.service.helpers import TORCH_USE_GPU, ServerProcess, metric, pythonpath

pytestmark = pytest.mark.slow

X = [[1.0, 2.0, 3.0, 4.0]]


def healthcheck(port: int, path: str) -> int:
    """Exit code of ``python -m mlserve.healthcheck`` (the Dockerfile's HEALTHCHECK command)."""
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": pythonpath(REPO / "service"), "PORT": str(port)}
    proc = subprocess.run(
        [sys.executable, "-m", "mlserve.healthcheck", path], env=env, timeout=30, check=False
    )
    return proc.returncode


def test_readiness_flips_batches_under_concurrency(
    tmp_path: Path, server_process: Callable[..., ServerProcess]
) -> None:
    weights, module = models.state_dict_model(tmp_path)
    sp = server_process(
        model_path=str(weights),
        model_class=f"{module}:Affine",
        model_kwargs=json.dumps({"init_delay_s": 1.5, "delay_s": 0.02}),
        input_shape="4",
        max_batch_size="16",
        max_batch_delay_ms="10",
        use_gpu=TORCH_USE_GPU,
    )
    assert sp.wait_http("/health").status_code == 200
    assert sp.wait_http("/ready").status_code == 503  # still in the model's constructor
    assert healthcheck(sp.port, "/health") == 0  # the image's HEALTHCHECK: liveness while loading
    assert healthcheck(sp.port, "/ready") == 1
    sp.wait_ready()
    assert healthcheck(sp.port, "/ready") == 0
    rows = [[float(i), 0.0, 1.0, 0.0] for i in range(32)]
    results: dict[int, httpx.Response] = {}

    def call(i: int) -> None:
        results[i] = httpx.post(sp.url + "/predict", json={"inputs": [rows[i]]}, timeout=30)

    threads = [threading.Thread(target=call, args=(i,)) for i in range(len(rows))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i, row in enumerate(rows):
        assert results[i].status_code == 200, results[i].text
        np.testing.assert_allclose(results[i].json()["outputs"], models.expected([row]), rtol=1e-5, atol=1e-5)
    text = httpx.get(sp.url + "/metrics").text
    assert metric(text, "mlserve_batch_size_sum") == 32.0
    assert metric(text, "mlserve_batch_size_sum") / metric(text, "mlserve_batch_size_count") > 1.0


def test_sigterm_drains_in_flight_refuses_new_and_exits_in_time(
    tmp_path: Path, server_process: Callable[..., ServerProcess]
) -> None:
    weights, module = models.state_dict_model(tmp_path)
    sp = server_process(
        model_path=str(weights),
        model_class=f"{module}:Affine",
        model_kwargs=json.dumps({"delay_s": 1.0}),
        input_shape="4",
        max_batch_size="2",  # 4 in-flight requests need two model calls of 1 s each, back to back
        max_batch_delay_ms="5",
        drain_timeout_s="20",
        use_gpu=TORCH_USE_GPU,
    )
    sp.wait_ready()
    results: dict[int, httpx.Response | Exception] = {}

    def call(i: int) -> None:
        try:
            results[i] = httpx.post(sp.url + "/predict", json={"inputs": [[float(i), 0, 0, 0]]}, timeout=30)
        except httpx.HTTPError as exc:
            results[i] = exc

    threads = [threading.Thread(target=call, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    time.sleep(0.5)  # all four are in: two in the model, two queued
    stop_sent = time.monotonic()
    sp.proc.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    with pytest.raises(httpx.TransportError):  # the listening socket is closed: new work is refused
        httpx.post(sp.url + "/predict", json={"inputs": X}, timeout=5)
    for t in threads:
        t.join()
    rc = sp.proc.wait(timeout=20)
    elapsed = time.monotonic() - stop_sent
    for i in range(4):
        r = results[i]
        assert isinstance(r, httpx.Response) and r.status_code == 200, r
        np.testing.assert_allclose(r.json()["outputs"], models.expected([[float(i), 0, 0, 0]]), rtol=1e-5)
    assert rc == 0, sp.log_path.read_text()
    assert elapsed < 10, elapsed  # well inside ECS's default 30 s stopTimeout
    assert "draining" in sp.log_path.read_text()


def test_a_model_that_cannot_load_exits_1(
    tmp_path: Path, server_process: Callable[..., ServerProcess]
) -> None:
    bad = tmp_path / "model.onnx"
    bad.write_bytes(b"not an onnx graph")
    sp = server_process(model_path=str(bad), use_gpu="cpu")
    assert sp.proc.wait(timeout=60) == 1
    assert "model load failed" in sp.log_path.read_text()


def test_a_bad_setting_exits_2_with_one_line() -> None:
    """Run the way the image does: ``python -m mlserve`` with the package at the top level."""
    proc = subprocess.run(
        [sys.executable, "-m", "mlserve"],
        cwd=REPO / "service",
        env={
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": pythonpath(REPO / "service"),
            "MODEL_PATH": "m.onnx",
            "USE_GPU": "sometimes",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "mlserve: USE_GPU='sometimes' is not allowed: use auto (default), cuda/true or cpu/false"
    ]
