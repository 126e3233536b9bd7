"""What a cold ``mlfargate check`` reuses from earlier processes (parsed files, checkov's check manifest) never
changes a verdict: a scan with them reports what a scan without them reports; a corrupt, truncated, stale
(another checkov version) or foreign entry is ignored and replaced, never trusted; the manifest's choice
of checks is backed by the scan itself; concurrent processes share the cache safely; no machine path goes
into an entry or changes a report."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mlfargate.policy import checkov_loading, eval_cache, parse_cache, result_cache
from tests.policy.conftest import workspace

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow

#: Scans a directory in a new process; prints the report, whether checkov's check modules were all imported,
#: and how many were. ``MISS_HEADERS=1`` makes the header scan find no types (the scan's backstop must
#: then load the checks).
SCAN = """
import json, os, sys
from pathlib import Path
from mlfargate.policy import checkov_loading, gate
if os.environ.get("MISS_HEADERS") == "1":
    checkov_loading.block_types = lambda texts: set()
r = gate.scan_directory(Path(sys.argv[1]))
modules = [m for m in sys.modules if m.startswith(checkov_loading.CHECK_PACKAGES) and m.count(".") == 5]
print(json.dumps({"report": r.to_dict() | {"seconds": 0}, "checks": len(modules)}))
"""


def scan(directory: Path, **env: str) -> tuple[dict[str, Any], int]:
    out = subprocess.run(
        [sys.executable, "-c", SCAN, str(directory)],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=True,
        env={**os.environ, **env},
    )
    data = json.loads(out.stdout.strip().splitlines()[-1])
    return data["report"], data["checks"]


def forget_verdicts(cache: Path) -> None:
    shutil.rmtree(cache / "gate", ignore_errors=True)


def test_a_new_process_reuses_parses_and_the_manifest_and_reports_the_same(
    cache_on: Path, tmp_path: Path
) -> None:
    ws = workspace(tmp_path)
    first, all_checks = scan(ws)
    assert first["failed"], "the fixture fails: the comparison compares failures"
    parsed = sorted((cache_on / "gate-parse").glob("*.json"))
    assert len(parsed) == 2, "both files (root and local module) were stored"
    assert (cache_on / "gate-manifest" / "manifest.json").is_file()
    forget_verdicts(cache_on)
    second, some_checks = scan(ws)
    assert second == first
    assert 0 < some_checks < all_checks / 4, "only the checks the workspace's types need were imported"
    assert sorted((cache_on / "gate-parse").glob("*.json")) == parsed


def test_a_changed_root_reuses_the_modules_parse(cache_on: Path, tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    scan(ws)
    main = ws / "main.tf"
    main.write_text(main.read_text().replace('"MUTABLE"', '"IMMUTABLE"'))
    changed, _ = scan(ws)
    with_cache_off, _ = scan(ws, **{result_cache.CACHE_SWITCH_ENV: "0"})
    assert changed == with_cache_off
    assert "CKV_AWS_51" not in {f["check_id"] for f in changed["failed"] if f["file"] == "main.tf"}
    assert len(list((cache_on / "gate-parse").glob("*.json"))) == 3, "one new entry: the changed root"


def _corrupt(entry: Path, how: str) -> None:
    text = entry.read_text()
    data = json.loads(text)
    if how == "truncated":
        entry.write_text(text[: len(text) // 2])
    elif how == "not-json":
        entry.write_bytes(b"\x80\x04\x95 a pickle, not JSON")
    elif how == "foreign-key":
        data["key"] = "0" * 64
        entry.write_text(json.dumps(data))
    elif how == "wrong-shape":
        data["parsed"] = ["not", "a", "mapping"]
        entry.write_text(json.dumps(data))
    else:
        raise AssertionError(how)


@pytest.mark.parametrize("how", ["truncated", "not-json", "foreign-key", "wrong-shape"])
def test_a_bad_parse_entry_is_ignored_and_replaced(cache_on: Path, tmp_path: Path, how: str) -> None:
    ws = workspace(tmp_path)
    real, _ = scan(ws)
    entries = sorted((cache_on / "gate-parse").glob("*.json"))
    for entry in entries:
        _corrupt(entry, how)
    forget_verdicts(cache_on)
    again, _ = scan(ws)
    assert again == real
    for entry in entries:
        data = json.loads(entry.read_text())
        assert entry.name == f"{data['key']}.json" and isinstance(data["parsed"], dict), "rewritten"


def test_a_parse_entry_that_would_change_the_verdict_is_not_trusted_under_another_key(
    cache_on: Path, tmp_path: Path
) -> None:
    """An entry of a passing file, copied under the failing file's name: its key no longer matches."""
    ws = workspace(tmp_path)
    real, _ = scan(ws)
    entries = {json.loads(p.read_text())["key"]: p for p in (cache_on / "gate-parse").glob("*.json")}
    root_key = parse_cache.key(str(ws / "main.tf"), (ws / "main.tf").read_bytes(), True)
    other = next(p for k, p in entries.items() if k != root_key)
    entries[root_key].write_text(other.read_text())  # the module's parse under the root's name
    forget_verdicts(cache_on)
    again, _ = scan(ws)
    assert again == real


def test_a_stale_parse_entry_from_other_versions_is_never_read(monkeypatch: pytest.MonkeyPatch) -> None:
    content = b'resource "aws_ecr_repository" "r" {}\n'
    key = parse_cache.key("main.tf", content, True)
    parse_cache._fingerprint.cache_clear()
    with monkeypatch.context() as patched:  # another checkov (or hcl2, lark) installed
        patched.setattr("importlib.metadata.version", lambda name: "0.0.0-other")
        try:
            assert parse_cache.key("main.tf", content, True) != key
        finally:
            parse_cache._fingerprint.cache_clear()
    assert parse_cache.key("main.tf", content, True) == key
    assert parse_cache.key("x.tfvars", content, True) != key, "checkov reads .tfvars differently"
    assert parse_cache.key("main.tf", content, False) != key
    assert parse_cache.key("elsewhere/main.tf", content, True) == key, "the path is not part of it"


@pytest.mark.parametrize(
    "value",
    [{"a": (1, 2)}, {1: "int key"}, {"s": {1, 2}}, {"f": float("nan")}, {"b": b"bytes"}, {"o": object()}],
)
def test_only_plain_json_data_is_stored(cache_on: Path, value: dict[str, Any]) -> None:
    parse_cache.store("k" * 64, value)
    assert not (cache_on / "gate-parse" / f"{'k' * 64}.json").exists()


def test_plain_data_round_trips_exactly(cache_on: Path) -> None:
    value = {"resource": [{"t": {"n": {"x": [1, 1.5, True, None, "s", {"y": []}], "__start_line__": 1}}}]}
    parse_cache.store("k" * 64, value)
    loaded = parse_cache.load("k" * 64)
    assert loaded == value and json.dumps(loaded) == json.dumps(value)
    assert type(loaded["resource"][0]["t"]["n"]["x"][1]) is float


def test_the_cache_holds_no_machine_path_and_changes_no_report(cache_on: Path, tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    scan(ws)
    forget_verdicts(cache_on)
    cached, _ = scan(ws)
    plain, _ = scan(ws, **{result_cache.CACHE_SWITCH_ENV: "0"})
    assert cached == plain
    for entry in [*(cache_on / "gate-parse").glob("*.json"), cache_on / "gate-manifest" / "manifest.json"]:
        text = entry.read_text()
        assert str(tmp_path) not in text and str(Path.home()) not in text and str(REPO) not in text


@pytest.mark.parametrize("how", ["truncated", "foreign-key", "stale", "foreign-module"])
def test_a_bad_manifest_is_ignored_and_replaced(cache_on: Path, tmp_path: Path, how: str) -> None:
    ws = workspace(tmp_path)
    real, all_checks = scan(ws)
    manifest = cache_on / "gate-manifest" / "manifest.json"
    data = json.loads(manifest.read_text())
    real_key = data["key"]
    if how == "truncated":
        manifest.write_text(manifest.read_text()[:100])
    elif how == "foreign-key":
        data["key"] = "0" * 64
        manifest.write_text(json.dumps(data))
    elif how == "stale":  # written by another checkov: its key covers another version
        data["key"] = data["key"][::-1]
        data["modules"] = {}
        manifest.write_text(json.dumps(data))
    else:  # a module outside checkov's check packages: never imported on a cache's word
        data["modules"]["os.path.sneaky"] = []
        manifest.write_text(json.dumps(data))
    forget_verdicts(cache_on)
    again, checks = scan(ws)
    assert again == real
    assert checks == all_checks, "without a trustworthy manifest every check is imported"
    rewritten = json.loads(manifest.read_text())
    assert rewritten["key"] == real_key and "os.path.sneaky" not in rewritten["modules"], "replaced"


def test_types_the_headers_miss_are_backed_by_the_scan(cache_on: Path, tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    real, _ = scan(ws)
    forget_verdicts(cache_on)
    again, checks = scan(ws, MISS_HEADERS="1")
    assert again == real, (
        "the scan saw aws_ecr_repository/aws_cloudwatch_log_group, loaded their checks, rescanned"
    )
    assert checks > 0


def test_block_types_reads_every_header_form() -> None:
    text = (
        'resource "aws_s3_bucket" "a" {}\n'
        "  resource aws_sqs_queue q {\n}\n"
        'data "aws_iam_policy_document" "d" {}\n'
        '\tresource "aws_ecr_repository" "b" {\n'
        '# resource "aws_commented_out" "c" {}\n'
    )
    assert checkov_loading.block_types([text]) >= {
        "aws_s3_bucket",
        "aws_sqs_queue",
        "aws_iam_policy_document",
        "aws_ecr_repository",
    }


def test_concurrent_processes_share_the_cache(cache_on: Path, tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    expected, _ = scan(ws, **{result_cache.CACHE_SWITCH_ENV: "0"})
    running = [
        subprocess.Popen(
            [sys.executable, "-c", SCAN, str(ws)],
            stdout=subprocess.PIPE,
            text=True,
            cwd=REPO,
            env=os.environ.copy(),
        )
        for _ in range(4)
    ]
    outputs = [p.communicate(timeout=300)[0] for p in running]
    assert all(p.returncode == 0 for p in running)
    assert all(json.loads(o.strip().splitlines()[-1])["report"] == expected for o in outputs)
    for entry in cache_on.rglob("*"):
        if entry.is_file():
            assert not entry.name.startswith("."), f"a temporary file was left behind: {entry.name}"
            json.loads(entry.read_text())  # every entry is whole
    forget_verdicts(cache_on)
    again, _ = scan(ws)
    assert again == expected


def test_the_parse_cache_stays_bounded(cache_on: Path) -> None:
    directory = cache_on / "gate-parse"
    directory.mkdir(parents=True)
    for i in range(30):
        entry = directory / f"{i:064d}.json"
        entry.write_text("{}")
        os.utime(entry, (1_000_000 + i, 1_000_000 + i))
    parse_cache.prune(max_entries=20)
    left = sorted(p.name for p in directory.glob("*.json"))
    assert len(left) == 10 and left[0] == f"{20:064d}.json", "the newest half is kept"


@pytest.mark.parametrize("how", ["truncated", "foreign-key", "wrong-shape", "error-not-text"])
def test_a_bad_evaluation_memo_is_ignored_and_replaced(cache_on: Path, tmp_path: Path, how: str) -> None:
    ws = workspace(tmp_path)
    real, _ = scan(ws)
    memo = cache_on / "gate-eval" / "memo.json"
    data = json.loads(memo.read_text())
    assert data["evaluate"] and data["rendered"], "the scan stored its evaluations"
    if how == "truncated":
        memo.write_text(memo.read_text()[:200])
    elif how == "foreign-key":  # another checkov or asteval: its answers may differ
        data["key"] = "0" * 64
        memo.write_text(json.dumps(data))
    elif how == "wrong-shape":
        data["rendered"][0] = ["text", "not a bool", "value"]
        memo.write_text(json.dumps(data))
    else:
        data["evaluate"].append(["1 +", False, {"an error": "is a message"}])
        memo.write_text(json.dumps(data))
    assert eval_cache.load() == ({}, {})
    forget_verdicts(cache_on)
    again, _ = scan(ws)
    assert again == real
    assert eval_cache.load() != ({}, {}), "rewritten by the scan"


def test_the_stored_evaluations_are_checkovs_own_answers(cache_on: Path, tmp_path: Path) -> None:
    """Under a valid key the memo is trusted (as Python trusts a .pyc), so what a scan stores must be exactly
    what checkov computes: every stored text evaluated again by checkov's own, unpatched functions."""
    import importlib.util

    name = "checkov.terraform.graph_builder.variable_rendering.evaluate_terraform"
    spec = importlib.util.find_spec(name)
    assert spec is not None and spec.loader is not None
    fresh = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fresh)  # checkov's evaluate_terraform and evaluate, never the patched ones
    ws = workspace(tmp_path)
    (ws / "exprs.tf").write_text(
        'locals {\n  a = merge({x = 1}, {y = [1, 2]})\n  b = "${upper("x")}-${length([1, 2, 3])}"\n'
        '  c = jsonencode({Statement = [{Effect = "Allow"}]})\n  d = var.nope == "x" ? 1 : 2\n}\n'
    )
    scan(ws)
    evaluated, rendered = eval_cache.load()
    assert evaluated and rendered
    for text, stored in evaluated.items():
        try:
            answer: tuple[bool, Any] = (True, fresh.evaluate(text))
        except Exception as exc:
            answer = (False, str(exc))
        assert answer == stored, text
    for (text, keep), value in rendered.items():
        assert fresh.evaluate_terraform(text, keep_interpolations=keep) == value, text


@pytest.mark.parametrize("value", [{1, 2}, (1, 2), {"a": float("inf")}, b"x"])
def test_only_plain_evaluations_are_stored(cache_on: Path, value: Any) -> None:
    eval_cache.save({"text": (True, value), "plain": (True, [1, "a"])}, {("text", True): value})
    evaluated, rendered = eval_cache.load()
    assert evaluated == {"plain": (True, [1, "a"])} and rendered == {}


def test_timestamps_are_never_memoised(cache_on: Path, tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    (ws / "time.tf").write_text('locals {\n  now = timestamp()\n  later = "${timestamp()}-x"\n}\n')
    scan(ws)
    evaluated, rendered = eval_cache.load()
    assert not [t for t in evaluated if "timestamp(" in t] and not [
        t for t, _ in rendered if "timestamp(" in t
    ]


def test_the_garbage_collector_is_back_on_after_a_scan(tmp_path: Path) -> None:
    """The gate pauses the cyclic collector while it imports and scans; a long-lived process (the TUI)
    must get it back, also when the scan fails."""
    import gc

    from mlfargate.policy import gate
    from mlfargate.policy.report import PolicyError

    assert gc.isenabled()
    gate.scan_directory(workspace(tmp_path))
    assert gc.isenabled()
    with pytest.raises(PolicyError):
        gate.scan_directory(tmp_path / "missing")
    assert gc.isenabled()
    gc.disable()
    try:
        gate.scan_directory(tmp_path / "ws")
        assert not gc.isenabled(), "a collector the caller turned off stays off"
    finally:
        gc.enable()
