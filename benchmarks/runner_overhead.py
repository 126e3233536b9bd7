"""Runner overhead over bare Terraform on a terraform_data plan (same engine binary, same flags).

bare:   terraform -chdir=WS plan -input=false -json -lock-timeout=0s -out=...   (subprocess, output drained)
runner: mlfargate.runner.plan(...)  (same plan + `show -json` + fingerprint + event parsing)
        and runner.run(...) of the plan command alone (the wrapper's cost on the identical command).

    .venv/bin/python benchmarks/runner_overhead.py [--runs N] [--resources N] [--terraform PATH|embedded]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from mlfargate import engine as engine_mod
from mlfargate import runner


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--resources", type=int, default=50)
    parser.add_argument("--terraform", default=None)
    args = parser.parse_args()
    eng = engine_mod.select(args.terraform)
    with tempfile.TemporaryDirectory() as tmp:
        ws = Path(tmp)
        (ws / "main.tf").write_text(
            "".join(
                f'resource "terraform_data" "r{i}" {{\n  input = "{i}"\n}}\n' for i in range(args.resources)
            )
        )
        runner.init(eng, ws)
        plan_args = ["plan", "-input=false", "-json", "-lock-timeout=0s", f"-out={ws / 'bare.tfplan'}"]
        bare_argv = eng.argv(f"-chdir={ws}", *plan_args)

        def bare() -> float:
            t = time.perf_counter()
            subprocess.run(bare_argv, capture_output=True, env=eng.env(), check=True)
            return time.perf_counter() - t

        def wrapped_cmd() -> float:
            t = time.perf_counter()
            runner.run(eng, ws, plan_args, json_events=True)
            return time.perf_counter() - t

        def full_plan() -> float:
            t = time.perf_counter()
            runner.plan(eng, ws)
            return time.perf_counter() - t

        def show() -> float:
            t = time.perf_counter()
            subprocess.run(eng.argv(f"-chdir={ws}", "show", "-json", str(ws / "bare.tfplan")),
                           capture_output=True, env=eng.env(), check=True)  # fmt: skip
            return time.perf_counter() - t

        for f in (bare, wrapped_cmd, full_plan):
            f()  # warm the page cache
        b = statistics.median(bare() for _ in range(args.runs))
        w = statistics.median(wrapped_cmd() for _ in range(args.runs))
        s = statistics.median(show() for _ in range(args.runs))
        p = statistics.median(full_plan() for _ in range(args.runs))
    print(f"engine: {eng.describe()}, {args.resources} terraform_data resources, median of {args.runs}")
    print(f"bare terraform plan:            {b:.3f}s")
    print(f"runner.run(plan) (wrapper):     {w:.3f}s  overhead {100 * (w - b) / b:+.1f}%")
    print(f"bare plan + bare show -json:    {b + s:.3f}s")
    print(
        f"runner.plan (plan+show+meta):   {p:.3f}s  overhead vs bare plan+show {100 * (p - b - s) / (b + s):+.1f}%"
    )


if __name__ == "__main__":
    main()
