"""The live dashboard against the real moto server (the live-health fixture: tests/live/helpers.py).

What is proved here: the panels show what was deployed (counts by capacity provider, targets, the
stopped task's reason, the next scheduled action, cost per hour, CloudWatch values and "no data"); the
parts moto cannot answer are named on their panel, not shown as empty-and-healthy; refreshes run on the
interval with CloudWatch read once a minute; a refresh keeps the selected row, the sort and the filter;
every AWS operation the dashboard makes is a Describe/List/Get (read-only); an emulator that goes away
mid-session leaves the last good data on screen with what failed and when, and the app keeps running."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Static

from mlfargate import aws
from mlfargate.live import demo
from mlfargate.live.clients import ClientFactory, aws_factory
from tests.live import conftest as live_fixtures
from tests.live.helpers import REGION, Deployment, post, spec_from
from tests.tui.conftest import make_app, until
from tests.unit.test_cost_now import fixed_per_hour
from tui.app import MlfargateApp
from tui.dashboard import view as v
from tui.dashboard.screen import DashboardScreen
from tui.dashboard.source import LiveSource
from tui.widgets.keyed_table import KeyedTable

#: The live-health work's fixture: a clean moto account, tasks pinned in their state, one attempt a call.
moto_live = live_fixtures.moto_live
WIDE = (160, 60)
TG_STOP = "Task failed ELB health checks in (target-group {tg})"
READ_ONLY = ("Describe", "List", "Get")


def recording(url: str, operations: list[str]) -> ClientFactory:
    """The production factory on ``url``, every operation sent recorded (``service:Operation``),
    independently of the dashboard's own call counter."""
    base = aws_factory(REGION, None, url)

    def make(service: str) -> Any:
        client = base(service)

        def record(model: Any, **_: Any) -> None:
            operations.append(f"{model.service_model.service_name}:{model.name}")

        client.meta.events.register("before-call", record)
        return client

    return make


def dashboard_app(url: str, operations: list[str], *, every_s: int = 3600) -> MlfargateApp:
    spec = spec_from()
    source = LiveSource(spec, factory=lambda: recording(url, operations))
    return make_app(Path("mlfargate.yaml"), start="dashboard", source=source, every_s=every_s)


def shown(app: MlfargateApp, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


def rows(app: MlfargateApp, table: str) -> dict[str, list[str]]:
    widget = app.screen.query_one(f"#{table}", KeyedTable)
    return {key: [str(c) for c in cells] for key, cells in widget.given_rows.items()}


def screen(app: MlfargateApp) -> DashboardScreen:
    assert isinstance(app.screen, DashboardScreen)
    return app.screen


async def refreshed(pilot: Pilot[None], app: MlfargateApp, count: int, seconds: float = 30) -> None:
    """Until the dashboard has finished ``count`` refreshes in all."""
    await until(
        pilot, lambda: isinstance(app.screen, DashboardScreen) and app.screen.refreshes >= count, seconds
    )
    await pilot.pause()


def shown_id(task_id: str) -> str:
    """What the task column shows (and sorts by, as text): the id's first characters."""
    return v.short(task_id).lower()


def task_id(task: dict[str, Any]) -> str:
    return str(task["taskArn"]).rsplit("/", 1)[-1]


@pytest.fixture
def deployed(moto_live: str) -> Iterator[tuple[Deployment, list[dict[str, Any]], dict[str, Any]]]:
    deployment = Deployment(moto_live).create()
    on_demand = deployment.run_tasks(1, "FARGATE")
    spot = deployment.run_tasks(3, "FARGATE_SPOT")
    deployment.stop(spot[2], TG_STOP.format(tg=deployment.tg_arn))
    deployment.put_metrics(cpu=41.0, memory=62.0, requests=120.0, errors=2.0)
    yield deployment, [*on_demand, *spot[:2]], spot[2]


async def test_the_panels_show_the_deployed_service(deployed: Any) -> None:
    deployment, running, stopped = deployed
    operations: list[str] = []
    app = dashboard_app(deployment.url, operations)
    async with app.run_test(size=WIDE) as pilot:
        await refreshed(pilot, app, 1)
        assert "desired 2" in shown(app, "#service-text")
        assert "PRIMARY  rev 1 IN_PROGRESS" in shown(app, "#service-text")
        # Tasks by capacity provider and AZ, each with its target's health.
        title = str(app.screen.query_one("#p-tasks").border_title)
        # moto leaves a task's availabilityZone empty: the AZ is shown as unknown, not guessed.
        assert title.startswith(
            "Tasks · 3 running · FARGATE (on-demand) 1 · FARGATE_SPOT (spot) 2 · unknown 3"
        )
        tasks = rows(app, "tasks")
        assert set(tasks) == {task_id(t) for t in running}
        assert {cells[1] for cells in tasks.values()} == {"RUNNING"}
        assert {cells[6] for cells in tasks.values()} == {"healthy"}
        # No Container Insights data per task in moto: "no data", never 0.
        assert {(cells[4], cells[5]) for cells in tasks.values()} == {("no data", "no data")}
        # Targets: the three running tasks' IPs, healthy, each matched to its task.
        targets = rows(app, "targets")
        assert len(targets) == 3 and {cells[1] for cells in targets.values()} == {"healthy"}
        assert not any(cells[3] == "not this service's" for cells in targets.values())
        # The stopped task with its reason.
        (stopped_row,) = rows(app, "stopped").items()
        assert stopped_row[0] == task_id(stopped)
        assert stopped_row[1][4] == TG_STOP.format(tg=deployment.tg_arn)
        # Scaling: bounds, the target-tracking policy, the next scheduled action.
        scaling = shown(app, "#scaling-text")
        assert "min 1 max 4 · target ECSServiceAverageCPUUtilization 60" in scaling
        assert "next: night" in scaling and "22:00 America/New_York → 0..1" in scaling
        # moto does not implement DescribeScalingActivities: the panel says so instead of "none".
        assert "last activities: not read" in scaling
        assert "not read: scaling activities: AWS answered HTTP 500" in str(
            app.screen.query_one("#p-scaling").border_subtitle
        )
        # Cost per hour now, by hand (tests/live/test_status_moto.py): 1 on-demand task 0.04937,
        # 2 Fargate Spot tasks 0.03058368, plus the fixed lines.
        per_hour = 0.04937 + 0.03058368 + fixed_per_hour(spec_from())
        assert shown(app, "#cost-text").startswith(f"${per_hour:,.2f} /h")
        assert "1 × Fargate on-demand tasks (x86_64, 1 vCPU, 2 GB)" in shown(app, "#cost-text")
        # CloudWatch: what was put, and "no data" for what was not.
        assert shown(app, "#value-service_cpu") == "41%"
        assert shown(app, "#value-service_memory") == "62%"
        assert shown(app, "#value-requests") == "120/min"
        assert shown(app, "#value-target_5xx") == "2/min"
        assert shown(app, "#value-response_p99") == "no data"
        assert not app.screen.query_one("#metric-gpu_reservation").display  # Fargate: no GPUs
        head = shown(app, "#dash-head")
        assert "refreshed" in head and "not read: scaling activities" in head
        assert f"{len(operations)} AWS calls" in head


async def test_refreshes_run_on_the_interval_and_read_cloudwatch_once_a_minute(deployed: Any) -> None:
    deployment, _, _ = deployed
    operations: list[str] = []
    app = dashboard_app(deployment.url, operations, every_s=1)
    async with app.run_test(size=WIDE) as pilot:
        await refreshed(pilot, app, 3)
        calls = Counter(operations)
        refreshes = screen(app).refreshes
        assert calls["ecs:DescribeServices"] >= 3 and calls["ecs:DescribeServices"] == refreshes
        assert calls["cloudwatch:GetMetricData"] == 1  # at most once a minute


async def test_a_refresh_keeps_the_selected_row_the_sort_and_the_filter(deployed: Any) -> None:
    deployment, _, _ = deployed
    operations: list[str] = []
    app = dashboard_app(deployment.url, operations)
    async with app.run_test(size=WIDE) as pilot:
        await refreshed(pilot, app, 1)
        table = app.screen.query_one("#tasks", KeyedTable)
        table.focus()
        await pilot.press("down")
        chosen = table.selected_key
        assert chosen is not None and table.cursor_row == 1
        await pilot.press("s", "s")  # sort by the first column (task id), then reversed
        assert (table.sort_column, table.sort_reverse) == ("task", True)
        assert table.selected_key == chosen  # the cursor follows its row through the sort
        order = [str(r.key.value) for r in table.ordered_rows]
        assert order == sorted(order, key=shown_id, reverse=True)

        # New tasks start; the refresh must not move the cursor off the chosen task (wherever the
        # new rows sort), nor undo the sort.
        more = deployment.run_tasks(3, "FARGATE")
        await pilot.press("r")
        await refreshed(pilot, app, 2)
        assert len(table.given_rows) == 6
        order = [str(r.key.value) for r in table.ordered_rows]
        assert order == sorted(order, key=shown_id, reverse=True) and len(order) == 6
        assert table.selected_key == chosen and table.cursor_row == order.index(chosen)
        assert (table.sort_column, table.sort_reverse) == ("task", True)

        # A filter (any cell, case-insensitive) keeps hiding what it hid after a refresh.
        await pilot.press("slash", *"fargate_spot", "enter")
        spot_ids = {k for k, cells in table.given_rows.items() if "FARGATE_SPOT" in str(cells[2])}
        assert {str(r.key.value) for r in table.ordered_rows} == spot_ids
        deployment.run_tasks(1, "FARGATE_SPOT")
        await pilot.press("r")
        await refreshed(pilot, app, 3)
        visible = {str(r.key.value) for r in table.ordered_rows}
        assert len(visible) == 3 and visible > spot_ids  # the new Spot task shows, nothing else does
        assert {task_id(t) for t in more}.isdisjoint(visible)


async def test_every_aws_operation_of_the_dashboard_is_read_only(deployed: Any) -> None:
    deployment, _, _ = deployed
    operations: list[str] = []
    app = dashboard_app(deployment.url, operations, every_s=1)
    async with app.run_test(size=WIDE) as pilot:
        await refreshed(pilot, app, 3)  # fast and slow parts, several times
        await pilot.press("r")
        await refreshed(pilot, app, 4)
    names = sorted(set(operations))
    assert names, "no AWS operation was recorded"
    assert [n for n in names if not n.split(":", 1)[1].startswith(READ_ONLY)] == []
    # Every part of the dashboard was read, so the check above covered them all.
    assert {"ecs:DescribeServices", "ecs:ListTasks", "ecs:DescribeTasks", "cloudwatch:GetMetricData",
            "elbv2:DescribeTargetHealth", "elbv2:DescribeTargetGroups", "sts:GetCallerIdentity",
            "application-autoscaling:DescribeScheduledActions"} <= set(names)  # fmt: skip


async def test_an_emulator_that_stops_mid_session_leaves_the_last_good_data_and_no_crash(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(aws.MAX_ATTEMPTS_ENV, "1")
    emulator = demo.start_emulator()
    try:
        url = emulator.wait_ready()
        post(
            f"{url}/moto-api/state-manager/set-transition",
            {"model_name": "ecs::task", "transition": {"progression": "manual", "times": 1_000_000}},
        )
        deployment = Deployment(url).create()
        running = deployment.run_tasks(2, "FARGATE")
        operations: list[str] = []
        app = dashboard_app(url, operations)
        async with app.run_test(size=WIDE) as pilot:
            await refreshed(pilot, app, 1)
            good = shown(app, "#dash-head")
            assert good.startswith("refreshed ")
            taken = good.split()[1]
            emulator.stop()
            await pilot.press("r")
            await refreshed(pilot, app, 2)
            head = shown(app, "#dash-head")
            assert head.startswith("refresh failed at ")
            assert f"cannot reach AWS in {REGION}" in head
            assert f"showing data from {taken} UTC (last good)" in head
            assert "r: try again" in head
            # The panels keep the last good data, marked with its time.
            assert set(rows(app, "tasks")) == {task_id(t) for t in running}
            assert f"data from {taken}" in str(app.screen.query_one("#p-tasks").border_subtitle)
            assert app.is_running
            await pilot.press("down", "s")  # still answers keys
            assert app.is_running
    finally:
        emulator.stop()


async def test_without_credentials_the_dashboard_says_what_to_do_and_the_wizard_is_one_key_away(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    # Nothing is sent without credentials; were it sent, it would go nowhere (a closed loopback port).
    monkeypatch.setenv(aws.ENDPOINT_ENV, "http://127.0.0.1:9")
    spec_file = tmp_path / "mlfargate.yaml"
    app = make_app(spec_file, start="dashboard", source=LiveSource(spec_from()), every_s=3600)
    async with app.run_test(size=WIDE) as pilot:
        await refreshed(pilot, app, 1)
        head = shown(app, "#dash-head")
        assert head.startswith(
            "refresh failed at 09:30:00: no AWS credentials found (the default credential chain)"
        )
        assert "`aws sso login`" in head and "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY" in head
        assert head.endswith("(r: try again; w: back to the wizard)")
        assert "nothing could be read" in shown(app, "#service-text")
        await pilot.press("w")
        await until(pilot, lambda: app.wizard is not None and app.screen is app.wizard)
