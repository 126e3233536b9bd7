"""Server settings, read once from the environment.

Every knob is an environment variable so the same image runs anywhere ECS can set ``environment``
in a task definition. A bad value stops the process at start with one line naming the variable and
what is allowed (``ConfigError``), never a traceback halfway through serving.
"""

from __future__ import annotations

import json
import os
import resource
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class ConfigError(ValueError):
    """A setting is missing or has a value outside what is allowed."""


USE_GPU_CHOICES = ("auto", "cuda", "cpu")
FD_RESERVE = 64  # file descriptors kept for the server's own use (model files, logs, pipes, the listener)


def open_file_limit() -> int:
    """This process's soft RLIMIT_NOFILE (``ulimit -n``; the task definition's ``nofile`` ulimit)."""
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    return 1 << 20 if soft == resource.RLIM_INFINITY else int(soft)


def connection_cap(open_files: int) -> int:
    """The most connections the server holds: below the open-file limit, so that accept() never fails."""
    return max(1, open_files - FD_RESERVE)


_TRUE = {"1", "true", "yes", "on", "cuda", "gpu"}
_FALSE = {"0", "false", "no", "off", "cpu"}


@dataclass(frozen=True)
class Settings:
    model_path: str
    model_file: str | None = None  # relative path inside a MODEL_PATH directory or s3 prefix
    model_max_objects: int = 1000  # bounds on an s3://bucket/prefix/ download
    model_max_bytes: int = 10 * 1024**3
    use_gpu: str = "auto"
    host: str = "0.0.0.0"
    port: int = 8080
    model_format: str = "auto"  # auto | torchscript | torch-state-dict | onnx
    model_class: str | None = None  # "pkg.module:Class" or "/path/file.py:Class" (state-dict models)
    model_kwargs: Mapping[str, Any] = field(default_factory=dict)
    input_shape: tuple[int | None, ...] | None = None  # per instance, e.g. (3, 224, 224); None dim = any
    input_dtype: str | None = None
    max_batch_size: int = 32
    max_batch_delay_ms: float = 5.0
    max_queue_size: int = 256
    max_body_bytes: int = 1_048_576
    drain_timeout_s: float = 25.0
    retry_after_s: int = 1
    max_connections: int = field(default_factory=lambda: connection_cap(open_file_limit()))
    header_timeout_s: float = 10.0  # connection open (or first byte of a request) -> headers complete
    body_timeout_s: float = 20.0  # headers complete -> whole body received
    keep_alive_timeout_s: float = 75.0  # idle between requests; above the ALB's 60 s idle timeout
    model_dir: str = field(default_factory=lambda: str(Path(tempfile.gettempdir()) / "mlserve-model"))
    torch_threads: int | None = None
    access_log: bool = False
    log_level: str = "info"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, open_files: int | None = None) -> Settings:
        """Settings from ``env`` (default: the process environment); ``open_files`` stands in for this
        process's open-file limit, from which the connection cap and its bound derive."""
        e = os.environ if env is None else env
        files = open_file_limit() if open_files is None else open_files
        cap = connection_cap(files)
        cap_why = (
            f"below the open-file limit RLIMIT_NOFILE={files} less {FD_RESERVE} for the server's own files; "
            "raise the task's nofile ulimit for more"
        )
        model_path = e.get("MODEL_PATH", "").strip()
        if not model_path:
            raise ConfigError(
                "MODEL_PATH is not set: give a local file or directory, s3://bucket/key or s3://bucket/prefix/"
            )
        defaults = cls(model_path=model_path)
        return cls(
            model_path=model_path,
            model_file=_relative_path(e, "MODEL_FILE"),
            model_max_objects=_int(e, "MODEL_MAX_OBJECTS", defaults.model_max_objects, 1, 100_000),
            model_max_bytes=_int(e, "MODEL_MAX_BYTES", defaults.model_max_bytes, 1, 1 << 40),
            use_gpu=_use_gpu(e.get("USE_GPU", "auto")),
            host=e.get("HOST", defaults.host),
            port=_int(e, "PORT", defaults.port, 1, 65535),
            model_format=_choice(
                e, "MODEL_FORMAT", defaults.model_format, ("auto", "torchscript", "torch-state-dict", "onnx")
            ),
            model_class=e.get("MODEL_CLASS") or None,
            model_kwargs=_json_object(e, "MODEL_KWARGS"),
            input_shape=_shape(e.get("INPUT_SHAPE")),
            input_dtype=_choice(e, "INPUT_DTYPE", None, ("float32", "float16", "float64", "int64", "int32")),
            max_batch_size=_int(e, "MAX_BATCH_SIZE", defaults.max_batch_size, 1, 65536),
            max_batch_delay_ms=_float(e, "MAX_BATCH_DELAY_MS", defaults.max_batch_delay_ms, 0.0, 60_000.0),
            max_queue_size=_int(e, "MAX_QUEUE_SIZE", defaults.max_queue_size, 1, 1_000_000),
            max_body_bytes=_int(e, "MAX_BODY_BYTES", defaults.max_body_bytes, 64, 1 << 31),
            drain_timeout_s=_float(e, "DRAIN_TIMEOUT_S", defaults.drain_timeout_s, 0.0, 3600.0),
            retry_after_s=_int(e, "RETRY_AFTER_S", defaults.retry_after_s, 1, 3600),
            max_connections=_int(e, "MAX_CONNECTIONS", cap, 1, cap, cap_why),
            header_timeout_s=_float(e, "HEADER_TIMEOUT_S", defaults.header_timeout_s, 0.1, 3600.0),
            body_timeout_s=_float(e, "BODY_TIMEOUT_S", defaults.body_timeout_s, 0.1, 3600.0),
            keep_alive_timeout_s=_float(
                e, "KEEP_ALIVE_TIMEOUT_S", defaults.keep_alive_timeout_s, 0.1, 3600.0
            ),
            model_dir=e.get("MODEL_DIR") or defaults.model_dir,
            torch_threads=_int(e, "TORCH_THREADS", 0, 0, 1024) or None,
            access_log=_bool(e, "ACCESS_LOG", defaults.access_log),
            log_level=_choice(e, "LOG_LEVEL", defaults.log_level, ("debug", "info", "warning", "error")),
        )


def _use_gpu(raw: str) -> str:
    value = raw.strip().lower()
    if value == "auto" or value == "":
        return "auto"
    if value in _TRUE:
        return "cuda"
    if value in _FALSE:
        return "cpu"
    raise ConfigError(f"USE_GPU={raw!r} is not allowed: use auto (default), cuda/true or cpu/false")


def _int(e: Mapping[str, str], name: str, default: int, lo: int, hi: int, why: str = "") -> int:
    raw = e.get(name)
    if raw is None or raw.strip() == "":
        return default
    allowed = f"allowed: {lo}..{hi}" + (f", {why}" if why else "")
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not an integer ({allowed})") from None
    if not lo <= value <= hi:
        raise ConfigError(f"{name}={value} is out of range ({allowed})")
    return value


def _float(e: Mapping[str, str], name: str, default: float, lo: float, hi: float) -> float:
    raw = e.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a number (allowed: {lo:g}..{hi:g})") from None
    if not lo <= value <= hi:
        raise ConfigError(f"{name}={value:g} is out of range (allowed: {lo:g}..{hi:g})")
    return value


def _bool(e: Mapping[str, str], name: str, default: bool) -> bool:
    raw = e.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(f"{name}={raw!r} is not a boolean (allowed: true/false, 1/0, yes/no)")


def _choice(e: Mapping[str, str], name: str, default: str | None, allowed: tuple[str, ...]) -> Any:
    raw = e.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value not in allowed:
        raise ConfigError(f"{name}={raw!r} is not allowed (allowed: {', '.join(allowed)})")
    return value


def unsafe_relative_path(path: str) -> bool:
    """True when ``path`` (POSIX, relative) could leave the directory it is joined to, or is empty:
    a leading '/', an empty, '.' or '..' segment, a backslash or a NUL."""
    return "\\" in path or "\0" in path or any(part in ("", ".", "..") for part in path.split("/"))


def _relative_path(e: Mapping[str, str], name: str) -> str | None:
    raw = e.get(name)
    if raw is None or raw.strip() == "":
        return None
    value = raw.strip()
    if unsafe_relative_path(value):
        raise ConfigError(
            f"{name}={raw!r} is not allowed: a relative path inside MODEL_PATH such as model.onnx or "
            "onnx/model.onnx (no leading '/', no '.' or '..' segments, no backslashes)"
        )
    return value


def _shape(raw: str | None) -> tuple[int | None, ...] | None:
    if raw is None or raw.strip() == "":
        return None
    dims: list[int | None] = []
    for part in raw.replace("x", ",").split(","):
        part = part.strip()
        if part in ("?", "-1", "*"):
            dims.append(None)
            continue
        if not part.isdigit() or int(part) == 0:
            raise ConfigError(
                f"INPUT_SHAPE={raw!r} is not allowed: comma-separated positive sizes of one instance "
                "(no batch dimension), '?' for a free size, e.g. 3,224,224"
            )
        dims.append(int(part))
    return tuple(dims)


def _json_object(e: Mapping[str, str], name: str) -> dict[str, Any]:
    raw = e.get(name)
    if raw is None or raw.strip() == "":
        return {}
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{name} is not valid JSON ({exc.msg}): give a JSON object of keyword args"
        ) from None
    if not isinstance(value, dict):
        raise ConfigError(f"{name} must be a JSON object of keyword arguments, got {type(value).__name__}")
    return value
