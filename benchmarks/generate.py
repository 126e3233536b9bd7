"""Generation speed per example spec: HCL workspace (goal < 100 ms, policy check excluded) and the
CDK Terrain synth beside it. Prints medians; --json for a machine-readable record.

    .venv/bin/python benchmarks/generate.py [--runs N] [--cdktf-runs N] [--json]

* ``render``: validate the spec and render the files in memory (render_files).
* ``generate``: the whole ``generate()`` into a new directory: validation, rendering, every .tf file
  parsed back with hcl2, the staged swap into the new directory, manifest. One warm-up run first (jinja2
  template compilation and the hcl2 parser's grammar load happen once per process).
* ``regenerate``: ``generate()`` over an existing, unchanged workspace (what CI's drift check pays).
* ``update``: ``generate()`` over an existing workspace whose spec changed (every other run): the
  staged swap (files staged and flushed to disk with backups and a journal, then renamed into place).
* ``cdktf``: ``generate(format=cdktf)``: a child ``python -m cdktf_app`` process, cdktn's Node.js
  runtime start and the synth (each run is a cold process, as ``cdktn synth`` is).
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from mlfargate.generate.workspace import Options, generate, render_files  # noqa: E402


def _median_ms(fn: Callable[[int], object], runs: int) -> float:
    times = []
    for i in range(runs):
        started = time.perf_counter()
        fn(i)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def _changed(spec: Path, base: Path, i: int) -> Path:
    """The spec with scaling.max_tasks moved by one every other run: main.tf and the spec copy change."""
    text = spec.read_text()
    if i % 2:
        text = re.sub(r"(?m)^(  max_tasks: )(\d+)", lambda m: f"{m[1]}{int(m[2]) + 1}", text, count=1)
    path = base / "changed.yaml"
    path.write_text(text)
    return path


def measure(spec: Path, runs: int, cdktf_runs: int) -> dict[str, float | None]:
    with tempfile.TemporaryDirectory(prefix="mlfargate-bench-") as tmp:
        base = Path(tmp)
        generate(spec, base / "warm")
        result: dict[str, float | None] = {
            "render_ms": _median_ms(lambda i: render_files(spec, base / "warm", Options()), runs),
            "generate_ms": _median_ms(lambda i: generate(spec, base / f"new-{i}"), runs),
            "regenerate_ms": _median_ms(lambda i: generate(spec, base / "warm"), runs),
            "update_ms": _median_ms(lambda i: generate(_changed(spec, base, i), base / "warm"), runs),
            "cdktf_ms": None,
        }
        if cdktf_runs:
            result["cdktf_ms"] = _median_ms(
                lambda i: generate(spec, base / f"cdktf-{i}", Options(format="cdktf")), cdktf_runs
            )
        return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--cdktf-runs", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    specs = sorted((REPO / "examples").glob("*.yaml"))
    rows = {spec.stem: measure(spec, args.runs, args.cdktf_runs) for spec in specs}
    if args.json:
        json.dump({"machine": platform.platform(), "runs": args.runs, "results": rows}, sys.stdout, indent=2)
        print()
        return 0
    print(f"median of {args.runs} runs (cdktf: {args.cdktf_runs}), milliseconds, on {platform.machine()}")
    print(
        f"{'example':28} {'render':>8} {'generate':>9} {'regenerate':>11} {'update':>8} {'cdktf synth':>12}"
    )
    for name, r in rows.items():
        cdk = f"{r['cdktf_ms']:.0f}" if r["cdktf_ms"] is not None else "-"
        print(
            f"{name:28} {r['render_ms']:8.1f} {r['generate_ms']:9.1f} {r['regenerate_ms']:11.1f} "
            f"{r['update_ms']:8.1f} {cdk:>12}"
        )
    worst = max(r["generate_ms"] or 0.0 for r in rows.values())
    print(
        f"goal: generate < 100 ms per workspace -> worst median {worst:.1f} ms: {'met' if worst < 100 else 'MISSED'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
