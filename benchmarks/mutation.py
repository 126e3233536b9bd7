"""Mutation testing of the modules that guard users (issue 21): ``make mutation``.

Each target below is a piece of code whose bug would hurt an operator (a spec rule that lets a bad
deployment through, a cost line that is off, an apply without a current plan or a typed confirmation, a
waiver without a reason, a half-written workspace, an unbounded queue in the model server), with the
fast tests that cover it. For every target, one at a time, mutmut (pinned in pyproject.toml) mutates
the target's code, runs the target's tests once per mutant (only the tests that reach the mutated
function) and records whether some test failed (the mutant was *killed*) or none did (it *survived*).

Each target runs in its own scratch directory ``.mutation/<target>/`` (symbolic links to this checkout
plus a ``pyproject.toml`` carrying the target's ``[tool.mutmut]`` section), so targets never share
mutmut's caches and the checkout is never touched. Results land in
``benchmarks/results/mutation/<target>.json``; the section "Mutation testing" of
``benchmarks/RESULTS.md`` is rebuilt from those files on every run, with every surviving mutant listed.
A survivor is *justified* when ``benchmarks/mutation-equivalents.toml`` names it, quotes the mutated
line(s) exactly as mutmut shows them (so an entry goes stale, and says so, when the code moves) and
gives the reason the mutant cannot change behaviour.

    .venv/bin/python benchmarks/mutation.py [TARGET ...] [--max-children 2]
    .venv/bin/python benchmarks/mutation.py --report-only   # rebuild the section from the JSON files
    .venv/bin/python benchmarks/mutation.py --list

Only tests that run in this process count: mutmut learns which tests reach which function by recording
calls in-process, so a test that drives the CLI in a subprocess reaches no mutant. The slow end-to-end
tests (pty, real Terraform apply, checkov CLI) stay in ``make test``; the targets use the unit and
in-process tests that exercise the same logic.
"""

from __future__ import annotations

import argparse
import dataclasses
import fnmatch
import json
import os
import shutil
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
WORK = REPO / ".mutation"
RESULTS_DIR = REPO / "benchmarks" / "results" / "mutation"
RESULTS_MD = REPO / "benchmarks" / "RESULTS.md"
EQUIVALENTS = REPO / "benchmarks" / "mutation-equivalents.toml"
MUTMUT = Path(sys.executable).parent / "mutmut"
BEGIN = "<!-- mutation:begin (benchmarks/mutation.py rewrites this section) -->"
END = "<!-- mutation:end -->"
GOAL = 0.90

#: Top-level entries of the checkout that are not linked into a scratch directory.
_SKIP = {"mutants", "pyproject.toml"}  # and every hidden entry (.git, .venv, caches)
#: mutmut's exit-code classes: a test failed (killed), or none did / none ran (not killed).
KILLED = {"killed", "timeout", "segfault", "caught by type check"}


@dataclass(frozen=True)
class Target:
    name: str
    guards: str
    #: Files to mutate (relative to the checkout; all under one top-level package).
    files: tuple[str, ...]
    #: The pytest selection that covers them: fast, in-process tests.
    tests: tuple[str, ...]
    #: Functions to mutate, per file: ``name``, ``Class.method`` or ``Class.*``; empty: all of them.
    functions: dict[str, tuple[str, ...]] | None = None
    #: pytest-timeout per test, seconds: a mutant that hangs a test fails it (a kill) this soon, instead
    #: of holding a worker until mutmut's own limit (15 x the tests' time).
    test_timeout_s: int = 60

    @property
    def root(self) -> str:
        return self.files[0].split("/", 1)[0]

    def patterns(self) -> list[str]:
        """mutmut's mutant-name globs for this target (``pkg.module.x_func__mutmut_3``)."""
        out: list[str] = []
        for file in self.files:
            module = file.removesuffix(".py").replace("/", ".")
            chosen = (self.functions or {}).get(file)
            if not chosen:
                out.append(f"{module}.*")
                continue
            for function in chosen:
                cls, _, method = function.rpartition(".")
                mangled = f"xǁ{cls}ǁ{method}" if cls else f"x_{method}"
                out.append(f"{module}.{mangled}__mutmut_*")
        return out


TARGETS: tuple[Target, ...] = (
    Target(
        "spec-rules",
        "every AWS rule a spec must meet (SpecError with its key path)",
        ("mlfargate/spec/rules.py",),
        ("tests/unit/test_rule_messages.py", "tests/unit/test_rules.py", "tests/unit/test_security_rules.py"),
    ),
    Target(
        "spec-catalog",
        "instance types, Fargate sizes, tasks per instance",
        ("mlfargate/spec/catalog.py",),
        (
            "tests/unit/test_catalog.py",
            "tests/unit/test_rules.py",
            "tests/unit/test_cost.py",
            "tests/unit/test_sizing.py",
        ),
    ),
    Target(
        "cost-timeline",
        "the weekly desired-count timeline the cost is built from",
        ("mlfargate/cost/timeline.py",),
        ("tests/unit/test_timeline.py", "tests/unit/test_exact_schedules.py"),
    ),
    Target(
        "cost-spot-split",
        "on-demand base and Spot percentage: the floor and ceiling unit-hours",
        ("mlfargate/cost/estimate.py",),
        ("tests/unit/test_cost.py", "tests/unit/test_exact_schedules.py", "tests/unit/test_billable.py"),
        {"mlfargate/cost/estimate.py": ("split", "_weekly_units", "_compute_line", "_monthly")},
    ),
    Target(
        "runner-saved-plan",
        "the saved plan and the fingerprint apply checks it against",
        ("mlfargate/terraform/state.py",),
        ("tests/runner/test_saved_plan.py",),
    ),
    Target(
        "runner-confirmation",
        "apply/destroy only with a current plan, a passing gate, a whole workspace and the typed name",
        ("mlfargate/flow.py", "mlfargate/commands/_common.py"),
        (
            "tests/runner/test_flow.py",
            "tests/runner/test_flow_guards.py",
            "tests/runner/test_confirmation.py",
            "tests/runner/test_interrupted_generate.py",
            "tests/runner/test_flow_stops.py",
        ),
        {
            "mlfargate/flow.py": (
                "_refuse_interrupted",
                "confirmed",
                "_confirm_and_apply",
                "apply",
                "destroy",
                "gate",
                "saved_plan_json",
            ),
            "mlfargate/commands/_common.py": ("typed_confirmation",),
        },
    ),
    Target(
        "gate-waivers",
        "a waiver needs a reason; every unwaived failure blocks",
        ("mlfargate/policy/gate.py",),
        ("tests/policy/test_policy.py", "tests/policy/test_policy_waivers.py"),
        {"mlfargate/policy/gate.py": ("_convert", "_finding", "_severity")},
    ),
    Target(
        "generator-manifest",
        "the manifest (edited files are never overwritten) and the all-or-nothing write",
        ("mlfargate/generate/workspace.py", "mlfargate/files.py"),
        (
            "tests/generator/test_stage_journal.py",
            "tests/unit/test_files.py",
            "tests/generator/test_workspace.py",
            "tests/generator/test_manifest_tamper.py",
            "tests/generator/test_generate_safety.py",
        ),
        {
            "mlfargate/generate/workspace.py": (
                "generate",
                "sha256",
                "owned_name",
                "_through_symlink",
                "read_manifest",
                "manifest_text",
                "compare",
                "swap",
                "_write_files",
                "_backup",
                "_finish",
                "_Journal.*",
                "interrupted",
                "staged_journal",
                "_roll_back",
                "recover",
            ),
        },
    ),
    Target(
        "server-batching",
        "the model server's batching, bounded queue (503 when full) and drain",
        ("service/mlserve/batching.py",),
        ("tests/service/test_service_batching.py", "tests/service/test_service_batcher_contract.py"),
        test_timeout_s=5,
    ),
)


def _link_checkout(scratch: Path) -> list[str]:
    linked = []
    for entry in sorted(REPO.iterdir()):
        if entry.name in _SKIP or entry.name.startswith(".") or entry.name.endswith(".egg-info"):
            continue
        (scratch / entry.name).symlink_to(entry)
        linked.append(entry.name)
    return linked


def _toml_list(values: list[str]) -> str:
    return "[" + ", ".join(json.dumps(v) for v in values) + "]"


def _write_config(scratch: Path, target: Target, linked: list[str]) -> None:
    also_copy = [name for name in linked if name != target.root]
    section = "\n".join(
        [
            "",
            "[tool.mutmut]",
            f"source_paths = {_toml_list([target.root])}",
            f"only_mutate = {_toml_list(list(target.files))}",
            f"also_copy = {_toml_list(also_copy)}",
            f"pytest_add_cli_args_test_selection = {_toml_list(list(target.tests))}",
            # No cache files, and Hypothesis draws the same examples for every mutant (a kill must not
            # depend on luck).
            "pytest_add_cli_args = "
            + _toml_list(
                ["-p", "no:cacheprovider", "--hypothesis-seed=0", f"--timeout={target.test_timeout_s}"]
            ),
            "use_git_change_detection = false",
            "",
        ]
    )
    base = (REPO / "pyproject.toml").read_text()
    if "[tool.mutmut]" in base:
        raise SystemExit(
            "pyproject.toml has its own [tool.mutmut]: the targets are set in benchmarks/mutation.py"
        )
    (scratch / "pyproject.toml").write_text(base + section)


def _status_names() -> Any:
    from mutmut.stats import status_by_exit_code

    return status_by_exit_code


#: What ``mutmut show NAME`` prints, for many mutants in one process (one ``mutmut show`` each costs a
#: second of start-up).
_DIFFS = """
import json, sys
from mutmut.mutation.diff_apply import get_diff_for_mutant
print(json.dumps({name: get_diff_for_mutant(name) for name in json.load(sys.stdin)}))
"""


def _diffs(scratch: Path, mutants: list[str]) -> dict[str, str]:
    if not mutants:
        return {}
    shown = subprocess.run(
        [sys.executable, "-c", _DIFFS], cwd=scratch, input=json.dumps(mutants), capture_output=True, text=True
    )
    if shown.returncode != 0:
        raise SystemExit(f"could not read the mutants' diffs in {scratch}:\n{shown.stderr[-2000:]}")
    diffs: dict[str, str] = json.loads(shown.stdout)
    return diffs


def mutated_lines(diff: str) -> str:
    """The lines a mutant adds, stripped: what an equivalents entry quotes."""
    return "\n".join(
        line[1:].strip() for line in diff.splitlines() if line.startswith("+") and not line.startswith("+++")
    )


def _open_mutants(scratch: Path, target: Target, patterns: list[str]) -> list[str]:
    """The mutants of ``target`` that the last run in ``scratch`` did not kill."""
    status_names = _status_names()
    names = []
    for file in target.files:
        meta = json.loads((scratch / "mutants" / f"{file}.meta").read_text())
        for key, code in meta["exit_code_by_key"].items():
            if any(fnmatch.fnmatchcase(key, p) for p in patterns) and status_names[code] not in KILLED:
                names.append(key)
    return names


def run_target(target: Target, max_children: int, recheck: bool = False) -> dict[str, Any]:
    """One mutmut run of ``target`` in a fresh scratch directory; with ``recheck``, only the mutants the
    last run left alive are run again (with the tests as they are now: after adding a test for a
    survivor), in the same scratch directory, whose other results stand (the code has not changed)."""
    scratch = WORK / target.name
    patterns = target.patterns()
    previous_seconds = 0.0
    if recheck:
        if not (scratch / "mutants").is_dir() or not (RESULTS_DIR / f"{target.name}.json").is_file():
            raise SystemExit(f"[{target.name}] nothing to recheck: run the target first")
        previous_seconds = float(json.loads((RESULTS_DIR / f"{target.name}.json").read_text())["seconds"])
        run_args = _open_mutants(scratch, target, patterns) or patterns
    else:
        shutil.rmtree(scratch, ignore_errors=True)
        scratch.mkdir(parents=True)
        linked = _link_checkout(scratch)
        _write_config(scratch, target, linked)
        run_args = patterns
    log = scratch / ("mutmut-recheck.log" if recheck else "mutmut.log")
    started = time.monotonic()
    print(f"[{target.name}] mutmut run ({', '.join(target.files)}); log: {log.relative_to(REPO)}", flush=True)
    with log.open("w") as out:
        rc = subprocess.run(
            [str(MUTMUT), "run", "--max-children", str(max_children), *run_args],
            cwd=scratch,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        ).returncode
    seconds = time.monotonic() - started + previous_seconds
    if rc != 0:
        tail = log.read_text(errors="replace")[-4000:]
        raise SystemExit(f"[{target.name}] mutmut run failed (exit {rc}); end of {log}:\n{tail}")
    status_names = _status_names()
    mutants: dict[str, str] = {}
    for file in target.files:
        meta = json.loads((scratch / "mutants" / f"{file}.meta").read_text())
        for key, code in meta["exit_code_by_key"].items():
            if any(fnmatch.fnmatchcase(key, p) for p in patterns):
                mutants[key] = status_names[code]
    if not mutants:
        raise SystemExit(f"[{target.name}] no mutants matched {patterns}")
    open_ = [
        key
        for key, status in sorted(mutants.items(), key=lambda kv: _mutant_order(kv[0]))
        if status not in KILLED
    ]
    diffs = _diffs(scratch, open_)
    survivors = [{"mutant": key, "status": mutants[key], "diff": diffs[key]} for key in open_]
    counts: dict[str, int] = {}
    for status in mutants.values():
        counts[status] = counts.get(status, 0) + 1
    from importlib.metadata import version

    return {
        "schema": "mlfargate.mutation/1",
        "target": target.name,
        "guards": target.guards,
        "files": list(target.files),
        "functions": {k: list(v) for k, v in (target.functions or {}).items()},
        "tests": list(target.tests),
        "mutmut": version("mutmut"),
        "finished": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "seconds": round(seconds, 1),
        "max_children": max_children,
        "total": len(mutants),
        "killed": sum(1 for s in mutants.values() if s in KILLED),
        "counts": dict(sorted(counts.items())),
        "survivors": survivors,
    }


def _mutant_order(key: str) -> tuple[str, int]:
    head, _, number = key.rpartition("__mutmut_")
    return head, int(number) if number.isdigit() else 0


def load_equivalents() -> dict[str, dict[str, str]]:
    data = tomllib.loads(EQUIVALENTS.read_text()) if EQUIVALENTS.exists() else {}
    out: dict[str, dict[str, str]] = {}
    for entry in data.get("equivalent", []):
        missing = {"mutant", "mutation", "reason"} - set(entry)
        if missing:
            raise SystemExit(f"{EQUIVALENTS.name}: an entry lacks {sorted(missing)}: {entry}")
        if entry["mutant"] in out:
            raise SystemExit(f"{EQUIVALENTS.name}: {entry['mutant']} is listed twice")
        out[entry["mutant"]] = entry
    return out


def judge(result: dict[str, Any], equivalents: dict[str, dict[str, str]]) -> list[dict[str, Any]]:
    """Each survivor with ``verdict``: ``equivalent`` (a current entry with its reason), ``stale entry``
    (an entry whose quoted mutation no longer matches: the code moved) or ``unjustified``."""
    judged = []
    for survivor in result["survivors"]:
        entry = equivalents.get(survivor["mutant"])
        if entry is None:
            verdict, reason = "unjustified", ""
        elif entry["mutation"].strip() != mutated_lines(survivor["diff"]):
            verdict, reason = "stale entry", "the quoted mutation no longer matches; recheck it"
        else:
            verdict, reason = "equivalent", entry["reason"]
        judged.append({**survivor, "verdict": verdict, "reason": reason})
    return judged


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ⏎ ")


def render(results: list[dict[str, Any]], equivalents: dict[str, dict[str, str]]) -> str:
    lines = [
        "## Mutation testing (`make mutation`, `benchmarks/mutation.py`, issue 21)",
        "",
        "mutmut mutates the code that guards users and runs the tests that cover it once per mutant. "
        "*Killed*: some test failed. A survivor is *justified* when `benchmarks/mutation-equivalents.toml` "
        "quotes it and says why it cannot change behaviour. Goal: at least 90% killed in every target and "
        "no unjustified survivor. Rebuilt by every `make mutation` run; per-target data in "
        "`benchmarks/results/mutation/`.",
        "",
        "| target | guards | code mutated | killed / mutants | score | survivors: equivalent · unjustified | goal |",
        "|---|---|---|---:|---:|---|---|",
    ]
    details: list[str] = []
    unmet = []
    for result in results:
        judged = judge(result, equivalents)
        equivalent = sum(1 for j in judged if j["verdict"] == "equivalent")
        open_ = len(judged) - equivalent
        score = result["killed"] / result["total"]
        met = score >= GOAL and open_ == 0
        if not met:
            unmet.append(result["target"])
        code = []
        for file in result["files"]:
            functions = result["functions"].get(file)
            code.append(f"`{file}`" + (f" ({', '.join(functions)})" if functions else ""))
        lines.append(
            f"| {result['target']} | {result['guards']} | {'; '.join(code)} | {result['killed']} / "
            f"{result['total']} | **{score:.1%}** | {equivalent} · {open_} | {'met' if met else 'NOT met'} |"
        )
        details.append(
            f"### {result['target']}: {score:.1%} ({result['finished']}, {result['seconds']:.0f} s, "
            f"mutmut {result['mutmut']}, {result['max_children']} children)"
        )
        details.append("")
        details.append(f"Tests: {', '.join(f'`{t}`' for t in result['tests'])}.")
        details.append(f"Outcomes: {', '.join(f'{k} {v}' for k, v in result['counts'].items())}.")
        details.append("")
        if judged:
            details.append("| surviving mutant | mutated line(s) | verdict | reason |")
            details.append("|---|---|---|---|")
            for j in judged:
                status = "" if j["status"] == "survived" else f" ({j['status']})"
                details.append(
                    f"| `{j['mutant']}`{status} | `{_cell(mutated_lines(j['diff']))}` | {j['verdict']} | "
                    f"{_cell(j['reason'])} |"
                )
            details.append("")
        else:
            details.append("No survivors.")
            details.append("")
    measured = {r["target"] for r in results}
    for target in TARGETS:
        if target.name not in measured:
            unmet.append(target.name)
            lines.append(
                f"| {target.name} | {target.guards} | {'; '.join(f'`{f}`' for f in target.files)} | — | — | — | "
                "not measured yet |"
            )
    lines.append("")
    lines.append(
        "All targets meet the goal."
        if not unmet
        else f"Goal not met (or not measured) by: {', '.join(unmet)}; survivors are listed below."
    )
    lines.append("")
    return "\n".join([*lines, *details]).rstrip() + "\n"


def write_section(text: str) -> None:
    current = RESULTS_MD.read_text()
    block = f"{BEGIN}\n{text}{END}\n"
    if BEGIN in current and END in current:
        head, _, rest = current.partition(BEGIN)
        _, _, tail = rest.partition(END + "\n")
        updated = head + block + tail
    else:
        updated = current.rstrip("\n") + "\n\n" + block
    RESULTS_MD.write_text(updated)


def load_results() -> list[dict[str, Any]]:
    order = {t.name: i for i, t in enumerate(TARGETS)}
    results = []
    for path in sorted(RESULTS_DIR.glob("*.json")):
        data = json.loads(path.read_text())
        if data["target"] in order:
            results.append(data)
    return sorted(results, key=lambda r: order[r["target"]])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("targets", nargs="*", help="targets to run (default: all); see --list")
    parser.add_argument("--max-children", type=int, default=2, help="mutants tested at once (default 2)")
    parser.add_argument(
        "--report-only", action="store_true", help="only rebuild RESULTS.md from the JSON files"
    )
    parser.add_argument("--list", action="store_true", help="list the targets and exit")
    parser.add_argument(
        "--recheck",
        action="store_true",
        help="rerun only the mutants the target's last run left alive (after adding tests for them)",
    )
    parser.add_argument(
        "--tests",
        nargs="+",
        metavar="PYTEST_ARG",
        help="run with this test selection instead of the target's own",
    )
    args = parser.parse_args(argv)
    by_name = {t.name: t for t in TARGETS}
    if args.list:
        for t in TARGETS:
            print(f"{t.name:22} {', '.join(t.files)}: {t.guards}")
        return 0
    unknown = [n for n in args.targets if n not in by_name]
    if unknown:
        parser.error(f"unknown target(s) {', '.join(unknown)}; one of: {', '.join(by_name)}")
    equivalents = load_equivalents()
    if not args.report_only:
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        for name in args.targets or list(by_name):
            target = by_name[name]
            if args.tests:
                target = dataclasses.replace(target, tests=tuple(args.tests))
            result = run_target(target, args.max_children, recheck=args.recheck)
            (RESULTS_DIR / f"{name}.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
            judged = judge(result, equivalents)
            open_ = [j["mutant"] for j in judged if j["verdict"] != "equivalent"]
            print(
                f"[{name}] {result['killed']}/{result['total']} killed ({result['killed'] / result['total']:.1%}); "
                f"{len(judged) - len(open_)} survivor(s) justified, {len(open_)} not"
                + (f": {', '.join(open_[:5])}{', ...' if len(open_) > 5 else ''}" if open_ else ""),
                flush=True,
            )
    results = load_results()
    write_section(render(results, equivalents))
    print(f"wrote the mutation section of {RESULTS_MD.relative_to(REPO)} ({len(results)} target(s))")
    return 0


if __name__ == "__main__":
    sys.exit(main())
