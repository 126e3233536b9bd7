"""MODEL_PATH as a local directory: MODEL_FILE or the single model file inside it is loaded."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from service.mlserve.config import ConfigError, Settings
from service.mlserve.s3 import resolve_model_path, select_model_file
from tests.service import models
from tests.service.helpers import serve, settings


@pytest.fixture
def model_tree(tmp_path: Path) -> Path:
    """tree/onnx/model.onnx + tree/config.json + tree/tokenizer/vocab.txt: one model, sidecars."""
    tree = tmp_path / "tree"
    (tree / "onnx").mkdir(parents=True)
    (tree / "tokenizer").mkdir()
    models.onnx_model(tree / "onnx")
    (tree / "config.json").write_text("{}")
    (tree / "tokenizer" / "vocab.txt").write_text("a\nb\n")
    return tree


def test_a_directory_loads_its_only_model_file(model_tree: Path) -> None:
    assert resolve_model_path(str(model_tree), "unused") == model_tree / "onnx" / "model.onnx"


def test_several_model_files_need_model_file(model_tree: Path) -> None:
    (model_tree / "model.pt").write_bytes(b"")  # a second candidate; selection never opens it
    with pytest.raises(ConfigError) as err:
        resolve_model_path(str(model_tree), "unused")
    assert str(err.value) == (
        f"several model files under MODEL_PATH={str(model_tree)!r}: model.pt, onnx/model.onnx; "
        "set MODEL_FILE to the one to load (path relative to MODEL_PATH)"
    )
    assert resolve_model_path(str(model_tree), "unused", "model.pt") == model_tree / "model.pt"
    assert resolve_model_path(str(model_tree), "unused", "onnx/model.onnx") == model_tree / "onnx/model.onnx"


def test_no_model_file_or_a_missing_model_file_names_what_was_found(model_tree: Path) -> None:
    (model_tree / "onnx" / "model.onnx").unlink()
    with pytest.raises(ConfigError, match=r"no model file \(\*\.onnx/\*\.pt/\*\.pth/\*\.ts\) under") as err:
        resolve_model_path(str(model_tree), "unused")
    assert "(found: config.json, tokenizer/vocab.txt); set MODEL_FILE" in str(err.value)
    with pytest.raises(ConfigError, match=r"MODEL_FILE='model\.onnx' is not among the files under"):
        resolve_model_path(str(model_tree), "unused", "model.onnx")


def test_model_file_with_a_single_file_model_path_is_refused(tmp_path: Path) -> None:
    path = models.onnx_model(tmp_path)
    with pytest.raises(
        ConfigError, match=r"MODEL_FILE='model\.onnx' is set but MODEL_PATH=.* names one file"
    ):
        resolve_model_path(str(path), "unused", "model.onnx")
    with pytest.raises(ConfigError, match="is not a readable file or directory"):
        resolve_model_path(str(tmp_path / "absent"), "unused")


def test_long_listings_are_cut_short() -> None:
    files = [f"shard-{i:02}.onnx" for i in range(13)]
    with pytest.raises(ConfigError, match=r"shard-09\.onnx and 3 more; set MODEL_FILE"):
        select_model_file(files, "s3://b/p/", None)


@pytest.mark.parametrize(
    "bad", ["/etc/passwd", "../model.onnx", "a/../../b.onnx", "a//b.onnx", "./m.onnx", "a\\b"]
)
def test_model_file_must_stay_inside_model_path(bad: str) -> None:
    with pytest.raises(ConfigError, match=r"MODEL_FILE=.* is not allowed: a relative path inside MODEL_PATH"):
        Settings.from_env({"MODEL_PATH": "/models/", "MODEL_FILE": bad})


def test_prefix_limits_come_from_the_environment() -> None:
    s = Settings.from_env({"MODEL_PATH": "s3://b/p/", "MODEL_MAX_OBJECTS": "5", "MODEL_MAX_BYTES": "1024"})
    assert (s.model_max_objects, s.model_max_bytes, s.model_file) == (5, 1024, None)
    with pytest.raises(ConfigError, match=r"MODEL_MAX_OBJECTS=0 is out of range \(allowed: 1\.\.100000\)"):
        Settings.from_env({"MODEL_PATH": "s3://b/p/", "MODEL_MAX_OBJECTS": "0"})


async def test_the_server_serves_the_model_from_a_directory(model_tree: Path) -> None:
    async with serve(settings(model_tree)) as client:
        r = await client.post("/predict", json={"inputs": [[1.0, 2.0, 3.0, 4.0]]})
    assert r.status_code == 200, r.text
    np.testing.assert_allclose(r.json()["outputs"], models.expected([[1.0, 2.0, 3.0, 4.0]]), rtol=1e-5)
