"""The README's tour works as typed (issue #16: after `make run`, `mlfargate init` was "command not
found" because the README never said to activate .venv). The block is read from README.md and run line
by line in bash from a copy of the checkout's layout, up to the policy gate: what needs no AWS account
and no provider download. The later lines (plan/apply need hashicorp/aws; image push needs the
workspace applied; status/doctor a deployed service) are covered by their own tests."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def tour() -> list[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    block = re.search(r"## A tour\n.*?```bash\n(.*?)```", text, re.DOTALL)
    assert block, "README.md has a '## A tour' section with a bash block"
    return [line.split("  #")[0].strip() for line in block.group(1).splitlines() if line.strip()]


def test_the_tour_starts_by_activating_the_venv() -> None:
    assert tour()[0].startswith("source .venv/bin/activate")


def test_the_tour_runs_as_typed_up_to_the_gate(tmp_path: Path) -> None:
    lines = tour()
    upto = next(i for i, line in enumerate(lines) if line.startswith("mlfargate check")) + 1
    script = "set -e\n" + "\n".join(lines[:upto]) + "\n"
    # The checkout as a newcomer has it: modules/ and environments/ beside a .venv whose bin/ holds
    # the mlfargate this test runs with.
    (tmp_path / "environments").mkdir()
    (tmp_path / "modules").symlink_to(REPO / "modules", target_is_directory=True)
    (tmp_path / ".venv").symlink_to(Path(sys.executable).parent.parent, target_is_directory=True)
    proc = subprocess.run(
        ["bash", "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "MLFARGATE_GATE_CACHE": "0"},
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    assert (tmp_path / "mine.yaml").is_file() and (tmp_path / "environments" / "mine" / "main.tf").is_file()
    assert re.search(r"gate \(configuration \S+\): pass", proc.stdout)
