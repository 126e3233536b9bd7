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
