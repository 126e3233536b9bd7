"""Gate speed: cold (first scan in a fresh process, checkov import included) vs warm (checkov loaded)
vs the ``checkov -d DIR`` CLI as a subprocess, on each example workspace (modules/examples/*; the
module directories under modules/ while the examples do not exist yet). Prints medians and ratios.

    .venv/bin/python benchmarks/gate.py [--runs N] [DIR ...]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CHECKOV = Path(sys.executable).parent / "checkov"


def targets() -> list[Path]:
    examples = sorted(p for p in (REPO / "modules" / "examples").glob("*") if any(p.glob("*.tf")))
    if examples:
        return examples
    return sorted(p for p in (REPO / "modules").glob("*") if any(p.glob("*.tf")))


def cold(path: Path) -> float:
    code = (
        "import time; t = time.perf_counter(); from pathlib import Path; from mlfargate.policy import gate; "
        f"gate.scan_directory(Path({str(path)!r})); print(time.perf_counter() - t)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    return float(out.stdout.strip().splitlines()[-1])


def cli(path: Path) -> float:
    started = time.perf_counter()
    subprocess.run(
        [str(CHECKOV), "-d", str(path), "--framework", "terraform", "--quiet", "--compact"],
        capture_output=True, cwd=REPO,
    )  # fmt: skip
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("dirs", nargs="*", type=Path)
    args = parser.parse_args()
    from mlfargate.policy import gate

    gate.warm_up()
    print(f"{'workspace':40} {'cold s':>8} {'warm s':>8} {'CLI s':>8} {'CLI/warm':>9} {'CLI/cold':>9}")
    for path in args.dirs or targets():
        c = statistics.median(cold(path) for _ in range(args.runs))
        gate.scan_directory(path)
        w = statistics.median(_timed(path) for _ in range(max(args.runs, 5)))
        x = statistics.median(cli(path) for _ in range(args.runs))
        name = str(path.relative_to(REPO)) if path.is_relative_to(REPO) else str(path)
        print(f"{name:40} {c:8.3f} {w:8.3f} {x:8.3f} {x / w:8.1f}x {x / c:8.2f}x")


def _timed(path: Path) -> float:
    from mlfargate.policy import gate

    started = time.perf_counter()
    gate.scan_directory(path)
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
