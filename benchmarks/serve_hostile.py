"""The model server under hostile load (issue 14): poison amplification, slowloris, 5000 concurrent.

    .venv/bin/python benchmarks/serve_hostile.py                   # CPU, all three (~6 minutes)
    .venv/bin/python benchmarks/serve_hostile.py --only poison --server-root /tmp/before   # older code

1. **Poison mix.** A PyTorch MLP (``MODEL_CLASS``) that raises when an instance's first value is -999.
   One server process, ``MAX_BATCH_SIZE=32``, ``TORCH_THREADS=1``, 32 keep-alive connections in a
   closed loop sending ``--requests`` requests (one instance each): clean, every 32nd request
   poisoned, and 1 in 32 poisoned at random (seeded), in turn, ``--repeats`` times. Reports the median
   requests/s of each, the slowdown clean/mix (the goal: under 2x), and model calls per 1000
   requests. Two model profiles: ``compute`` (a 256 -> 3 x 2048 -> 16 MLP, 8.9 M parameters: a call
   costs more with more rows, but reading the weights makes even one row cost a good part of a full
   batch on a CPU) and ``fixed`` (a tiny MLP behind a fixed 20 ms per call, like a GPU launch or a
   remote call: every extra call costs as much as the batch).
2. **Slowloris.** A real client (one keep-alive connection, sequential requests) alone, then while
   1000 slow connections (half partial headers, half partial bodies) are held and re-opened as the
   server closes them, then with the server's open-file limit at 1024 against 3000 of them (beyond
   the cap). Reports the real client's answers, requests/s and latency in each, and its ratio to alone.
3. **5000 concurrent.** 5000 connections each send one /predict at once; reports the server's RSS
   before and its peak during (sampled every 20 ms from /proc), and the answers (200 / 503).
4. **Overhead** (``--only overhead --compare-root DIR``): clean requests/s with a tiny ONNX model,
   where the HTTP path is nearly all the work, against another checkout, alternating; the guards
   must leave the raw fast path as fast as it was.

Results go to ``benchmarks/results/serve-hostile-cpu.json`` (schema ``mlfargate.serve-hostile/1``).
Loopback only; every wait is bounded; servers are stopped with SIGTERM. ``--server-root`` runs the
server from another checkout (e.g. ``git archive <rev> service | tar -x -C /tmp/before``) for a
before/after comparison in the same conditions.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import datetime as dt
import json
import multiprocessing
import os
import random
import re
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
SCHEMA = "mlfargate.serve-hostile/1"
N_IN = 256

MODEL_MODULE = '''
import time

import torch
from torch import nn


class PoisonMLP(nn.Module):
    """An MLP that raises when an instance's first value is -999 (a poisoned request)."""

    def __init__(self, n_in: int, hidden: int, depth: int, n_out: int, call_ms: float = 0.0) -> None:
        super().__init__()
        layers = [nn.Linear(n_in, hidden), nn.ReLU()]
        for _ in range(depth - 1):
            layers += [nn.Linear(hidden, hidden), nn.ReLU()]
        self.net = nn.Sequential(*layers, nn.Linear(hidden, n_out))
        self.call_s = call_ms / 1000.0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.call_s:
            time.sleep(self.call_s)
        if bool((x[:, 0] == -999.0).any()):
            raise ValueError("poisoned instance")
        return self.net(x)
'''
PROFILES: dict[str, dict[str, float]] = {
    "compute": {"n_in": N_IN, "hidden": 2048, "depth": 3, "n_out": 16, "call_ms": 0.0},
    "fixed": {"n_in": N_IN, "hidden": 64, "depth": 1, "n_out": 16, "call_ms": 20.0},
}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def build_model(directory: Path, profile: str) -> dict[str, str]:
    """Weights and class file for ``profile``; returns the server's model environment."""
    import torch

    module = directory / "poison_model.py"
    module.write_text(MODEL_MODULE)
    kwargs = PROFILES[profile]
    namespace: dict[str, Any] = {}
    exec(compile(MODEL_MODULE, str(module), "exec"), namespace)
    torch.manual_seed(0)
    model = namespace["PoisonMLP"](**{k: (v if k == "call_ms" else int(v)) for k, v in kwargs.items()})
    weights = directory / f"{profile}.pt"
    torch.save(model.state_dict(), weights)
    return {
        "MODEL_PATH": str(weights),
        "MODEL_CLASS": f"{module}:PoisonMLP",
        "MODEL_KWARGS": json.dumps({k: (v if k == "call_ms" else int(v)) for k, v in kwargs.items()}),
        "INPUT_SHAPE": str(N_IN),
    }


class Server:
    """``python -m service.mlserve`` from ``root`` on a free loopback port; ``nofile`` caps its open files."""

    def __init__(self, root: Path, env: dict[str, str], nofile: int | None = None) -> None:
        self.port = free_port()
        full = dict(os.environ)
        full.update(env)
        full.update(HOST="127.0.0.1", PORT=str(self.port), LOG_LEVEL="warning", USE_GPU="cpu")
        full["PYTHONPATH"] = str(root) + os.pathsep + full.get("PYTHONPATH", "")

        def limit() -> None:
            if nofile is not None:
                resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))

        self.proc = subprocess.Popen(
            [sys.executable, "-m", "service.mlserve"],
            cwd=root,
            env=full,
            stdout=subprocess.DEVNULL,
            preexec_fn=limit if nofile is not None else None,
        )
        deadline = time.monotonic() + 120
        while not self._ready():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise SystemExit(f"server did not become ready on port {self.port}")
            time.sleep(0.2)

    def _ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/ready", timeout=2) as r:
                return bool(r.status == 200)
        except OSError:
            return False

    def metric(self, name: str) -> float:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=10) as r:
            text = r.read().decode()
        return sum(float(v) for v in re.findall(rf"^{name}(?:{{[^}}]*}})? (\S+)$", text, re.M))

    def rss_mb(self) -> float:
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        return int(re.search(r"^VmRSS:\s+(\d+) kB", status, re.M).group(1)) / 1024  # type: ignore[union-attr]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def predict_request(first: float) -> bytes:
    body = json.dumps({"inputs": [[first] + [0.5] * (N_IN - 1)]}).encode()
    head = b"POST /predict HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
    return head + f"Content-Length: {len(body)}\r\n\r\n".encode() + body


async def exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> tuple[int, bool]:
    """Send one request and read its response: (status, server closes the connection)."""
    writer.write(request)
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("closed by the server")
    length, close = 0, False
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
        elif name.strip().lower() == b"connection" and value.strip().lower() == b"close":
            close = True
    await reader.readexactly(length)
    return int(status_line.split()[1]), close


# -- 1. poison mix ---------------------------------------------------------------------------------
CLEAN, POISON = predict_request(0.25), predict_request(-999.0)


async def closed_loop(
    port: int, total: int, concurrency: int, poisoned: frozenset[int] = frozenset(), clean: bytes = CLEAN
) -> tuple[float, collections.Counter[int]]:
    """``total`` requests over ``concurrency`` keep-alive connections; request i is POISON if i is in
    ``poisoned``, else ``clean``. Returns requests/s and the answers by status."""
    poison = POISON
    counter = iter(range(total))
    codes: collections.Counter[int] = collections.Counter()

    async def conn() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for i in counter:
                status, close = await exchange(reader, writer, poison if i in poisoned else clean)
                codes[status] += 1
                if close:
                    writer.close()
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.wait_for(asyncio.gather(*[conn() for _ in range(concurrency)]), 600)
    return total / (time.perf_counter() - started), codes


MIXES = ("clean", "every 32nd", "random 1/32")


def poison_set(mix: str, total: int) -> frozenset[int]:
    if mix == "every 32nd":
        return frozenset(range(31, total, 32))
    if mix == "random 1/32":
        return frozenset(random.Random(0).sample(range(total), total // 32))
    return frozenset()


def poison_mix(root: Path, tmp: Path, profile: str, total: int, repeats: int) -> dict[str, Any]:
    env = build_model(tmp, profile) | {
        "MAX_BATCH_SIZE": "32",
        "MAX_BATCH_DELAY_MS": "5",
        "MAX_QUEUE_SIZE": "1024",
        "TORCH_THREADS": "1",  # steadier than 2 spinning threads on a shared 2-core machine
    }
    server = Server(root, env)
    runs: dict[str, list[float]] = {m: [] for m in MIXES}
    calls: dict[str, list[float]] = {m: [] for m in MIXES}
    codes: dict[str, collections.Counter[int]] = {m: collections.Counter() for m in MIXES}

    def model_calls() -> float:
        return server.metric("mlserve_batch_size_count") + server.metric("mlserve_batch_errors_total")

    try:
        asyncio.run(closed_loop(server.port, 200, 32))  # warm up, not counted
        for _ in range(repeats):
            for mix in MIXES:  # alternating, so that a busy neighbour slows all mixes alike
                before = model_calls()
                rps, got = asyncio.run(closed_loop(server.port, total, 32, poison_set(mix, total)))
                runs[mix].append(rps)
                calls[mix].append((model_calls() - before) * 1000 / total)
                codes[mix] += got
                print(
                    f"  poison [{profile}] {mix:12s}: {rps:7.1f} req/s, "
                    f"{calls[mix][-1]:6.1f} model calls per 1000 requests",
                    flush=True,
                )
    finally:
        server.stop()
    median = {m: statistics.median(v) for m, v in runs.items()}
    return {
        "model": PROFILES[profile],
        "requests_per_run": total,
        "rps": {m: round(v, 1) for m, v in median.items()},
        "slowdown_clean_over_mix": {m: round(median["clean"] / median[m], 2) for m in MIXES[1:]},
        # the same from each repeat's own clean run (the runs of one repeat are seconds apart)
        "slowdown_median_of_paired": {
            m: round(statistics.median(c / x for c, x in zip(runs["clean"], runs[m], strict=True)), 2)
            for m in MIXES[1:]
        },
        "model_calls_per_1000": {k: round(statistics.median(v), 1) for k, v in calls.items()},
        "answers": {k: dict(sorted(v.items())) for k, v in codes.items()},
        "runs_rps": {k: [round(x, 1) for x in v] for k, v in runs.items()},
    }


# -- 2. slowloris ----------------------------------------------------------------------------------
PARTIAL_HEADERS = b"POST /predict HTTP/1.1\r\nHost: bench\r\nContent-Type: appl"
PARTIAL_BODY = (
    b"POST /predict HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
    b"Content-Length: 4000\r\n\r\n" + b'{"inputs": [[0.5, '
)


async def slow_connection(
    port: int, first: bytes, stop: asyncio.Event, pause_s: float, closed: list[int]
) -> None:
    """Hold one slow connection; when the server closes it, open another after ``pause_s``."""
    while not stop.is_set():
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 5)
        except (OSError, TimeoutError):
            await asyncio.sleep(pause_s)
            continue
        read = asyncio.ensure_future(reader.read())  # returns when the server closes the connection
        stopped = asyncio.ensure_future(stop.wait())
        try:
            writer.write(first)
            await asyncio.wait({read, stopped}, return_when=asyncio.FIRST_COMPLETED)
            if read.done():
                read.exception()  # a reset counts as closed too
                closed[0] += 1
        finally:
            read.cancel()
            stopped.cancel()
            writer.close()
        await asyncio.sleep(pause_s)


async def real_client(port: int, seconds: float, timeout_s: float) -> dict[str, Any]:
    """Sequential requests on a keep-alive connection for ``seconds``; reconnects when closed."""
    request = predict_request(0.25)
    codes: collections.Counter[str] = collections.Counter()
    lat: list[float] = []
    deadline = time.perf_counter() + seconds
    conn: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
    while time.perf_counter() < deadline:
        t0 = time.perf_counter()
        try:
            if conn is None:
                conn = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), timeout_s)
            status, close = await asyncio.wait_for(exchange(*conn, request), timeout_s)
        except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError, IndexError):
            codes["no answer"] += 1
            if conn is not None:
                conn[1].close()
            conn = None
            await asyncio.sleep(0.1)
            continue
        codes[str(status)] += 1
        if status == 200:
            lat.append(time.perf_counter() - t0)
        if close:
            conn[1].close()
            conn = None
        if status != 200:
            await asyncio.sleep(0.1)  # a refusal says when to come back; do not spin
    if conn is not None:
        conn[1].close()
    ms = sorted(x * 1000 for x in lat)
    return {
        "answers": dict(sorted(codes.items())),
        "ok_rps": round(len(lat) / seconds, 1),
        "p50_ms": round(ms[len(ms) // 2], 2) if ms else None,
        "p99_ms": round(ms[int(len(ms) * 0.99)], 2) if ms else None,
    }


async def attack(port: int, slow: int, pause_s: float, seconds: float) -> int:
    """Hold ``slow`` slow connections for ``seconds``; returns how many the server closed."""
    stop = asyncio.Event()
    closed = [0]
    first = [PARTIAL_HEADERS if i % 2 else PARTIAL_BODY for i in range(slow)]
    tasks = [asyncio.ensure_future(slow_connection(port, f, stop, pause_s, closed)) for f in first]
    await asyncio.sleep(seconds)
    stop.set()
    await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 60)
    return closed[0]


def attacker_process(port: int, slow: int, pause_s: float, seconds: float, out: Any) -> None:
    """The attack in its own process, so that it does not slow the real client's event loop."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, slow + 1000)), hard))
    out.put(asyncio.run(attack(port, slow, pause_s, seconds)))


def under_attack(port: int, slow: int, pause_s: float, seconds: float) -> tuple[dict[str, Any], int]:
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    proc = ctx.Process(target=attacker_process, args=(port, slow, pause_s, seconds + 4.0, out))
    proc.start()
    time.sleep(3.0)  # let the slow connections open
    result = asyncio.run(real_client(port, seconds, timeout_s=5.0))
    closed = int(out.get(timeout=120))
    proc.join(60)
    return result, closed


def slowloris(root: Path, tmp: Path, seconds: float) -> dict[str, Any]:
    env = build_model(tmp, "compute") | {"MAX_BATCH_SIZE": "32"}
    out: dict[str, Any] = {}
    server = Server(root, env)
    try:
        alone = asyncio.run(real_client(server.port, seconds, timeout_s=5.0))
        print(f"  slowloris alone: {alone}", flush=True)
        held, closed = under_attack(server.port, 1000, 0.1, seconds)
        print(f"  slowloris 1000 slow connections: {held}; {closed} closed by the server", flush=True)
    finally:
        server.stop()
    out["alone"] = alone
    out["slow_1000"] = held | {"slow_connections_closed_by_server": closed}
    server = Server(root, env, nofile=1024)
    try:
        beyond, closed = under_attack(server.port, 3000, 1.0, seconds)
        print(f"  slowloris 3000 slow connections, ulimit -n 1024: {beyond}; {closed} closed", flush=True)
    finally:
        server.stop()
    out["slow_3000_nofile_1024"] = beyond | {"slow_connections_closed_by_server": closed}
    for key in ("slow_1000", "slow_3000_nofile_1024"):
        out[key]["ok_rps_over_alone"] = (
            round(out[key]["ok_rps"] / alone["ok_rps"], 2) if alone["ok_rps"] else None
        )
    return out


# -- 3. 5000 concurrent ----------------------------------------------------------------------------
async def burst(port: int, n: int) -> collections.Counter[str]:
    request = predict_request(0.25)
    codes: collections.Counter[str] = collections.Counter()

    async def one() -> None:
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 60)
        except (OSError, TimeoutError):
            codes["no connection"] += 1
            return
        try:
            status, _ = await asyncio.wait_for(exchange(reader, writer, request), 120)
            codes[str(status)] += 1
        except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError, IndexError):
            codes["no answer"] += 1
        finally:
            writer.close()

    await asyncio.gather(*[one() for _ in range(n)])
    return codes


def concurrent(root: Path, tmp: Path, n: int) -> dict[str, Any]:
    env = build_model(tmp, "compute") | {"MAX_BATCH_SIZE": "32"}
    server = Server(root, env)
    peak = [0.0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], server.rss_mb())
            time.sleep(0.02)

    try:
        asyncio.run(closed_loop(server.port, 200, 32))  # warm the request path first
        before = server.rss_mb()
        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        codes = asyncio.run(burst(server.port, n))
        done.set()
        sampler.join()
        after = server.rss_mb()
    finally:
        server.stop()
    result = {
        "connections": n,
        "answers": dict(sorted(codes.items())),
        "rss_mb_before": round(before, 1),
        "rss_mb_peak": round(peak[0], 1),
        "rss_mb_after": round(after, 1),
        "rss_growth_mb": round(peak[0] - before, 1),
    }
    print(f"  {n} concurrent: {result}", flush=True)
    return result


# -- 4. overhead of the guards on the fast path -----------------------------------------------------
def overhead(root: Path, other: Path, tmp: Path, total: int, repeats: int) -> dict[str, Any]:
    """Clean requests/s of this server and of ``other`` (e.g. the code before issue 14) with a tiny ONNX
    model, where the HTTP path is nearly all the work; runs alternate between the two servers."""
    sys.path.insert(0, str(REPO))
    from tests.service import models

    env = {"MODEL_PATH": str(models.onnx_model(tmp)), "MAX_BATCH_SIZE": "32", "MAX_BATCH_DELAY_MS": "2"}
    body = json.dumps({"inputs": [[1.0, 2.0, 3.0, 4.0]]}).encode()
    request = (
        b"POST /predict HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    servers = {"this": Server(root, env), "other": Server(other, env)}
    out: dict[str, Any] = {"other_root": str(other)}
    try:
        for concurrency in (1, 32):
            runs: dict[str, list[float]] = {k: [] for k in servers}
            for server in servers.values():
                asyncio.run(closed_loop(server.port, 300, concurrency, clean=request))  # warm up
            for _ in range(repeats):
                for name, server in servers.items():
                    rps, _ = asyncio.run(closed_loop(server.port, total, concurrency, clean=request))
                    runs[name].append(rps)
            paired = statistics.median(a / b for a, b in zip(runs["this"], runs["other"], strict=True))
            out[f"c{concurrency}"] = {
                "rps": {k: round(statistics.median(v), 1) for k, v in runs.items()},
                "this_over_other_paired_median": round(paired, 3),
            }
            print(f"  overhead c={concurrency}: {out[f'c{concurrency}']}", flush=True)
    finally:
        for server in servers.values():
            server.stop()
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", choices=["poison", "slowloris", "concurrent", "overhead"], action="append")
    ap.add_argument("--profiles", default="compute,fixed", help="poison-mix model profiles")
    ap.add_argument("--requests", type=int, default=1000, help="requests per poison-mix run")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=20.0, help="real-client window per slowloris level")
    ap.add_argument("--connections", type=int, default=5000)
    ap.add_argument("--server-root", type=Path, default=REPO, help="checkout whose service/ to run")
    ap.add_argument(
        "--compare-root", type=Path, default=None, help="with --only overhead: the other checkout to compare"
    )
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    parts = args.only or ["poison", "slowloris", "concurrent"]
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 3000 + args.connections // 2:  # the load generator holds thousands of sockets itself
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 20000), hard))
    load_before = os.getloadavg()[0]
    result: dict[str, Any] = {"schema": SCHEMA, "server_root": str(args.server_root)}
    with tempfile.TemporaryDirectory(prefix="mlserve-hostile-") as tmp:
        if "poison" in parts:
            result["poison_mix"] = {
                p: poison_mix(args.server_root, Path(tmp), p, args.requests, args.repeats)
                for p in args.profiles.split(",")
            }
        if "slowloris" in parts:
            result["slowloris"] = slowloris(args.server_root, Path(tmp), args.seconds)
        if "concurrent" in parts:
            result["concurrent"] = concurrent(args.server_root, Path(tmp), args.connections)
        if "overhead" in parts:
            if args.compare_root is None:
                raise SystemExit("--only overhead needs --compare-root (the checkout to compare with)")
            result["overhead"] = overhead(args.server_root, args.compare_root, Path(tmp), 3000, args.repeats)
    result["settings"] = {
        "cpu_count": os.cpu_count(),
        "load_average_1m_before_after": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "statistic": "poison: median over repeats, clean and poison runs alternating in one server",
    }
    result["date"] = dt.date.today().isoformat()
    out = args.out or REPO / "benchmarks" / "results" / "serve-hostile-cpu.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
