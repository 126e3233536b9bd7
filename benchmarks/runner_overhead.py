"""Runner overhead over bare Terraform on a terraform_data plan (same engine, same command line).

bare:     terraform -chdir=WS plan -input=false -json -lock-timeout=0s -out=...  (subprocess.run, output drained)
wrapper:  tfprocess.run(...) of that same plan command (streaming reader, event parsing, SIGINT handling)
plan:     tfops.plan(...) (plan + `show -json` + fingerprint + summary) against bare plan + bare show

The variants run interleaved, the order reversed every round (A B C, C B A, ...), so a drift of the
machine's speed during the run lands on all of them alike. Each overhead is the median of the per-round
differences over the median bare time, with the middle half of the per-round differences beside it to
show the noise. (Running all bare rounds first and all wrapped rounds after reported +11% to +19% for
the embedded engine's wrapper, which costs about 2 ms of CPU: the bare block had run in a faster phase
of the machine. See benchmarks/RESULTS.md.)

    .venv/bin/python benchmarks/runner_overhead.py [--runs N] [--resources N] [--terraform PATH|embedded]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from mlfargate.terraform import engine as engine_mod
from mlfargate.terraform import operations as tfops
from mlfargate.terraform import process as tfprocess


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--resources", type=int, default=50)
    parser.add_argument("--terraform", default=None)
    args = parser.parse_args()
    eng = engine_mod.select(args.terraform)
    env = eng.env()
    with tempfile.TemporaryDirectory() as tmp:
        ws = Path(tmp)
        (ws / "main.tf").write_text(
            "".join(
                f'resource "terraform_data" "r{i}" {{\n  input = "{i}"\n}}\n' for i in range(args.resources)
            )
        )
        tfops.init(eng, ws)
        plan_args = ["plan", "-input=false", "-json", "-lock-timeout=0s", f"-out={ws / 'bare.tfplan'}"]
        bare_plan = eng.argv(f"-chdir={ws}", *plan_args)
        bare_show = eng.argv(f"-chdir={ws}", "show", "-json", str(ws / "bare.tfplan"))

        variants: dict[str, Callable[[], object]] = {
            "bare": lambda: subprocess.run(bare_plan, capture_output=True, env=env, check=True),
            "wrapper": lambda: tfprocess.run(eng, ws, plan_args, json_events=True),
            "bare plan+show": lambda: (
                subprocess.run(bare_plan, capture_output=True, env=env, check=True),
                subprocess.run(bare_show, capture_output=True, env=env, check=True),
            ),
            "tfops.plan": lambda: tfops.plan(eng, ws),
        }
        for fn in variants.values():
            fn()  # warm the page cache
        times: dict[str, list[float]] = {name: [] for name in variants}
        order = list(variants)
        for round_ in range(args.runs):
            for name in order if round_ % 2 == 0 else reversed(order):
                started = time.perf_counter()
                variants[name]()
                times[name].append(time.perf_counter() - started)

    def median(name: str) -> float:
        return statistics.median(times[name])

    def overhead(name: str, base: str) -> str:
        diffs = [a - b for a, b in zip(times[name], times[base], strict=True)]
        q1, mid, q3 = statistics.quantiles(diffs, n=4)
        base_s = median(base)
        return (
            f"{1000 * mid:+.1f} ms = {100 * mid / base_s:+.1f}% "
            f"(middle half of rounds {100 * q1 / base_s:+.1f}% .. {100 * q3 / base_s:+.1f}%)"
        )

    print(
        f"engine: {eng.describe()}, {args.resources} terraform_data resources, {args.runs} interleaved rounds"
    )
    print(f"bare terraform plan:            {median('bare'):.3f}s")
    print(
        f"tfprocess.run(plan) (wrapper):     {median('wrapper'):.3f}s  overhead {overhead('wrapper', 'bare')}"
    )
    print(f"bare plan + bare show -json:    {median('bare plan+show'):.3f}s")
    print(
        f"tfops.plan (plan+show+meta):   {median('tfops.plan'):.3f}s  "
        f"overhead vs bare plan+show {overhead('tfops.plan', 'bare plan+show')}"
    )


if __name__ == "__main__":
    main()
