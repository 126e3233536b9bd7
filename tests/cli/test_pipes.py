"""Every command with output, through a pipe its reader closed early: stop quietly, like Unix tools.

Regression (issue #12): ``mlfargate cost x.yaml | head -1``, ``size``, ``check`` (through checkov's
colorama wrapper of stdout), ``schema`` and any ``--json | head`` ended in a ``BrokenPipeError``
traceback. Each command here runs as a real process whose stdout is a pipe with no reader left (its
read end is closed before the command starts, so the first write fails, deterministically): it must
exit 141 (128 + SIGPIPE, what a shell reports for a Unix tool stopped by a closed pipe) with nothing
on stderr. A Terraform run is never cut short by a closed pipe: an apply whose progress (stderr) has
no reader finishes and records its state.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from mlfargate.image import pin
from mlfargate.terraform import engine as engine_mod
from mlfargate.terraform import operations as tfops
from mlfargate.terraform import state as tfstate
from tests.aws.test_prices_refresh import PriceListServer, price_list, url  # noqa: F401 (fixture)
from tests.image.conftest import Registry, buildah_env, start_registry  # noqa: F401 (fixtures)
from tests.image.test_image_push import create_repository, ecr_password, make_deployment, reset
from tests.live.conftest import moto_live  # noqa: F401 (fixture)
from tests.live.helpers import SPEC_TEXT as LIVE_SPEC
from tests.live.helpers import Deployment as LiveDeployment
from tests.runner.conftest import FAST

REPO = Path(__file__).resolve().parents[2]
SPEC = REPO / "examples" / "gpu-ec2-spot-schedules.yaml"
EXIT_PIPE = 141


def run_into_closed_pipe(
    args: list[str], cwd: Path, env: dict[str, str] | None = None, stream: str = "stdout"
) -> subprocess.CompletedProcess[str]:
    """Run ``mlfargate ARGS`` with ``stream`` (stdout or stderr) writing into a pipe whose reader is gone;
    the other stream is captured."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        target = {"stdout": write_end} if stream == "stdout" else {"stderr": write_end}
        other = {"stderr": subprocess.PIPE} if stream == "stdout" else {"stdout": subprocess.PIPE}
        return subprocess.run(
            [sys.executable, "-m", "mlfargate.cli", *args],
            cwd=cwd,
            env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})},
            stdin=subprocess.DEVNULL,
            text=True,
            timeout=300,
            **target,  # type: ignore[arg-type]
            **other,  # type: ignore[arg-type]
        )
    finally:
        os.close(write_end)


def assert_stopped_quietly(result: subprocess.CompletedProcess[str], progress: bool = False) -> None:
    """Exit 141 and nothing on stderr (no traceback, no "Exception ignored"); with ``progress`` the
    command's own progress on stderr (a builder's steps) is fine, but no sign of the closed pipe."""
    assert result.returncode == EXIT_PIPE, (result.returncode, result.stderr)
    if progress:
        for sign in ("Traceback", "Exception ignored", "BrokenPipe", "Broken pipe", "error:"):
            assert sign not in result.stderr, result.stderr
    else:
        assert result.stderr == "", result.stderr


@pytest.fixture
def spec(tmp_path: Path) -> Path:
    path = tmp_path / "spec.yaml"
    path.write_text(SPEC.read_text())
    return path


QUICK = {
    "help": ["--help"],
    "version": ["--version"],
    "command-help": ["plan", "--help"],
    "init": ["init", "--out", "new.yaml"],
    "validate": ["validate", "spec.yaml"],
    "validate-json": ["validate", "spec.yaml", "--json"],
    "schema": ["schema"],
    "cost": ["cost", "spec.yaml"],
    "cost-json": ["cost", "spec.yaml", "--json"],
    "size": ["size", "--params-billion", "7", "--precision", "fp16", "--spec", "spec.yaml"],
    "size-json": ["size", "--params-billion", "7", "--precision", "fp16", "--json"],
    "prices-show": ["prices", "show"],
    "prices-show-json": ["prices", "show", "--json"],
    "doctor": ["doctor", "--terraform", "embedded"],
    "doctor-json": ["doctor", "--terraform", "embedded", "--json"],
    "generate": ["generate", "spec.yaml", "--out", "gen"],
    "generate-json": ["generate", "spec.yaml", "--out", "gen", "--json"],
}


@pytest.mark.parametrize("name", sorted(QUICK))
def test_command_output_into_a_closed_pipe_stops_quietly(name: str, spec: Path, tmp_path: Path) -> None:
    result = run_into_closed_pipe(
        QUICK[name], cwd=spec.parent, env={"MLFARGATE_CACHE_DIR": str(tmp_path / "cache")}
    )
    assert_stopped_quietly(result)


@pytest.mark.slow
@pytest.mark.parametrize("json_flag", [[], ["--json"]], ids=["text", "json"])
def test_prices_refresh_into_a_closed_pipe(
    json_flag: list[str],
    price_list: PriceListServer,  # noqa: F811 (the fixture imported above)
    moto_reset: str,
    tmp_path: Path,
) -> None:
    from mlfargate.cost import price_book

    env = {
        price_book.PRICING_ENDPOINT_ENV: url(price_list),
        "MLFARGATE_AWS_ENDPOINT_URL": moto_reset,
        price_book.CACHE_ENV: str(tmp_path / "cache"),
    }
    result = run_into_closed_pipe(["prices", "refresh", *json_flag], cwd=tmp_path, env=env)
    assert_stopped_quietly(result)
    assert (tmp_path / "cache" / "prices-us-east-1.yaml").is_file()  # the work was done before the output


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "svc-pipe"
    ws.mkdir()
    (ws / "main.tf").write_text(FAST)
    return ws


@pytest.mark.slow
@pytest.mark.parametrize("json_flag", [[], ["--json"]], ids=["text", "json"])
def test_workspace_commands_into_a_closed_pipe(json_flag: list[str], workspace: Path) -> None:
    embedded = engine_mod.select("embedded")
    tf = ["--terraform", "embedded"]

    progress = not json_flag  # what the command is doing goes to stderr (not with --json)
    assert_stopped_quietly(run_into_closed_pipe(["schema-check", ".", *json_flag], cwd=workspace))
    assert_stopped_quietly(run_into_closed_pipe(["check", ".", *json_flag], cwd=workspace), progress)

    plan = run_into_closed_pipe(["plan", ".", *tf, *json_flag], cwd=workspace)
    assert_stopped_quietly(plan, progress)
    assert tfstate.load_saved_plan(workspace)  # the plan was complete before its summary was printed
    # + the saved plan
    assert_stopped_quietly(run_into_closed_pipe(["check", ".", *json_flag], cwd=workspace), progress)

    # apply prints the plan's summary before it asks: with no reader it stops there, changing nothing.
    apply = run_into_closed_pipe(["apply", ".", "--yes", *tf, *json_flag], cwd=workspace)
    if json_flag:  # --json prints only at the end: the apply ran, then its output found no reader
        assert_stopped_quietly(apply)
        assert tfops.state_resources(embedded, workspace) == ["terraform_data.a", "terraform_data.b"]
    else:
        assert_stopped_quietly(apply, progress)
        assert tfops.state_resources(embedded, workspace) == []
        tfops.apply(embedded, tfstate.load_saved_plan(workspace))

    destroy = run_into_closed_pipe(["destroy", ".", "--yes", *tf, *json_flag], cwd=workspace)
    assert_stopped_quietly(destroy, progress)
    if json_flag:
        assert tfops.state_resources(embedded, workspace) == []
    else:  # stopped at the summary, before the confirmation: nothing destroyed, no destroy plan left
        assert tfops.state_resources(embedded, workspace) == ["terraform_data.a", "terraform_data.b"]
        assert not (workspace / tfstate.STATE_DIR).exists()


@pytest.mark.slow
def test_apply_progress_into_a_closed_pipe_never_cuts_terraform_short(workspace: Path) -> None:
    """stderr (Terraform's per-resource progress) has no reader: the apply still finishes and saves
    its state; only then does mlfargate stop, quietly."""
    embedded = engine_mod.select("embedded")
    tfops.init(embedded, workspace)
    tfops.plan(embedded, workspace)
    result = run_into_closed_pipe(
        ["apply", ".", "--yes", "--terraform", "embedded"], cwd=workspace, stream="stderr"
    )
    assert result.returncode == EXIT_PIPE, result.stdout
    # The gate's progress already met the closed stderr: the apply it was asked for ran all the same.
    assert result.stdout.startswith("plan: 2 to add")  # the summary was shown before the apply
    assert tfops.state_resources(embedded, workspace) == ["terraform_data.a", "terraform_data.b"]
    assert not (workspace / tfstate.STATE_DIR).exists()  # the applied plan is gone, as after any apply


def test_an_error_with_no_reader_on_stderr_keeps_its_exit_code(tmp_path: Path) -> None:
    result = run_into_closed_pipe(["validate", "missing.yaml"], cwd=tmp_path, stream="stderr")
    assert result.returncode == 2 and result.stdout == ""


@pytest.mark.parametrize(
    "command",
    [
        f"cost {SPEC} | head -1",
        "schema | head -1",
        f"size --params-billion 7 --precision fp16 --json --spec {SPEC} | head -1",
        "check . --json | head -1",
        "check . | head -c 10",
    ],
)
def test_through_head_like_an_operator(command: str, workspace: Path) -> None:
    """The reported command lines, through a real shell and `head`: whichever way the race between the
    writer and `head` goes, no traceback and no noise on stderr."""
    script = f"set -o pipefail; {sys.executable} -m mlfargate.cli {command}"
    result = subprocess.run(
        ["bash", "-c", script], cwd=workspace, capture_output=True, text=True, timeout=120,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )  # fmt: skip
    assert result.returncode in (0, EXIT_PIPE), result.stderr
    if command == "check . | head -c 10":  # stderr says what check is doing, and only that
        assert result.stderr.startswith(
            f"policy gate (checkov) ...\n  checking the configuration in {workspace}\n"
        )
        assert result.stderr.count("\n") == 3 and "policy gate (checkov): done in" in result.stderr
    else:
        assert result.stderr == ""
    assert result.stdout.strip()


# --------------------------------------------------------------------------------------------------
# The live service (status, doctor SPEC) on moto, and image build / push with buildah and a registry


@pytest.fixture
def live(
    moto_live: str,  # noqa: F811 (the fixture imported above)
    tmp_path: Path,
) -> tuple[LiveDeployment, Path]:
    deployment = LiveDeployment(moto_live).create()
    deployment.run_tasks(1)
    spec = tmp_path / "mlfargate.yaml"
    spec.write_text(LIVE_SPEC)
    return deployment, spec


@pytest.mark.slow
@pytest.mark.parametrize("command", ["status", "doctor"])
@pytest.mark.parametrize("json_flag", [[], ["--json"]], ids=["text", "json"])
def test_live_commands_into_a_closed_pipe(
    command: str, json_flag: list[str], live: tuple[LiveDeployment, Path]
) -> None:
    deployment, spec = live
    args = [command, spec.name, "--endpoint-url", deployment.url, *json_flag]
    assert_stopped_quietly(run_into_closed_pipe(args, cwd=spec.parent))


@pytest.mark.slow
@pytest.mark.parametrize("json_flag", [[], ["--json"]], ids=["text", "json"])
def test_image_build_and_push_into_a_closed_pipe(
    json_flag: list[str],
    tmp_path: Path,
    moto_server: str,
    buildah_env: dict[str, str],  # noqa: F811 (the fixture imported above)
    start_registry: Callable[[str], Registry],  # noqa: F811 (the fixture imported above)
) -> None:
    reset(moto_server)
    registry = start_registry(ecr_password(moto_server))
    dep = make_deployment(tmp_path / "project", moto_server)
    create_repository(moto_server)
    env = {**dep.env, **buildah_env}
    build = ["image", "build", "mlfargate.yaml", "--context", "ctx", "--builder", "buildah", *json_flag]
    assert_stopped_quietly(run_into_closed_pipe(build, cwd=dep.root, env=env), progress=True)
    assert dep.build()["image"]  # the build finished before its output found no reader (now cached)
    to = {
        "MLFARGATE_REGISTRY_ENDPOINT": registry.endpoint,
        "MLFARGATE_REGISTRY_CERT_DIR": str(registry.certs),
    }
    push = ["image", "push", "mlfargate.yaml", "ws", *json_flag]
    assert_stopped_quietly(run_into_closed_pipe(push, cwd=dep.root, env={**env, **to}), progress=True)
    assert pin.pinned_digest(dep.workspace)  # pinned before the output found no reader
