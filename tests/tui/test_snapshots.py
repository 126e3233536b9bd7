"""Snapshots of every step at a fixed terminal size: cursor blink off, a fixed clock, bundled prices,
and paths relative to the working directory (no machine-specific path in any picture).

Update after an intended change: ``.venv/bin/pytest tests/tui/test_snapshots.py --snapshot-update``,
then look at the pictures (``snapshot_report.html``) before committing them."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.tui.conftest import REPO, goto, make_app, run_generate, settle, type_into

WIDE = (120, 40)
NARROW = (80, 24)
Compare = Callable[..., bool]


@pytest.fixture
def workdir(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A working directory inside the checkout's ignored build/ (same depth every run): the workspace's
    local module paths and the gate's file:line are then the same relative paths on every machine."""
    path = REPO / "build" / f"tui-snapshot-{uuid.uuid4().hex[:8]}"
    path.mkdir(parents=True)
    monkeypatch.chdir(path)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def at(step: str, then: Callable[[Any, Pilot[None]], Any] | None = None) -> Callable[[Pilot[None]], Any]:
    async def run_before(pilot: Pilot[None]) -> None:
        app: Any = pilot.app
        await settle(app, pilot)
        await goto(app, pilot, step)
        if then is not None:
            await then(app, pilot)
        await pilot.pause(0.4)  # the review's file preview waits 0.3 s for typing to stop
        await app.workers.wait_for_complete()
        await pilot.pause()
        app.screen.set_focus(None)

    return run_before


def test_account(snap_compare: Compare, workdir: Path) -> None:
    assert snap_compare(make_app(Path("mlfargate.yaml")), terminal_size=WIDE, run_before=at("account"))


def test_account_with_an_error(snap_compare: Compare, workdir: Path) -> None:
    async def bad_name(app: Any, pilot: Pilot[None]) -> None:
        await type_into(pilot, "#f-name", "Sentiment")
        await pilot.press("ctrl+n")  # refused

    assert snap_compare(
        make_app(Path("mlfargate.yaml")), terminal_size=WIDE, run_before=at("account", bad_name)
    )


def test_account_at_80x24(snap_compare: Compare, workdir: Path) -> None:
    assert snap_compare(make_app(Path("mlfargate.yaml")), terminal_size=NARROW, run_before=at("account"))


def test_network(snap_compare: Compare, workdir: Path) -> None:
    assert snap_compare(make_app(Path("mlfargate.yaml")), terminal_size=WIDE, run_before=at("network"))


def test_model(snap_compare: Compare, workdir: Path) -> None:
    assert snap_compare(make_app(Path("mlfargate.yaml")), terminal_size=WIDE, run_before=at("model"))


def test_spot(snap_compare: Compare, workdir: Path) -> None:
    assert snap_compare(make_app(Path("mlfargate.yaml")), terminal_size=WIDE, run_before=at("spot"))


def test_scaling(snap_compare: Compare, workdir: Path) -> None:
    assert snap_compare(make_app(Path("mlfargate.yaml")), terminal_size=WIDE, run_before=at("scaling"))


def test_review(snap_compare: Compare, workdir: Path) -> None:
    assert snap_compare(make_app(Path("mlfargate.yaml")), terminal_size=WIDE, run_before=at("review"))


@pytest.mark.slow
def test_generate_and_check(snap_compare: Compare, workdir: Path) -> None:
    assert snap_compare(
        make_app(Path("mlfargate.yaml")), terminal_size=WIDE, run_before=at("generate", run_generate)
    )


# --- deploy and dashboard ------------------------------------------------------------------------------
# The deploy screen runs the embedded Terraform core on a workspace of terraform_data resources where
# the wizard would have generated one (workspaces/<name>-<environment> beside the spec); its elapsed
# times come from the app's fixed clock. The dashboard reads AWS answers from botocore's Stubber
# (tests/live/stubs.py) at the scenario's fixed time: moto's task ids and IPs change on every run.

DEPLOY_WS = Path("workspaces") / "sentiment-prod"  # the example spec's prefix
DEPLOY = (120, 44)
DASHBOARD = (160, 56)


def deploy_app(**kwargs: Any) -> Any:
    from tui.deploy.run import EngineOptions

    return make_app(Path("mlfargate.yaml"), engine=EngineOptions(terraform="embedded"), **kwargs)


async def open_deploy(app: Any, pilot: Pilot[None]) -> Any:
    from tests.tui.conftest import until
    from tui.deploy.screen import DeployScreen

    await until(pilot, lambda: app.wizard is not None and app.wizard.core_ready, 30)
    app.open_deploy()
    await until(pilot, lambda: isinstance(app.screen, DeployScreen) and bool(app.screen.query("#plan-table")))
    await pilot.pause()
    return app.deploy


async def deployed(pilot: Pilot[None], deploy: Any, seconds: float = 240) -> None:
    from tests.tui.conftest import until

    await until(pilot, lambda: deploy.running is None, seconds)
    await pilot.pause()


@pytest.mark.slow
def test_plan_summary(snap_compare: Compare, workdir: Path) -> None:
    """A module's resource replaced because an attribute that forces it changed, by module."""
    from mlfargate.terraform import engine, operations, state

    ws = workdir / DEPLOY_WS
    (ws / "net").mkdir(parents=True)
    (ws / "main.tf").write_text(
        'module "net" {\n  source = "./net"\n}\n\nresource "terraform_data" "root" {\n  input = 1\n}\n'
    )
    module = 'resource "terraform_data" "x" {\n  triggers_replace = "v1"\n}\n'
    (ws / "net" / "main.tf").write_text(module)
    core = engine.select("embedded")
    operations.init(core, ws.resolve())
    operations.plan(core, ws.resolve())
    operations.apply(core, state.load_saved_plan(ws))
    (ws / "net" / "main.tf").write_text(module.replace("v1", "v2"))
    (ws / "extra.tf").write_text('resource "terraform_data" "new" {\n  input = "n"\n}\n')

    async def plan(pilot: Pilot[None]) -> None:
        deploy = await open_deploy(pilot.app, pilot)
        await pilot.press("p")
        await deployed(pilot, deploy)
        pilot.app.screen.set_focus(None)

    assert snap_compare(deploy_app(), terminal_size=DEPLOY, run_before=plan)


@pytest.mark.slow
def test_apply_progress(snap_compare: Compare, workdir: Path) -> None:
    """Mid-apply: one resource created, the next one's provisioner still running."""
    from tests.runner.conftest import SLOW
    from tests.tui.conftest import modal_shown, until
    from tui.screens.confirm import ConfirmScreen
    from tui.widgets.keyed_table import KeyedTable

    ws = workdir / DEPLOY_WS
    ws.mkdir(parents=True)
    (ws / "main.tf").write_text(SLOW)

    async def apply(pilot: Pilot[None]) -> None:
        app: Any = pilot.app
        deploy = await open_deploy(app, pilot)
        await pilot.press("p")
        await deployed(pilot, deploy)
        await pilot.press("a")
        await until(pilot, modal_shown(app, ConfirmScreen), 60)
        await pilot.press(*"sentiment-prod", "enter")

        def slow_running() -> bool:
            rows = deploy.query_one("#apply-log", KeyedTable).given_rows
            return "terraform_data.slow" in rows and str(rows["terraform_data.slow"][1]) == "creating…"

        await until(pilot, slow_running, 120)
        await pilot.pause(0.2)
        app.screen.set_focus(None)

    app = deploy_app()
    try:
        assert snap_compare(app, terminal_size=DEPLOY, run_before=apply)
    finally:
        if app.deploy is not None and app.deploy.cancel is not None:
            app.deploy.cancel.stop()  # the provisioner's sleep is stopped, not waited for


def test_dashboard(snap_compare: Compare, workdir: Path) -> None:
    from tests.live.helpers import spec_from
    from tests.live.stubs import NOW, PREFIX, StubbedAws, complete_scenario, task
    from tests.tui.conftest import until
    from tui.dashboard.screen import DashboardScreen
    from tui.dashboard.source import LiveSource

    scenario = complete_scenario()
    oom = "c" * 32
    scenario.stopped = [
        task(
            oom,
            status="STOPPED",
            desired="STOPPED",
            provider="FARGATE_SPOT",
            ip="10.30.9.12",
            az="us-east-1b",
            stopping=NOW - timedelta(minutes=19),
            stopped=NOW - timedelta(minutes=18),
            stop_code="EssentialContainerExited",
            reason="Essential container in task exited",
            exit_code=137,
            container_reason="OutOfMemoryError: Container killed due to memory usage",
        )
    ]
    scenario.service["events"].append(  # ECS lists events newest first
        {
            "id": "e0",
            "createdAt": NOW - timedelta(minutes=18),
            "message": f"(service {PREFIX}) has stopped 1 running tasks: (task {oom}).",
        }
    )
    scenario.metrics = [m for m in scenario.metrics if m["Id"] != "target_5xx"]  # "no data" shown as such
    stubbed = StubbedAws()
    scenario.queue(stubbed)
    source = LiveSource(spec_from(), factory=stubbed.factory, clock=lambda: NOW)

    async def loaded(pilot: Pilot[None]) -> None:
        app: Any = pilot.app
        await until(pilot, lambda: isinstance(app.screen, DashboardScreen) and app.screen.refreshes > 0, 30)
        await pilot.pause(0.2)
        app.screen.set_focus(None)

    app = make_app(Path("mlfargate.yaml"), start="dashboard", source=source, every_s=3600)
    assert snap_compare(app, terminal_size=DASHBOARD, run_before=loaded)
