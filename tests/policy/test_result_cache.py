"""The gate's verdict cache: a repeated scan in a new process reports exactly what a real scan reports,
without importing checkov; any change to what the verdict depends on misses; a corrupt or foreign entry
is ignored, never trusted."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mlfargate.policy import result_cache
from tests.policy.conftest import workspace

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow

SCAN = (
    "import json, sys; from pathlib import Path; from mlfargate.policy import gate; "
    "r = gate.scan_directory(Path(sys.argv[1])); "
    "print(json.dumps({'report': r.to_dict() | {'seconds': 0}, 'checkov': 'checkov' in sys.modules}))"
)


def scan(directory: Path) -> tuple[dict[str, object], bool]:
    out = subprocess.run(
        [sys.executable, "-c", SCAN, str(directory)], capture_output=True, text=True, cwd=REPO, check=True
    )
    data = json.loads(out.stdout.strip().splitlines()[-1])
    return data["report"], data["checkov"]


def test_a_repeated_scan_is_the_same_verdict_without_checkov(cache_on: Path, tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    first, imported = scan(ws)
    assert imported and first["failed"]
    second, imported = scan(ws)
    assert not imported, "a cache hit must not import checkov"
    assert second == first
    assert len(list((cache_on / "gate").glob("*.json"))) == 1


def test_any_change_to_an_input_misses(cache_on: Path, tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    scan(ws)
    main = ws / "main.tf"
    main.write_text(main.read_text() + "\n# a comment changes the bytes\n")
    _, imported = scan(ws)
    assert imported
    (ws / "sub").mkdir()
    (ws / "sub" / "extra.tf").write_text('resource "terraform_data" "x" {}\n')
    _, imported = scan(ws)
    assert imported, "a new file in a subdirectory (checkov scans those) misses"


def test_a_local_module_change_misses(cache_on: Path, tmp_path: Path) -> None:
    module = tmp_path / "mod"
    module.mkdir()
    (module / "main.tf").write_text('resource "aws_ecr_repository" "r" {\n  name = "x"\n}\n')
    ws = tmp_path / "root"
    ws.mkdir()
    (ws / "main.tf").write_text('module "m" {\n  source = "../mod"\n}\n')
    before, _ = scan(ws)
    (module / "main.tf").write_text(
        'resource "aws_ecr_repository" "r" {\n  name                 = "x"\n  image_tag_mutability = "IMMUTABLE"\n}\n'
    )
    after, imported = scan(ws)
    assert imported
    ids = lambda report: {f["check_id"] for f in report["failed"]}  # noqa: E731
    assert "CKV_AWS_51" in ids(before) and "CKV_AWS_51" not in ids(after)


@pytest.mark.parametrize("corruption", ["truncated", "foreign-key", "wrong-shape"])
def test_a_corrupt_entry_is_ignored_and_replaced(cache_on: Path, tmp_path: Path, corruption: str) -> None:
    ws = workspace(tmp_path)
    real, _ = scan(ws)
    [entry] = list((cache_on / "gate").glob("*.json"))
    text = entry.read_text()
    if corruption == "truncated":
        entry.write_text(text[: len(text) // 2])
    elif corruption == "foreign-key":
        data = json.loads(text)
        data["key"] = "0" * 64
        data["report"]["failed"] = []  # a verdict that would pass, under someone else's key
        entry.write_text(json.dumps(data))
    else:
        data = json.loads(text)
        data["report"]["failed"] = [{"check_id": ["not", "a", "string"]}]
        entry.write_text(json.dumps(data))
    again, imported = scan(ws)
    assert imported and again == real
    assert json.loads(entry.read_text())["report"]["failed"], "the entry was rewritten from a real scan"


def test_the_cache_can_be_turned_off(cache_on: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = workspace(tmp_path)
    scan(ws)
    monkeypatch.setenv(result_cache.CACHE_SWITCH_ENV, "0")
    _, imported = scan(ws)
    assert imported


def test_an_unwritable_cache_never_fails_a_check(cache_on: Path, tmp_path: Path) -> None:
    """Bug: a cache directory that cannot be created (a file in its place, a read-only home) made
    `mlfargate check` fail with "cannot write it" instead of checking without the cache."""
    cache_on.parent.mkdir(parents=True, exist_ok=True)
    cache_on.write_text("a file where the cache directory should be")
    ws = workspace(tmp_path)
    report, imported = scan(ws)
    assert imported and report["failed"]
