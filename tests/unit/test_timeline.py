"""The weekly (min, max) timeline against hand-worked schedules: exact intervals to the minute."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mlfargate.cost import timeline
from mlfargate.spec.model import Schedule

MON, TUE, WED, THU, FRI, SAT, SUN = range(7)


def at(tl: timeline.Timeline, day: int, hour: int, minute: int = 0) -> tuple[int, int]:
    """The bounds in force at that minute of the reference week (UTC)."""
    return tl.bounds_at(tl.week_start + timedelta(days=day, hours=hour, minutes=minute))


def bounds(tl: timeline.Timeline) -> set[tuple[int, int]]:
    return {(i.min_tasks, i.max_tasks) for i in tl.intervals}


def hours_at(tl: timeline.Timeline, lo: int, hi: int) -> float:
    return sum(i.hours for i in tl.intervals if (i.min_tasks, i.max_tasks) == (lo, hi))


def sched(name: str, cron: str, tz: str = "UTC", lo: int | None = None, hi: int | None = None) -> Schedule:
    return Schedule(name=name, cron=cron, timezone=tz, min_tasks=lo, max_tasks=hi)


ZONES_USED = ["UTC", "America/New_York", "Europe/Dublin", "Australia/Sydney", "Asia/Kolkata"]


def test_reference_week_is_a_monday_without_dst_changes() -> None:
    start = timeline.REFERENCE_WEEK_START
    assert start.weekday() == 0 and (start.hour, start.minute) == (0, 0) and start.tzinfo == UTC
    assert timeline.dst_changes(ZONES_USED) == []


def test_dst_check_sees_a_change() -> None:
    # US DST started Sunday 2026-03-08: the week from Monday 2026-03-02 contains it.
    assert timeline.dst_changes(["America/New_York", "UTC"], datetime(2026, 3, 2, tzinfo=UTC)) == [
        "America/New_York"
    ]


def test_no_schedules_the_week_is_one_interval_at_the_scaling_bounds() -> None:
    tl = timeline.build(1, 4)
    assert tl.intervals == (timeline.Interval(tl.week_start, tl.week_end, 1, 4),)
    assert tl.intervals[0].hours == 168
    assert (tl.min_task_hours, tl.max_task_hours) == (168, 672)


def test_seed_guide_night_and_morning_schedules_in_utc() -> None:
    # Seed guide section 10: night 22:00 -> (0, 1), morning 08:00 -> (2, 10); scaling 1..10.
    tl = timeline.build(
        1,
        10,
        [
            sched("night", "cron(0 22 * * ? *)", lo=0, hi=1),
            sched("morning", "cron(0 8 * * ? *)", lo=2, hi=10),
        ],
    )
    for day in range(7):
        for hour in range(24):
            expected = (2, 10) if 8 <= hour < 22 else (0, 1)
            assert at(tl, day, hour) == expected, (day, hour)
    # Monday 00:00 wraps to Sunday 22:00's night action, not the spec's 1..10.
    assert at(tl, MON, 0) == (0, 1)
    # Intervals: Mon 00-08 night, then 14 h day / 10 h night each day, Sun 22-24 night merged.
    assert len(tl.intervals) == 15
    assert (tl.min_task_hours, tl.max_task_hours) == (7 * 14 * 2, 7 * (14 * 10 + 10 * 1))


def test_new_york_business_hours_use_standard_time_in_january() -> None:
    # 07:00 and 22:00 in New York are 12:00 and 03:00 UTC in January (EST, UTC-5).
    tl = timeline.build(
        1,
        8,
        [
            sched("night", "cron(0 22 * * ? *)", "America/New_York", 0, 1),
            sched("workday", "cron(0 7 ? * MON-FRI *)", "America/New_York", 2, 8),
        ],
    )
    assert at(tl, MON, 11, 59) == (0, 1)
    assert at(tl, MON, 12) == (2, 8)
    assert at(tl, TUE, 2, 59) == (2, 8)  # Monday 21:59 in New York
    assert at(tl, TUE, 3) == (0, 1)
    # Saturday 07:00 New York has no workday action: the weekend stays at night bounds.
    assert all(at(tl, SAT, h) == (0, 1) for h in range(3, 24))
    assert hours_at(tl, 2, 8) == 5 * 15


def test_southern_hemisphere_zone_in_its_summer_time() -> None:
    # Sydney is on daylight time (AEDT, UTC+11) in January: Monday 09:00 there is Sunday 22:00 UTC.
    tl = timeline.build(1, 2, [sched("peak", "cron(0 9 ? * MON *)", "Australia/Sydney", 3, 5)])
    assert tl.events[0].action.at == datetime(2026, 1, 18, 22, 0, tzinfo=UTC)
    # The only action: it holds all week, wrapping from Sunday 22:00 back to Monday 00:00.
    assert bounds(tl) == {(3, 5)}


def test_half_hour_zone_fires_at_30_and_counts_from_the_minute_hand_worked() -> None:
    # Kolkata is UTC+5:30: 13:00 there is 07:30 UTC; 16:00 there is 10:30 UTC. Up 07:30-10:30 on Monday.
    tl = timeline.build(
        1,
        2,
        [
            sched("up", "cron(0 13 ? * MON *)", "Asia/Kolkata", 4, 8),
            sched("down", "cron(0 16 ? * MON *)", "Asia/Kolkata", 1, 2),
        ],
    )
    assert at(tl, MON, 7, 29) == (1, 2) and at(tl, MON, 7, 30) == (4, 8)
    assert at(tl, MON, 10, 29) == (4, 8) and at(tl, MON, 10, 30) == (1, 2)
    assert [i.to_json() for i in tl.intervals] == [
        ["2026-01-12T00:00Z", "2026-01-12T07:30Z", 1, 2],
        ["2026-01-12T07:30Z", "2026-01-12T10:30Z", 4, 8],
        ["2026-01-12T10:30Z", "2026-01-19T00:00Z", 1, 2],
    ]
    # By hand: 3 h at 4..8, 165 h at 1..2. (The hourly slots took 4 h at 4..8: 180 and 360.)
    assert tl.min_task_hours == pytest.approx(165 * 1 + 3 * 4) == 177
    assert tl.max_task_hours == pytest.approx(165 * 2 + 3 * 8) == 354


def test_quarter_past_and_quarter_to_firings_hand_worked() -> None:
    # Weekdays up at 08:15 UTC, down at 17:45 UTC: 9.5 h a day at 2..6, the rest of the week at 1..2.
    tl = timeline.build(
        1,
        2,
        [
            sched("up", "cron(15 8 ? * MON-FRI *)", lo=2, hi=6),
            sched("down", "cron(45 17 ? * MON-FRI *)", lo=1, hi=2),
        ],
    )
    assert hours_at(tl, 2, 6) == pytest.approx(5 * 9.5) and hours_at(tl, 1, 2) == pytest.approx(168 - 47.5)
    assert tl.min_task_hours == pytest.approx(47.5 * 2 + 120.5 * 1) == 215.5
    assert tl.max_task_hours == pytest.approx(47.5 * 6 + 120.5 * 2) == 526
    assert at(tl, WED, 8, 14) == (1, 2) and at(tl, WED, 8, 15) == (2, 6) and at(tl, WED, 17, 45) == (1, 2)


def test_a_new_york_schedule_prices_the_same_hours_in_winter_and_summer() -> None:
    """DST: a zone is applied with its offset in the week priced. In the January reference week New York
    is UTC-5; in a July week UTC-4: the firings move an hour in UTC, the hours at each bound do not."""
    schedules = [
        sched("night", "cron(0 22 * * ? *)", "America/New_York", 0, 1),
        sched("workday", "cron(0 7 ? * MON-FRI *)", "America/New_York", 2, 8),
    ]
    winter = timeline.build(1, 8, schedules)
    summer = timeline.build(1, 8, schedules, datetime(2026, 7, 13, tzinfo=UTC))  # a Monday, EDT
    assert (summer.min_task_hours, summer.max_task_hours) == (winter.min_task_hours, winter.max_task_hours)
    assert winter.events[0].action.at.hour == 3 and summer.events[0].action.at.hour == 2  # 22:00 local
    assert summer.notes == () and winter.notes == ()
    # The week that holds the change is said to be one (its Sunday has 23 hours in New York).
    spring = timeline.build(1, 8, schedules, datetime(2026, 3, 2, tzinfo=UTC))
    assert any("America/New_York" in n and "change UTC offset" in n for n in spring.notes)


def test_schedule_that_only_sets_max_keeps_min() -> None:
    tl = timeline.build(
        2,
        10,
        [
            sched("weekend", "cron(0 0 ? * SAT *)", hi=4),
            sched("weekday", "cron(0 0 ? * MON *)", hi=10),
        ],
    )
    assert all(at(tl, d, h) == (2, 10) for d in range(MON, SAT) for h in range(24))
    assert all(at(tl, d, h) == (2, 4) for d in (SAT, SUN) for h in range(24))


def test_lone_max_only_action_wraps_to_the_week_start() -> None:
    tl = timeline.build(1, 10, [sched("evening", "cron(0 20 ? * SUN *)", hi=3)])
    assert bounds(tl) == {(1, 3)}


def test_overlapping_actions_at_the_same_minute_apply_in_spec_order() -> None:
    a = sched("a", "cron(0 12 ? * WED *)", lo=1, hi=3)
    b = sched("b", "cron(0 12 ? * WED *)", lo=5, hi=6)
    reset = sched("reset", "cron(0 0 ? * MON *)", lo=2, hi=4)
    assert at(timeline.build(2, 4, [reset, a, b]), WED, 12) == (5, 6)
    assert at(timeline.build(2, 4, [reset, b, a]), WED, 12) == (1, 3)
    # The first of the two actions at 12:00 leaves no empty interval behind.
    assert all(i.hours > 0 for i in timeline.build(2, 4, [reset, a, b]).intervals)
    # Both actions ran, in that order.
    events = [e for e in timeline.build(2, 4, [reset, a, b]).events if e.action.at.weekday() == WED]
    assert [e.action.schedule for e in events] == ["a", "b"]


def test_action_leaving_min_above_max_is_not_applied_and_is_reported() -> None:
    # Spec bounds 1..10 with a weekly "narrow" to max 3 on Friday and a min-only "surge" to 6 on Tuesday.
    # From the deployed 1..10, surge gives 6..10; Friday's max 3 would leave min 6 > max 3: it fails, and
    # the week settles into 6..10 everywhere (the cycle reached from the spec's bounds).
    tl = timeline.build(
        1,
        10,
        [
            sched("surge", "cron(0 0 ? * TUE *)", lo=6),
            sched("narrow", "cron(0 0 ? * FRI *)", hi=3),
        ],
    )
    assert bounds(tl) == {(6, 10)}
    failed = [e for e in tl.events if not e.applied]
    assert [e.action.schedule for e in failed] == ["narrow"]
    assert failed[0].before == failed[0].after == (6, 10)
    assert any("narrow" in note and "failed action" in note for note in tl.notes)


def test_max_only_action_below_the_current_min_fails_while_a_full_action_applies() -> None:
    tl = timeline.build(
        1,
        10,
        [
            sched("surge", "cron(0 0 ? * TUE *)", lo=6, hi=10),
            sched("narrow", "cron(0 0 ? * FRI *)", hi=3),
            sched("calm", "cron(0 0 ? * SAT *)", lo=1, hi=3),
        ],
    )
    assert at(tl, MON, 5) == (1, 3)  # wrapped from Saturday's calm
    assert at(tl, TUE, 5) == (6, 10)
    assert at(tl, FRI, 5) == (6, 10)  # narrow failed: min 6 > max 3
    assert at(tl, SAT, 5) == (1, 3)
    assert [e.action.schedule for e in tl.events if not e.applied] == ["narrow"]


def test_apply_sets_only_named_bounds() -> None:
    action = timeline.Action(datetime(2026, 1, 12, tzinfo=UTC), "x", 0, None, 7)
    assert timeline.apply((2, 4), action) == ((2, 7), True)
    lower = timeline.Action(datetime(2026, 1, 12, tzinfo=UTC), "y", 0, None, 1)
    assert timeline.apply((2, 4), lower) == ((2, 4), False)


@pytest.mark.parametrize("cron_text", ["cron(0 0 1 JUL ? *)", "cron(0 0 ? * MON 2030)"])
def test_actions_that_never_fire_in_the_reference_week_change_nothing(cron_text: str) -> None:
    tl = timeline.build(1, 3, [sched("rare", cron_text, lo=0, hi=0)])
    assert tl.events == () and bounds(tl) == {(1, 3)}


def test_a_failed_action_is_reported_with_the_bounds_it_would_set_and_the_ones_kept() -> None:
    # A max-only action below the current min: the note names the min it would keep (from the bounds
    # in force) and the max it asked for.
    narrow = timeline.build(
        1, 10, [sched("surge", "cron(0 0 ? * TUE *)", lo=6), sched("narrow", "cron(0 0 ? * FRI *)", hi=3)]
    )
    assert narrow.notes == (
        "schedule 'narrow' at Fri 00:00 UTC would set min 6, max 3 (min above max); "
        "modelled as a failed action: bounds stay min 6, max 10",
    )
    # A min-only action above the current max: the max it would keep comes from the bounds in force.
    surge = timeline.build(1, 4, [sched("surge", "cron(30 9 ? * WED *)", lo=6)])
    assert surge.notes == (
        "schedule 'surge' at Wed 09:30 UTC would set min 6, max 4 (min above max); "
        "modelled as a failed action: bounds stay min 1, max 4",
    )
    assert bounds(surge) == {(1, 4)}


def test_an_action_may_set_min_equal_to_max() -> None:
    pin = timeline.Action(datetime(2026, 1, 12, tzinfo=UTC), "pin", 0, 3, 3)
    assert timeline.apply((2, 4), pin) == ((3, 3), True)
    tl = timeline.build(1, 4, [sched("pin", "cron(0 12 ? * WED *)", lo=3, hi=3)])
    assert at(tl, WED, 13) == (3, 3) and tl.notes == ()


def test_an_action_that_changes_nothing_leaves_one_interval() -> None:
    # Re-asserting the bounds in force (or failing) cuts nothing: equal neighbours are one interval.
    same = timeline.build(1, 4, [sched("same", "cron(0 12 ? * WED *)", lo=1, hi=4)])
    assert same.intervals == (timeline.Interval(same.week_start, same.week_end, 1, 4),)
    failed = timeline.build(1, 4, [sched("bad", "cron(0 12 ? * WED *)", lo=6)])
    assert failed.intervals == (timeline.Interval(failed.week_start, failed.week_end, 1, 4),)


def test_a_week_that_does_not_settle_within_the_passes_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    # A lone max-only action needs a second replay to settle (the week wraps); with one pass allowed the
    # estimate must say it is pricing an unsettled week rather than pass it off as the cycle.
    monkeypatch.setattr(timeline, "MAX_PASSES", 1)
    tl = timeline.build(1, 10, [sched("evening", "cron(0 20 ? * SUN *)", hi=3)])
    assert tl.notes == ("the schedules do not settle into a weekly cycle; the week starts at (1, 3)",)


def test_every_zone_that_changes_offset_is_named() -> None:
    spring = timeline.build(
        1,
        8,
        [
            sched("ny", "cron(0 22 * * ? *)", "America/New_York", 0, 1),
            sched("chicago", "cron(0 7 ? * MON-FRI *)", "America/Chicago", 2, 8),
            sched("utc", "cron(0 12 ? * SAT *)", "UTC", 1, 8),
        ],
        datetime(2026, 3, 2, tzinfo=UTC),
    )
    assert spring.notes == (
        "time zone(s) America/Chicago, America/New_York change UTC offset inside the reference week",
    )


def test_a_change_in_the_last_hour_of_the_week_counts_and_one_just_after_does_not() -> None:
    # New York springs forward at 2026-03-08 07:00 UTC.
    change = datetime(2026, 3, 8, 7, 0, tzinfo=UTC)
    inside = change - timedelta(hours=167, minutes=30)  # the change is 30 minutes before the week ends
    after = change - timedelta(hours=168, minutes=30)  # the week ended 30 minutes before the change
    assert timeline.dst_changes(["America/New_York"], inside) == ["America/New_York"]
    assert timeline.dst_changes(["America/New_York"], after) == []


def test_bounds_outside_the_week_are_refused_with_the_week_named() -> None:
    tl = timeline.build(1, 4)
    with pytest.raises(ValueError, match=r"is outside the week starting 2026-01-12 00:00:00\+00:00"):
        tl.bounds_at(tl.week_end)


def test_the_timeline_json_is_in_utc_whatever_the_machine_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    import time
    from zoneinfo import ZoneInfo

    monkeypatch.setenv("TZ", "Asia/Kolkata")
    time.tzset()
    try:
        local = datetime(2026, 1, 12, 8, 30, tzinfo=ZoneInfo("America/New_York"))  # 13:30 UTC
        interval = timeline.Interval(local, local + timedelta(hours=1), 1, 2)
        assert interval.to_json() == ["2026-01-12T13:30Z", "2026-01-12T14:30Z", 1, 2]
    finally:
        monkeypatch.undo()
        time.tzset()
