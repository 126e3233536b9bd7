"""`mlfargate generate` (and `init`) with an unusable --out: one line, exit 2, nothing written."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.test_foundation_cli import REPO, mlfargate, snapshot
from tests.conftest import as_owner


@pytest.mark.parametrize(
    ("out", "expected"),
    [
        ("", "--out is empty"),
        ("spec.yaml/ws", "spec.yaml is a file, not a directory"),
    ],
)
def test_unusable_out_is_one_line(out: str, expected: str, tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text((REPO / "examples/cpu-fargate-spot.yaml").read_text())
    result = mlfargate("generate", str(spec), "--out", out, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert expected in result.stderr and "Traceback" not in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["spec.yaml"]


def _spec(directory: Path) -> Path:
    spec = directory / "spec.yaml"
    spec.write_text((REPO / "examples/cpu-fargate-spot.yaml").read_text())
    return spec


@pytest.mark.parametrize(
    ("bucket", "expected"),
    [
        ("ab", "is 2 characters; S3 bucket names have 3 to 63"),
        ("My_State", "may hold only lowercase letters, digits, dots and hyphens"),
        ("state..bucket", "must not contain two adjacent dots"),
        ("192.168.5.4", "must not be formatted as an IP address"),
        ("xn--state", "must not start with 'xn--'"),
        ("state-s3alias", "must not end with '-s3alias'"),
    ],
)
def test_invalid_backend_bucket_is_one_line(bucket: str, expected: str, tmp_path: Path) -> None:
    spec = _spec(tmp_path)
    result = mlfargate("generate", str(spec), "--out", "ws", "--backend-bucket", bucket, cwd=tmp_path)
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"error: --backend-bucket {bucket!r} {expected}")
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["spec.yaml"]


def test_valid_backend_bucket_is_written(tmp_path: Path) -> None:
    spec = _spec(tmp_path)
    result = mlfargate(
        "generate", str(spec), "--out", "ws", "--backend-bucket", "acme-tf-state.eu", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert '  bucket       = "acme-tf-state.eu"\n' in (tmp_path / "ws" / "versions.tf").read_text()


def test_invalid_backend_bucket_fails_before_cdktf_synth(tmp_path: Path) -> None:
    spec = _spec(tmp_path)
    result = mlfargate(
        "generate",
        str(spec),
        "--out",
        "ws",
        "--format",
        "cdktf",
        "--backend-bucket",
        "xn--state",
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert (
        result.stderr.strip()
        == "error: --backend-bucket 'xn--state' must not start with 'xn--' (reserved by S3)"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["spec.yaml"]


# Regression (issue #12): tracebacks from `generate` and `init` on odd things at the output path.


def _generated(tmp_path: Path) -> tuple[Path, Path]:
    spec = _spec(tmp_path)
    result = mlfargate("generate", str(spec), "--out", "ws", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    return spec, tmp_path / "ws"


def _one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in result.stderr, result.stderr
    [line] = result.stderr.strip().splitlines()
    return line


@pytest.mark.parametrize("fresh", [True, False], ids=["new-workspace", "regenerate"])
@pytest.mark.parametrize("force", [[], ["--force"]], ids=["", "force"])
def test_a_directory_named_main_tf_is_one_line(fresh: bool, force: list[str], tmp_path: Path) -> None:
    spec = _spec(tmp_path)
    ws = tmp_path / "ws"
    if not fresh:
        spec, ws = _generated(tmp_path)
        (ws / "main.tf").unlink()
    (ws / "main.tf").mkdir(parents=True)
    (ws / "main.tf" / "keep.txt").write_text("the operator's\n")
    before = snapshot(ws)
    result = mlfargate("generate", str(spec), "--out", "ws", *force, cwd=tmp_path)
    assert result.returncode == 2
    assert _one_line(result) == (
        "error: ws/main.tf: is a directory where generate writes a file; move it out of the workspace "
        "(or remove it) and regenerate"
    )
    assert snapshot(ws) == before  # nothing written, nothing removed


@pytest.mark.parametrize("force", [[], ["--force"]], ids=["", "force"])
def test_an_unreadable_main_tf_is_one_line(force: list[str], tmp_path: Path) -> None:
    spec, ws = _generated(tmp_path)
    (ws / "main.tf").chmod(0o000)
    before = snapshot(ws)
    try:
        result = subprocess.run(
            as_owner([sys.executable, "-m", "mlfargate.cli", "generate", str(spec), "--out", "ws", *force]),
            cwd=tmp_path, capture_output=True, text=True, timeout=120,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )  # fmt: skip
    finally:
        (ws / "main.tf").chmod(0o644)
    assert result.returncode == 2
    assert _one_line(result) == (
        "error: ws/main.tf: cannot read it (Permission denied); generate compares each file with what it "
        "would write before replacing it: make it readable (or remove it) and regenerate"
    )
    assert snapshot(ws) == before


@pytest.mark.parametrize("force", [[], ["--force"]], ids=["", "force"])
def test_init_out_a_directory_is_one_line(force: list[str], tmp_path: Path) -> None:
    (tmp_path / "specs").mkdir()
    result = mlfargate("init", "--out", "specs", *force, cwd=tmp_path)
    assert result.returncode == 2
    assert (
        _one_line(result)
        == "error: specs: is a directory; --out names the spec file to write, e.g. specs/mlfargate.yaml"
    )
    assert list((tmp_path / "specs").iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["specs"]  # no temporary file left beside it


def test_init_out_under_a_file_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("x\n")
    result = mlfargate("init", "--out", "notes.txt/mlfargate.yaml", cwd=tmp_path)
    assert result.returncode == 2
    assert _one_line(result).startswith("error: notes.txt/mlfargate.yaml: cannot write it (")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
