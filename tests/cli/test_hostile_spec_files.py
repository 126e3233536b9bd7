"""Hostile spec files through the real CLI: one line, exit 2, promptly, never a hang or a traceback.

Regression (issue #12): a FIFO, ``/dev/urandom`` or ``/dev/zero`` as the spec hung or ran out of
memory; 10k-deep nesting raised RecursionError; a 5000-digit integer raised ValueError; a 50 MB
``name`` printed a 52 MB error line (now refused by the 1 MiB limit; a 1 MB one is echoed cut).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mlfargate.errors import LINE_LIMIT

REPO = Path(__file__).resolve().parents[2]


def validate(spec: str, cwd: Path, command: str = "validate") -> subprocess.CompletedProcess[str]:
    args = [command, spec] + (["--out", "ws"] if command == "generate" else [])
    return subprocess.run(
        [sys.executable, "-m", "mlfargate.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,  # a hang is a failure, not a stuck suite
        stdin=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    [line] = result.stderr.splitlines()
    assert line.startswith("error: ") and line.isprintable() and len(line) <= LINE_LIMIT
    assert result.stdout == ""
    return line


@pytest.mark.parametrize("command", ["validate", "cost", "generate"])
def test_a_fifo_is_refused_without_waiting_for_a_writer(command: str, tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "spec.yaml")
    line = one_line(validate("spec.yaml", tmp_path, command))
    assert line == "error: spec.yaml: is a named pipe (FIFO), not a regular file; give the spec's YAML file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["spec.yaml"]


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom", "/dev/null"])
def test_a_device_is_refused_without_reading_it(device: str, tmp_path: Path) -> None:
    line = one_line(validate(device, tmp_path))
    assert line == f"error: {device}: is a character device, not a regular file; give the spec's YAML file"


def test_a_huge_file_is_refused_naming_the_limit(tmp_path: Path) -> None:
    (tmp_path / "spec.yaml").write_text("# padding\n" * 200_000)
    line = one_line(validate("spec.yaml", tmp_path))
    assert "larger than 1 MiB (1048576 bytes)" in line


def test_ten_thousand_deep_nesting(tmp_path: Path) -> None:
    (tmp_path / "spec.yaml").write_text("name: " + "[" * 10_000 + "]" * 10_000 + "\n")
    line = one_line(validate("spec.yaml", tmp_path))
    assert (
        line
        == "error: spec.yaml: invalid YAML at line 1, column 38: collections nested more than 32 deep; a spec nests 4"
    )


def test_a_5000_digit_integer(tmp_path: Path) -> None:
    (tmp_path / "spec.yaml").write_text("version: 1\nname: x\ncompute: {cpu: " + "7" * 5000 + "}\n")
    line = one_line(validate("spec.yaml", tmp_path))
    assert "line 3, column 16: an integer of 5000 characters" in line


def test_duplicate_keys(tmp_path: Path) -> None:
    text = (REPO / "examples" / "cpu-fargate-spot.yaml").read_text()
    first = text.splitlines().index("name: churn") + 1
    again = len(text.splitlines()) + 1
    (tmp_path / "spec.yaml").write_text(text + "name: other\n")
    line = one_line(validate("spec.yaml", tmp_path))
    assert line == (
        f"error: spec.yaml: duplicate key 'name' at line {first} and line {again}; "
        "a key may appear once in a mapping"
    )


def test_a_long_name_and_escape_sequences_stay_on_short_lines(tmp_path: Path) -> None:
    """A 50 MB name is now refused by the size limit (above); one just under it is echoed cut short."""
    text = (REPO / "examples" / "cpu-fargate-spot.yaml").read_text()
    text = text.replace("name: churn", "name: " + "n" * 1_000_000)
    text = text.replace("environment: dev", 'environment: "dev\\n\\e[31mspec error: forged"')
    (tmp_path / "spec.yaml").write_text(text)
    result = validate("spec.yaml", tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 2, [line[:100] for line in lines]  # name and environment: no forged third line
    assert all(line.startswith("spec error: ") and line.isprintable() and len(line) < 200 for line in lines)
    assert "\\n\\x1b[31mspec error: forged" in lines[0]
