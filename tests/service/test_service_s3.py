"""MODEL_PATH=s3://... downloaded at start, against the moto server on loopback (never real AWS)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import httpx
import numpy as np
import pytest

from service.mlserve.config import ConfigError
from service.mlserve.s3 import DownloadError, PrefixLimits, resolve_model_path
from tests.service import models
from tests.service.helpers import ServerProcess, serve, settings

pytestmark = pytest.mark.moto


@pytest.fixture
def bucket(moto_reset: str, tmp_path: Path) -> str:
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
    with pytest.raises(
        ConfigError, match=r"use s3://bucket/path/model\.onnx \(one object\) or s3://bucket/prefix/"
    ):
        resolve_model_path("s3://models", str(tmp_path / "dl"))


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


# s3://models/sentiment/v3/: a model, sidecars (ONNX external-data style name, config), a nested key,
# and a console "folder" marker; objects next to the prefix must not come along.
PREFIX_FILES = {
    "onnx/model.onnx": None,
    "onnx/model.onnx.data": b"external weights",
    "config.json": b'{"labels": ["neg", "pos"]}',
    "tokenizer/deep/vocab.txt": b"a\nb\n",
}


@pytest.fixture
def s3(moto_reset: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_reset)
    client = boto3.client("s3", region_name="us-east-1")
    client.create_bucket(Bucket="models")
    return client


@pytest.fixture
def prefix(s3: Any, tmp_path: Path) -> str:
    onnx_bytes = models.onnx_model(tmp_path).read_bytes()
    for rel, body in PREFIX_FILES.items():
        s3.put_object(Bucket="models", Key=f"sentiment/v3/{rel}", Body=onnx_bytes if body is None else body)
    s3.put_object(Bucket="models", Key="sentiment/v3/empty-folder/", Body=b"")
    s3.put_object(Bucket="models", Key="sentiment/v30/other.onnx", Body=b"not under the prefix")
    return "s3://models/sentiment/v3/"


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_prefix_downloads_everything_under_it_and_picks_the_model(prefix: str, tmp_path: Path) -> None:
    dl = tmp_path / "dl"
    path = resolve_model_path(prefix, str(dl))
    assert path == dl / "v3" / "onnx" / "model.onnx"
    tree = _tree(dl / "v3")
    assert sorted(tree) == sorted(PREFIX_FILES)
    assert tree["onnx/model.onnx"] == (tmp_path / "model.onnx").read_bytes()
    assert tree["tokenizer/deep/vocab.txt"] == b"a\nb\n"
    assert [p.name for p in dl.iterdir()] == ["v3"]  # no staging directory left beside it


def test_a_second_download_replaces_the_first_whole(prefix: str, s3: Any, tmp_path: Path) -> None:
    dl = tmp_path / "dl"
    resolve_model_path(prefix, str(dl))
    (dl / "v3" / "stale.txt").write_text("from an earlier start")
    s3.put_object(Bucket="models", Key="sentiment/v3/config.json", Body=b"{}")
    resolve_model_path(prefix, str(dl))
    assert sorted(_tree(dl / "v3")) == sorted(PREFIX_FILES)
    assert (dl / "v3" / "config.json").read_bytes() == b"{}"
    assert [p.name for p in dl.iterdir()] == ["v3"]


def test_model_file_selects_among_several_models(prefix: str, s3: Any, tmp_path: Path) -> None:
    s3.put_object(Bucket="models", Key="sentiment/v3/legacy/model.pt", Body=b"torch bytes")
    dl = tmp_path / "dl"
    with pytest.raises(ConfigError) as err:
        resolve_model_path(prefix, str(dl))
    assert str(err.value) == (
        "several model files under MODEL_PATH='s3://models/sentiment/v3/': legacy/model.pt, onnx/model.onnx; "
        "set MODEL_FILE to the one to load (path relative to MODEL_PATH)"
    )
    assert not dl.exists()  # refused before anything was downloaded
    assert resolve_model_path(prefix, str(dl), "legacy/model.pt") == dl / "v3" / "legacy" / "model.pt"
    assert (dl / "v3" / "legacy" / "model.pt").read_bytes() == b"torch bytes"


def test_limits_refuse_the_prefix_before_downloading(prefix: str, tmp_path: Path) -> None:
    dl = tmp_path / "dl"
    with pytest.raises(DownloadError) as err:
        resolve_model_path(prefix, str(dl), limits=PrefixLimits(max_objects=3))
    assert str(err.value) == (
        "s3://models/sentiment/v3/ holds more than 3 objects (MODEL_MAX_OBJECTS); "
        "point MODEL_PATH at a narrower prefix or raise MODEL_MAX_OBJECTS"
    )
    resolve_model_path(prefix, str(dl), limits=PrefixLimits(max_objects=4))  # exactly the limit is fine
    with pytest.raises(DownloadError, match=r"holds \d+ bytes in 4 objects, more than MODEL_MAX_BYTES=100;"):
        resolve_model_path(prefix, str(tmp_path / "dl2"), limits=PrefixLimits(max_bytes=100))
    assert not (tmp_path / "dl2").exists()


def test_a_key_that_would_escape_the_directory_is_refused(prefix: str, s3: Any, tmp_path: Path) -> None:
    s3.put_object(Bucket="models", Key="sentiment/v3/../../escape.txt", Body=b"x")
    listed = [o["Key"] for o in s3.list_objects_v2(Bucket="models", Prefix="sentiment/v3/")["Contents"]]
    assert "sentiment/v3/../../escape.txt" in listed  # S3 keeps the key as written
    with pytest.raises(
        DownloadError, match=r"refusing s3://models/sentiment/v3/\.\./\.\./escape\.txt: .*'\.\.'"
    ):
        resolve_model_path(prefix, str(tmp_path / "dl"))
    assert not (tmp_path / "dl").exists()
    assert not (tmp_path / "escape.txt").exists()  # where "dl/.v3.part-*/../../escape.txt" would land


def test_an_object_gone_mid_download_leaves_nothing_behind(
    prefix: str, s3: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The config object is deleted between listing and download (a real 404 from the server)."""
    from service.mlserve import s3 as s3mod

    real_client = s3mod._client

    def racing_client() -> Any:
        client = real_client()
        real_download = client.download_file

        def download_file(bucket: str, key: str, filename: str) -> None:
            if key.endswith("config.json"):
                s3.delete_object(Bucket=bucket, Key=key)
            real_download(bucket, key, filename)

        client.download_file = download_file
        return client

    monkeypatch.setattr(s3mod, "_client", racing_client)
    dl = tmp_path / "dl"
    with pytest.raises(DownloadError, match=r"cannot download s3://models/sentiment/v3/ to .*/dl/v3: "):
        resolve_model_path(prefix, str(dl))
    assert list(dl.iterdir()) == []


def test_an_empty_prefix_is_one_clear_error(s3: Any, tmp_path: Path) -> None:
    with pytest.raises(
        DownloadError, match=r"^s3://models/nothing/ holds no objects: upload the model there"
    ):
        resolve_model_path("s3://models/nothing/", str(tmp_path / "dl"))


async def test_the_server_serves_a_model_from_a_prefix(prefix: str, s3: Any, tmp_path: Path) -> None:
    s3.put_object(Bucket="models", Key="sentiment/v3/legacy/model.pt", Body=b"torch bytes")
    s = settings(prefix, model_dir=str(tmp_path / "dl"), model_file="onnx/model.onnx")
    async with serve(s) as client:
        r = await client.post("/predict", json={"inputs": [[1.0, 2.0, 3.0, 4.0]]})
    assert r.status_code == 200, r.text
    np.testing.assert_allclose(r.json()["outputs"], models.expected([[1.0, 2.0, 3.0, 4.0]]), rtol=1e-5)
