"""The outermost ASGI layer: metrics for every request, and the raw /predict fast path.

POST /predict is answered here rather than through a FastAPI route: FastAPI's middleware stack,
routing and dependency machinery cost several hundred microseconds per request, which on a small CPU
task is time taken from the model (see benchmarks/RESULTS.md). Validation is still pydantic (see
protocol.py); /health, /ready and /metrics are ordinary FastAPI routes behind this layer.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .metrics import Metrics

ENDPOINTS = ("/health", "/ready", "/predict", "/metrics")

Reply = tuple[int, dict[str, str], bytes]
PredictHandler = Callable[[Receive, dict[bytes, bytes]], Awaitable[Reply]]


class MlserveApp(FastAPI):
    """FastAPI app whose HTTP traffic passes through ``front`` first (metrics, the /predict hot path)."""

    front: Front | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.front is not None and scope["type"] == "http":
            await self.front(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)


class Front:
    """Answers POST /predict with ``predict``; passes everything else to ``app``; counts both."""

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
