"""`mlfargate check`: says what it is checking while checkov works (stderr), prints a summary by default
(counts, the waivers grouped by check with one reason each), every waiver with --verbose, and one
JSON document with --json (issue 16: 28 waiver lines on a pass, 16 of them the same module waiver)."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from mlfargate.cli import main
from tests.runner.test_progress import Terminal

REPO = Path(__file__).resolve().parents[2]
DEV = REPO / "environments" / "dev"


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """The gate's own report of environments/dev (--json), to compare the text output with."""
    capture = pytest.MonkeyPatch()
    try:
        import io
        import sys

        out = io.StringIO()
        capture.setattr(sys, "stdout", out)
        capture.setattr(sys, "stderr", io.StringIO())
        assert main(["check", str(DEV), "--json"]) == 0
        assert sys.stderr.getvalue() == ""  # type: ignore[attr-defined]  # no progress with --json
    finally:
        capture.undo()
    data = json.loads(out.getvalue())  # stdout is exactly one JSON document
    assert isinstance(data, dict)
    return data


def _waivers(report: dict[str, object]) -> list[dict[str, str]]:
    [configuration] = report["reports"]  # type: ignore[index]
    return list(configuration["waived"])  # type: ignore[index]


def test_check_prints_a_summary_with_waivers_grouped_by_check(
    report: dict[str, object], capsys: pytest.CaptureFixture[str]
) -> None:
    waivers = _waivers(report)
    counts = Counter(w["check_id"] for w in waivers)
    assert counts["CKV_TF_1"] > 1 and counts["CKV_TF_2"] > 1  # the module-source waiver, once per module
    assert main(["check", str(DEV)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert (
        out[0]
        == f"gate (configuration {DEV}): pass: 0 failed, {len(waivers)} waived, {report['reports'][0]['passed']} passed"
    )  # type: ignore[index]
    assert out[1] == "  waived, by check (every waiver with --verbose):"
    groups = out[2:]
    assert len(groups) == len(counts)  # one line per waived check
    for line in groups:
        check_id, times, reason = re.fullmatch(r"    (\S+) +x(\d+)  (.*)", line).groups()  # type: ignore[union-attr]
        assert int(times) == counts[check_id]
        assert reason.split(" (+")[0] in {w["reason"] for w in waivers if w["check_id"] == check_id}
    # Most waived first; CKV_TF_1 and CKV_TF_2 once each.
    assert [g.split()[0] for g in groups][:2] == ["CKV_TF_1", "CKV_TF_2"]


def test_check_verbose_lists_every_waiver(
    report: dict[str, object], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", str(DEV), "--verbose"]) == 0
    out = capsys.readouterr().out.splitlines()
    listed = [line for line in out if line.startswith("  waived ")]
    assert listed == [
        f"  waived {w['check_id']} {w['resource']} at {w['location']}: {w['reason']}"
        for w in _waivers(report)
    ]


def test_check_says_what_it_is_doing_on_stderr(
    report: dict[str, object], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", str(DEV)]) == 0
    err = re.sub(r"\d+\.\ds", "Ns", capsys.readouterr().err)
    assert err == (
        f"policy gate (checkov) ...\n  checking the configuration in {DEV}\npolicy gate (checkov): done in Ns\n"
    )


def test_check_on_a_terminal_has_a_status_line() -> None:
    term = Terminal("check", str(DEV))
    rc = term.finish()
    assert rc == 0, term.output
    step = f"checking the configuration in {DEV}"
    assert re.search(
        rf"\r\x1b\[2K[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] policy gate \(checkov\) +\d+\.\ds  {re.escape(step)}\r", term.output
    )
    assert re.search(r"\r\x1b\[2K✓ policy gate \(checkov\): done in \d+\.\ds\r\n", term.output)
    assert "waived, by check" in term.output


def test_a_narrow_terminal_gets_a_status_line_cut_to_its_width() -> None:
    """A status line longer than the terminal would wrap, and the next redraw would leave the wrapped
    part behind: it is cut to the width."""
    term = Terminal("check", str(DEV), columns=40)
    assert term.finish() == 0, term.output
    drawn = [m.group(1) for m in re.finditer(r"\r\x1b\[2K([^\r\n]*)", term.output)]
    assert any(line.startswith("⠋ policy gate (checkov)") and line.endswith("…") for line in drawn)
    assert all(len(line) <= 39 for line in drawn if line.startswith(tuple("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏")))
