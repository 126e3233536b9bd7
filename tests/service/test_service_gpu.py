"""Runs only where CUDA is present (service/gpu_check.sh on a lent GPU machine).

Plain functions around asyncio.run, so these need no pytest-asyncio on the GPU machine.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest

from tests.service import models
from tests.service.helpers import metric, serve, settings

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")

X = [[1.0, 2.0, 3.0, 4.0], [-1.0, 0.5, 0.0, 2.0]]


def test_model_and_batches_run_on_cuda_and_gpu_memory_is_exported(tmp_path: Path) -> None:
    async def run() -> None:
        async with serve(settings(models.torchscript_model(tmp_path), use_gpu="cuda")) as client:
            ready = await client.get("/ready")
            assert ready.status_code == 200 and ready.json()["device"].startswith("cuda:"), ready.text
            rs = await asyncio.gather(*[client.post("/predict", json={"inputs": [row]}) for row in X * 8])
            for row, r in zip(X * 8, rs, strict=True):
                assert r.status_code == 200, r.text
                np.testing.assert_allclose(r.json()["outputs"], models.expected([row]), rtol=1e-4, atol=1e-4)
            text = (await client.get("/metrics")).text
            assert metric(text, "mlserve_gpu_memory_bytes") > 0
            assert metric(text, "mlserve_batch_size_sum") / metric(text, "mlserve_batch_size_count") > 1.0

    asyncio.run(run())


def test_auto_picks_cuda_with_the_real_probe(tmp_path: Path) -> None:
    weights, module = models.state_dict_model(tmp_path)
    s = settings(weights, model_class=f"{module}:Affine", input_shape=(4,), use_gpu="auto")

    async def run() -> None:
        async with serve(s) as client:
            assert (await client.get("/ready")).json()["device"].startswith("cuda:")

    asyncio.run(run())
