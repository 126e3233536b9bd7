"""``mlfargate-tui`` start-up: from starting the process to its first interactive screen. Prints medians;
--json for a machine-readable record.

    .venv/bin/python benchmarks/tui_startup.py [--runs N] [--json]

Each run starts the installed ``mlfargate-tui`` console script in a new pseudo-terminal (120x40, as a
person's terminal would be) and reads what it draws:

* ``first screen``: until the first step's title and the footer are on the screen (the app is taking
  keys from then on). Measured for a new spec (step 1, the ``make run`` path) and for an existing
  spec (the review step).
* ``cost shown``: until the side panel shows the monthly cost, i.e. the core (pydantic, the rules, the
  prices) has been imported after the first paint and the spec validated and priced.

Goal: first screen under 0.5 s (median of 10). Reports the load average before and after, since other
jobs on a shared machine slow every number.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import platform
import pty
import re
import select
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ESCAPES = re.compile(
    rb"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][0-9A-Za-z]|\x1b[=>78]"
)
GOAL_S = 0.5


def console_script() -> str:
    found = shutil.which("mlfargate-tui", path=str(Path(sys.executable).parent)) or shutil.which(
        "mlfargate-tui"
    )
    if found is None:
        raise SystemExit("mlfargate-tui is not installed: run `make setup`")
    return found


class PtySession:
    """A process in a new pseudo-terminal, and the text it has drawn so far (escape sequences removed)."""

    def __init__(
        self, argv: list[str], *, cols: int = 120, rows: int = 40, env: dict[str, str] | None = None
    ) -> None:
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        full_env = {
            **os.environ,
            "TERM": "xterm-256color",
            "COLUMNS": str(cols),
            "LINES": str(rows),
            **(env or {}),
        }
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            argv,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=full_env,
            close_fds=True,
            start_new_session=True,
        )
        os.close(slave)
        self.raw = b""

    @property
    def text(self) -> str:
        return ESCAPES.sub(b"", self.raw).decode("utf-8", "replace")

    def read(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return False
        try:
            chunk = os.read(self.master, 65536)
        except OSError:  # the child closed the terminal
            return False
        self.raw += chunk
        return bool(chunk)

    def wait_for(self, *markers: str | re.Pattern[str], timeout: float = 60.0) -> float:
        """Seconds from the process start until every marker (text, or a pattern) is on the screen."""
        deadline = time.perf_counter() + timeout
        while True:
            text = self.text
            if all(m.search(text) if isinstance(m, re.Pattern) else m in text for m in markers):
                return time.perf_counter() - self.started
            left = deadline - time.perf_counter()
            if left <= 0 or (self.proc.poll() is not None and not self.read(0)):
                raise TimeoutError(
                    f"{markers} not on the screen after {timeout} s; it shows: {self.text[-2000:]!r}"
                )
            self.read(min(left, 0.05))

    def send(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    def close(self) -> int:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            code = self.proc.wait()
        os.close(self.master)
        return code


FIRST_SCREEN = {"new": ("1/7 · Account", "palette"), "existing": ("6/7 · Review", "palette")}
#: The side panel's monthly cost ("$567 – $2,115 /mo"), or the title line's below 100 columns.
COST_SHOWN = re.compile(r"\$[\d,]+ – \$[\d,]+ /mo")


def one_run(spec: Path, kind: str, env: dict[str, str]) -> tuple[float, float]:
    session = PtySession([console_script(), str(spec)], env=env)
    try:
        first = session.wait_for(*FIRST_SCREEN[kind])
        cost = session.wait_for(COST_SHOWN)
    finally:
        session.close()
    return first, cost


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    load_before = os.getloadavg()
    medians: dict[str, tuple[float, float]] = {}
    every: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="mlfargate-tui-bench-") as tmp:
        base = Path(tmp)
        env = {"MLFARGATE_CACHE_DIR": str(base / "cache"), "MLFARGATE_TUI_LOG": str(base / "tui.log")}
        existing = base / "existing.yaml"
        existing.write_text((REPO / "examples" / "gpu-ec2-spot-schedules.yaml").read_text())
        one_run(base / "warm.yaml", "new", env)  # one warm-up run: the OS file cache, not Python's
        for kind, spec in (("new", base / "new.yaml"), ("existing", existing)):
            runs = [one_run(spec, kind, env) for _ in range(args.runs)]
            every[kind] = [round(first, 4) for first, _ in runs]
            medians[kind] = (statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs))
    load_after = os.getloadavg()
    worst = max(first for first, _ in medians.values())
    if args.json:
        record = {
            "machine": platform.platform(),
            "cpus": os.cpu_count(),
            "runs": args.runs,
            "load_before": load_before,
            "load_after": load_after,
            "results": {
                kind: {"first_screen_s": first, "cost_shown_s": cost, "first_screen_runs": every[kind]}
                for kind, (first, cost) in medians.items()
            },
            "goal_met": worst < GOAL_S,
        }
        json.dump(record, sys.stdout, indent=2)
        print()
        return 0
    print(
        f"mlfargate-tui start-up, median of {args.runs} runs, 120x40 pseudo-terminal, {os.cpu_count()} CPUs"
    )
    print(f"load average before {load_before[0]:.2f} / after {load_after[0]:.2f} (1 min)")
    print(f"{'spec':10} {'first screen':>13} {'cost shown':>11}   every first screen")
    for kind, (first, cost) in medians.items():
        print(f"{kind:10} {first:12.3f}s {cost:10.3f}s   {' '.join(f'{x:.3f}' for x in every[kind])}")
    verdict = "met" if worst < GOAL_S else "MISSED"
    print(f"goal: first screen < {GOAL_S} s -> worst median {worst:.3f} s: {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
