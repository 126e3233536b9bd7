"""Hostile spec files and values: each is one line naming what is wrong and what is allowed.

Regression (issue #12): deeply nested YAML raised RecursionError, a 5000-digit integer ValueError,
duplicate keys were accepted (the second silently won), non-finite and out-of-range numbers
validated (and `1e-300` made generate fail), and error lines echoed values raw (a newline or an ANSI
escape broke the one-line promise; a 50 MB name made a 52 MB line). Devices and FIFOs, which would
hang or exhaust memory in-process, are in tests/cli/test_hostile_spec_files.py.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from mlfargate.errors import ECHO_LIMIT, LINE_LIMIT, InputFileError, SpecErrors, one_line, shown
from mlfargate.spec import rules
from mlfargate.spec.model import from_data, load, read_yaml
from mlfargate.spec.text import MAX_DEPTH, MAX_SPEC_BYTES

REPO = Path(__file__).resolve().parents[2]
CPU_TEXT = (REPO / "examples" / "cpu-fargate-spot.yaml").read_text()
CPU: dict[str, Any] = yaml.safe_load(CPU_TEXT)


def write(tmp_path: Path, text: str | bytes) -> Path:
    path = tmp_path / "spec.yaml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


def refused(path: Path) -> str:
    with pytest.raises(InputFileError) as info:
        read_yaml(path)
    line = info.value.lines()[0]
    assert "\n" not in line and len(line) <= LINE_LIMIT
    return line


def spec_errors(data: dict[str, Any]) -> list[str]:
    try:
        rules.validate(from_data(data))
    except SpecErrors as exc:
        return exc.lines()
    return []


# --------------------------------------------------------------------------------------------------
# The file


@pytest.mark.parametrize("depth", [1000, 10_000])
def test_deep_nesting_is_refused_not_a_recursion_error(depth: int, tmp_path: Path) -> None:
    path = write(tmp_path, "name: " + "[" * depth + "]" * depth + "\n")
    assert refused(path) == (
        f"error: {path}: invalid YAML at line 1, column {6 + MAX_DEPTH}: collections nested more than "
        f"{MAX_DEPTH} deep; a spec nests 4"
    )


def test_nesting_up_to_the_limit_is_read(tmp_path: Path) -> None:
    inner = MAX_DEPTH - 1  # the document's mapping is the first level
    data = read_yaml(write(tmp_path, "name: " + "[" * inner + "]" * inner + "\n"))
    assert isinstance(data["name"], list)


@pytest.mark.parametrize("literal", ["9" * 5000, "-" + "9" * 4400, "0x" + "f" * 200, "0b" + "1" * 20_000])
def test_huge_integers_are_refused_with_their_position(literal: str, tmp_path: Path) -> None:
    path = write(tmp_path, f"version: 1\nname: x\ncompute:\n  cpu: {literal}\n")
    assert refused(path) == (
        f"error: {path}: invalid YAML at line 4, column 8: an integer of {len(literal)} characters; "
        "numbers in a spec have a few digits"
    )


def test_size_limit_is_named(tmp_path: Path) -> None:
    path = write(tmp_path, CPU_TEXT + "#" * (MAX_SPEC_BYTES - len(CPU_TEXT.encode())) + "\n")
    assert refused(path) == (
        f"error: {path}: is larger than 1 MiB (1048576 bytes), the most a spec may have; a spec is a few KB of YAML"
    )


def test_a_spec_of_exactly_the_limit_is_read(tmp_path: Path) -> None:
    padding = MAX_SPEC_BYTES - len(CPU_TEXT.encode()) - 1
    path = write(tmp_path, CPU_TEXT + "#" * padding + "\n")
    assert path.stat().st_size == MAX_SPEC_BYTES
    assert load(path).name == "churn"


def test_not_utf8_names_the_byte(tmp_path: Path) -> None:
    path = write(tmp_path, b"version: 1\nname: caf\xe9\n")
    assert refused(path) == f"error: {path}: is not UTF-8 text (byte 0xe9 at offset 20)"


def test_a_directory_is_refused(tmp_path: Path) -> None:
    assert refused(tmp_path) == f"error: {tmp_path}: is a directory, expected a YAML file"


@pytest.mark.parametrize(
    ("text", "key", "first", "again"),
    [
        ("version: 1\nname: a\nenvironment: dev\nname: b\n", "'name'", 2, 4),
        ("aws:\n  region: us-east-1\n  profile: x\n  region: eu-west-1\n", "'region'", 2, 4),
        ("network: {vpc_cidr: 10.0.0.0/16, vpc_cidr: 10.1.0.0/16}\n", "'vpc_cidr'", 1, 1),
        ("version: 1\n1: a\n1: b\n", "1", 2, 3),
    ],
    ids=["top-level", "nested", "flow", "integer-key"],
)
def test_duplicate_keys_name_the_key_and_both_lines(
    text: str, key: str, first: int, again: int, tmp_path: Path
) -> None:
    path = write(tmp_path, text)
    assert refused(path) == (
        f"error: {path}: duplicate key {key} at line {first} and line {again}; a key may appear once in a mapping"
    )


def test_merge_keys_may_be_overridden(tmp_path: Path) -> None:
    data = read_yaml(
        write(tmp_path, "base: &b {min_tasks: 1, max_tasks: 2}\nscaling:\n  <<: *b\n  max_tasks: 4\n")
    )
    assert data["scaling"] == {"min_tasks": 1, "max_tasks": 4}


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("!!float abc", "cannot read this float (could not convert string to float: 'abc')"),
        ("2024-13-45", "cannot read this timestamp (month must be in 1..12)"),
        ("!!int 12x", "cannot read this int (invalid literal for int() with base 10: '12x')"),
        ("!!int", "cannot read this int (string index out of range)"),
        ("!!bool maybe", "cannot read this bool ('maybe')"),
        ("!!map x", "expected a mapping node, but found scalar"),
        ("!!set [1]", "expected a mapping node, but found sequence"),
    ],
)
def test_values_no_constructor_can_build_are_one_line(value: str, problem: str, tmp_path: Path) -> None:
    path = write(tmp_path, f"version: 1\nname: {value}\n")
    assert refused(path) == f"error: {path}: invalid YAML at line 2, column 7: {problem}"


# --------------------------------------------------------------------------------------------------
# Numbers


def _with(path: tuple[str, ...], value: object) -> dict[str, Any]:
    data = copy.deepcopy(CPU)
    data.setdefault("budget", {"monthly_usd": 500, "alert_email": "ops@example.com"})
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return data


@pytest.mark.parametrize("value", [float("inf"), float("-inf"), float("nan"), 1e-300, 1e200, 0])
def test_target_value_outside_application_auto_scaling_range(value: float) -> None:
    lines = spec_errors(_with(("scaling", "target", "value"), value))
    assert lines == [
        f"spec error: scaling.target.value: {value!r} is out of range; allowed: a finite number from "
        "8.51592e-109 to 1.17427e+108"
    ]


@pytest.mark.parametrize("value", [float("inf"), float("nan"), 0.001, 2e9])
def test_budget_outside_its_range(value: float) -> None:
    lines = spec_errors(_with(("budget", "monthly_usd"), value))
    assert lines == [
        f"spec error: budget.monthly_usd: {value!r} is out of range; allowed: a finite number from 0.01 "
        "to 1000000000"
    ]


@pytest.mark.parametrize(
    ("path", "value", "allowed"),
    [
        (("service", "container_port"), 10**30, "a whole number from 1 to 65535"),
        (("service", "container_port"), float("inf"), "a whole number from 1 to 65535"),
        (("scaling", "max_tasks"), -1, "a whole number from 1 to 1000"),
        (("spot", "spot_percentage"), 101, "a whole number from 0 to 100"),
        (("compute", "memory"), 64, "a whole number at least 128"),
    ],
)
def test_integer_ranges_are_named(path: tuple[str, ...], value: object, allowed: str) -> None:
    lines = spec_errors(_with(path, value))
    assert f"spec error: {'.'.join(path)}: {value!r} is out of range; allowed: {allowed}" in lines


def test_range_edges_are_accepted() -> None:
    for value in (2.0**-359, 2.0**359, 0.5):
        data = _with(("scaling", "target", "value"), value)
        data["scaling"]["target"]["metric"] = "requests_per_target"
        assert spec_errors(data) == []
    for usd in (0.01, 1e9):
        assert spec_errors(_with(("budget", "monthly_usd"), usd)) == []


# --------------------------------------------------------------------------------------------------
# What an error line echoes


def test_a_50_mb_name_makes_a_short_line() -> None:
    lines = spec_errors(_with(("name",), "x" * 50_000_000))
    [line] = [ln for ln in lines if ln.startswith("spec error: name:")]
    assert line == f"spec error: name: {shown('x' * 100)} does not match ^[a-z][a-z0-9-]{{0,19}}$"
    assert len(line) < 200 and line.count("x") == ECHO_LIMIT - 2


@pytest.mark.parametrize(
    "value",
    [
        "line\nbreak",
        "\x1b[31mred\x1b[0m",
        "tab\there",
        "cr\rhere",
        "sep\u2028here",
        "bidi\u202eereh",
        "nul\x00",
    ],
)
def test_control_characters_in_values_are_escaped(value: str) -> None:
    for path in (("name",), ("network", "vpc_cidr"), ("aws", "region")):
        lines = spec_errors(_with(path, value))
        assert lines
        for line in lines:
            assert line.isprintable(), line
        assert any(repr(value)[1:-1] in line for line in lines), lines


def test_an_unknown_key_is_echoed_escaped_and_cut() -> None:
    data = copy.deepcopy(CPU)
    data["aws"]["re\ngion\x1b[2J" + "k" * 500] = "x"
    [line] = [ln for ln in spec_errors(data) if "unknown key" in ln]
    assert line.startswith("spec error: aws.'re\\ngion\\x1b[2J") and "…" in line
    assert line.isprintable() and len(line) < 200


def test_one_line_and_shown() -> None:
    assert one_line("a\nb\tc\x1b") == "a\\nb\\tc\\x1b"
    assert len(one_line("y" * 10_000)) == LINE_LIMIT and one_line("y" * 10_000).endswith("…")
    assert shown("plain") == "'plain'"
    assert shown(10**5000) == f"<an integer of {(10**5000).bit_length()} bits>"
    assert len(shown("z" * 10_000)) == ECHO_LIMIT


def test_file_paths_in_error_lines_are_escaped(tmp_path: Path) -> None:
    path = tmp_path / "evil\n\x1b[31mname.yaml"
    with pytest.raises(InputFileError) as info:
        load(path)
    [line] = info.value.lines()
    assert line == f"error: {one_line(str(path))}: no such file" and line.isprintable()


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("service", "ingress_cidrs"), ["10.0.0.0/8\n\x1b[31m" + "9" * 5000]),
        (("service", "environment"), {"BAD\nNAME\x1b[2J" + "N" * 5000: "x"}),
        (
            ("service", "secrets"),
            {"TOKEN_REF": "arn:aws:ssm:us-west-2:123456789012:parameter/x\n" + "p" * 5000},
        ),
        (("service", "model_uri"), "s3://acme-models/*\n" + "k" * 5000),
    ],
    ids=["ingress-cidr", "environment-name", "secret-arn", "model-uri"],
)
def test_service_values_are_echoed_escaped_and_cut(path: tuple[str, ...], value: object) -> None:
    lines = spec_errors(_with(path, value))
    assert lines
    for line in lines:
        assert line.isprintable() and len(line) < 500, line[:200]
