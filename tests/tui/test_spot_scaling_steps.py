"""Steps 4 and 5 through the pilot: the Spot mix with the core's monthly floor/ceiling as it changes
and the interruption trade-off; scaling with presets, custom cron and time zone checked by the core,
and the week chart drawn from the core's timeline."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable, Static

from mlfargate.cost import estimate as cost
from mlfargate.cost import price_book, timeline
from mlfargate.spec.model import from_data
from tests.tui.conftest import SIZE, errors_shown, goto, make_app, settle, type_into
from tui.widgets.week_chart import WeekChart, local_slots, render, whole_hour_offset
from tui.wizard import scaling, spot


def expected_totals(data: dict[str, object]) -> str:
    spec = from_data(data)
    est = cost.estimate(spec, price_book.load(spec.aws.region))
    return f"floor ${est.monthly_floor:,.2f}  ·  ceiling ${est.monthly_ceiling:,.2f}"


async def test_spot_share_moves_the_floor_and_ceiling(tmp_path: Path) -> None:
    app = make_app(tmp_path / "new.yaml")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await goto(app, pilot, "spot")
        totals = app.screen.query_one("#totals", Static)
        assert expected_totals(app.state.data) in str(totals.render())
        before = str(totals.render())
        await type_into(pilot, "#f-spot-spot_percentage", "100")
        assert str(totals.render()) != before
        assert expected_totals(app.state.data) in str(totals.render())
        assert "100% Spot" in str(app.screen.query_one("#spot-bar", Static).render())
        assert "capacity rebalancing" in str(app.screen.query_one("#trade-off", Static).render())
        await type_into(pilot, "#f-spot-spot_percentage", "150")
        assert errors_shown(app, "spot") == [
            "spec error: spot.spot_percentage: 150 is out of range; allowed: a whole number from 0 to 100"
        ]
        assert "spec error(s) to fix first" in str(totals.render())
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert app.wizard is not None and app.wizard.current == "spot"
        await type_into(pilot, "#f-spot-spot_percentage", "50")
        await type_into(pilot, "#f-spot-on_demand_base", "9")
        assert errors_shown(app, "spot") == [
            "spec error: spot.on_demand_base: 9 exceeds scaling.max_tasks (8); use 0..max_tasks"
        ]
        await type_into(pilot, "#f-spot-on_demand_base", "2")
        # the budget is both or neither, in the core's words
        await type_into(pilot, "#f-budget-alert_email", "")
        assert errors_shown(app, "spot") == ["spec error: budget.alert_email: required key is missing"]
        await type_into(pilot, "#f-budget-monthly_usd", "")
        assert errors_shown(app, "spot") == [] and "budget" not in app.state.data


def test_the_trade_off_follows_the_capacity() -> None:
    assert "2-minute warning" in spot.TRADE_OFF["fargate"]
    assert "capacity rebalancing" in spot.TRADE_OFF["ec2"]
    assert "drains" in spot.TRADE_OFF["managed_instances"]


def test_presets_are_valid_schedules() -> None:
    from mlfargate.spec.model import Schedule

    for _, make in scaling.PRESETS.values():
        items = make(2, 8, "Europe/Berlin")
        tl = timeline.build(2, 8, [Schedule(**s) for s in items])
        assert tl.notes == ()  # no action fails
        assert max(hi for _, hi in tl.slots) == 8
    off = timeline.build(2, 8, [Schedule(**s) for s in scaling.nights_weekends_off(2, 8, "UTC")])
    assert off.slots[5 * 24 + 12] == (0, 0)  # Saturday noon: off
    assert off.slots[12] == (2, 8)  # Monday noon: the full range


def test_the_chart_is_the_timeline() -> None:
    from mlfargate.spec.model import Schedule

    items = [Schedule(**s) for s in scaling.nights_weekends_off(1, 6, "America/New_York")]
    tl = timeline.build(1, 6, items)
    offset = whole_hour_offset("America/New_York", tl.week_start)
    assert offset == -5
    local = local_slots(tl.slots, offset)
    assert local[7] == (1, 6) and local[6] == (0, 0)  # Monday 07:00 New York on, 06:00 still off
    lines = render(local, width=6 + 168, height=4)
    assert len(lines) == 5
    top, bottom = lines[0].plain[6:], lines[3].plain[6:]
    for hour, (_, hi) in enumerate(local):
        assert (top[hour] == "█") == (hi == 6)  # a full top cell where the max reaches the scale's top
        assert (bottom[hour] != " ") == (hi > 0)  # something drawn whenever a task may run
    assert lines[4].plain.split() == ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


async def test_presets_custom_cron_and_the_week(tmp_path: Path) -> None:
    app = make_app(tmp_path / "new.yaml")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await goto(app, pilot, "scaling")
        table = app.screen.query_one("#schedules", DataTable)
        assert table.row_count == 2
        chart = app.screen.query_one(WeekChart)
        spec = from_data(app.state.data)
        tl = timeline.build(spec.scaling.min_tasks, spec.scaling.max_tasks, spec.scaling.schedules)
        assert chart.slots == local_slots(tl.slots, -5)  # the example's schedules are in New York
        assert "times in America/New_York" in chart.caption
        await type_into(pilot, "#preset-tz", "Europe/Berlin")
        await pilot.click("#preset-nights-off")
        await pilot.pause()
        assert [s["name"] for s in app.state.get("scaling.schedules")] == ["workday", "night"]
        assert all(s["timezone"] == "Europe/Berlin" for s in app.state.get("scaling.schedules"))
        assert "times in Europe/Berlin" in chart.caption and errors_shown(app, "scaling") == []
        # a custom schedule: the cron and the zone are checked by the core as they are typed
        await pilot.click("#add")
        await pilot.pause()
        assert table.row_count == 3
        await type_into(pilot, "#f-s-cron", "cron(0 12 * * MON-FRI *)")
        errors = errors_shown(app, "scaling")
        assert len(errors) == 1 and errors[0].startswith(
            "spec error: scaling.schedules[2].cron: 'cron(0 12 * * MON-FRI *)'"
        )
        assert "?" in errors[0]  # says that one day field must be '?'
        assert app.screen.query_one("#f-s-cron").has_class("-spec-error")
        assert "The week chart appears" in chart.caption
        await type_into(pilot, "#f-s-cron", "cron(0 12 ? * MON-FRI *)")
        assert errors_shown(app, "scaling") == []
        assert "fires 5× a week" in str(app.screen.query_one(".cron-hint", Static).render())
        await type_into(pilot, "#s-tz", "Mars/Olympus")
        assert errors_shown(app, "scaling") == [
            "spec error: scaling.schedules[2].timezone: 'Mars/Olympus' is not an IANA time zone such as "
            "America/New_York (AWS takes the tz database's names: not localtime, Factory, posix/... or right/...)"
        ]
        await type_into(pilot, "#s-tz", "Europe/Berlin")
        assert str(table.get_row_at(2)[2]) == "Europe/Berlin"
        await type_into(pilot, "#s-min", "9")
        assert errors_shown(app, "scaling") == [
            "spec error: scaling.schedules[2].min_tasks: 9 is above this schedule's max_tasks (8)"
        ]
        await pilot.click("#remove")
        await pilot.pause()
        assert table.row_count == 2 and errors_shown(app, "scaling") == []
        # min above max on the service itself
        await type_into(pilot, "#min", "9")
        assert "spec error: scaling.min_tasks: 9 is above max_tasks (8); need min <= max" in errors_shown(
            app, "scaling"
        )


async def test_time_zones_complete_as_typed(tmp_path: Path) -> None:
    app = make_app(tmp_path / "new.yaml")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await goto(app, pilot, "scaling")
        await type_into(pilot, "#s-tz", "Europe/Berl")
        await pilot.pause(0.2)
        await pilot.press("right")  # accept the suggestion
        await pilot.pause()
        assert app.state.get("scaling.schedules[0].timezone") == "Europe/Berlin"
        assert errors_shown(app, "scaling") == []
