"""A workspace that a killed `mlfargate generate` left mid-swap (some files new, some old; the journal
in .mlfargate-stage/ says which) is neither planned, gated, applied nor destroyed: that mixture is
neither the old nor the new workspace. Every entry of the deploy flow refuses it with one line before
Terraform or checkov runs, and says how to put it right (the next generate restores it first).

tests/generator/test_generate_safety.py kills a real generate mid-swap and drives the CLI on it; these
prove the flow API the CLI and the TUI both call.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from mlfargate import flow
from mlfargate.generate import workspace as ws
from mlfargate.terraform.engine import Engine


def _interrupt(root: Path) -> None:
    """What a generate killed after its commit point leaves: the stage with its journal."""
    (root / ws.STAGE / "new").mkdir(parents=True)
    (root / ws.STAGE / "journal.json").write_text(ws._Journal({"main.tf": "0" * 64}, [], ["main.tf"]).text())


def _never(request: flow.ConfirmRequest) -> str | None:
    raise AssertionError("nobody is asked to confirm an interrupted workspace")


CALLS: dict[str, Callable[[Engine, Path], object]] = {
    "plan": lambda engine, root: flow.plan(engine, root),
    "apply": lambda engine, root: flow.apply(engine, root, _never),
    "destroy": lambda engine, root: flow.destroy(engine, root, _never),
    "gate": lambda engine, root: flow.gate(root),
}


@pytest.mark.parametrize("call", sorted(CALLS))
def test_every_flow_entry_refuses_a_workspace_left_mid_swap(
    embedded: Engine, make_ws: Callable[..., Path], call: str
) -> None:
    root = make_ws(name="svc-interrupted")
    _interrupt(root)
    before = sorted(p.relative_to(root).as_posix() for p in root.rglob("*"))
    with pytest.raises(flow.WorkspaceInterruptedError) as refused:
        CALLS[call](embedded, root)
    assert str(refused.value) == (
        f"{root}: an interrupted `mlfargate generate` left {ws.STAGE}/, so some files may be new and "
        "some old; run the same `mlfargate generate` again (it restores the workspace first), then retry"
    )
    assert refused.value.exit_code == 2
    # Refused before anything ran: no .terraform/, no saved plan, nothing else written.
    assert sorted(p.relative_to(root).as_posix() for p in root.rglob("*")) == before


def test_a_stage_that_never_reached_its_commit_point_is_no_obstacle(
    embedded: Engine, make_ws: Callable[..., Path]
) -> None:
    """Killed while staging: the workspace was not touched (the next generate just removes the stage)."""
    root = make_ws(name="svc-staging")
    (root / ws.STAGE / "new").mkdir(parents=True)
    assert flow.gate(root).ok


def test_a_cdk_terrain_stack_is_refused_when_its_workspace_was_left_mid_swap(tmp_path: Path) -> None:
    """The stage lives in the CDK Terrain workspace (generate's --out), Terraform runs in the stack."""
    root = tmp_path / "svc-cdk"
    stack = root / "cdktf.out" / "stacks" / "svc"
    stack.mkdir(parents=True)
    (root / "cdktf.json").write_text('{"app": "python -m cdktf_app"}\n')
    (stack / "cdk.tf.json").write_text("{}\n")
    _interrupt(root)
    with pytest.raises(flow.WorkspaceInterruptedError) as refused:
        flow.gate(stack)
    assert str(refused.value).startswith(f"{root}: an interrupted `mlfargate generate` left {ws.STAGE}/")


def test_a_cdk_terrain_stack_not_synthesized_yet_is_refused_too(tmp_path: Path) -> None:
    """A fresh clone has no cdktf.out/ (build output): the stack directory the flow is given does not
    exist yet, and the workspace around it still must not be half new, half old."""
    root = tmp_path / "svc-cdk"
    root.mkdir()
    (root / "cdktf.json").write_text('{"app": "python -m cdktf_app"}\n')
    _interrupt(root)
    with pytest.raises(flow.WorkspaceInterruptedError) as refused:
        flow.gate(root / "cdktf.out" / "stacks" / "svc")
    assert str(refused.value).startswith(f"{root}: an interrupted `mlfargate generate` left {ws.STAGE}/")
