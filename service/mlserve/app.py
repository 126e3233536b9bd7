"""The HTTP layer: /health, /ready, /predict, /metrics.

``create_app`` returns a FastAPI app whose lifespan loads the model in the background: /health answers
at once (the process is up), /ready turns 200 only after the model is loaded and warmed, and turns
503 again when draining begins. /predict validates before anything reaches the model: a bad body is a
413 or 422 with a message, never a 500.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
from fastapi import FastAPI
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .backends import Backend, load_backend, warmup_batch
from .batching import Batcher, Draining, ModelError, QueueFull
from .config import Settings
from .device import CudaProbe, select_device
from .metrics import Metrics
from .s3 import PrefixLimits, resolve_model_path

log = logging.getLogger("mlserve.app")

ENDPOINTS = ("/health", "/ready", "/predict", "/metrics")


class PredictRequest(BaseModel):
    """``{"inputs": [instance, ...]}``; the seed's ``{"input": instance}`` is accepted too."""

    model_config = ConfigDict(extra="forbid")
    inputs: list[Any] | None = Field(default=None, min_length=1)
    input: Any = None

    @model_validator(mode="after")
    def _exactly_one(self) -> PredictRequest:
        given = {"inputs", "input"} & self.model_fields_set
        if len(given) != 1:
            raise ValueError('give exactly one of "inputs" (a list of instances) or "input" (one instance)')
        return self


class BadInput(ValueError):
    """The body parsed but does not fit the model's input."""


def to_batch(instances: list[Any], shape: tuple[int | None, ...], dtype: np.dtype[Any]) -> np.ndarray:
    """Turn JSON instances into an ``(n, *shape)`` array of the model's dtype, or say what is wrong."""
    dims = ["?" if d is None else str(d) for d in shape]
    want = "(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ")"
    try:
        arr = np.asarray(instances)
    except (ValueError, TypeError):
        raise BadInput(f"inputs are ragged: every instance must have shape {want}") from None
    if arr.dtype.kind not in "iuf":
        raise BadInput(
            f"inputs must be numbers (got {_kind_name(arr.dtype)}); each instance has shape {want}"
        )
    if dtype.kind in "iu" and arr.dtype.kind == "f":
        raise BadInput(f"this model takes integers ({dtype.name}); got floating-point inputs")
    got = arr.shape[1:]
    if len(got) != len(shape) or any(d is not None and d != g for d, g in zip(shape, got, strict=False)):
        raise BadInput(f"each instance must have shape {want}; got {tuple(got)}")
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        raise BadInput("inputs must be finite numbers (no NaN or Infinity)")
    if (
        dtype.kind in "iu"
        and arr.size
        and (arr.min() < np.iinfo(dtype).min or arr.max() > np.iinfo(dtype).max)
    ):
        raise BadInput(f"inputs are out of range for {dtype.name}")
    return np.ascontiguousarray(arr, dtype=dtype)


def _kind_name(dtype: np.dtype[Any]) -> str:
    return {"b": "booleans", "U": "strings", "S": "strings", "O": "mixed or nested objects"}.get(
        dtype.kind, dtype.name
    )


@dataclass
class ServerState:
    settings: Settings
    metrics: Metrics
    phase: str = "loading"  # loading -> ready -> draining | failed
    error: str | None = None
    backend: Backend | None = None
    batcher: Batcher | None = None
    device_name: str = ""

    @property
    def ready(self) -> bool:
        return self.phase == "ready"

    def begin_drain(self) -> None:
        """Stop taking work: /ready and new /predict answer 503 from now on; queued work still runs."""
        if self.phase != "failed":
            self.phase = "draining"
        self.metrics.ready.set(0)


def create_app(
    settings: Settings,
    cuda_available: CudaProbe | None = None,
    on_fatal: Callable[[BaseException], None] | None = None,
) -> FastAPI:
    metrics = Metrics(settings.max_batch_size)
    state = ServerState(settings, metrics)

    async def load() -> None:
        try:
            limits = PrefixLimits(settings.model_max_objects, settings.model_max_bytes)
            path = await asyncio.to_thread(
                resolve_model_path, settings.model_path, settings.model_dir, settings.model_file, limits
            )
            device = select_device(settings.use_gpu, cuda_available)
            backend = await asyncio.to_thread(load_backend, settings, path, device)
            for n in sorted({1, settings.max_batch_size}):  # first-call costs (allocator, kernels) paid here
                await asyncio.to_thread(backend.predict, warmup_batch(backend, n))
        except Exception as exc:
            state.phase, state.error = "failed", str(exc)
            log.error("model load failed: %s", exc)
            if on_fatal is not None:
                on_fatal(exc)
            return
        batcher = Batcher(
            backend.predict,
            settings.max_batch_size,
            settings.max_batch_delay_ms / 1000.0,
            settings.max_queue_size,
            on_batch=metrics.observe_batch,
            on_error=metrics.batch_errors.inc,
        )
        batcher.start()
        metrics.watch_queue(lambda: batcher.queue_depth)
        metrics.watch_gpu_memory(backend.gpu_memory)
        state.backend, state.batcher, state.device_name = backend, batcher, backend.device_name()
        if state.phase == "loading":
            state.phase = "ready"
            metrics.ready.set(1)
        log.info(
            "ready: %s model %s on %s, input %s %s",
            backend.kind,
            path.name,
            state.device_name,
            backend.input_shape,
            backend.input_dtype,
        )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        task = asyncio.create_task(load(), name="mlserve-load")
        try:
            yield
        finally:
            state.begin_drain()
            if not task.done():
                task.cancel()
            if state.batcher is not None:
                await state.batcher.stop(settings.drain_timeout_s)
            log.info("drained; bye")

    app = MlserveApp(title="mlserve", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.mlserve = state

    @app.get("/health")
    async def health() -> JSONResponse:
        code = 503 if state.phase == "failed" else 200
        return JSONResponse({"status": "failed" if code != 200 else "ok", "phase": state.phase}, code)

    @app.get("/ready")
    async def ready() -> JSONResponse:
        if state.ready:
            return JSONResponse({"status": "ready", "device": state.device_name})
        body: dict[str, Any] = {"status": state.phase}
        if state.error:
            body["error"] = state.error
        return JSONResponse(body, 503)

    @app.get("/metrics")
    async def prometheus() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    async def predict(receive: Receive, headers: dict[bytes, bytes]) -> tuple[int, dict[str, str], bytes]:
        """POST /predict -> (status, headers, JSON body). Raw ASGI: see _Front for why."""
        if not state.ready or state.batcher is None or state.backend is None:
            reason = "draining" if state.phase == "draining" else "not_ready"
            return _refuse(metrics, reason, 503, f"model is {state.phase}", state, settings.retry_after_s)
        limit = settings.max_body_bytes
        too_large = f"body over MAX_BODY_BYTES={limit}"
        declared = headers.get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            return _refuse(metrics, "too_large", 413, too_large, state)
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return _refuse(metrics, "disconnected", 400, "client went away", state)
            body += message.get("body", b"")
            if len(body) > limit:
                return _refuse(metrics, "too_large", 413, too_large, state)
            if not message.get("more_body", False):
                break
        try:
            req = PredictRequest.model_validate_json(bytes(body))
        except ValidationError as exc:
            msgs = [f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in exc.errors()]
            return _refuse(metrics, "invalid", 422, "; ".join(msgs), state)
        single = req.inputs is None
        instances = [req.input] if single else req.inputs
        assert instances is not None
        if len(instances) > state.batcher.max_batch_size:
            msg = f"{len(instances)} inputs in one request; at most MAX_BATCH_SIZE={state.batcher.max_batch_size}"
            return _refuse(metrics, "invalid", 422, msg, state)
        try:
            x = to_batch(instances, state.backend.input_shape, state.backend.input_dtype)
        except BadInput as exc:
            return _refuse(metrics, "invalid", 422, str(exc), state)
        try:
            y = await state.batcher.submit(x)
        except QueueFull:
            return _refuse(
                metrics, "queue_full", 503, "server busy: queue full", state, settings.retry_after_s
            )
        except Draining:
            return _refuse(metrics, "draining", 503, "server is draining", state, settings.retry_after_s)
        except ModelError as exc:
            return 500, {}, _json({"detail": f"model error: {exc}"})
        try:
            payload = {"output": y[0].tolist()} if single else {"outputs": y.tolist()}
            return 200, {}, _json(payload)
        except ValueError:
            return 500, {}, _json({"detail": "model error: non-finite values in the output"})

    app.front = _Front(functools.partial(FastAPI.__call__, app), metrics, predict)
    return app


def _json(payload: Any) -> bytes:
    return json.dumps(payload, allow_nan=False, separators=(",", ":")).encode()


def _refuse(
    metrics: Metrics, reason: str, code: int, detail: str, state: ServerState, retry_after: int | None = None
) -> tuple[int, dict[str, str], bytes]:
    metrics.rejected.labels(reason).inc()
    headers: dict[str, str] = {}
    if retry_after is not None:
        headers["retry-after"] = str(retry_after)
    if state.phase == "draining":
        headers["connection"] = "close"
    return code, headers, _json({"detail": detail})


PredictHandler = Callable[[Receive, dict[bytes, bytes]], Awaitable[tuple[int, dict[str, str], bytes]]]


class MlserveApp(FastAPI):
    """FastAPI app whose HTTP traffic passes through ``front`` first (metrics, the /predict hot path)."""

    front: _Front | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.front is not None and scope["type"] == "http":
            await self.front(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)


class _Front:
    """Outermost ASGI layer: metrics for every request, and the /predict hot path.

    POST /predict is answered here rather than through a FastAPI route: FastAPI's middleware stack,
    routing and dependency machinery cost several hundred microseconds per request, which on a small
    CPU task is time taken from the model (see benchmarks/RESULTS.md). Validation is still pydantic
    (PredictRequest); /health, /ready and /metrics are ordinary FastAPI routes.
    """

    def __init__(self, app: ASGIApp, metrics: Metrics, predict: PredictHandler) -> None:
        self.app = app
        self.metrics = metrics
        self.predict = predict

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        endpoint = path if path in ENDPOINTS else "other"
        started = time.perf_counter()
        status = 500
        try:
            if path == "/predict" and scope["method"] == "POST":
                status, extra, body = await self.predict(receive, dict(scope["headers"]))
                headers = [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ]
                headers += [(k.encode(), v.encode()) for k, v in extra.items()]
                await send({"type": "http.response.start", "status": status, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return

            async def send_wrapper(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                await send(message)

            await self.app(scope, receive, send_wrapper)
        finally:
            self.metrics.requests.labels(endpoint, str(status)).inc()
            self.metrics.latency.labels(endpoint).observe(time.perf_counter() - started)
