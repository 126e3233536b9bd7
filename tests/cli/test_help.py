"""Every command explains itself: a description and examples under ``--help`` (examples that parse),
``--json`` wherever there is output, and a bare ``mlfargate`` (or command group) prints its help."""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from mlfargate.cli import build_parser, main

REPO = Path(__file__).resolve().parents[2]


def _children(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _walk(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    for name, child in _children(parser).items():
        yield (*path, name), child
        yield from _walk(child, (*path, name))


PARSER = build_parser()
COMMANDS = dict(_walk(PARSER))
LEAVES = {path: p for path, p in COMMANDS.items() if not _children(p)}


def test_the_walk_finds_every_command() -> None:
    """The walk below sees what `mlfargate --help` lists (and the nested commands)."""
    top = {path[0] for path in COMMANDS}
    assert {"init", "validate", "cost", "size", "schema", "generate", "check", "plan", "apply"} <= top
    assert {"destroy", "status", "doctor", "image", "prices", "schema-check"} <= top
    assert {("image", "build"), ("image", "push"), ("prices", "refresh"), ("prices", "show")} <= set(LEAVES)


def _example_argvs(epilog: str) -> list[list[str]]:
    """The mlfargate command lines of an epilog's examples (``a && b`` is two, ``> file`` is dropped)."""
    argvs = []
    for line in epilog.splitlines()[1:]:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        for part in line.split("&&"):
            words = shlex.split(part.split(" > ")[0])
            assert words[0] == "mlfargate", line
            argvs.append(words[1:])
    return argvs


@pytest.mark.parametrize("path", sorted(COMMANDS), ids=" ".join)
def test_every_command_has_a_description_and_examples_that_parse(path: tuple[str, ...]) -> None:
    parser = COMMANDS[path]
    assert parser.description and len(parser.description) > 40, f"{' '.join(path)} has no description"
    assert parser.epilog and parser.epilog.split("\n")[0] in ("example:", "examples:"), parser.epilog
    argvs = _example_argvs(parser.epilog)
    assert argvs and any(argv[: len(path)] == list(path) for argv in argvs)
    for argv in argvs:
        try:
            build_parser().parse_args(argv)
        except SystemExit:
            pytest.fail(f"the example `mlfargate {shlex.join(argv)}` does not parse")
    # --help prints the description's words and the examples as written (not rewrapped).
    text = parser.format_help()
    assert parser.epilog in text
    assert " ".join(parser.description.split()[:4]) in " ".join(text.split())


@pytest.mark.parametrize("path", sorted(LEAVES), ids=" ".join)
def test_every_command_with_output_has_json(path: tuple[str, ...]) -> None:
    """The README: "Every command with output has `--json`" (every command has output)."""
    options = {s for a in LEAVES[path]._actions for s in a.option_strings}
    assert "--json" in options, f"mlfargate {' '.join(path)} has no --json"


def test_help_keeps_examples_as_written_and_wraps_prose(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init", "--help"]) == 0
    text = capsys.readouterr().out
    assert (
        "\nexamples:\n  mlfargate init\n  mlfargate init --out mine.yaml && mlfargate validate mine.yaml\n"
        in text
    )
    assert all(len(line) <= 100 for line in text.splitlines())


@pytest.mark.parametrize(
    ("argv", "usage"),
    [
        ([], "usage: mlfargate "),
        (["image"], "usage: mlfargate image "),
        (["prices"], "usage: mlfargate prices "),
    ],
)
def test_bare_mlfargate_prints_help(argv: list[str], usage: str) -> None:
    """As kubectl and docker do: the help on stdout, exit 0 (not argparse's "the following arguments are
    required", exit 2)."""
    proc = subprocess.run(
        [sys.executable, "-m", "mlfargate.cli", *argv], capture_output=True, text=True, cwd=REPO, timeout=60
    )
    assert proc.returncode == 0 and proc.stderr == ""
    assert proc.stdout.startswith(usage)
    assert "example" in proc.stdout and "required" not in proc.stdout


def test_init_json_is_one_document(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "mine.yaml"
    assert main(["init", "--out", str(target), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data == {
        "wrote": str(target),
        "bytes": target.stat().st_size,
        "next": f"mlfargate validate {target}",
    }


def test_schema_json_is_the_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    plain = capsys.readouterr().out
    assert main(["schema", "--json"]) == 0
    assert capsys.readouterr().out == plain and json.loads(plain)["title"]
