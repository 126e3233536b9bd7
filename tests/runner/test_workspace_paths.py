"""plan / check / apply / destroy through the CLI with every way of naming the workspace.

Regression (issue #12): ``mlfargate plan ws && mlfargate apply ws --yes`` failed with
``Failed to load "ws/.mlfargate/tfplan" as a plan file`` and deleted the saved plan, because the
plan path was relative while Terraform ran with ``-chdir``. ``plan .`` worked, so tests missed it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from mlfargate.terraform import engine as engine_mod
from mlfargate.terraform import operations as tfops

REPO = Path(__file__).resolve().parents[2]


def cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mlfargate.cli", *args, "--terraform", "embedded"]
        if args[0] != "check"
        else [sys.executable, "-m", "mlfargate.cli", *args],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=300,
    )


def _forms(ws: Path) -> dict[str, tuple[Path, str]]:
    """(cwd, argument) for each way of naming ``ws``."""
    link = ws.parent / "ws-link"
    link.symlink_to(ws, target_is_directory=True)
    (ws.parent / "other").mkdir()
    return {
        "relative": (ws.parent, ws.name),
        "absolute": (REPO, str(ws)),
        "dot": (ws, "."),
        "dotdot": (ws.parent / "other", f"../{ws.name}"),
        "symlink": (ws.parent, link.name),
    }


@pytest.mark.slow
@pytest.mark.parametrize("form", ["relative", "absolute", "dot", "dotdot", "symlink"])
def test_plan_check_apply_destroy_with_any_workspace_path(form: str, make_ws: Callable[..., Path]) -> None:
    ws = make_ws(name="svc-paths")
    cwd, arg = _forms(ws)[form]
    embedded = engine_mod.select("embedded")

    plan = cli(cwd, "plan", arg)
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert (ws / ".mlfargate" / "tfplan").is_file()

    check = cli(cwd, "check", arg)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "gate (plan" in check.stdout  # the saved plan was found through this path and gated

    apply = cli(cwd, "apply", arg, "--yes")
    assert apply.returncode == 0, apply.stdout + apply.stderr
    assert tfops.state_resources(embedded, ws) == ["terraform_data.a", "terraform_data.b"]

    destroy = cli(cwd, "destroy", arg, "--yes")
    assert destroy.returncode == 0, destroy.stdout + destroy.stderr
    assert tfops.state_resources(embedded, ws) == []
    assert not (ws / ".mlfargate").exists()
