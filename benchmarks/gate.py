"""Gate speed, as the operator meets it and in-process.

For each workspace (every example spec generated into a temporary directory, both environments, and the
module examples), in one run, interleaved per round so machine drift hits every variant alike:

* ``checkov``: the ``checkov -d DIR --framework terraform`` CLI as a subprocess (the reference);
* ``check new``: ``mlfargate check DIR`` as a new process with an empty verdict cache (what the first
  check of a never-seen workspace costs: checkov imported and run);
* ``check again``: ``mlfargate check DIR`` as a new process once the verdict cache holds the workspace
  (every later check of unchanged files, e.g. after ``mlfargate plan``);
* ``warm``: a scan in a process where checkov is already loaded and the result cache is off (the TUI,
  ``plan``).

Prints medians and the ratios checkov / each. Goal (#16): cold ``mlfargate check`` at least 3x faster
than ``checkov -d``.

    .venv/bin/python benchmarks/gate.py [--runs N] [DIR ...]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CHECKOV = BIN / "checkov"
MLFARGATE = BIN / "mlfargate"


def targets(scratch: Path) -> list[Path]:
    from mlfargate.generate.workspace import generate

    examples = [
        generate(spec, scratch / spec.stem).out_dir for spec in sorted((REPO / "examples").glob("*.yaml"))
    ]
    environments = [REPO / "environments" / "dev", REPO / "environments" / "prod"]
    module_examples = sorted(p for p in (REPO / "modules" / "examples").glob("*") if any(p.glob("*.tf")))
    return [*examples, *environments, *module_examples]


def timed(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, capture_output=True, cwd=REPO, env=env, check=False)
    return time.perf_counter() - started


def warm(path: Path) -> float:
    from mlfargate.policy import gate

    started = time.perf_counter()
    gate.scan_directory(path)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("dirs", nargs="*", type=Path)
    args = parser.parse_args()
    os.environ["MLFARGATE_GATE_CACHE"] = "0"  # the in-process warm column measures scanning
    from mlfargate.policy import gate

    gate.warm_up()
    columns = f"{'checkov':>8} {'new':>7} {'again':>7} {'warm':>7} {'/new':>6} {'/again':>7} {'/warm':>6}"
    print(f"{'workspace':36} {columns}")
    with tempfile.TemporaryDirectory(prefix="gate-bench-") as scratch:
        for path in args.dirs or targets(Path(scratch)):
            runs: dict[str, list[float]] = {"checkov": [], "new": [], "again": [], "warm": []}
            gate.scan_directory(path)
            for round_ in range(args.runs):
                cache = tempfile.mkdtemp(prefix="gate-cache-", dir=scratch)
                env = {**os.environ, "MLFARGATE_CACHE_DIR": cache, "MLFARGATE_GATE_CACHE": "1"}
                variants = [
                    (
                        "checkov",
                        [str(CHECKOV), "-d", str(path), "--framework", "terraform", "--quiet", "--compact"],
                    ),
                    ("new", [str(MLFARGATE), "check", str(path)]),
                ]
                for name, argv in variants if round_ % 2 == 0 else reversed(variants):
                    runs[name].append(timed(argv, env))
                runs["again"].append(
                    timed([str(MLFARGATE), "check", str(path)], env)
                )  # the cache holds it now
                runs["warm"].append(warm(path))
            m = {k: statistics.median(v) for k, v in runs.items()}
            name = str(path.relative_to(REPO)) if path.is_relative_to(REPO) else f"examples/{path.name}"
            print(
                f"{name:36} {m['checkov']:8.2f} {m['new']:7.2f} {m['again']:7.2f} {m['warm']:7.2f} "
                f"{m['checkov'] / m['new']:5.1f}x {m['checkov'] / m['again']:6.1f}x {m['checkov'] / m['warm']:5.1f}x"
            )


if __name__ == "__main__":
    main()
