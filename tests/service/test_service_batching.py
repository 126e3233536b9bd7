"""The batcher alone, with a model function that counts its calls: poison isolation and the drain."""

from __future__ import annotations

import asyncio
import math
import threading

import numpy as np
import pytest

from service.mlserve.batching import Batcher, Draining, ModelError

POISON = -999.0


class CountingModel:
    """y = 2x per row; raises when any row holds POISON (or always, for the first ``flaky`` calls)."""

    def __init__(self, flaky: int = 0, gate: threading.Event | None = None) -> None:
        self.calls: list[int] = []  # rows per call
        self.flaky = flaky
        self.gate = gate

    def __call__(self, x: np.ndarray) -> np.ndarray:
        self.calls.append(int(x.shape[0]))
        if self.gate is not None:
            self.gate.wait(10)
        if len(self.calls) <= self.flaky:
            raise RuntimeError("transient failure")
        if (x == POISON).any():
            raise ValueError("poison")
        out: np.ndarray = x * 2.0
        return out


async def run_batch(model: CountingModel, rows: list[float], max_batch: int = 32) -> list[object]:
    """Submit one row per request, all at once, so that they share one batch; the answers in order."""
    batcher = Batcher(model, max_batch, max_delay_s=5.0, max_queue=1024)
    batcher.start()
    try:
        got = await asyncio.gather(
            *[batcher.submit(np.array([[r]], dtype=np.float32)) for r in rows], return_exceptions=True
        )
    finally:
        await batcher.stop(5.0)
    return list(got)


def check_answers(rows: list[float], got: list[object]) -> None:
    for r, g in zip(rows, got, strict=True):
        if r == POISON:
            assert isinstance(g, ModelError) and "poison" in str(g), g
        else:
            assert isinstance(g, np.ndarray) and float(g[0, 0]) == 2.0 * r, g


@pytest.mark.parametrize("where", [0, 1, 13, 16, 30, 31])
async def test_one_poisoned_request_is_found_by_halving(where: int) -> None:
    rows = [float(i) for i in range(32)]
    rows[where] = POISON
    model = CountingModel()
    got = await run_batch(model, rows)
    check_answers(rows, got)
    assert model.calls[0] == 32  # one batch
    # then one call per halving 32 -> 16 -> 8 -> 4 -> 2 -> 1, one for the halves set aside on the way
    # and one to run an inferred culprit alone; retrying each request alone was 32 more calls
    assert len(model.calls) <= 1 + int(math.log2(32)) + 2, model.calls


@pytest.mark.parametrize("poisoned", [[3, 20], [0, 1, 2], list(range(0, 32, 4)), list(range(32))])
async def test_several_poisoned_requests_fail_and_no_neighbour_does(poisoned: list[int]) -> None:
    rows = [float(i) for i in range(32)]
    for i in poisoned:
        rows[i] = POISON
    model = CountingModel()
    got = await run_batch(model, rows)
    check_answers(rows, got)
    # bounded: the batch, every split of the 32 (31), every request alone (32) and one call for the
    # halves set aside; rows: the batch once per level, and the set-aside halves (31 rows) once more
    assert len(model.calls) <= 1 + 31 + 32 + 1, model.calls
    assert sum(model.calls) <= 32 + 32 * int(math.log2(32)) + 31, model.calls


async def test_a_request_is_failed_only_after_it_failed_alone() -> None:
    """A transient failure (the first three calls raise) blames only a request whose own call failed."""
    rows = [float(i) for i in range(8)]
    model = CountingModel(flaky=3)
    got = await run_batch(model, rows, max_batch=8)  # the 8 rows fill the batch: no wait for more
    blamed = [g for g in got if isinstance(g, ModelError)]
    assert len(blamed) == sum(1 for n in model.calls[:3] if n == 1), (model.calls, got)
    for r, g in zip(rows, got, strict=True):
        assert isinstance(g, ModelError) or (isinstance(g, np.ndarray) and float(g[0, 0]) == 2.0 * r), g


async def test_abandon_answers_every_pending_request_with_draining() -> None:
    """At the drain deadline the queued requests and the one in the model are all answered at once."""
    gate = threading.Event()
    model = CountingModel(gate=gate)
    batcher = Batcher(model, 2, max_delay_s=0.0, max_queue=64)
    batcher.start()
    subs = [asyncio.ensure_future(batcher.submit(np.array([[float(i)]], dtype=np.float32))) for i in range(9)]
    while not model.calls:  # the first batch is inside the model, held by the gate
        await asyncio.sleep(0.005)
    n = batcher.abandon(Draining("deadline"))
    got = await asyncio.gather(*subs, return_exceptions=True)
    gate.set()
    assert n == 9 and all(isinstance(g, Draining) for g in got), got
    with pytest.raises(Draining):
        await batcher.submit(np.array([[1.0]], dtype=np.float32))
    assert await batcher.stop(1.0) == 0  # nothing left; and stop after abandon does not raise
