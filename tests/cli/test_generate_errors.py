"""`mlfargate generate` with an unusable --out: one line, exit 2, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.test_foundation_cli import REPO, mlfargate


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
