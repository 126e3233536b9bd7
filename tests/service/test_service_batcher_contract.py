"""The batcher's contract, model held where needed so nothing depends on timing: batches fill up to
``max_batch_size`` rows in arrival order, a request that would overflow waits for the next batch, the
queue is bounded (``QueueFull`` instead of growing memory), wrong model output fails the request with a
clear error, a client that went away costs no model time, and stop/abandon answer everyone.

(tests/service/test_service_batching.py covers poison isolation; test_service_app.py the same through
HTTP: 503 + Retry-After for a full queue, the drain.)
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

import numpy as np
import pytest

from service.mlserve.batching import Batcher, Draining, ModelError, QueueFull


class Model:
    """y = 2x; every call's input is recorded; calls block while ``gate`` is clear."""

    def __init__(self, fn: Callable[[np.ndarray], object] | None = None) -> None:
        self.calls: list[np.ndarray] = []
        self.gate = threading.Event()
        self.gate.set()
        self.fn = fn

    def __call__(self, x: np.ndarray) -> np.ndarray:
        self.calls.append(x.copy())
        assert self.gate.wait(10), "the test never released the model"
        if self.fn is not None:
            return self.fn(x)  # type: ignore[return-value]
        out: np.ndarray = x * 2.0
        return out

    @property
    def rows(self) -> list[int]:
        return [int(c.shape[0]) for c in self.calls]


def rows(*values: float) -> np.ndarray:
    return np.array([[v] for v in values], dtype=np.float32)


async def until(check: Callable[[], bool]) -> None:
    async with asyncio.timeout(5):
        while not check():
            await asyncio.sleep(0.002)


async def hold_first(batcher: Batcher, model: Model, x: np.ndarray) -> asyncio.Future[np.ndarray]:
    """Submit ``x`` and wait until it is inside the model, which stays blocked until ``model.gate`` is set."""
    model.gate.clear()
    before = len(model.calls)
    first = asyncio.ensure_future(batcher.submit(x))
    await until(lambda: len(model.calls) == before + 1)
    return first


def submit_all(batcher: Batcher, xs: list[np.ndarray]) -> list[asyncio.Future[np.ndarray]]:
    return [asyncio.ensure_future(batcher.submit(x)) for x in xs]


async def test_queued_requests_fill_batches_up_to_max_batch_rows_in_arrival_order() -> None:
    model = Model()
    batcher = Batcher(model, max_batch_size=4, max_delay_s=0.0, max_queue=16)
    batcher.start()
    first = await hold_first(batcher, model, rows(0))
    waiting = submit_all(batcher, [rows(float(i)) for i in range(1, 10)])
    await until(lambda: batcher.queue_depth == 9)
    model.gate.set()
    got = await asyncio.gather(first, *waiting)
    assert model.rows == [1, 4, 4, 1]
    assert [c[:, 0].tolist() for c in model.calls] == [[0.0], [1, 2, 3, 4], [5, 6, 7, 8], [9]]
    assert [float(g[0, 0]) for g in got] == [2.0 * i for i in range(10)]  # each gets its own row back
    assert all(g.shape == (1, 1) for g in got)
    assert await batcher.stop(1.0) == 0


async def test_a_request_that_would_overflow_the_batch_goes_first_into_the_next_one() -> None:
    model = Model()
    batcher = Batcher(model, max_batch_size=4, max_delay_s=0.0, max_queue=16)
    batcher.start()
    first = await hold_first(batcher, model, rows(0))
    a, b, c = submit_all(batcher, [rows(1, 2), rows(3, 4, 5), rows(6)])
    await until(lambda: batcher.queue_depth == 3)
    model.gate.set()
    got_a, got_b, got_c = await asyncio.gather(a, b, c)
    await first
    # a (2 rows) + b (3 rows) would be 5 > 4: a runs alone, b is carried (not lost, not reordered) and c
    # joins it.
    assert model.rows == [1, 2, 4]
    assert (
        got_a[:, 0].tolist() == [2, 4] and got_b[:, 0].tolist() == [6, 8, 10] and got_c[:, 0].tolist() == [12]
    )
    assert await batcher.stop(1.0) == 0


async def test_a_request_larger_than_a_batch_is_refused_and_one_that_fits_exactly_is_served() -> None:
    model = Model()
    batcher = Batcher(model, max_batch_size=4, max_delay_s=0.0, max_queue=16)
    batcher.start()
    with pytest.raises(ValueError, match=r"^5 rows exceed max_batch_size=4$"):
        await batcher.submit(rows(1, 2, 3, 4, 5))
    assert (await batcher.submit(rows(1, 2, 3, 4)))[:, 0].tolist() == [2, 4, 6, 8]
    assert model.rows == [4]
    await batcher.stop(1.0)


async def test_a_full_queue_refuses_at_once_and_takes_work_again_once_it_drains() -> None:
    model = Model()
    batcher = Batcher(model, max_batch_size=1, max_delay_s=0.0, max_queue=2)
    batcher.start()
    first = await hold_first(batcher, model, rows(0))
    queued = submit_all(batcher, [rows(1), rows(2)])
    await until(lambda: batcher.queue_depth == 2)
    with pytest.raises(QueueFull):
        await batcher.submit(rows(3))  # refused now, not queued without bound
    assert batcher.queue_depth == 2
    model.gate.set()
    got = await asyncio.gather(first, *queued)
    assert [float(g[0, 0]) for g in got] == [0.0, 2.0, 4.0]
    assert float((await batcher.submit(rows(3)))[0, 0]) == 6.0
    assert model.rows == [1, 1, 1, 1]  # the refused request never reached the model
    await batcher.stop(1.0)


async def test_in_flight_rows_is_the_batch_in_the_model() -> None:
    model = Model()
    batcher = Batcher(model, max_batch_size=4, max_delay_s=0.0, max_queue=16)
    batcher.start()
    assert batcher.in_flight_rows == 0
    first = await hold_first(batcher, model, rows(1, 2, 3))
    assert batcher.in_flight_rows == 3 and batcher.queue_depth == 0
    model.gate.set()
    await first
    assert batcher.in_flight_rows == 0
    await batcher.stop(1.0)


async def test_a_request_arriving_within_the_delay_joins_the_batch() -> None:
    model = Model()
    # A long delay and a batch of two: the second request fills the batch, which then runs at once.
    batcher = Batcher(model, max_batch_size=2, max_delay_s=30.0, max_queue=16)
    batcher.start()
    a = asyncio.ensure_future(batcher.submit(rows(1)))
    await until(lambda: batcher.queue_depth == 0 and a in asyncio.all_tasks())
    await asyncio.sleep(0.01)  # the worker has taken the first request and waits for more
    assert model.calls == []
    b = asyncio.ensure_future(batcher.submit(rows(2)))
    async with asyncio.timeout(5):
        got = await asyncio.gather(a, b)
    assert model.rows == [2] and [float(g[0, 0]) for g in got] == [2.0, 4.0]
    await batcher.stop(1.0)


async def test_a_lone_request_runs_once_the_delay_has_passed() -> None:
    model = Model()
    batcher = Batcher(model, max_batch_size=32, max_delay_s=0.01, max_queue=16)
    batcher.start()
    async with asyncio.timeout(5):
        got = await batcher.submit(rows(7))
    assert float(got[0, 0]) == 14.0 and model.rows == [1]
    await batcher.stop(1.0)


async def test_a_client_that_went_away_costs_no_model_time() -> None:
    model = Model()
    batcher = Batcher(model, max_batch_size=4, max_delay_s=0.0, max_queue=16)
    batcher.start()
    first = await hold_first(batcher, model, rows(0))
    gone, kept = submit_all(batcher, [rows(1), rows(2)])
    await until(lambda: batcher.queue_depth == 2)
    gone.cancel()
    await asyncio.sleep(0)
    model.gate.set()
    await first
    assert float((await kept)[0, 0]) == 4.0
    assert [c[:, 0].tolist() for c in model.calls] == [[0.0], [2.0]]
    # A batch whose every client went away is not run at all.
    first = await hold_first(batcher, model, rows(0))
    (alone,) = submit_all(batcher, [rows(5)])
    await until(lambda: batcher.queue_depth == 1)
    alone.cancel()
    await asyncio.sleep(0)
    model.gate.set()
    await first
    assert float((await batcher.submit(rows(7)))[0, 0]) == 14.0  # served after the abandoned batch
    assert [c[:, 0].tolist() for c in model.calls] == [[0.0], [2.0], [0.0], [7.0]]
    await batcher.stop(1.0)


@pytest.mark.parametrize(
    ("output", "message"),
    [
        (lambda x: x[:-1], "model returned (2, 1) for a batch of 3 rows"),
        (lambda x: np.float32(1.0) * np.ones(()), "model returned () for a batch of 3 rows"),
        (lambda x: x.tolist(), "model returned list for a batch of 3 rows"),
    ],
)
async def test_wrong_model_output_fails_the_request_saying_what_came_back(
    output: Callable[[np.ndarray], object], message: str
) -> None:
    errors: list[None] = []
    batcher = Batcher(Model(output), 4, 0.0, 16, on_error=lambda: errors.append(None))
    batcher.start()
    with pytest.raises(ModelError) as failed:
        await batcher.submit(rows(1, 2, 3))
    assert str(failed.value) == message and len(errors) == 1
    await batcher.stop(1.0)


async def test_a_model_exception_reaches_the_client_as_a_model_error_naming_it() -> None:
    def boom(x: np.ndarray) -> np.ndarray:
        raise ValueError("row 0 is not a number")

    batcher = Batcher(Model(boom), 4, 0.0, 16)
    batcher.start()
    with pytest.raises(ModelError) as failed:
        await batcher.submit(rows(1))
    assert str(failed.value) == "ValueError: row 0 is not a number"
    await batcher.stop(1.0)


async def test_every_model_call_is_reported_with_its_rows() -> None:
    batches: list[tuple[int, float]] = []
    model = Model()
    batcher = Batcher(model, 4, 0.0, 16, on_batch=lambda n, s: batches.append((n, s)))
    batcher.start()
    first = await hold_first(batcher, model, rows(0))
    waiting = submit_all(batcher, [rows(1, 2), rows(3)])
    await until(lambda: batcher.queue_depth == 2)
    model.gate.set()
    await asyncio.gather(first, *waiting)
    assert [n for n, _ in batches] == [1, 3] and all(0 <= s < 60 for _, s in batches)  # the call's duration
    await batcher.stop(1.0)


async def test_stop_serves_everything_queued_then_refuses_new_work() -> None:
    model = Model()
    batcher = Batcher(model, max_batch_size=1, max_delay_s=0.0, max_queue=16)
    batcher.start()
    first = await hold_first(batcher, model, rows(0))
    queued = submit_all(batcher, [rows(1), rows(2)])
    await until(lambda: batcher.queue_depth == 2)
    stopping = asyncio.ensure_future(batcher.stop(5.0))
    await asyncio.sleep(0.01)
    with pytest.raises(Draining):
        await batcher.submit(rows(3))
    model.gate.set()
    assert await stopping == 0
    assert [float(g[0, 0]) for g in await asyncio.gather(first, *queued)] == [0.0, 2.0, 4.0]


async def test_stop_past_its_timeout_answers_the_rest_with_the_reason() -> None:
    model = Model()
    batcher = Batcher(model, max_batch_size=1, max_delay_s=0.0, max_queue=16)
    batcher.start()
    first = await hold_first(batcher, model, rows(0))
    (queued,) = submit_all(batcher, [rows(1)])
    await until(lambda: batcher.queue_depth == 1)
    assert await batcher.stop(0.05, reason="drain deadline passed") == 2
    for fut in (first, queued):
        with pytest.raises(Draining, match=r"^drain deadline passed$"):
            await fut
    model.gate.set()
    assert batcher.queue_depth == 0


async def test_stop_without_a_worker_and_abandon_of_nothing_answer_nobody() -> None:
    batcher = Batcher(Model(), 4, 0.0, 16)
    assert await batcher.stop(0.1) == 0  # never started
    with pytest.raises(Draining):
        await batcher.submit(rows(1))
    started = Batcher(Model(), 4, 0.0, 16)
    started.start()
    assert started.abandon(Draining("x")) == 0


async def test_the_model_runs_in_its_own_named_thread_never_the_event_loop() -> None:
    threads: list[str] = []

    def record(x: np.ndarray) -> np.ndarray:
        threads.append(threading.current_thread().name)
        out: np.ndarray = x * 2.0
        return out

    batcher = Batcher(Model(record), 4, 0.0, 16)
    batcher.start()
    for i in range(3):
        await batcher.submit(rows(float(i)))
    assert threads == ["mlserve-model_0"] * 3
    await batcher.stop(1.0)


async def test_a_one_dimensional_output_of_the_right_length_is_served() -> None:
    batcher = Batcher(Model(lambda x: x[:, 0] * 3.0), 4, 0.0, 16)
    batcher.start()
    got = await batcher.submit(rows(1, 2))
    assert got.tolist() == [3.0, 6.0]
    await batcher.stop(1.0)


async def test_a_request_arriving_within_a_short_delay_joins_the_batch() -> None:
    model = Model()
    batcher = Batcher(model, max_batch_size=2, max_delay_s=0.9, max_queue=16)
    batcher.start()
    a = asyncio.ensure_future(batcher.submit(rows(1)))
    await until(lambda: batcher.queue_depth == 0 and a in asyncio.all_tasks())
    await asyncio.sleep(0.01)
    b = asyncio.ensure_future(batcher.submit(rows(2)))
    await asyncio.gather(a, b)
    assert model.rows == [2]
    await batcher.stop(1.0)


async def test_stop_runs_a_half_gathered_batch_and_returns_as_soon_as_it_is_served() -> None:
    model = Model()
    batcher = Batcher(model, max_batch_size=4, max_delay_s=30.0, max_queue=16)
    batcher.start()
    first = await hold_first(batcher, model, rows(0, 0, 0, 0))  # a full batch: in the model at once
    queued = submit_all(batcher, [rows(1), rows(2)])
    await until(lambda: batcher.queue_depth == 2)
    stopping = asyncio.ensure_future(batcher.stop(30.0))
    await asyncio.sleep(0.01)
    model.gate.set()
    async with asyncio.timeout(5):  # not the 30 s of the delay or of stop's own limit
        assert await stopping == 0
    got = await asyncio.gather(first, *queued)
    assert [g[:, 0].tolist() for g in got] == [[0.0] * 4, [2.0], [4.0]]
    assert model.rows == [4, 2]


async def test_draining_says_so_by_default() -> None:
    model = Model()
    batcher = Batcher(model, 1, 0.0, 16)
    batcher.start()
    first = await hold_first(batcher, model, rows(0))
    assert await batcher.stop(0.01) == 1
    with pytest.raises(Draining, match=r"^server is draining$"):
        await first
    model.gate.set()


async def test_abandon_stops_the_worker_and_answered_requests_are_forgotten() -> None:
    model = Model()
    batcher = Batcher(model, 4, 0.0, 16)
    batcher.start()
    for i in range(5):
        await batcher.submit(rows(float(i)))
    assert batcher._pending == set()  # nothing kept per answered request: memory stays bounded
    worker = batcher._worker
    assert worker is not None and not worker.done()
    assert batcher.abandon(Draining("x")) == 0
    await asyncio.sleep(0)
    assert worker.done()


async def test_a_failed_batch_is_logged_and_two_poisoned_requests_cost_three_calls(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def poison(x: np.ndarray) -> np.ndarray:
        if (x < 0).any():
            raise ValueError("poison")
        out: np.ndarray = x * 2.0
        return out

    model = Model(poison)
    batcher = Batcher(model, 2, 0.0, 16)
    batcher.start()
    first = await hold_first(batcher, model, rows(5))
    a, b = submit_all(batcher, [rows(-1), rows(-2)])
    await until(lambda: batcher.queue_depth == 2)
    with caplog.at_level("WARNING", logger="mlserve.batching"):
        model.gate.set()
        got = await asyncio.gather(first, a, b, return_exceptions=True)
    assert float(got[0][0, 0]) == 10.0  # type: ignore[index]
    assert all(isinstance(g, ModelError) and str(g) == "ValueError: poison" for g in got[1:])
    # The pair, the first alone (fails: the second is set aside), the second alone (fails too).
    assert [c[:, 0].tolist() for c in model.calls] == [[5.0], [-1.0, -2.0], [-1.0], [-2.0]]
    assert [r.getMessage() for r in caplog.records] == [
        "batch of 2 requests failed (poison); isolating the failing request(s)"
    ]
    await batcher.stop(1.0)


@pytest.mark.parametrize(
    ("poisoned", "calls"),
    [
        # Halving with the second half set aside, then the set-aside requests as one call; when that fails
        # too, each set-aside group runs whole first and is split only if it fails (Batcher._isolate).
        ([1, 0, 0, 1], [[-1, 2, 3, -4], [-1, 2], [-1], [3, -4, 2], [2], [3, -4], [3], [-4]]),
        (
            [1, 0, 0, 0, 1, 0, 1, 0],
            [
                [-1, 2, 3, 4, -5, 6, -7, 8],
                [-1, 2, 3, 4],
                [-1, 2],
                [-1],
                [-5, 6, -7, 8, 3, 4, 2],
                [2],
                [3, 4],
                [-5, 6, -7, 8],
                [-5, 6],
                [-5],
                [6],
                [-7, 8],
                [-7],
                [8],
            ],
        ),
    ],
)
async def test_isolating_several_poisoned_requests_follows_the_documented_order(
    poisoned: list[int], calls: list[list[int]]
) -> None:
    def poison(x: np.ndarray) -> np.ndarray:
        if (x < 0).any():
            raise ValueError("poison")
        out: np.ndarray = x * 2.0
        return out

    model = Model(poison)
    batcher = Batcher(model, len(poisoned), 5.0, 64)
    batcher.start()
    values = [float(-(i + 1) if p else i + 1) for i, p in enumerate(poisoned)]
    got = await asyncio.gather(*[batcher.submit(rows(v)) for v in values], return_exceptions=True)
    assert [isinstance(g, ModelError) for g in got] == [bool(p) for p in poisoned]
    assert [[int(v) for v in c[:, 0]] for c in model.calls] == calls
    await batcher.stop(1.0)


async def test_a_client_leaving_during_isolation_does_not_strand_the_others() -> None:
    # Two poisoned requests (-1, -4) among four. While the set-aside requests [3, -4, 2] run together, the
    # client of 2 goes away: its group is then empty, and the groups after it must still be resolved.
    in_rest = threading.Event()
    release = threading.Event()

    def poison(x: np.ndarray) -> np.ndarray:
        if x[:, 0].tolist() == [3.0, -4.0, 2.0]:
            in_rest.set()
            assert release.wait(10)
        if (x < 0).any():
            raise ValueError("poison")
        out: np.ndarray = x * 2.0
        return out

    model = Model(poison)
    batcher = Batcher(model, 4, 5.0, 64)
    batcher.start()
    one, two, three, four = submit_all(batcher, [rows(-1), rows(2), rows(3), rows(-4)])
    await until(in_rest.is_set)
    two.cancel()
    await asyncio.sleep(0)
    release.set()
    async with asyncio.timeout(5):
        got = await asyncio.gather(one, three, four, return_exceptions=True)
    assert isinstance(got[0], ModelError) and isinstance(got[2], ModelError)
    assert isinstance(got[1], np.ndarray) and float(got[1][0, 0]) == 6.0
    assert [2.0] not in [
        c[:, 0].tolist() for c in model.calls[4:]
    ]  # the gone client's request never ran again
    await batcher.stop(1.0)
