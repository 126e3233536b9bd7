"""Dynamic batching: gather concurrent requests into one model call.

Requests (each ``(rows, *input_shape)``) wait in a bounded queue. One worker takes the first waiting
request, then keeps taking more until the batch holds ``max_batch_size`` rows or ``max_delay_s`` has
passed since the first was taken, and runs the model once in a single worker thread. While the model
runs, the event loop keeps parsing requests, so the next batch is ready when the model is free.

A full queue refuses new work (``QueueFull`` -> HTTP 503 + Retry-After) instead of growing memory.
A model error fails only the request that causes it: a failed batch of several requests is split in
halves until the poisoned request is found alone (``Batcher._isolate``), so its neighbours are
answered and one poisoned request among k costs about log2(k) + 2 extra calls, not k.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

log = logging.getLogger("mlserve.batching")

Predict = Callable[[np.ndarray], np.ndarray]


class QueueFull(Exception):
    """The request queue is at its bound; the client should retry later."""


class Draining(Exception):
    """The server is shutting down and takes no new work."""


class ModelError(Exception):
    """The model raised (or returned a wrong shape) for this request's batch."""


@dataclass(eq=False)  # hashed by identity: kept in a set while pending
class _Job:
    x: np.ndarray
    future: asyncio.Future[np.ndarray]
    enqueued: float = field(default_factory=time.perf_counter)

    @property
    def rows(self) -> int:
        return int(self.x.shape[0])


def _noop_batch(size: int, seconds: float) -> None:
    return None


def _noop_error() -> None:
    return None


class Batcher:
    def __init__(
        self,
        predict: Predict,
        max_batch_size: int,
        max_delay_s: float,
        max_queue: int,
        on_batch: Callable[[int, float], None] = _noop_batch,
        on_error: Callable[[], None] = _noop_error,
    ) -> None:
        self._predict = predict
        self.max_batch_size = max_batch_size
        self._max_delay_s = max_delay_s
        self._queue: asyncio.Queue[_Job | None] = asyncio.Queue(maxsize=max_queue)
        self._on_batch = on_batch
        self._on_error = on_error
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mlserve-model")
        self._worker: asyncio.Task[None] | None = None
        self._closing = False
        self._in_model = 0  # rows currently inside the model call
        self._pending: set[_Job] = set()  # submitted and not answered yet, wherever they are

    @property
    def queue_depth(self) -> int:
        """Requests waiting for a batch (not counting the batch in the model)."""
        return self._queue.qsize()

    @property
    def in_flight_rows(self) -> int:
        return self._in_model

    def start(self) -> None:
        if self._worker is None:
            self._worker = asyncio.get_running_loop().create_task(self._run(), name="mlserve-batcher")

    async def submit(self, x: np.ndarray) -> np.ndarray:
        """Queue ``x`` (rows <= max_batch_size) and wait for its rows of the model output."""
        if self._closing:
            raise Draining
        if x.shape[0] > self.max_batch_size:
            raise ValueError(f"{x.shape[0]} rows exceed max_batch_size={self.max_batch_size}")
        job = _Job(x, asyncio.get_running_loop().create_future())
        try:
            self._queue.put_nowait(job)
        except asyncio.QueueFull:
            raise QueueFull from None
        self._pending.add(job)
        try:
            return await job.future
        finally:
            self._pending.discard(job)

    async def stop(self, timeout_s: float, reason: str = "server is draining") -> int:
        """Refuse new work and finish what is queued within ``timeout_s``; whatever is unanswered then
        gets ``Draining(reason)``. Returns how many requests that was (0: everything was served)."""
        self._closing = True
        try:
            if self._worker is not None and not self._worker.done():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop_and_wait(), timeout_s)
            return self.abandon(Draining(reason))
        finally:
            self._executor.shutdown(wait=False)

    def abandon(self, exc: Exception) -> int:
        """Answer every request not answered yet with ``exc`` at once -- queued, being gathered into a
        batch, or in the model (its result is dropped; the model thread cannot be interrupted) -- and
        stop the worker. New work is refused from now on. Returns how many requests were answered."""
        self._closing = True
        if self._worker is not None and not self._worker.done():
            self._worker.cancel()
        answered = 0
        for job in list(self._pending):
            if not job.future.done():
                job.future.set_exception(exc)
                answered += 1
        while not self._queue.empty():
            self._queue.get_nowait()
        return answered

    async def _stop_and_wait(self) -> None:
        assert self._worker is not None
        await self._queue.put(None)  # sentinel: everything before it is served
        await asyncio.wait({self._worker})  # returns (does not raise) if abandon() cancelled it

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        carry: _Job | None = None
        stop_seen = False
        while True:
            if carry is not None:
                first, carry = carry, None
            elif stop_seen:
                return
            else:
                got = await self._queue.get()
                if got is None:
                    return
                first = got
            jobs = [first]
            rows = first.rows
            deadline = loop.time() + self._max_delay_s
            while rows < self.max_batch_size and not stop_seen:
                try:
                    nxt = self._queue.get_nowait()
                except asyncio.QueueEmpty:
                    remaining = deadline - loop.time()
                    if remaining <= 0 or self._closing:
                        break
                    try:
                        nxt = await asyncio.wait_for(self._queue.get(), remaining)
                    except TimeoutError:
                        break
                if nxt is None:
                    stop_seen = True
                    break
                if rows + nxt.rows > self.max_batch_size:
                    carry = nxt
                    break
                jobs.append(nxt)
                rows += nxt.rows
            await self._run_batch(loop, jobs)

    async def _run_batch(self, loop: asyncio.AbstractEventLoop, jobs: list[_Job]) -> None:
        live = [j for j in jobs if not j.future.done()]  # a client that went away needs no answer
        if not live:
            return
        exc = await self._try(loop, live)
        if exc is None:
            return
        if len(live) == 1:
            self._settle(live[0], exc=exc)
            return
        log.warning("batch of %d requests failed (%s); isolating the failing request(s)", len(live), exc)
        await self._isolate(loop, live)

    async def _try(self, loop: asyncio.AbstractEventLoop, jobs: list[_Job]) -> Exception | None:
        """Run ``jobs`` as one model call; on success answer them all and return None, else the error."""
        rows = sum(j.rows for j in jobs)
        x = jobs[0].x if len(jobs) == 1 else np.concatenate([j.x for j in jobs])
        started = time.perf_counter()
        self._in_model = rows
        try:
            y = await loop.run_in_executor(self._executor, self._checked_predict, x)
        except Exception as exc:
            self._on_error()
            return exc
        finally:
            self._in_model = 0
        self._on_batch(rows, time.perf_counter() - started)
        offset = 0
        for job in jobs:
            self._settle(job, result=y[offset : offset + job.rows])
            offset += job.rows
        return None

    async def _isolate(self, loop: asyncio.AbstractEventLoop, jobs: list[_Job]) -> None:
        """``jobs`` failed as one batch: answer every request that is not at fault, fail the rest.

        First the failure is followed down by halving: run the first half of the group known to fail;
        if it succeeds, the failure is in the second half, which is split in turn without being run
        whole; if it fails, the second half is set aside (it may well be clean) and the first is
        followed. Then everything set aside runs as one call. With one poisoned request among k that
        is about log2(k) + 2 calls of shrinking size (retrying each request alone cost k). If the
        set-aside call fails too, more than one request is at fault and each set-aside half is
        resolved on its own the same way without setting aside (``_bisect``): at worst, every request
        poisoned, about 2k calls. A request is failed only after it failed alone: an inferred culprit
        is run once more by itself, so a transient error blames nobody.
        """
        aside = await self._bisect(loop, [(jobs, True)], set_aside=True)
        rest = [j for group in aside for j in group if not j.future.done()]
        if not rest:
            return
        exc = await self._try(loop, rest)
        if exc is None:
            return
        if len(rest) == 1:
            self._settle(rest[0], exc=exc)
            return
        await self._bisect(loop, [(group, False) for group in aside], set_aside=False)

    async def _bisect(
        self, loop: asyncio.AbstractEventLoop, todo: list[tuple[list[_Job], bool]], set_aside: bool
    ) -> list[list[_Job]]:
        """Resolve ``(group, known to fail)`` items by halving. With ``set_aside`` the half that may be
        clean is returned instead of being run; without, everything is resolved here."""
        aside: list[list[_Job]] = []
        while todo:
            group, known_bad = todo.pop()
            group = [j for j in group if not j.future.done()]
            if not group:
                continue
            if len(group) == 1 or not known_bad:
                exc = await self._try(loop, group)
                if exc is not None:
                    if len(group) == 1:
                        self._settle(group[0], exc=exc)
                    else:
                        todo.append((group, True))
                continue
            half = len(group) // 2
            first, second = group[:half], group[half:]
            exc = await self._try(loop, first)
            if exc is None:
                todo.append((second, True))  # the failure is in the second half: split it, do not rerun it
                continue
            if set_aside:
                aside.append(second)
            else:
                todo.append((second, False))  # may be clean: run it whole, after the first half is resolved
            if len(first) == 1:
                self._settle(first[0], exc=exc)
            else:
                todo.append((first, True))
        return aside

    def _checked_predict(self, x: np.ndarray) -> np.ndarray:
        y = self._predict(x)
        if not isinstance(y, np.ndarray) or y.ndim == 0 or y.shape[0] != x.shape[0]:
            got = getattr(y, "shape", type(y).__name__)
            raise ModelError(f"model returned {got} for a batch of {x.shape[0]} rows")
        return y

    @staticmethod
    def _settle(job: _Job, result: np.ndarray | None = None, exc: Exception | None = None) -> None:
        if job.future.done():
            return
        if exc is not None:
            err = exc if isinstance(exc, ModelError) else ModelError(f"{type(exc).__name__}: {exc}")
            job.future.set_exception(err)
        else:
            assert result is not None
            job.future.set_result(result)
