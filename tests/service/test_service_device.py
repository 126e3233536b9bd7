"""Settings and device selection. There is no GPU here: the CUDA path is forced with an injected probe."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.mlserve.backends import LoadError, TorchBackend, load_backend
from service.mlserve.config import ConfigError, Settings
from service.mlserve.device import select_device
from tests.service import models
from tests.service.helpers import serve, settings, until_ready


def yes() -> bool:
    return True


def no() -> bool:
    return False


def test_settings_from_env_defaults_and_values() -> None:
    s = Settings.from_env({"MODEL_PATH": "/m/model.onnx"})
    assert (s.use_gpu, s.port, s.max_batch_size, s.model_format) == ("auto", 8080, 32, "auto")
    s = Settings.from_env(
        {
            "MODEL_PATH": "s3://b/k.pt",
            "USE_GPU": "true",  # the seed guide's spelling
            "PORT": "9000",
            "INPUT_SHAPE": "3,224,?",
            "MAX_BATCH_DELAY_MS": "2.5",
            "MODEL_KWARGS": '{"n_out": 3}',
        }
    )
    assert s.use_gpu == "cuda" and s.port == 9000 and s.input_shape == (3, 224, None)
    assert s.max_batch_delay_ms == 2.5 and s.model_kwargs == {"n_out": 3}


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({}, "MODEL_PATH is not set"),
        ({"MODEL_PATH": "m", "USE_GPU": "maybe"}, "USE_GPU='maybe'"),
        ({"MODEL_PATH": "m", "PORT": "http"}, "PORT='http' is not an integer"),
        ({"MODEL_PATH": "m", "MAX_BATCH_SIZE": "0"}, "MAX_BATCH_SIZE=0 is out of range"),
        ({"MODEL_PATH": "m", "INPUT_SHAPE": "3,x"}, "INPUT_SHAPE"),
        ({"MODEL_PATH": "m", "MODEL_KWARGS": "[1]"}, "JSON object"),
        ({"MODEL_PATH": "m", "MODEL_FORMAT": "keras"}, "MODEL_FORMAT='keras'"),
        ({"MODEL_PATH": "m", "HEADER_TIMEOUT_S": "0"}, "HEADER_TIMEOUT_S=0 is out of range"),
        ({"MODEL_PATH": "m", "BODY_TIMEOUT_S": "soon"}, "BODY_TIMEOUT_S='soon' is not a number"),
        ({"MODEL_PATH": "m", "KEEP_ALIVE_TIMEOUT_S": "-1"}, "KEEP_ALIVE_TIMEOUT_S=-1 is out of range"),
        ({"MODEL_PATH": "m", "MAX_CONNECTIONS": "0"}, "MAX_CONNECTIONS=0 is out of range"),
    ],
)
def test_bad_settings_name_the_variable(env: dict[str, str], needle: str) -> None:
    with pytest.raises(ConfigError) as info:
        Settings.from_env(env)
    assert needle in str(info.value)


def test_connection_limits_and_timeouts_default_safely_and_derive_the_cap_from_the_file_limit() -> None:
    s = Settings.from_env({"MODEL_PATH": "m"}, open_files=1024)
    assert s.max_connections == 1024 - 64  # the open-file limit less room for the server's own files
    assert (s.header_timeout_s, s.body_timeout_s, s.keep_alive_timeout_s) == (10.0, 20.0, 75.0)
    s = Settings.from_env(
        {
            "MODEL_PATH": "m",
            "MAX_CONNECTIONS": "100",
            "HEADER_TIMEOUT_S": "2.5",
            "BODY_TIMEOUT_S": "5",
            "KEEP_ALIVE_TIMEOUT_S": "61",
        },
        open_files=1024,
    )
    assert (s.max_connections, s.header_timeout_s, s.body_timeout_s, s.keep_alive_timeout_s) == (
        100,
        2.5,
        5.0,
        61.0,
    )
    with pytest.raises(ConfigError) as info:
        Settings.from_env({"MODEL_PATH": "m", "MAX_CONNECTIONS": "1000"}, open_files=1024)
    assert str(info.value) == (
        "MAX_CONNECTIONS=1000 is out of range (allowed: 1..960, below the open-file limit "
        "RLIMIT_NOFILE=1024 less 64 for the server's own files; raise the task's nofile ulimit for more)"
    )
    assert Settings.from_env({"MODEL_PATH": "m"}).max_connections >= 1  # this process's own limit


def test_device_selection_logic() -> None:
    assert select_device("auto", yes) == "cuda"
    assert select_device("auto", no) == "cpu"
    assert select_device("cuda", yes) == "cuda"
    assert select_device("cpu", yes) == "cpu"
    with pytest.raises(ConfigError, match="USE_GPU=cuda but no CUDA device"):
        select_device("cuda", no)


def test_cpu_never_probes() -> None:
    def boom() -> bool:
        raise AssertionError("probed")

    assert select_device("cpu", boom) == "cpu"


def test_torch_backend_moves_the_model_to_cuda_when_selected(tmp_path: Path) -> None:
    """With CUDA selected, the backend really calls .to('cuda'); this CPU-only torch refuses it."""
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("a real GPU is present: test_service_gpu.py covers this path")
    path = models.torchscript_model(tmp_path)
    s = settings(path, use_gpu="cuda")
    with pytest.raises(LoadError, match="cannot move the model to cuda"):
        TorchBackend(s, path, "cuda", scripted=True)


async def test_auto_with_cuda_visible_selects_cuda_end_to_end(tmp_path: Path) -> None:
    """USE_GPU=auto + a probe that sees CUDA: the app loads onto cuda (fails readably on CPU torch)."""
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("a real GPU is present: test_service_gpu.py covers this path")
    s = settings(models.torchscript_model(tmp_path), use_gpu="auto")
    async with serve(s, cuda_available=yes, wait_ready=False) as client:
        r = await until_ready(client)
        assert r.status_code == 503 and r.json()["status"] == "failed"
        assert "cuda" in r.json()["error"].lower()
        assert (await client.get("/health")).status_code == 503  # liveness fails: ECS replaces the task


def test_onnx_without_cuda_provider_refuses_a_demanded_gpu(tmp_path: Path) -> None:
    ort = pytest.importorskip("onnxruntime")
    if "CUDAExecutionProvider" in ort.get_available_providers():
        pytest.skip("this onnxruntime has CUDA")
    path = models.onnx_model(tmp_path)
    with pytest.raises(LoadError, match="USE_GPU=cuda but the onnx backend could only run on cpu"):
        load_backend(settings(path, use_gpu="cuda"), path, "cuda")
    backend = load_backend(settings(path, use_gpu="auto"), path, "cuda")  # auto: falls back, says so
    assert backend.device == "cpu" and backend.gpu_memory() == {}


def test_state_dict_needs_a_class_and_a_shape(tmp_path: Path) -> None:
    weights, module = models.state_dict_model(tmp_path)
    with pytest.raises(ConfigError, match="INPUT_SHAPE is required"):
        load_backend(settings(weights, model_class=f"{module}:Affine"), weights, "cpu")
    with pytest.raises(ConfigError, match="has no attribute 'Nope'"):
        load_backend(settings(weights, model_class=f"{module}:Nope", input_shape=(4,)), weights, "cpu")
    with pytest.raises(LoadError, match="not a TorchScript archive"):
        load_backend(settings(weights, input_shape=(4,)), weights, "cpu")
