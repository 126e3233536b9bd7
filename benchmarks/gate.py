"""Gate speed, as the operator meets it and in-process.

For each workspace (every example spec generated into a temporary directory, both environments, and the
module examples), in one run, interleaved per round so machine drift hits every variant alike:

* ``checkov``: the ``checkov -d DIR --framework terraform`` CLI as a subprocess (the reference), on the
  changed workspace (below);
* ``new``: ``mlfargate check DIR`` as a new process with an empty cache directory: the first check ever
  on a machine (checkov imported and run, nothing cached);
* ``changed``: ``mlfargate check DIR`` as a new process after the workspace changed since the last check:
  the operator edits a spec value and regenerates (``scaling.max_tasks`` + 1; for a module example, whose
  root is hand-written, a changed value in its ``main.tf``), so the verdict cache misses and what does not
  change (the modules' parsed files, checkov's check manifest) comes from the cache. The common CLI case,
  and the one the goal is about;
* ``again``: ``mlfargate check DIR`` as a new process once the verdict cache holds the workspace (every
  later check of unchanged files, e.g. after ``mlfargate plan``);
* ``warm``: a scan in a process where checkov is already loaded and the result cache is off (the TUI,
  ``plan``).

Wall-clock medians, the ratios checkov / each (per round, then the median: both sides of a ratio ran
within seconds of each other), and the CPU-time ratio of checkov / changed (less sensitive to other jobs
on a shared machine). Goal (#16): cold ``mlfargate check`` at least 3x faster than ``checkov -d``.

    .venv/bin/python benchmarks/gate.py [--runs N] [--only SUBSTRING]
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CHECKOV = BIN / "checkov"
MLFARGATE = BIN / "mlfargate"


@dataclass
class Target:
    name: str
    before: Path  # the workspace as last checked
    after: Path  # the same workspace with one value changed (what is checked now)


def _changed_spec(spec: Path, out: Path) -> Path:
    text = spec.read_text()
    changed, count = re.subn(r"(?m)^(\s*max_tasks:\s*)(\d+)", lambda m: f"{m[1]}{int(m[2]) + 1}", text)
    if count != 1:
        raise SystemExit(f"{spec}: no single scaling.max_tasks to change")
    out.write_text(changed)
    return out


def _module_example(example: Path, scratch: Path, changed: bool) -> Path:
    """A copy of a module example (module sources made absolute, as a workspace generated outside the
    checkout has them), with one value of its root changed when ``changed``."""
    out = scratch / ("after" if changed else "before") / example.name
    shutil.copytree(example, out)
    main = out / "main.tf"
    text = re.sub(
        r'source\s*=\s*"(\.\.?/[^"]*)"',
        lambda m: f'source = "{(example / m[1]).resolve()}"',
        main.read_text(),
    )
    if changed:
        text, count = re.subn(r'(?m)^(\s*name\s*=\s*)"([^"]+)"', r'\1"\2-changed"', text, count=1)
        if count != 1:
            raise SystemExit(f"{example}: no literal name to change")
    main.write_text(text)
    return out


def targets(scratch: Path) -> list[Target]:
    from mlfargate.generate.workspace import generate

    specs = [
        *(("examples/" + p.stem, p) for p in sorted((REPO / "examples").glob("*.yaml"))),
        *((f"environments/{env}", REPO / "environments" / env / "mlfargate.yaml") for env in ("dev", "prod")),
    ]
    found = []
    for name, spec in specs:
        slug = name.replace("/", "-")
        before = generate(spec, scratch / "before" / slug).out_dir
        changed = _changed_spec(spec, scratch / f"{slug}.yaml")
        after = generate(changed, scratch / "after" / slug).out_dir
        found.append(Target(name, before, after))
    for example in sorted(p for p in (REPO / "modules" / "examples").glob("*") if any(p.glob("*.tf"))):
        found.append(
            Target(
                f"modules/examples/{example.name}",
                _module_example(example, scratch, changed=False),
                _module_example(example, scratch, changed=True),
            )
        )
    return found


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the child and its children)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, cwd=REPO, env=env, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(argv)}: exit {done.returncode}: {done.stderr.decode()[-2000:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def warm(path: Path) -> float:
    from mlfargate.policy import gate

    started = time.perf_counter()
    gate.scan_directory(path)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", default="", help="only workspaces whose name contains this")
    args = parser.parse_args()
    os.environ["MLFARGATE_GATE_CACHE"] = "0"  # the in-process warm column measures scanning
    from mlfargate.policy import gate

    gate.warm_up()
    load = os.getloadavg()[0]
    header = (
        f"{'workspace':34} {'checkov':>8} {'new':>6} {'changed':>8} {'again':>6} {'warm':>6} "
        f"{'/new':>6} {'/changed':>9} {'cpu/changed':>12} {'/again':>7} {'/warm':>6}"
    )
    print(header)
    worst = float("inf")
    with tempfile.TemporaryDirectory(prefix="gate-bench-") as scratch:
        for target in targets(Path(scratch)):
            if args.only not in target.name:
                continue
            wall: dict[str, list[float]] = {k: [] for k in ("checkov", "new", "changed", "again", "warm")}
            ratios: dict[str, list[float]] = {k: [] for k in ("new", "changed", "cpu", "again", "warm")}
            gate.scan_directory(target.after)
            check_after = [str(MLFARGATE), "check", str(target.after)]
            checkov = [
                str(CHECKOV),
                "-d",
                str(target.after),
                "--framework",
                "terraform",
                "--quiet",
                "--compact",
            ]
            for round_ in range(args.runs):
                cache = tempfile.mkdtemp(prefix="gate-cache-", dir=scratch)
                env = {**os.environ, "MLFARGATE_CACHE_DIR": cache, "MLFARGATE_GATE_CACHE": "1"}
                # new: the first check on this machine (empty cache), of the workspace as it was
                # changed: the workspace changed since that check; again: nothing changed since.
                ours = [("new", [str(MLFARGATE), "check", str(target.before)]), ("changed", check_after)]
                order = [("checkov", checkov), *ours] if round_ % 2 == 0 else [*ours, ("checkov", checkov)]
                seen: dict[str, tuple[float, float]] = {}
                for name, argv in order:
                    seen[name] = timed(argv, env)
                seen["again"] = timed(check_after, env)
                for name, (seconds, _) in seen.items():
                    wall[name].append(seconds)
                seconds = warm(target.after)
                wall["warm"].append(seconds)
                reference, reference_cpu = seen["checkov"]
                ratios["new"].append(reference / seen["new"][0])
                ratios["changed"].append(reference / seen["changed"][0])
                ratios["cpu"].append(reference_cpu / seen["changed"][1])
                ratios["again"].append(reference / seen["again"][0])
                ratios["warm"].append(reference / seconds)
            m = {k: statistics.median(v) for k, v in wall.items()}
            r = {k: statistics.median(v) for k, v in ratios.items()}
            worst = min(worst, r["changed"])
            print(
                f"{target.name:34} {m['checkov']:8.2f} {m['new']:6.2f} {m['changed']:8.2f} {m['again']:6.2f} "
                f"{m['warm']:6.2f} {r['new']:5.1f}x {r['changed']:8.1f}x {r['cpu']:11.1f}x {r['again']:6.1f}x "
                f"{r['warm']:5.1f}x",
                flush=True,
            )
    print(
        f"load average: {load:.1f} before, {os.getloadavg()[0]:.1f} after; worst checkov/changed {worst:.1f}x"
    )


if __name__ == "__main__":
    main()
