"""plan / apply / destroy / check on a CDK Terrain workspace (``generate --format cdktf``), the same way
as on an HCL workspace: Terraform runs in the synthesized stack (``DIR/cdktf.out/stacks/<stack>``),
the saved plan, its fingerprint, the typed confirmation and Ctrl-C behave as on the HCL path.

Regression (issue #16): on such a workspace ``plan DIR`` said "No configuration files ... Planning
without a configuration would mark everything for destruction", ``check DIR`` said "no .tf files",
and ``check`` on the stack directory said "checkov does not read .tf.json files".

Real Terraform core (embedded) on stacks of built-in ``terraform_data`` resources in Terraform JSON
(no provider download); the gate on a stack synthesized by the real CDK Terrain app from an example.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from mlfargate import flow
from mlfargate.generate.cdktf import SYNTH_RECORD, cdktf_json
from mlfargate.generate.model import Options
from mlfargate.terraform import operations
from mlfargate.terraform import state as tfstate
from mlfargate.terraform.engine import Engine
from tests.runner.conftest import HeldServer
from tests.runner.test_interrupts import INTERRUPTED, finish, read_until, wait_arrived

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]

#: tests/runner/conftest.py's FAST, as cdktn synthesizes Terraform JSON.
FAST_JSON = {
    "//": {"metadata": {"backend": "local", "stackName": "svc", "version": "0.24.0"}},
    "resource": {
        "terraform_data": {
            "a": {"input": "a"},
            "b": {"input": "${terraform_data.a.output}"},
        }
    },
}


def held_plan_json(server: HeldServer) -> dict[str, object]:
    """conftest's held_plan in Terraform JSON: the plan waits on ``server``."""
    return {
        "data": {
            "terraform_remote_state": {
                "held": {"backend": "http", "config": {"address": f"{server.url}/state"}}
            }
        },
        "resource": {
            "terraform_data": {"a": {"input": "${data.terraform_remote_state.held.outputs.bucket}"}}
        },
    }


@pytest.fixture
def make_cdktf_ws(tmp_path: Path) -> Callable[..., Path]:
    """A CDK Terrain workspace as `generate --format cdktf` lays it out: cdktf.json (mlfargate's app)
    and the synthesized stack. No spec copy: there is nothing to synthesize from, the stack is used as
    it is, and the gate reads its plan JSON."""

    def make(stack: dict[str, object] | None = None, name: str = "svc-cdk") -> Path:
        ws = tmp_path / name
        (ws / "cdktf.out" / "stacks" / "svc").mkdir(parents=True)
        (ws / "cdktf.json").write_text(cdktf_json(Options(format="cdktf")))
        (ws / "cdktf.out" / "stacks" / "svc" / "cdk.tf.json").write_text(json.dumps(stack or FAST_JSON))
        return ws

    return make


def cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mlfargate.cli", *args],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )


def test_plan_apply_destroy_a_cdktf_workspace_from_the_cli(make_cdktf_ws: Callable[..., Path]) -> None:
    ws = make_cdktf_ws()
    stack = ws / "cdktf.out" / "stacks" / "svc"

    plan = cli(ws.parent, "plan", ws.name, "--terraform", "embedded")
    assert "No configuration files" not in plan.stderr
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert "plan: 2 to add" in plan.stdout
    assert f"saved plan: {stack / '.mlfargate' / 'tfplan'}" in plan.stdout
    # The gate says what it read: the plan JSON, the stack having no HCL twin to scan.
    assert "the configuration is not scanned" in plan.stdout
    assert not (ws / ".mlfargate").exists()  # the saved plan lives with the Terraform root

    # Without --yes and without a terminal: refused, as on the HCL path; the plan stays.
    refused = cli(ws.parent, "apply", ws.name, "--terraform", "embedded")
    assert refused.returncode == 1 and "stdin is not a terminal" in refused.stderr
    apply = cli(ws.parent, "apply", ws.name, "--terraform", "embedded", "--yes")
    assert apply.returncode == 0, apply.stdout + apply.stderr
    assert "applied in" in apply.stdout
    assert (stack / "terraform.tfstate").is_file() and not (ws / "terraform.tfstate").exists()

    check = cli(ws.parent, "check", ws.name)  # no saved plan now, and no twin: nothing vouches for it
    assert check.returncode == 1 and "checkov does not read .tf.json" in check.stdout

    destroy = cli(ws.parent, "destroy", ws.name, "--terraform", "embedded", "--yes")
    assert destroy.returncode == 0, destroy.stdout + destroy.stderr
    assert "destroyed in" in destroy.stdout
    again = cli(ws.parent, "destroy", ws.name, "--terraform", "embedded", "--yes")
    assert again.returncode == 0 and "nothing to destroy" in again.stdout


def test_the_flow_on_a_cdktf_workspace_confirms_by_its_name_and_refuses_a_stale_plan(
    embedded: Engine, make_cdktf_ws: Callable[..., Path]
) -> None:
    ws = make_cdktf_ws(name="svc-flow")
    stack = ws / "cdktf.out" / "stacks" / "svc"
    root = flow.resolve_workspace(ws)
    assert root == stack.resolve()
    assert flow.resolve_workspace(stack) == root  # the stack directory may be named too

    planned = flow.plan(embedded, root)
    assert planned.summary.totals.add == 2 and planned.gate.ok
    assert [r.kind for r in planned.gate.reports] == ["plan"]
    asked: list[flow.ConfirmRequest] = []

    def typed(text: str) -> flow.Confirm:
        def confirm(request: flow.ConfirmRequest) -> str:
            asked.append(request)
            return text

        return confirm

    with pytest.raises(flow.NotConfirmedError):
        flow.apply(embedded, root, typed("svc"))  # the stack's name is not the workspace's
    assert asked[-1].name == "svc-flow" and asked[-1].verb == "apply"

    # The saved plan's fingerprint covers the stack and what it is synthesized from (cdktf.json).
    flow.plan(embedded, root)
    stack_file = stack / "cdk.tf.json"
    stack_file.write_text(stack_file.read_text().replace('"input": "a"', '"input": "A"'))
    with pytest.raises(tfstate.PlanRequiredError, match="configuration changed since the saved plan"):
        flow.apply(embedded, root, typed("svc-flow"))
    flow.plan(embedded, root)
    (ws / "cdktf.json").write_text((ws / "cdktf.json").read_text() + "\n")
    with pytest.raises(tfstate.PlanRequiredError, match="configuration changed since the saved plan"):
        flow.apply(embedded, root, typed("svc-flow"))

    flow.plan(embedded, root)
    applied = flow.apply(embedded, root, typed("svc-flow"))
    assert applied.applied and operations.state_resources(embedded, root) == [
        "terraform_data.a",
        "terraform_data.b",
    ]
    destroyed = flow.destroy(embedded, root, typed("svc-flow"))
    assert destroyed.applied and asked[-1].verb == "destroy" and asked[-1].name == "svc-flow"
    assert operations.state_resources(embedded, root) == []


def test_the_spec_copy_is_part_of_a_stacks_fingerprint(make_cdktf_ws: Callable[..., Path]) -> None:
    ws = make_cdktf_ws()
    stack = ws / "cdktf.out" / "stacks" / "svc"
    before = tfstate.fingerprint(stack)
    (ws / "mlfargate.yaml").write_text("name: a\n")
    with_spec = tfstate.fingerprint(stack)
    (ws / "mlfargate.yaml").write_text("name: b\n")
    assert len({before, with_spec, tfstate.fingerprint(stack)}) == 3


def test_ctrl_c_during_plan_of_a_cdktf_workspace_saves_no_plan(
    make_cdktf_ws: Callable[..., Path], held_server: HeldServer
) -> None:
    ws = make_cdktf_ws(held_plan_json(held_server))
    stack = ws / "cdktf.out" / "stacks" / "svc"
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlfargate.cli", "plan", ws.name, "--terraform", "embedded"],
        cwd=ws.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    wait_arrived(held_server, proc)
    proc.send_signal(signal.SIGINT)
    seen: list[str] = []
    read_until(proc, "interrupt received: Terraform is stopping gracefully", seen)
    held_server.release.set()
    out, err = finish(proc, seen)
    assert proc.returncode == 130, err
    assert err.strip().splitlines()[-1] == INTERRUPTED
    assert "Traceback" not in err and "saved plan" not in out
    assert not (stack / tfstate.STATE_DIR).exists()


# --------------------------------------------------------------------------------------------------
# A workspace synthesized by the real CDK Terrain app: synth when needed, the gate on its HCL twin


@pytest.fixture
def synthesized(tmp_path: Path) -> Path:
    out = tmp_path / "cdk-ws"
    result = cli(
        tmp_path,
        "generate",
        str(REPO / "examples" / "cpu-fargate-spot.yaml"),
        "--out",
        out.name,
        "--format",
        "cdktf",
    )
    assert result.returncode == 0, result.stderr
    return out


def _stack(ws: Path) -> Path:
    (stack,) = ws.glob("cdktf.out/stacks/*/cdk.tf.json")
    return stack


def test_check_a_fresh_clone_synthesizes_and_gates_the_hcl_twin(synthesized: Path, tmp_path: Path) -> None:
    ws = synthesized
    stack = _stack(ws)
    generated = stack.read_text()
    stack.unlink()  # cdktf.out/ is build output: a clone of the workspace has no stack

    check = cli(tmp_path, "check", ws.name)
    assert "no .tf files" not in check.stdout + check.stderr
    assert check.returncode == 0, check.stdout + check.stderr
    name = stack.parent.name
    said = f"cdktf.out/hcl/{name}: HCL twin of cdktf.out/stacks/{name}/cdk.tf.json, identical"
    assert said in check.stdout  # the gate's output says what it scanned
    assert stack.read_text() == generated  # synthesized as cdktf.json's app does
    assert (ws / SYNTH_RECORD).is_file()

    (report,) = json.loads(cli(tmp_path, "check", ws.name, "--json").stdout)["reports"]
    assert report["target"].startswith(said) and report["kind"] == "directory"
    assert report["passed"] > 100 and not report["failed"] and not report["unchecked"]
    # Waivers are the vendored modules', by paths inside the workspace (relative to the twin).
    files = {w["file"] for w in report["waived"]}
    assert "../../../modules/alb/main.tf" in files
    assert str(tmp_path) not in json.dumps(report)

    # The stack directory itself can be checked too (it used to be "checkov does not read .tf.json").
    direct = cli(tmp_path, "check", str(stack.parent.relative_to(tmp_path)))
    assert direct.returncode == 0, direct.stdout + direct.stderr

    # plan runs Terraform in the stack (here init stops at the AWS provider, which cannot be installed
    # offline; before, Terraform ran in DIR: "No configuration files").
    empty_mirror = tmp_path / "mirror"
    empty_mirror.mkdir()
    plan = cli(tmp_path, "plan", ws.name, "--terraform", "embedded", "--plugin-dir", str(empty_mirror))
    assert plan.returncode != 0
    assert "No configuration files" not in plan.stderr and "hashicorp/aws" in plan.stderr
    assert (stack.parent / ".terraform").is_dir() and not (ws / ".terraform").exists()


def test_an_edited_spec_copy_is_synthesized_before_the_gate(synthesized: Path, tmp_path: Path) -> None:
    ws = synthesized
    spec = ws / "mlfargate.yaml"
    text = spec.read_text()
    assert "max_tasks: 6" in text
    spec.write_text(text.replace("max_tasks: 6", "max_tasks: 5"))
    check = cli(tmp_path, "check", ws.name)
    assert check.returncode == 0, check.stdout + check.stderr
    autoscaling = json.loads(_stack(ws).read_text())["module"]["autoscaling"]
    assert autoscaling["max_capacity"] == 5


def _record(ws: Path) -> None:
    """Vouch for the files as they are now, as a synth would have (the case the twin comparison guards:
    a stack that is current by its record but is not what the spec copy gives)."""
    names = ["mlfargate.yaml", "cdktf.json", _stack(ws).relative_to(ws).as_posix()]
    files = {n: hashlib.sha256((ws / n).read_bytes()).hexdigest() for n in names}
    (ws / SYNTH_RECORD).write_text(json.dumps({"files": files}))


def test_a_stack_that_differs_from_its_hcl_twin_fails_the_gate(synthesized: Path, tmp_path: Path) -> None:
    ws = synthesized
    stack = _stack(ws)
    data = json.loads(stack.read_text())
    data["module"]["autoscaling"]["max_capacity"] = 40
    stack.write_text(json.dumps(data))
    _record(ws)
    check = cli(tmp_path, "check", ws.name)
    assert check.returncode == 1, check.stdout + check.stderr
    assert "DIFFERENT" in check.stdout
    (report,) = json.loads(cli(tmp_path, "check", ws.name, "--json").stdout)["reports"]
    assert [u.split(":")[0:2] for u in report["unchecked"]] == [
        [
            f"{_stack(ws).relative_to(ws)} differs from its HCL twin at module.autoscaling.max_capacity",
            " 6 != 40",
        ]
    ]

    # A resource the twin does not have would be applied unchecked: it blocks too.
    data["module"]["autoscaling"]["max_capacity"] = 6
    data["resource"] = {"aws_s3_bucket": {"open": {"bucket": "x"}}}
    stack.write_text(json.dumps(data))
    _record(ws)
    check = cli(tmp_path, "check", ws.name, "--json")
    assert check.returncode == 1, check.stdout + check.stderr
    (report,) = json.loads(check.stdout)["reports"]
    assert any("differs from its HCL twin at blocks" in u for u in report["unchecked"]), report["unchecked"]
