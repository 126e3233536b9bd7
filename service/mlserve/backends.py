"""Model backends behind one small interface: PyTorch (TorchScript, or state dict + module class)
and ONNX Runtime.

A backend takes a numpy batch ``(n, *input_shape)`` and returns a numpy array whose first dimension
is ``n``. Everything device-specific (moving weights and batches to CUDA, reading GPU memory) lives
here, so the batcher and the HTTP layer never touch torch or onnxruntime.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import logging
import sys
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from .config import ConfigError, Settings

log = logging.getLogger("mlserve.backends")

TORCH_SUFFIXES = (".pt", ".pth", ".ts", ".torchscript", ".bin")
TORCHSCRIPT_META = "mlserve.json"  # optional extra file inside a TorchScript archive
_ONNX_DTYPES = {
    "tensor(float)": "float32",
    "tensor(float16)": "float16",
    "tensor(double)": "float64",
    "tensor(int64)": "int64",
    "tensor(int32)": "int32",
}


class LoadError(RuntimeError):
    """The model could not be loaded on the selected device."""


class Backend(Protocol):
    kind: str
    device: str  # "cpu" or "cuda"
    input_shape: tuple[int | None, ...]
    input_dtype: np.dtype[Any]

    def predict(self, batch: np.ndarray) -> np.ndarray: ...

    def gpu_memory(self) -> dict[str, float]: ...

    def device_name(self) -> str: ...


def load_backend(settings: Settings, path: Path, device: str) -> Backend:
    """Open the model at ``path`` on ``device`` ("cpu" / "cuda") according to ``settings``."""
    fmt = settings.model_format
    if fmt == "auto":
        if path.suffix.lower() == ".onnx":
            fmt = "onnx"
        elif path.suffix.lower() in TORCH_SUFFIXES:
            fmt = "torch-state-dict" if settings.model_class else "torchscript"
        else:
            raise ConfigError(
                f"cannot tell the format of {path.name!r}: name it *.onnx / *.pt / *.pth or set "
                "MODEL_FORMAT to onnx, torchscript or torch-state-dict"
            )
    backend: Backend
    if fmt == "onnx":
        backend = OnnxBackend(settings, path, device)
    else:
        backend = TorchBackend(settings, path, device, scripted=(fmt == "torchscript"))
    if settings.use_gpu == "cuda" and backend.device != "cuda":
        raise LoadError(f"USE_GPU=cuda but the {backend.kind} backend could only run on {backend.device}")
    return backend


def _shape_and_dtype(
    settings: Settings, found_shape: tuple[int | None, ...] | None, found_dtype: str | None, what: str
) -> tuple[tuple[int | None, ...], np.dtype[Any]]:
    shape = settings.input_shape or found_shape
    if shape is None:
        raise ConfigError(
            f"INPUT_SHAPE is required for {what}: the size of one instance without the batch dimension, "
            "e.g. INPUT_SHAPE=3,224,224"
        )
    if settings.input_shape and found_shape and len(found_shape) != len(settings.input_shape):
        raise ConfigError(
            f"INPUT_SHAPE={settings.input_shape} has {len(settings.input_shape)} dims but the model's "
            f"input has {len(found_shape)} ({found_shape})"
        )
    return shape, np.dtype(settings.input_dtype or found_dtype or "float32")


def import_class(spec: str) -> Any:
    """``"pkg.module:Class"`` or ``"/path/to/file.py:Class"`` -> the class object."""
    module_ref, sep, attr = spec.rpartition(":")
    if not sep or not module_ref or not attr:
        raise ConfigError(
            f"MODEL_CLASS={spec!r} is not allowed: use package.module:Class or /path/file.py:Class"
        )
    try:
        if module_ref.endswith(".py"):
            file = Path(module_ref)
            name = f"mlserve_user_{file.stem}"
            mod_spec = importlib.util.spec_from_file_location(name, file)
            if mod_spec is None or mod_spec.loader is None:
                raise ConfigError(f"MODEL_CLASS file {file} cannot be imported")
            module = importlib.util.module_from_spec(mod_spec)
            sys.modules[name] = module
            mod_spec.loader.exec_module(module)
        else:
            module = importlib.import_module(module_ref)
    except (ImportError, OSError) as exc:
        raise ConfigError(f"MODEL_CLASS={spec!r}: cannot import {module_ref} ({exc})") from None
    try:
        return getattr(module, attr)
    except AttributeError:
        raise ConfigError(f"MODEL_CLASS={spec!r}: {module_ref} has no attribute {attr!r}") from None


class TorchBackend:
    kind = "torch"

    def __init__(self, settings: Settings, path: Path, device: str, scripted: bool) -> None:
        import torch

        self._torch = torch
        if settings.torch_threads:
            torch.set_num_threads(settings.torch_threads)
        self._dev = torch.device(device)
        meta: dict[str, Any] = {}
        try:
            if scripted:
                extra = {TORCHSCRIPT_META: ""}
                model = torch.jit.load(str(path), map_location="cpu", _extra_files=extra)  # type: ignore[no-untyped-call]
                if extra[TORCHSCRIPT_META]:
                    meta = json.loads(extra[TORCHSCRIPT_META])
            else:
                if not settings.model_class:
                    raise ConfigError("MODEL_CLASS is required for a state-dict model (package.module:Class)")
                cls = import_class(settings.model_class)
                model = cls(**settings.model_kwargs)
                state = torch.load(str(path), map_location="cpu", weights_only=True)
                if not isinstance(state, dict):
                    raise LoadError(f"{path.name} does not hold a state dict (got {type(state).__name__})")
                model.load_state_dict(state, strict=True)
        except ConfigError:
            raise
        except (RuntimeError, ValueError, OSError, KeyError, TypeError) as exc:
            hint = " (not a TorchScript archive? for a state dict set MODEL_CLASS)" if scripted else ""
            raise LoadError(f"cannot load PyTorch model {path.name}: {exc}{hint}") from None
        model.eval()
        try:
            self._model = model.to(self._dev)
        except (RuntimeError, AssertionError) as exc:  # e.g. "Torch not compiled with CUDA enabled"
            raise LoadError(f"cannot move the model to {device}: {exc}") from None
        shape = tuple(meta["input_shape"]) if "input_shape" in meta else None
        self.input_shape, self.input_dtype = _shape_and_dtype(
            settings, shape, meta.get("input_dtype"), "PyTorch models"
        )
        self.device = self._dev.type

    def predict(self, batch: np.ndarray) -> np.ndarray:
        torch = self._torch
        with torch.inference_mode():
            x = torch.from_numpy(batch)
            if self._dev.type == "cuda":
                x = x.to(self._dev, non_blocking=True)
            y = self._model(x)
            if isinstance(y, dict):
                y = next(iter(y.values()))
            elif isinstance(y, (tuple, list)):
                y = y[0]
            out: np.ndarray = y.detach().to("cpu").numpy()  # .to("cpu") synchronises the stream
            return out

    def gpu_memory(self) -> dict[str, float]:
        if self._dev.type != "cuda":
            return {}
        cuda = self._torch.cuda
        return {
            "allocated": float(cuda.memory_allocated(self._dev)),
            "reserved": float(cuda.memory_reserved(self._dev)),
        }

    def device_name(self) -> str:
        if self._dev.type == "cuda":
            return f"cuda:{self._torch.cuda.get_device_name(self._dev)}"
        return "cpu"


class OnnxBackend:
    kind = "onnx"

    def __init__(self, settings: Settings, path: Path, device: str) -> None:
        import onnxruntime as ort

        providers: list[Any] = ["CPUExecutionProvider"]
        if device == "cuda":
            if "CUDAExecutionProvider" in ort.get_available_providers():
                preload = getattr(ort, "preload_dlls", None)  # CUDA/cuDNN from the nvidia-* wheels
                if preload is not None:
                    preload()
                providers = [("CUDAExecutionProvider", {"device_id": 0}), "CPUExecutionProvider"]
            else:
                log.warning("onnxruntime has no CUDAExecutionProvider: the ONNX model runs on CPU")
        options = ort.SessionOptions()
        if settings.torch_threads:
            options.intra_op_num_threads = settings.torch_threads
        try:
            self._session = ort.InferenceSession(str(path), sess_options=options, providers=providers)
        except Exception as exc:  # onnxruntime raises its own Fail/InvalidGraph types
            raise LoadError(f"cannot load ONNX model {path.name}: {exc}") from None
        inputs = self._session.get_inputs()
        if len(inputs) != 1:
            names = [i.name for i in inputs]
            raise LoadError(f"ONNX model {path.name} has {len(inputs)} inputs {names}: only one is supported")
        self._input_name = inputs[0].name
        dims = inputs[0].shape[1:]
        found = tuple(d if isinstance(d, int) and d > 0 else None for d in dims)
        self.input_shape, self.input_dtype = _shape_and_dtype(
            settings, found, _ONNX_DTYPES.get(inputs[0].type), "this ONNX model"
        )
        self.device = "cuda" if "CUDAExecutionProvider" in self._session.get_providers() else "cpu"

    def predict(self, batch: np.ndarray) -> np.ndarray:
        out: np.ndarray = self._session.run(None, {self._input_name: batch})[0]
        return out

    def gpu_memory(self) -> dict[str, float]:
        if self.device != "cuda":
            return {}
        try:
            import torch
        except ImportError:
            return {}
        free, total = torch.cuda.mem_get_info(0)
        return {"used": float(total - free)}

    def device_name(self) -> str:
        if self.device != "cuda":
            return "cpu"
        try:
            import torch

            return f"cuda:{torch.cuda.get_device_name(0)}"
        except ImportError:
            return "cuda"


def warmup_batch(backend: Backend, n: int) -> np.ndarray:
    """Zeros shaped like ``n`` instances; free dims take size 1."""
    shape = (n, *[d or 1 for d in backend.input_shape])
    return np.zeros(shape, dtype=backend.input_dtype)
