"""Serving benchmark: throughput and latency of the model server with batching on and off.

    .venv/bin/python benchmarks/serve.py                    # CPU, full settings (~3 minutes)
    .venv/bin/python benchmarks/serve.py --device cuda --quick

1. Builds an MLP (TorchScript, fixed seed) big enough that batching matters.
2. Raw ceiling: calls the model directly through the server's own backend at several batch sizes; the
   best rows/s is the physical ceiling of one replica, and its batch size is used for serving. It is
   measured again after the serving runs and the better of the two is kept per batch size (a busy
   neighbour on a shared machine must not make the served/raw ratio look better than it is).
3. Starts the server (``python -m service.mlserve``) on a free loopback port twice -- MAX_BATCH_SIZE=1
   (batching off) and MAX_BATCH_SIZE=<best> (on) -- and drives it with C keep-alive connections, each
   sending one instance per request in a closed loop, for a fixed time per level.
4. Reports medians over ``--repeats`` runs per level and writes ``benchmarks/results/serve-<device>.json``
   (schema ``mlfargate.serve-benchmark/1``), which ``mlfargate size`` reads as measured throughput.

The load generator is a minimal HTTP/1.1 client on raw asyncio streams (a few microseconds per request),
so that on a small machine the client does not steal the CPU it is measuring. Loopback only; every loop
is bounded by time; the server is stopped with SIGTERM at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

SCHEMA = "mlfargate.serve-benchmark/1"


@dataclass
class Level:
    concurrency: int
    batching: bool
    throughput_rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    mean_batch_rows: float = 0.0  # rows per model call during this level (from /metrics)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def build_model(
    directory: Path, n_in: int, hidden: int, depth: int, n_out: int
) -> tuple[Path, dict[str, Any]]:
    import torch

    torch.manual_seed(0)
    layers: list[torch.nn.Module] = [torch.nn.Linear(n_in, hidden), torch.nn.ReLU()]
    for _ in range(depth - 1):
        layers += [torch.nn.Linear(hidden, hidden), torch.nn.ReLU()]
    layers.append(torch.nn.Linear(hidden, n_out))
    model = torch.nn.Sequential(*layers).eval()
    path = directory / "mlp.pt"
    meta = json.dumps({"input_shape": [n_in], "input_dtype": "float32"})
    torch.jit.save(torch.jit.script(model), str(path), _extra_files={"mlserve.json": meta})
    params = sum(p.numel() for p in model.parameters())
    info = {
        "kind": "torchscript-mlp",
        "in_features": n_in,
        "hidden": hidden,
        "depth": depth,
        "out_features": n_out,
        "parameters": params,
        "bytes": path.stat().st_size,
        "dtype": "float32",
    }
    return path, info


def raw_ceiling(
    path: Path, device: str, batch_sizes: list[int], seconds: float, repeats: int
) -> tuple[dict[int, float], str]:
    """Rows/s calling the model directly (same backend code as the server), best of ``repeats`` runs,
    best of 1 torch thread and torch's default (on a small shared machine one thread can win)."""
    import torch

    default_threads = torch.get_num_threads()
    out: dict[int, float] = {}
    name = ""
    # On CPU one thread can beat the default on a small shared machine; on a GPU threads barely matter.
    for threads in sorted({1, default_threads}) if device == "cpu" else [default_threads]:
        torch.set_num_threads(threads)
        print(f"  raw, {threads} torch thread(s):", flush=True)
        rates, name = _raw_runs(path, device, batch_sizes, seconds, repeats)
        for bs, rate in rates.items():
            out[bs] = max(out.get(bs, 0.0), rate)
    torch.set_num_threads(default_threads)
    return out, name


def _raw_runs(
    path: Path, device: str, batch_sizes: list[int], seconds: float, repeats: int
) -> tuple[dict[int, float], str]:
    from service.mlserve.backends import TorchBackend
    from service.mlserve.config import Settings

    settings = Settings(model_path=str(path), use_gpu=device)
    backend = TorchBackend(settings, path, device, scripted=True)
    rng = np.random.default_rng(0)
    out: dict[int, float] = {}
    for bs in batch_sizes:
        x = rng.standard_normal((bs, *[d or 1 for d in backend.input_shape])).astype(np.float32)
        for _ in range(3):
            backend.predict(x)
        runs = []
        for _ in range(repeats):
            n, t0 = 0, time.perf_counter()
            while time.perf_counter() - t0 < seconds:
                backend.predict(x)
                n += bs
            runs.append(n / (time.perf_counter() - t0))
        out[bs] = max(runs)  # a ceiling: noise only ever slows a run down, so the best run is the estimate
        print(f"  raw batch {bs:4d}: {out[bs]:9.1f} rows/s", flush=True)
    name = backend.device_name()
    del backend
    return out, name


class Server:
    def __init__(
        self, model: Path, device: str, max_batch: int, delay_ms: float, threads: int | None
    ) -> None:
        self.port = free_port()
        env = dict(os.environ)
        env.update(
            MODEL_PATH=str(model),
            USE_GPU=device,
            HOST="127.0.0.1",
            PORT=str(self.port),
            MAX_BATCH_SIZE=str(max_batch),
            MAX_BATCH_DELAY_MS=str(delay_ms),
            MAX_QUEUE_SIZE="4096",
            LOG_LEVEL="warning",
            PYTHONPATH=str(REPO) + os.pathsep + env.get("PYTHONPATH", ""),
        )
        if threads:
            env["TORCH_THREADS"] = str(threads)
        self.proc = subprocess.Popen([sys.executable, "-m", "service.mlserve"], cwd=REPO, env=env)
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/ready", timeout=1) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise SystemExit(f"server did not become ready on port {self.port}")
            time.sleep(0.2)

    def batch_sizes_seen(self) -> tuple[float, float]:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=5) as r:
            text = r.read().decode()
        total = float(re.search(r"^mlserve_batch_size_sum ([\d.e+]+)$", text, re.M).group(1))  # type: ignore[union-attr]
        count = float(re.search(r"^mlserve_batch_size_count ([\d.e+]+)$", text, re.M).group(1))  # type: ignore[union-attr]
        return total, count

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


async def _client(port: int, request: bytes, deadline: float, lat: list[float], errs: list[int]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.perf_counter() < deadline:
            t0 = time.perf_counter()
            writer.write(request)
            status_line = await reader.readline()
            if not status_line:
                raise ConnectionError("server closed the connection")
            length, close = 0, False
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b""):
                    break
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"connection" and value.strip().lower() == b"close":
                    close = True
            await reader.readexactly(length)
            if status_line.split()[1] == b"200":
                lat.append(time.perf_counter() - t0)
            else:
                errs.append(1)
            if close:
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
    finally:
        writer.close()


async def _drive(
    port: int, request: bytes, concurrency: int, seconds: float
) -> tuple[float, list[float], int]:
    lat: list[float] = []
    errs: list[int] = []
    start = time.perf_counter()
    deadline = start + seconds
    await asyncio.gather(*[_client(port, request, deadline, lat, errs) for _ in range(concurrency)])
    return len(lat) / (time.perf_counter() - start), lat, len(errs)


def drive(port: int, request: bytes, concurrency: int, seconds: float, repeats: int, batching: bool) -> Level:
    asyncio.run(_drive(port, request, concurrency, min(1.0, seconds / 2)))  # warm the level, not counted
    tps, p50s, p99s, errors = [], [], [], 0
    for _ in range(repeats):
        rps, lat, errs = asyncio.run(_drive(port, request, concurrency, seconds))
        tps.append(rps)
        lat_ms = np.asarray(lat) * 1000.0
        p50s.append(float(np.percentile(lat_ms, 50)) if lat else float("nan"))
        p99s.append(float(np.percentile(lat_ms, 99)) if lat else float("nan"))
        errors += errs
    return Level(
        concurrency,
        batching,
        round(statistics.median(tps), 1),
        round(statistics.median(p50s), 2),
        round(statistics.median(p99s), 2),
        errors,
    )


def slug(device_name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", device_name.lower()).strip("-")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda", "auto"])
    ap.add_argument("--in-features", type=int, default=256)
    ap.add_argument("--hidden", type=int, default=4096)
    ap.add_argument("--depth", type=int, default=4)
    ap.add_argument("--out-features", type=int, default=16)
    ap.add_argument("--batch-sizes", default="1,8,32,64,128")
    ap.add_argument("--concurrency", default="1,8,32,128")
    ap.add_argument("--seconds", type=float, default=3.0, help="per measured run")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--delay-ms", type=float, default=2.0, help="MAX_BATCH_DELAY_MS with batching on")
    ap.add_argument(
        "--threads",
        type=int,
        default=0,
        help="TORCH_THREADS for the server (0: torch default; 1 can win when neighbours share the CPU)",
    )
    ap.add_argument("--quick", action="store_true", help="short runs (GPU check): 1.5 s x 2 repeats")
    ap.add_argument("--out", type=Path, default=None, help="results JSON (default benchmarks/results/...)")
    args = ap.parse_args(argv)
    if args.quick:
        args.seconds, args.repeats = 1.5, 2
    load_before = os.getloadavg()[0]
    batch_sizes = [int(b) for b in args.batch_sizes.split(",")]
    levels_c = [int(c) for c in args.concurrency.split(",")]

    with tempfile.TemporaryDirectory(prefix="mlserve-bench-") as tmp:
        model, info = build_model(Path(tmp), args.in_features, args.hidden, args.depth, args.out_features)
        print(
            f"model: MLP {info['parameters'] / 1e6:.1f}M parameters, {info['bytes'] / 1e6:.0f} MB", flush=True
        )
        raw, device_name = raw_ceiling(model, args.device, batch_sizes, args.seconds / 2, args.repeats)
        best_bs = max(raw, key=lambda b: raw[b])
        body = json.dumps(
            {"inputs": np.random.default_rng(1).standard_normal((1, args.in_features)).round(4).tolist()}
        ).encode()
        request = (
            b"POST /predict HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        levels: list[Level] = []
        for batching in (False, True):
            server = Server(
                model,
                args.device,
                best_bs if batching else 1,
                args.delay_ms if batching else 0.0,
                args.threads,
            )
            try:
                for c in levels_c:
                    rows0, calls0 = server.batch_sizes_seen()
                    lv = drive(server.port, request, c, args.seconds, args.repeats, batching)
                    rows1, calls1 = server.batch_sizes_seen()
                    lv.mean_batch_rows = (
                        round((rows1 - rows0) / (calls1 - calls0), 2) if calls1 > calls0 else 0.0
                    )
                    levels.append(lv)
                    print(
                        f"  batching={'on ' if batching else 'off'} c={c:3d}: {lv.throughput_rps:8.1f} rps  "
                        f"p50 {lv.p50_ms:7.2f} ms  p99 {lv.p99_ms:7.2f} ms  errors {lv.errors}  "
                        f"rows/call {lv.mean_batch_rows}",
                        flush=True,
                    )
            finally:
                server.stop()

        # Measure the ceiling again after serving and keep the better run per batch size: on a shared
        # machine a busy neighbour during one raw run would otherwise flatter the served/raw ratio.
        raw_after, _ = raw_ceiling(model, args.device, batch_sizes, args.seconds / 2, args.repeats)
        raw = {b: max(raw[b], raw_after[b]) for b in raw}
        ceiling_bs = max(raw, key=lambda b: raw[b])

    on = [lv for lv in levels if lv.batching]
    off = [lv for lv in levels if not lv.batching]
    top_c = max(levels_c)
    on_top = next(lv.throughput_rps for lv in on if lv.concurrency == top_c)
    off_top = next(lv.throughput_rps for lv in off if lv.concurrency == top_c)
    measured = max(lv.throughput_rps for lv in on)
    ratio_top = round(on_top / off_top, 2) if off_top else None
    ratio_ceiling = round(measured / raw[ceiling_bs], 3)
    result: dict[str, Any] = {
        "schema": SCHEMA,
        "device": device_name,
        "model": info,
        "raw_ceiling_rps": round(raw[ceiling_bs], 1),
        "raw_by_batch_size": {str(b): round(v, 1) for b, v in raw.items()},
        "best_batch_size": ceiling_bs,
        "served_max_batch_size": best_bs,
        "levels": [asdict(lv) for lv in levels],
        "measured_rps_per_replica": measured,
        "ratios": {
            "batched_over_unbatched_at_top_concurrency": ratio_top,
            "best_served_over_raw_ceiling": ratio_ceiling,
        },
        "settings": {
            "seconds_per_run": args.seconds,
            "repeats": args.repeats,
            "max_batch_delay_ms": args.delay_ms,
            "torch_threads": args.threads or None,
            "cpu_count": os.cpu_count(),
            "load_average_1m_before_after": [round(load_before, 2), round(os.getloadavg()[0], 2)],
            "statistic": "served: median over repeats; raw ceiling: best run (before and after serving)",
        },
        "date": dt.date.today().isoformat(),
    }
    out = args.out or REPO / "benchmarks" / "results" / f"serve-{slug(device_name.split(':', 1)[0])}.json"
    if device_name.startswith("cuda:") and args.out is None:
        out = REPO / "benchmarks" / "results" / f"serve-{slug(device_name)}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(
        f"raw ceiling {raw[ceiling_bs]:.1f} rows/s at batch {ceiling_bs}; best served {measured:.1f} rps "
        f"({ratio_ceiling:.0%} of ceiling); at c={top_c} batched/unbatched {ratio_top}x; wrote {out}",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
