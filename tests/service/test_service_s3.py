"""MODEL_PATH=s3://... downloaded at start, against the moto server on loopback (never real AWS)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import numpy as np
import pytest

from service.mlserve.config import ConfigError
from service.mlserve.s3 import DownloadError, resolve_model_path
from tests.service import models
from tests.service.helpers import ServerProcess

pytestmark = pytest.mark.moto


@pytest.fixture
def bucket(moto_reset: str, tmp_path: Path) -> str:
    import boto3

    s3 = boto3.client("s3", endpoint_url=moto_reset, region_name="us-east-1")
    s3.create_bucket(Bucket="models")
    s3.upload_file(str(models.onnx_model(tmp_path)), "models", "affine/v1/model.onnx")
    return "models"


def test_download_to_model_dir(
    bucket: str, moto_reset: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_reset)
    target = resolve_model_path(f"s3://{bucket}/affine/v1/model.onnx", str(tmp_path / "dl"))
    assert target == tmp_path / "dl" / "model.onnx"
    assert target.read_bytes() == (tmp_path / "model.onnx").read_bytes()
    assert not list((tmp_path / "dl").glob("*.part"))
    with pytest.raises(DownloadError, match=r"cannot download s3://models/missing\.onnx"):
        resolve_model_path(f"s3://{bucket}/missing.onnx", str(tmp_path / "dl"))
    assert not list((tmp_path / "dl").glob("*.part"))  # nothing half-written left behind
    with pytest.raises(ConfigError, match="one object"):
        resolve_model_path("s3://models/affine/", str(tmp_path / "dl"))


@pytest.mark.slow
def test_server_process_loads_its_model_from_s3(
    bucket: str, moto_reset: str, tmp_path: Path, server_process: Callable[..., ServerProcess]
) -> None:
    sp = server_process(
        model_path=f"s3://{bucket}/affine/v1/model.onnx",
        aws_endpoint_url=moto_reset,
        model_dir=str(tmp_path / "model-dir"),
        use_gpu="cpu",
    )
    sp.wait_ready()
    assert (tmp_path / "model-dir" / "model.onnx").is_file()
    x = [[1.0, 2.0, 3.0, 4.0]]
    r = httpx.post(sp.url + "/predict", json={"inputs": x}, timeout=10)
    assert r.status_code == 200, r.text
    np.testing.assert_allclose(r.json()["outputs"], models.expected(x), rtol=1e-5)
