"""The server in-process (httpx ASGI transport): readiness, prediction, validation, batching, backpressure."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import numpy as np
import pytest

from service.mlserve.protocol import BadInput, is_json, to_batch
from tests.service import models
from tests.service.helpers import TORCH_USE_GPU, metric, serve, settings, until_ready


@pytest.fixture
def onnx_path(tmp_path: Path) -> Path:
    return models.onnx_model(tmp_path)


@pytest.fixture
def affine(tmp_path: Path) -> tuple[Path, Path]:
    return models.state_dict_model(tmp_path)


X = [[1.0, 2.0, 3.0, 4.0], [-1.0, 0.5, 0.0, 2.0]]
JSON = {"content-type": "application/json"}  # what /predict accepts; httpx sets it for json=...


async def test_readiness_flips_after_load_and_health_answers_meanwhile(affine: tuple[Path, Path]) -> None:
    weights, module = affine
    s = settings(
        weights, model_class=f"{module}:Affine", model_kwargs={"init_delay_s": 0.5}, input_shape=(4,)
    )
    async with serve(s, wait_ready=False) as client:
        assert (await client.get("/health")).status_code == 200
        early = await client.get("/ready")
        assert early.status_code == 503 and early.json()["status"] == "loading"
        refused = await client.post("/predict", json={"inputs": X})
        assert refused.status_code == 503 and refused.headers["retry-after"] == "1"
        ready = await until_ready(client)
        assert ready.status_code == 200, ready.text
        assert ready.json()["device"] == "cpu"
        assert metric((await client.get("/metrics")).text, "mlserve_ready") == 1.0


@pytest.mark.parametrize("fmt", ["onnx", "torchscript", "torchscript-env-shape", "state-dict"])
async def test_predict_matches_the_model_for_every_backend(fmt: str, tmp_path: Path) -> None:
    if fmt == "onnx":
        s = settings(models.onnx_model(tmp_path))
    elif fmt == "torchscript":
        s = settings(models.torchscript_model(tmp_path), use_gpu=TORCH_USE_GPU)
    elif fmt == "torchscript-env-shape":
        s = settings(
            models.torchscript_model(tmp_path, with_meta=False), input_shape=(4,), use_gpu=TORCH_USE_GPU
        )
    else:
        weights, module = models.state_dict_model(tmp_path)
        s = settings(weights, model_class=f"{module}:Affine", input_shape=(4,), use_gpu=TORCH_USE_GPU)
    async with serve(s) as client:
        r = await client.post("/predict", json={"inputs": X})
        assert r.status_code == 200, r.text
        np.testing.assert_allclose(r.json()["outputs"], models.expected(X), rtol=1e-5, atol=1e-5)
        seed = await client.post("/predict", json={"input": X[0]})  # the seed guide's request shape
        assert seed.status_code == 200, seed.text
        np.testing.assert_allclose(seed.json()["output"], models.expected(X[:1])[0], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"inputs": [[1, 2, 3]]}, "shape (4,)"),
        ({"inputs": [[1, 2, 3, "x"]]}, "must be numbers"),
        ({"inputs": [[1, 2, 3, 4], [1, 2]]}, "ragged"),
        ({"inputs": [[True, False, True, True]]}, "must be numbers"),
        ({"inputs": [[1, 2, 3, {"a": 1}]]}, "must be numbers"),
        ({"inputs": []}, "inputs"),
        ({"inputs": [[1, 2, 3, 4]], "input": [1, 2, 3, 4]}, "exactly one"),
        ({}, "exactly one"),
        ({"inputs": [[1, 2, 3, 4]], "extra": 1}, "extra"),
        ({"inputs": "not a list"}, "inputs"),
        ({"inputs": [[1, 2, 3, 4]] * 33}, "MAX_BATCH_SIZE=32"),
    ],
)
async def test_bad_inputs_are_422_with_a_message(
    onnx_path: Path, body: dict[str, object], needle: str
) -> None:
    async with serve(settings(onnx_path)) as client:
        r = await client.post("/predict", json=body)
        assert r.status_code == 422, r.text
        assert needle in r.json()["detail"]
        text = (await client.get("/metrics")).text
        assert metric(text, "mlserve_rejected_total") == 1.0
        assert metric(text, "mlserve_batch_size_count") == 0.0  # nothing reached the model


@pytest.mark.parametrize(
    ("instances", "dtype", "single", "detail"),
    [
        ([[1.0, 70000.0]], "float16", False, "inputs[0][1]: 70000.0 does not fit float16"),
        ([[1.0, 2.0], [3.0, -1e39]], "float32", False, "inputs[1][1]: -1e+39 does not fit float32"),
        ([[1.0, float("nan")]], "float32", False, "inputs[0][1]: NaN is not allowed"),
        ([[float("-inf"), 1.0]], "float64", False, "inputs[0][0]: -Infinity is not allowed"),
        ([[1, 2**31]], "int32", False, "inputs[0][1]: 2147483648 is out of range for int32"),
        ([[1, 2], [-(2**31) - 1, 2]], "int32", False, "inputs[1][0]: -2147483649 is out of range for int32"),
        ([[1, 2**70]], "int64", False, "inputs[0][1]: 1180591620717411303424 is out of range for int64"),
        ([[1, 10**400]], "float64", False, "inputs[0][1]: an integer of 401 digits does not fit float64"),
        ([[1.0, 1e39]], "float32", True, "input[1]: 1e+39 does not fit float32"),
        ([[1, None]], "float32", False, "inputs[0][1]: None is not a number; inputs must be numbers"),
    ],
)
def test_a_value_that_does_not_fit_is_named_by_its_position(
    instances: list[list[object]], dtype: str, single: bool, detail: str
) -> None:
    with pytest.raises(BadInput) as info:
        to_batch(instances, (2,), np.dtype(dtype), single=single)
    assert str(info.value).startswith(detail), str(info.value)


@pytest.mark.parametrize(
    ("content_type", "ok"),
    [
        (b"application/json", True),
        (b"APPLICATION/JSON ; Charset=utf8", True),
        (b"application/json;", True),
        (b'application/json; charset="utf-8"', True),
        (b"application/json; charset=utf-16", False),
        (b"application/json; version=2", False),
        (b"application/json-seq", False),
        (b"text/json", False),
        (b"", False),
        (None, False),
    ],
)
def test_only_application_json_in_utf_8_is_json(content_type: bytes | None, ok: bool) -> None:
    assert is_json(content_type) is ok


def test_values_at_the_edge_of_the_dtype_fit() -> None:
    x = to_batch([[3.4e38, -65504.0]], (2,), np.dtype("float32"))
    assert x.dtype == np.float32 and np.isfinite(x).all()
    assert to_batch([[65504.0, 1]], (2,), np.dtype("float16")).tolist() == [[65504.0, 1.0]]
    assert to_batch([[2**31 - 1, -(2**31)]], (2,), np.dtype("int32")).tolist() == [[2**31 - 1, -(2**31)]]
    assert to_batch([[10**30, 1]], (2,), np.dtype("float32")).dtype == np.float32  # a big int that fits


async def test_invalid_json_and_non_finite_numbers_are_422(onnx_path: Path) -> None:
    async with serve(settings(onnx_path)) as client:
        r = await client.post("/predict", content=b'{"inputs": [[1, 2', headers=JSON)
        assert r.status_code == 422 and "Invalid JSON" in r.json()["detail"]
        r = await client.post("/predict", content=b'{"inputs": [[1, 2, 3, NaN]]}', headers=JSON)
        assert r.status_code == 422


async def test_body_over_the_limit_is_413_declared_or_streamed(onnx_path: Path) -> None:
    async with serve(settings(onnx_path, max_body_bytes=200)) as client:
        big = json.dumps({"inputs": [[1.0, 2.0, 3.0, 4.0]] * 20}).encode()
        assert len(big) > 200
        r = await client.post("/predict", content=big, headers=JSON)
        assert r.status_code == 413 and "MAX_BODY_BYTES=200" in r.json()["detail"]

        async def chunks():  # no Content-Length: the limit is enforced while reading
            for i in range(0, len(big), 64):
                yield big[i : i + 64]

        r = await client.post("/predict", content=chunks(), headers=JSON)
        assert r.status_code == 413
        small = await client.post("/predict", json={"inputs": X})
        assert small.status_code == 200


async def test_concurrent_requests_are_batched(affine: tuple[Path, Path]) -> None:
    weights, module = affine
    s = settings(
        weights, model_class=f"{module}:Affine", input_shape=(4,), max_batch_size=16, max_batch_delay_ms=50.0
    )
    async with serve(s) as client:
        rows = [[float(i), 1.0, 2.0, 3.0] for i in range(16)]
        rs = await asyncio.gather(*[client.post("/predict", json={"inputs": [row]}) for row in rows])
        for row, r in zip(rows, rs, strict=True):  # each caller gets its own row back
            assert r.status_code == 200, r.text
            np.testing.assert_allclose(r.json()["outputs"], models.expected([row]), rtol=1e-5, atol=1e-5)
        text = (await client.get("/metrics")).text
        calls = metric(text, "mlserve_batch_size_count")  # warm-up calls bypass the batcher
        assert metric(text, "mlserve_batch_size_sum") == 16.0  # every row went through the model once
        assert calls < 16 and 16.0 / calls > 1.0  # ... in fewer calls than requests


async def test_full_queue_answers_503_with_retry_after(affine: tuple[Path, Path]) -> None:
    weights, module = affine
    s = settings(
        weights,
        model_class=f"{module}:Affine",
        model_kwargs={"delay_s": 0.3},
        input_shape=(4,),
        max_batch_size=1,
        max_queue_size=2,
        retry_after_s=3,
    )
    async with serve(s) as client:
        batcher = client.app.state.mlserve.batcher  # type: ignore[attr-defined]
        first = asyncio.create_task(client.post("/predict", json={"inputs": [X[0]]}))
        while batcher.in_flight_rows == 0:  # the first request is inside the model call
            await asyncio.sleep(0.005)
        rest = await asyncio.gather(*[client.post("/predict", json={"inputs": [X[0]]}) for _ in range(7)])
        rs = [await first, *rest]
        codes = sorted(r.status_code for r in rs)
        # one in the model, two queued; the rest are refused instead of queued without bound
        assert codes.count(200) == 3 and codes.count(503) == 5, codes
        busy = [r for r in rs if r.status_code == 503]
        assert all(r.headers["retry-after"] == "3" and "queue full" in r.json()["detail"] for r in busy)
        assert metric((await client.get("/metrics")).text, "mlserve_rejected_total") == 5.0


async def test_a_model_error_fails_only_the_poisoned_request(affine: tuple[Path, Path]) -> None:
    weights, module = affine
    s = settings(weights, model_class=f"{module}:Affine", input_shape=(4,), max_batch_delay_ms=50.0)
    async with serve(s) as client:
        good = [[float(i), 0.0, 0.0, 0.0] for i in range(5)]
        bodies = [{"inputs": [row]} for row in good] + [{"inputs": [[-999.0, 0.0, 0.0, 0.0]]}]
        rs = await asyncio.gather(*[client.post("/predict", json=b) for b in bodies])
        assert [r.status_code for r in rs] == [200] * 5 + [500]
        assert "poison" in rs[-1].json()["detail"]
        for row, r in zip(good, rs, strict=False):
            np.testing.assert_allclose(r.json()["outputs"], models.expected([row]), rtol=1e-5, atol=1e-5)
        assert (await client.get("/ready")).status_code == 200  # one bad batch does not take the server down
        assert metric((await client.get("/metrics")).text, "mlserve_batch_errors_total") >= 1.0


async def test_drain_finishes_in_flight_and_refuses_new(affine: tuple[Path, Path]) -> None:
    weights, module = affine
    s = settings(weights, model_class=f"{module}:Affine", model_kwargs={"delay_s": 0.4}, input_shape=(4,))
    async with serve(s) as client:
        state = client.app.state.mlserve  # type: ignore[attr-defined]
        in_flight = [asyncio.create_task(client.post("/predict", json={"inputs": [row]})) for row in X]
        await asyncio.sleep(0.1)
        state.begin_drain()  # what SIGTERM does first
        assert (await client.get("/ready")).status_code == 503
        new = await client.post("/predict", json={"inputs": X})
        assert new.status_code == 503 and new.headers["connection"] == "close"
        done = await asyncio.gather(*in_flight)
        assert [r.status_code for r in done] == [200, 200]
        assert metric((await client.get("/metrics")).text, "mlserve_ready") == 0.0


async def test_metrics_page_has_the_promised_series(onnx_path: Path) -> None:
    async with serve(settings(onnx_path)) as client:
        await client.post("/predict", json={"inputs": X})
        text = (await client.get("/metrics")).text
        assert metric(text, "mlserve_requests_total") >= 1
        assert 'mlserve_requests_total{endpoint="/predict",status="200"} 1.0' in text
        assert metric(text, "mlserve_request_latency_seconds_count") >= 1
        assert metric(text, "mlserve_queue_depth") == 0.0
        assert metric(text, "mlserve_batch_size_sum") == 2.0
        with pytest.raises(KeyError):
            metric(text, "mlserve_gpu_memory_bytes")  # only exported when the model is on a GPU
