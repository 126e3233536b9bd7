"""The in-process gate (with its parse cache, shared interpreter and memoised expressions) reports exactly
what the unmodified checkov CLI reports, on every directory the product gates: each example spec's
generated workspace, both committed environments, every module example and the failing fixture. Both
cold (a new process: the first scan, checkov imported by it) and warm (a second scan in one process,
every cache in use); and cold with the on-disk caches on (tests run with them off): the first check on
a machine, which fills them, then a new process that misses the verdict and takes the parsed files and
the choice of checks from them, then one that takes the verdict."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mlfargate.generate.workspace import generate
from mlfargate.policy import gate
from mlfargate.policy.report import PolicyReport

REPO = Path(__file__).resolve().parents[2]
CHECKOV = Path(sys.executable).parent / "checkov"
EXAMPLE_SPECS = sorted((REPO / "examples").glob("*.yaml"))
FIXED = {
    "fixture/fail": REPO / "tests/policy/fixtures/fail",
    "environments/dev": REPO / "environments/dev",
    "environments/prod": REPO / "environments/prod",
    **{f"modules/examples/{p.name}": p for p in sorted((REPO / "modules/examples").iterdir()) if p.is_dir()},
}
TARGETS = [*FIXED, *(f"examples/{p.stem}" for p in EXAMPLE_SPECS)]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def directories(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("gate-vs-cli")
    generated = {f"examples/{p.stem}": generate(p, base / p.stem).out_dir for p in EXAMPLE_SPECS}
    return {**FIXED, **generated}


Verdict = tuple[list[tuple[str, str]], list[tuple[str, str]], int]


_CLI_VERDICTS: dict[Path, Verdict] = {}


def cli_verdict(directory: Path) -> Verdict:
    if directory not in _CLI_VERDICTS:
        _CLI_VERDICTS[directory] = _run_cli(directory)
    return _CLI_VERDICTS[directory]


def _run_cli(directory: Path) -> Verdict:
    out = subprocess.run(
        [str(CHECKOV), "-d", str(directory), "--framework", "terraform", "-o", "json"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    raw: Any = json.loads(out.stdout)
    raw = raw[0] if isinstance(raw, list) else raw
    results = raw["results"]
    failed = sorted((c["check_id"], c["resource"]) for c in results["failed_checks"])
    skipped = sorted((c["check_id"], c["resource"]) for c in results["skipped_checks"])
    return failed, skipped, int(raw["summary"]["passed"])


def gate_verdict(report: PolicyReport) -> Verdict:
    # A skip without a reason is reported as failed by the gate (it waives nothing); none exist here.
    return (
        sorted((f.check_id, f.resource) for f in report.failed),
        sorted((w.check_id, w.resource) for w in report.waived),
        report.passed,
    )


def cold_verdict(directory: Path, env: dict[str, str] | None = None) -> Verdict:
    code = (
        "import json, sys; from pathlib import Path; from mlfargate.policy import gate; "
        "assert 'checkov' not in sys.modules; "
        f"r = gate.scan_directory(Path({str(directory)!r})); "
        "print(json.dumps([[(f.check_id, f.resource) for f in r.failed], "
        "[(w.check_id, w.resource) for w in r.waived], r.passed]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
        check=True,
        env={**os.environ, **(env or {})},
    )
    failed, waived, passed = json.loads(out.stdout.strip().splitlines()[-1])
    return sorted(map(tuple, failed)), sorted(map(tuple, waived)), int(passed)


@pytest.mark.parametrize("target", TARGETS)
def test_gate_agrees_with_the_checkov_cli_cold_and_warm(directories: dict[str, Path], target: str) -> None:
    directory = directories[target]
    expected = cli_verdict(directory)
    assert expected[2] > 0, "the CLI ran checks"
    assert cold_verdict(directory) == expected
    gate.scan_directory(directory)  # the second scan below is warm: every cache in use
    assert gate_verdict(gate.scan_directory(directory)) == expected


@pytest.mark.parametrize("target", TARGETS)
def test_gate_agrees_with_the_checkov_cli_with_its_caches_on(
    directories: dict[str, Path], target: str, tmp_path: Path
) -> None:
    directory = directories[target]
    expected = cli_verdict(directory)
    cache = tmp_path / "cache"
    env = {"MLFARGATE_CACHE_DIR": str(cache), "MLFARGATE_GATE_CACHE": "1"}
    assert cold_verdict(directory, env) == expected, "the first check on a machine (fills the caches)"
    assert (cache / "gate-manifest" / "manifest.json").is_file() and any((cache / "gate-parse").iterdir())
    shutil.rmtree(cache / "gate")
    assert cold_verdict(directory, env) == expected, "parsed files and the choice of checks from the cache"
    assert cold_verdict(directory, env) == expected, "the verdict from the cache"


def test_the_fixture_really_fails_so_the_comparison_compares_failures() -> None:
    failed, _, _ = cli_verdict(FIXED["fixture/fail"])
    assert failed
