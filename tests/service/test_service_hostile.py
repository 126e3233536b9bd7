"""The server under hostile load (issue 14), as the container runs it: a real process on loopback.

Client faults are 4xx, never 500; a drain that runs out of time answers 503 instead of letting uvicorn
cancel requests; a poisoned request is isolated in a few model calls; slow and idle connections are
timed out and capped below the open-file limit, and a real client is answered meanwhile.
"""

from __future__ import annotations

import asyncio
import json
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest

from tests.service import models
from tests.service.helpers import TORCH_USE_GPU, ServerProcess, metric

pytestmark = pytest.mark.slow

JSON = {"content-type": "application/json"}
ROW = [1.0, 2.0, 3.0, 4.0]


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One ONNX server with default settings for the request checks that do not change its state."""
    tmp = tmp_path_factory.mktemp("shared")
    sp = ServerProcess({"MODEL_PATH": str(models.onnx_model(tmp)), "USE_GPU": "cpu"}, tmp / "server.log")
    try:
        sp.wait_ready()
        yield sp
    finally:
        sp.stop()


def affine_server(
    tmp_path: Path, start: Callable[..., ServerProcess], kwargs: dict[str, float], **env: str
) -> ServerProcess:
    weights, module = models.state_dict_model(tmp_path)
    sp = start(
        model_path=str(weights),
        model_class=f"{module}:Affine",
        model_kwargs=json.dumps(kwargs),
        input_shape="4",
        use_gpu=TORCH_USE_GPU,
        **env,
    )
    sp.wait_ready()
    return sp


@pytest.mark.parametrize(
    ("body", "position"),
    [
        (b'{"inputs": [[1e39, 1, 2, 3]]}', "inputs[0][0]"),  # overflows float32
        (b'{"inputs": [[1, 2, 3, 4], [1, 2, 3, -1e308]]}', "inputs[1][3]"),
        (b'{"input": [1, 2e300, 3, 4]}', "input[1]"),  # the seed's single-instance shape
        (b'{"inputs": [[1, 2, 3, 1' + b"0" * 400 + b"]]}", "inputs[0][3]"),  # an integer beyond float64
        (b'{"inputs": [[NaN, 1, 2, 3]]}', "inputs[0][0]"),
        (b'{"inputs": [[1, Infinity, 2, 3]]}', "inputs[0][1]"),
        (b'{"inputs": [[1, 2, -Infinity, 3]]}', "inputs[0][2]"),
        (b'{"inputs": [[1, 2, 3, 1e999]]}', "inputs[0][3]"),  # parses as Infinity
    ],
)
def test_values_that_do_not_fit_the_input_are_422_naming_the_position(
    shared: ServerProcess, body: bytes, position: str
) -> None:
    sp = shared
    r = httpx.post(sp.url + "/predict", content=body, headers=JSON, timeout=30)
    assert r.status_code == 422, r.text
    assert r.json()["detail"].startswith(position + ": "), r.text
    fits = httpx.post(sp.url + "/predict", json={"inputs": [[3.4e38, -3.4e38, 0, 1]]}, timeout=30)
    assert fits.status_code == 200, fits.text  # the edge of float32 still fits
    text = httpx.get(sp.url + "/metrics").text
    assert 'mlserve_requests_total{endpoint="/predict",status="500"}' not in text
    assert metric(text, "mlserve_batch_errors_total") == 0.0


@pytest.mark.parametrize(
    ("content_type", "code"),
    [
        ("application/json", 200),
        ("application/json; charset=utf-8", 200),
        ('Application/JSON;charset="UTF-8"', 200),
        (None, 415),
        ("text/plain", 415),
        ("application/x-www-form-urlencoded", 415),
        ("multipart/form-data; boundary=x", 415),
        ("application/json; charset=latin-1", 415),
        ("application/jsonp", 415),
    ],
)
def test_predict_accepts_only_application_json(
    shared: ServerProcess, content_type: str | None, code: int
) -> None:
    sp = shared
    headers = {} if content_type is None else {"content-type": content_type}
    body = json.dumps({"inputs": [ROW]}).encode()
    r = httpx.post(sp.url + "/predict", content=body, headers=headers, timeout=30)
    assert r.status_code == code, r.text
    if code == 415:
        assert "application/json" in r.json()["detail"]
    else:
        np.testing.assert_allclose(r.json()["outputs"], models.expected([ROW]), rtol=1e-5, atol=1e-5)


async def test_a_poisoned_request_fails_alone_and_costs_a_few_model_calls(
    tmp_path: Path, server_process: Callable[..., ServerProcess]
) -> None:
    # 16 requests gather into one batch (the long delay only waits for the 16th); one is poisoned
    sp = affine_server(tmp_path, server_process, {}, max_batch_size="16", max_batch_delay_ms="3000")
    rows = [[float(i), 1.0, 0.0, 0.0] for i in range(16)]
    rows[5] = [-999.0, 0.0, 0.0, 0.0]
    async with httpx.AsyncClient(base_url=sp.url, timeout=60) as client:
        rs = await asyncio.gather(*[client.post("/predict", json={"inputs": [row]}) for row in rows])
        text = (await client.get("/metrics")).text
    for i, (row, r) in enumerate(zip(rows, rs, strict=True)):
        if i == 5:
            assert r.status_code == 500 and "poison" in r.json()["detail"], r.text
        else:
            assert r.status_code == 200, r.text
            np.testing.assert_allclose(r.json()["outputs"], models.expected([row]), rtol=1e-5, atol=1e-5)
    calls = metric(text, "mlserve_batch_size_count") + metric(text, "mlserve_batch_errors_total")
    assert metric(text, "mlserve_batch_size_sum") == 15.0  # every good row was answered exactly once
    # the batch, then at most two calls per halving (16 -> 8 -> 4 -> 2 -> 1); one at a time would be 17
    assert calls <= 1 + 2 * 4, text


async def test_drain_deadline_answers_what_is_left_503_without_tracebacks(
    tmp_path: Path, server_process: Callable[..., ServerProcess]
) -> None:
    # 0.3 s per batch of 4 rows: about 30 of the 80 queued requests can be served in DRAIN_TIMEOUT_S=2
    sp = affine_server(
        tmp_path,
        server_process,
        {"delay_s": 0.3},
        max_batch_size="4",
        max_batch_delay_ms="1",
        max_queue_size="512",
        drain_timeout_s="2",
        retry_after_s="2",
    )
    n = 80
    limits = httpx.Limits(max_connections=n + 10, max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=sp.url, timeout=60, limits=limits) as client:

        async def call(i: int) -> httpx.Response | Exception:
            try:
                return await client.post("/predict", json={"inputs": [[float(i), 0.0, 0.0, 0.0]]})
            except httpx.HTTPError as exc:
                return exc

        tasks = [asyncio.create_task(call(i)) for i in range(n)]
        deadline = time.monotonic() + 30
        while True:  # every request is in: queued, in the model (at most 4) or answered
            text = (await client.get("/metrics")).text
            if metric(text, "mlserve_queue_depth") + metric(text, "mlserve_batch_size_sum") >= n - 4:
                break
            assert time.monotonic() < deadline, "the requests never queued up"
            await asyncio.sleep(0.05)
        sp.proc.send_signal(signal.SIGTERM)
        results = await asyncio.gather(*tasks)
    rc = await asyncio.to_thread(sp.proc.wait, 30)
    log = sp.log_path.read_text()
    codes = [r.status_code if isinstance(r, httpx.Response) else repr(r) for r in results]
    assert set(codes) <= {200, 503}, codes  # no 500 from uvicorn cancelling, no dropped connections
    served = [r for r in results if isinstance(r, httpx.Response) and r.status_code == 200]
    left = [r for r in results if isinstance(r, httpx.Response) and r.status_code == 503]
    assert served and left, codes
    for r in left:
        assert r.headers["retry-after"] == "2" and r.headers["connection"] == "close"
    assert "Traceback" not in log and "Exception in ASGI application" not in log, log
    lines = [line for line in log.splitlines() if "drain deadline" in line]
    assert len(lines) == 1, log
    assert f" {len(left)} " in lines[0], (lines, len(left))
    assert rc == 0, log
