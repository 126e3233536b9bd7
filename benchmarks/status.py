"""Snapshot latency and AWS calls per refresh of `mlfargate status`, against the moto server, with
1, 10, 100 and 250 running tasks. Prints medians; --json for a machine-readable record.

    .venv/bin/python benchmarks/status.py [--runs N] [--tasks 1,10,100,250] [--json]

For each task count the moto server is reset and the service of tests/live/helpers.py is created
(cluster, ALB target group with every task registered, scaling, a schedule, metric data), then:

* ``cold``: a new Watcher's first refresh, boto3 clients made on the way: what one `mlfargate status`
  pays after start-up.
* ``full``: the same Watcher a minute later (the clock is injected): every part again (ECS, target
  health, CloudWatch, scaling, account, target group) with warm clients.
* ``ecs``: 15 s after that: ECS parts and target health only (CloudWatch at most once a minute): what
  most `--watch` ticks pay.
* ``cpu``: the benchmark process's CPU time for ``full`` / ``ecs``: mlfargate's own work (moto runs in
  its own process), apart from the wall time spent waiting on the emulator.

Calls are counted with botocore's before-parameter-build event, per API call. moto answers every
ListTasks in one page (AWS: pages of 100, so one more call per 100 tasks there; see
tests/live/test_status_stubbed.py) and does not implement DescribeScalingActivities (HTTP 500):
AWS_MAX_ATTEMPTS=1 so that failed call costs no retry backoff. Latency against a local emulator
measures mlfargate's own work plus moto's; AWS round trips (tens of ms each) come on top.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from mlfargate.cost import price_book  # noqa: E402
from mlfargate.live.collect import Watcher  # noqa: E402
from mlfargate.live.names import names_for  # noqa: E402
from tests.live.helpers import CallCounter, Deployment, counting_factory, post, spec_from  # noqa: E402


def start_moto() -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    exe = shutil.which("moto_server", path=str(Path(sys.executable).parent)) or shutil.which("moto_server")
    if exe is None:
        raise SystemExit("moto_server is not installed: run `make setup`")
    proc = subprocess.Popen(
        [exe, "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"{url}/moto-api/", timeout=1).close()
            return proc, url
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise SystemExit(f"moto_server did not start on {url}") from None
            time.sleep(0.1)


def reader(clock: dict[str, datetime]) -> Callable[[], datetime]:
    return lambda: clock["now"]


def measure(url: str, tasks: int, runs: int) -> dict[str, Any]:
    post(f"{url}/moto-api/reset")
    post(
        f"{url}/moto-api/state-manager/set-transition",
        {"model_name": "ecs::task", "transition": {"progression": "manual", "times": 1_000_000}},
    )
    deployment = Deployment(url).create()
    deployment.run_tasks(tasks, "FARGATE_SPOT")
    deployment.put_metrics()
    spec = spec_from()
    names = names_for(spec)
    book = price_book.load(spec.aws.region, use_cache=False)
    counter = CallCounter()
    times: dict[str, list[float]] = {
        k: [] for k in ("cold_ms", "full_ms", "ecs_ms", "full_cpu_ms", "ecs_cpu_ms")
    }
    calls: dict[str, dict[str, int]] = {}
    for _ in range(runs):
        clock = {"now": datetime.now(UTC)}
        watcher = Watcher(spec, names, counting_factory(url, counter), book=book, clock=reader(clock))
        for kind, advance in (("cold", 0), ("full", 60), ("ecs", 15)):
            clock["now"] += timedelta(seconds=advance)
            started, cpu = time.perf_counter(), time.process_time()
            snap = watcher.refresh()
            times[f"{kind}_ms"].append((time.perf_counter() - started) * 1000)
            if kind != "cold":
                times[f"{kind}_cpu_ms"].append((time.process_time() - cpu) * 1000)
            calls[kind] = counter.take()
            assert len(snap.tasks) == tasks, (len(snap.tasks), tasks)
    assert calls["cold"] == calls["full"], "a refresh a minute later reads every part again"
    return {
        "tasks": tasks,
        **{key: statistics.median(values) for key, values in times.items()},
        "full_calls": sum(calls["full"].values()),
        "ecs_calls": sum(calls["ecs"].values()),
        "full_calls_by_operation": calls["full"],
        "ecs_calls_by_operation": calls["ecs"],
    }


def use_fake_aws() -> None:
    """Credentials the emulator accepts (never real ones), and one attempt per call: a benchmark counts
    calls, so botocore must not retry behind its back."""
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_MAX_ATTEMPTS": "1",
        }
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9, help="refreshes measured per task count (median)")
    parser.add_argument("--tasks", default="1,10,100,250", help="comma-separated task counts")
    parser.add_argument("--json", action="store_true", help="print one JSON record")
    args = parser.parse_args()
    use_fake_aws()
    load_before = os.getloadavg()[0]
    proc, url = start_moto()
    try:
        rows = [measure(url, int(n), args.runs) for n in args.tasks.split(",")]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    record = {
        "benchmark": "status",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
        "load_average": [load_before, os.getloadavg()[0]],
        "runs": args.runs,
        "rows": rows,
    }
    if args.json:
        print(json.dumps(record, indent=2))
        return 0
    print(
        f"status snapshot against moto_server, medians of {args.runs}, {record['machine']}, {record['date']}, "
        f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after"
    )
    print(
        f"{'tasks':>6} {'calls full':>11} {'calls ecs':>10} {'cold ms':>8} {'full ms':>8} {'ecs ms':>7} "
        f"{'full cpu ms':>12} {'ecs cpu ms':>11}"
    )
    for r in rows:
        print(
            f"{r['tasks']:>6} {r['full_calls']:>11} {r['ecs_calls']:>10} {r['cold_ms']:>8.0f} {r['full_ms']:>8.0f} "
            f"{r['ecs_ms']:>7.0f} {r['full_cpu_ms']:>12.0f} {r['ecs_cpu_ms']:>11.0f}"
        )
    first, last = rows[0], rows[-1]
    print(
        f"{last['tasks']} vs {first['tasks']} task(s): calls x{last['full_calls'] / first['full_calls']:.2f} (full), "
        f"x{last['ecs_calls'] / first['ecs_calls']:.2f} (ecs); wall x{last['full_ms'] / first['full_ms']:.1f} "
        f"(full); mlfargate CPU x{last['full_cpu_ms'] / first['full_cpu_ms']:.1f} (full)"
    )
    for r in rows:
        print(f"  {r['tasks']} tasks, full refresh: {r['full_calls_by_operation']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
