"""Device selection: ``USE_GPU`` (auto | cuda | cpu) against what the machine has.

The probe that answers "is CUDA usable here?" is injectable so that the decision can be tested on
machines without a GPU; the default probe asks torch, then onnxruntime.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from .config import ConfigError

log = logging.getLogger("mlserve.device")

CudaProbe = Callable[[], bool]


def default_cuda_available() -> bool:
    """True when torch sees a CUDA device, or (without torch) onnxruntime has its CUDA provider."""
    try:
        import torch

        return bool(torch.cuda.is_available())
    except ImportError:
        pass
    try:
        import onnxruntime as ort

        return "CUDAExecutionProvider" in ort.get_available_providers()
    except ImportError:
        return False


def select_device(use_gpu: str, cuda_available: CudaProbe | None = None) -> str:
    """Return ``"cuda"`` or ``"cpu"``.

    ``auto`` takes CUDA when the probe finds it; ``cuda`` demands it (a GPU task that silently ran on
    CPU would be 50x slower and nobody would notice until the bill); ``cpu`` never probes.
    """
    if use_gpu == "cpu":
        return "cpu"
    probe = cuda_available or default_cuda_available
    available = probe()
    if use_gpu == "cuda":
        if not available:
            raise ConfigError(
                "USE_GPU=cuda but no CUDA device is visible: check the task's GPU resourceRequirements "
                "and the NVIDIA runtime, or set USE_GPU=auto/cpu"
            )
        return "cuda"
    if use_gpu != "auto":
        raise ConfigError(f"USE_GPU={use_gpu!r} is not allowed: use auto, cuda or cpu")
    device = "cuda" if available else "cpu"
    log.info("USE_GPU=auto selected %s", device)
    return device
