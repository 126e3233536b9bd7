"""The TUI dashboard's refresh latency, AWS calls per refresh, and how fast it answers a key while a
refresh worker runs, against the moto server with 10 and 100 running tasks. Prints medians (and the
ratio of key latency during a refresh to key latency at rest, measured in the same run); --json for a
machine-readable record.

    .venv/bin/python benchmarks/tui_dashboard.py [--runs N] [--tasks 10,100] [--json]

For each task count the moto server is reset and the service of tests/live/helpers.py is created (every
task registered in the target group, metric data put), then ``mlfargate-tui``'s app runs headless
(Textual's pilot, 160x60) on the dashboard, reading moto through the production client factory, with
an injected clock so each kind of refresh can be chosen:

* ``full``: ``r`` a minute after the last full read: every part (ECS, target health, CloudWatch,
  scaling, account, target group), as the first refresh after each minute.
* ``tick``: ``r`` 15 s later: ECS and target health only (CloudWatch at most once a minute), what the
  15-second interval pays.
* refresh latency: from ``refresh_now()`` (what ``r`` and the interval call) until the new snapshot is
  rendered (the worker's AWS calls, the doctor, then the UI thread updating every panel and table in
  place).
* ``key``: once a tick's worker has made its first AWS call, ``down``/``up`` on the tasks table as the
  terminal delivers it (a Key event to the app): from posting the key until the cursor has moved (the
  UI thread handled it). A key handled after that refresh had finished is not counted as "during a
  refresh"; how many were is reported.
* ``key at rest``: the same key with no refresh running.

moto answers every ListTasks in one page and does not implement DescribeScalingActivities (HTTP 500;
AWS_MAX_ATTEMPTS=1 so that costs no backoff). Against AWS each call is a network round trip on top.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.status import start_moto, use_fake_aws  # noqa: E402
from mlfargate.live.clients import aws_factory  # noqa: E402
from tests.live.helpers import REGION, Deployment, post, spec_from  # noqa: E402
from tui.app import MlfargateApp  # noqa: E402
from tui.dashboard.screen import DashboardScreen  # noqa: E402
from tui.dashboard.source import LiveSource  # noqa: E402
from tui.widgets.keyed_table import KeyedTable  # noqa: E402

SIZE = (160, 60)


async def wait(condition: Any, seconds: float = 60.0) -> None:
    deadline = time.perf_counter() + seconds
    while not condition():
        if time.perf_counter() > deadline:
            raise TimeoutError("the dashboard did not get there")
        await asyncio.sleep(0.001)


async def measure(url: str, tasks: int, runs: int) -> dict[str, Any]:
    post(f"{url}/moto-api/reset")
    post(
        f"{url}/moto-api/state-manager/set-transition",
        {"model_name": "ecs::task", "transition": {"progression": "manual", "times": 1_000_000}},
    )
    deployment = Deployment(url).create()
    deployment.run_tasks(tasks, "FARGATE_SPOT")
    deployment.put_metrics()
    clock = {"now": datetime.now(UTC)}
    #: Set by the worker thread when a refresh makes its first AWS call.
    calling = threading.Event()

    def factory() -> Any:
        base = aws_factory(REGION, None, url)

        def make(service: str) -> Any:
            client = base(service)
            client.meta.events.register("before-call", lambda **_: calling.set())
            return client

        return make

    source = LiveSource(spec_from(), factory=factory, clock=lambda: clock["now"])
    app = MlfargateApp(
        Path("mlfargate.yaml"), start="dashboard", source=source, every_s=3600, cursor_blink=False
    )
    out: dict[str, list[float]] = {k: [] for k in ("full_ms", "tick_ms", "key_during_ms", "key_rest_ms")}
    calls: dict[str, int] = {}
    missed = 0
    async with app.run_test(size=SIZE) as pilot:
        await wait(lambda: isinstance(app.screen, DashboardScreen) and app.screen.refreshes >= 1)
        screen = app.screen
        assert isinstance(screen, DashboardScreen)
        table = screen.query_one("#tasks", KeyedTable)
        table.focus()
        await pilot.pause()
        assert len(table.given_rows) == tasks, (len(table.given_rows), tasks)

        async def key() -> float:
            """A key as the terminal delivers it (a Key event to the app), until the cursor moved."""
            row = table.cursor_row
            started = time.perf_counter()
            app.simulate_key("down" if row < table.row_count - 1 else "up")
            await wait(lambda: table.cursor_row != row)
            return (time.perf_counter() - started) * 1000

        async def refresh(advance: int) -> float:
            """``r`` (refresh_now, as the key and the interval call it) until the snapshot is rendered."""
            clock["now"] += timedelta(seconds=advance)
            done = screen.refreshes
            started = time.perf_counter()
            screen.refresh_now()
            await wait(lambda: screen.refreshes > done)
            elapsed = (time.perf_counter() - started) * 1000
            assert screen.failure is None, screen.failure
            return elapsed

        for _ in range(runs):
            out["full_ms"].append(await refresh(60))
            assert screen.view is not None
            calls["full"] = screen.view.latest.call_count
            out["tick_ms"].append(await refresh(15))
            calls["tick"] = screen.view.latest.call_count
            # A key while a tick's worker is in its AWS calls.
            clock["now"] += timedelta(seconds=15)
            done = screen.refreshes
            calling.clear()
            screen.refresh_now()
            await wait(calling.is_set)
            ms = await key()
            if screen.refreshes == done:  # the refresh was still running when the key was handled
                out["key_during_ms"].append(ms)
            else:
                missed += 1
            await wait(lambda done=done: screen.refreshes > done)
            await pilot.pause()
            out["key_rest_ms"].append(await key())
    medians = {k: statistics.median(v) if v else None for k, v in out.items()}
    during, rest = medians["key_during_ms"], medians["key_rest_ms"]
    return {
        "tasks": tasks,
        **medians,
        "key_ratio": during / rest if during and rest else None,
        "keys_during_refresh": len(out["key_during_ms"]),
        "keys_missed_refresh": missed,
        "key_during_max_ms": max(out["key_during_ms"]) if out["key_during_ms"] else None,
        "full_calls": calls["full"],
        "tick_calls": calls["tick"],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9, help="refreshes of each kind per task count (median)")
    parser.add_argument("--tasks", default="10,100", help="comma-separated task counts")
    parser.add_argument("--json", action="store_true", help="print one JSON record")
    args = parser.parse_args()
    use_fake_aws()
    load_before = os.getloadavg()[0]
    proc, url = start_moto()
    try:
        rows = [asyncio.run(measure(url, int(n), args.runs)) for n in args.tasks.split(",")]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    record = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()} {os.cpu_count()} cpus",
        "load_before": round(load_before, 2),
        "load_after": round(os.getloadavg()[0], 2),
        "runs": args.runs,
        "rows": rows,
    }
    if args.json:
        print(json.dumps(record, indent=2))
        return 0
    print(f"{record['when']} {record['machine']} load {record['load_before']} -> {record['load_after']}")
    print("tasks  calls full/tick  full ms  tick ms  key during refresh ms (n, max)  key at rest ms  ratio")
    for r in rows:
        print(
            f"{r['tasks']:>5}  {r['full_calls']:>5}/{r['tick_calls']:<4}  {r['full_ms']:7.0f}  {r['tick_ms']:7.0f}"
            f"  {r['key_during_ms'] or 0:8.1f} ({r['keys_during_refresh']}, {r['key_during_max_ms'] or 0:.1f})"
            f"         {r['key_rest_ms']:8.1f}  {r['key_ratio'] or 0:5.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
