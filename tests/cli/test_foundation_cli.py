"""The foundation's CLI contract, run as a real process: exit codes, one line per error, no tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((REPO / "examples").glob("*.yaml"))


def mlfargate(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mlfargate.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        timeout=60,
    )


def snapshot(path: Path) -> dict[str, float]:
    return {str(p): p.stat().st_mtime for p in path.rglob("*")}


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_validate_accepts_examples(path: Path, tmp_path: Path) -> None:
    result = mlfargate("validate", str(path), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok: ") and result.stdout.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_validate_json(tmp_path: Path) -> None:
    result = mlfargate("validate", str(EXAMPLES[0]), "--json", cwd=tmp_path)
    data = json.loads(result.stdout)
    assert data["valid"] is True and data["name"] == "churn"


def test_validate_reports_every_error_line_and_writes_nothing(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    text = (REPO / "examples/gpu-ec2-spot-schedules.yaml").read_text()
    text = text.replace("capacity: ec2", "capacity: fargate").replace("min_tasks: 1\n", "min_tasks: 9\n")
    spec.write_text(text)
    before = snapshot(tmp_path)
    result = mlfargate("validate", str(spec), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert any(line.startswith("spec error: compute.capacity: Fargate has no GPUs") for line in lines)
    assert any(line.startswith("spec error: scaling.min_tasks:") for line in lines)
    assert all(line.startswith("spec error: ") for line in lines)
    assert "Traceback" not in result.stderr
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "no such file"),
        ("version: 1\nname: [unclosed\n", "invalid YAML at line 3, column 1"),
        ("\tname: tab\n", "invalid YAML at line 1, column 1"),
    ],
)
def test_bad_files_are_one_line(content: str | None, expected: str, tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    if content is not None:
        spec.write_text(content)
    result = mlfargate("validate", str(spec), cwd=tmp_path)
    assert result.returncode == 2
    assert expected in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_init_writes_a_valid_spec_and_refuses_to_clobber(tmp_path: Path) -> None:
    result = mlfargate("init", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    written = tmp_path / "mlfargate.yaml"
    assert "# mlfargate deployment spec" in written.read_text()
    assert mlfargate("validate", cwd=tmp_path).returncode == 0
    written.write_text("mine\n")
    again = mlfargate("init", cwd=tmp_path)
    assert again.returncode == 2 and "already exists" in again.stderr
    assert written.read_text() == "mine\n"
    assert mlfargate("init", "--force", cwd=tmp_path).returncode == 0
    assert mlfargate("init", "--out", "sub/dir/spec.yaml", cwd=tmp_path).returncode == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mlfargate.yaml", "sub"]


def test_schema_is_json_schema(tmp_path: Path) -> None:
    result = mlfargate("schema", cwd=tmp_path)
    schema = json.loads(result.stdout)
    assert schema["title"] == "mlfargate deployment spec"
    assert "compute" in schema["properties"]


def test_unknown_command_is_a_usage_error(tmp_path: Path) -> None:
    result = mlfargate("frobnicate", cwd=tmp_path)
    assert result.returncode == 2 and "invalid choice" in result.stderr
