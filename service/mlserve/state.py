"""The server's state and lifecycle: load the model in the background, ready, drain, stop.

``ServerState`` is what every layer reads (phase, backend, batcher). ``lifespan`` is the app's
lifespan: it starts ``load`` as a task so that /health answers at once, and on shutdown turns the
server not-ready and drains the batcher within ``DRAIN_TIMEOUT_S`` of the stop signal: requests still
waiting when it passes are answered 503 + Retry-After (the client retries on another task), with one
log line giving their number.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from .backends import Backend, load_backend, warmup_batch
from .batching import Batcher, Draining
from .config import Settings
from .device import CudaProbe, select_device
from .metrics import Metrics
from .s3 import PrefixLimits, resolve_model_path

log = logging.getLogger("mlserve.app")


@dataclass
class ServerState:
    settings: Settings
    metrics: Metrics
    cuda_available: CudaProbe | None = None
    on_fatal: Callable[[BaseException], None] | None = None
    phase: str = "loading"  # loading -> ready -> draining | failed
    error: str | None = None
    backend: Backend | None = None
    batcher: Batcher | None = None
    device_name: str = ""
    drain_deadline: float | None = None  # event-loop time by which the drain must be over
    _deadline_timer: asyncio.TimerHandle | None = field(default=None, repr=False)
    body_reads: set[asyncio.Timeout] = field(default_factory=set, repr=False)  # /predict bodies arriving

    @property
    def ready(self) -> bool:
        return self.phase == "ready"

    def begin_drain(self) -> None:
        """Stop taking work: /ready and new /predict answer 503 from now on. Queued work still runs
        until DRAIN_TIMEOUT_S has passed; what is left then is answered 503 (``expire_drain``), before
        uvicorn's own, later deadline would cancel it with a 500. Safe to call from a signal handler."""
        if self.phase != "failed":
            self.phase = "draining"
        self.metrics.ready.set(0)
        if self.drain_deadline is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # no loop (not serving yet): nothing can be queued either
                return
            self.drain_deadline = loop.time() + self.settings.drain_timeout_s
            loop.call_soon_threadsafe(self._arm_drain_deadline, loop)

    def _arm_drain_deadline(self, loop: asyncio.AbstractEventLoop) -> None:
        deadline = self.drain_deadline
        if deadline is None or self._deadline_timer is not None:
            return
        self._deadline_timer = loop.call_at(deadline, self.expire_drain)
        for reading in self.body_reads:  # bodies still arriving must be complete by the deadline too
            when = reading.when()
            if when is None or when > deadline:
                reading.reschedule(deadline)

    def expire_drain(self) -> None:
        """The drain deadline has passed: answer every request still waiting for the model 503 now."""
        if self.batcher is not None:
            self._report_left(self.batcher.abandon(Draining(self.too_late())))

    def too_late(self) -> str:
        return (
            f"not served within DRAIN_TIMEOUT_S={self.settings.drain_timeout_s:g} of the stop signal; retry"
        )

    def _report_left(self, left: int) -> None:
        if left:
            log.warning(
                "drain deadline passed (DRAIN_TIMEOUT_S=%g): %d requests not served were answered 503 "
                "with Retry-After",
                self.settings.drain_timeout_s,
                left,
            )

    async def load(self) -> None:
        """Fetch, load and warm the model, then start the batcher and turn ready (unless draining)."""
        settings, metrics = self.settings, self.metrics
        try:
            limits = PrefixLimits(settings.model_max_objects, settings.model_max_bytes)
            path = await asyncio.to_thread(
                resolve_model_path, settings.model_path, settings.model_dir, settings.model_file, limits
            )
            device = select_device(settings.use_gpu, self.cuda_available)
            backend = await asyncio.to_thread(load_backend, settings, path, device)
            for n in sorted({1, settings.max_batch_size}):  # first-call costs (allocator, kernels) paid here
                await asyncio.to_thread(backend.predict, warmup_batch(backend, n))
        except Exception as exc:
            self.phase, self.error = "failed", str(exc)
            log.error("model load failed: %s", exc)
            if self.on_fatal is not None:
                self.on_fatal(exc)
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
        self.backend, self.batcher, self.device_name = backend, batcher, backend.device_name()
        if self.phase == "loading":
            self.phase = "ready"
            metrics.ready.set(1)
        log.info(
            "ready: %s model %s on %s, input %s %s",
            backend.kind,
            path.name,
            self.device_name,
            backend.input_shape,
            backend.input_dtype,
        )

    @asynccontextmanager
    async def lifespan(self, app: Any) -> AsyncIterator[None]:
        """The app's lifespan: load in the background; on shutdown drain within DRAIN_TIMEOUT_S."""
        task = asyncio.create_task(self.load(), name="mlserve-load")
        try:
            yield
        finally:
            self.begin_drain()
            if not task.done():
                task.cancel()
            if self.batcher is not None:
                loop = asyncio.get_running_loop()
                deadline = self.drain_deadline or loop.time() + self.settings.drain_timeout_s
                self._report_left(await self.batcher.stop(max(0.0, deadline - loop.time()), self.too_late()))
            if self._deadline_timer is not None:
                self._deadline_timer.cancel()
            log.info("drained; bye")
