"""The HTTP app: /health, /ready, /predict, /metrics.

``create_app`` wires three parts together:

- ``state.ServerState`` -- the model's lifecycle: its lifespan loads the model in the background, so
  /health answers at once (the process is up), /ready turns 200 only after the model is loaded and
  warmed, and turns 503 again when draining begins;
- ``protocol.Predictor`` -- the /predict request protocol (validation, batching, answers);
- ``front.Front`` -- the outermost ASGI layer: metrics, and the raw /predict fast path; the other
  endpoints are the ordinary FastAPI routes below.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from .config import Settings
from .device import CudaProbe
from .front import Front, MlserveApp
from .metrics import Metrics
from .protocol import Predictor
from .state import ServerState


def create_app(
    settings: Settings,
    cuda_available: CudaProbe | None = None,
    on_fatal: Callable[[BaseException], None] | None = None,
) -> MlserveApp:
    metrics = Metrics(settings.max_batch_size)
    state = ServerState(settings, metrics, cuda_available, on_fatal)
    app = MlserveApp(
        title="mlserve", lifespan=state.lifespan, docs_url=None, redoc_url=None, openapi_url=None
    )
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

    app.front = Front(functools.partial(FastAPI.__call__, app), metrics, Predictor(state))
    return app
