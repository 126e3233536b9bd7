"""AWS six-field cron: parsing errors name the field; fire times follow the documented semantics."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlfargate.spec import cron

WEEK = (datetime(2026, 1, 5, tzinfo=UTC), datetime(2026, 1, 12, tzinfo=UTC))  # Mon..Mon, no DST anywhere


def test_weekday_names_and_numbers_agree() -> None:
    assert (
        cron.parse("cron(0 7 ? * MON-FRI *)").dow == cron.parse("cron(0 7 ? * 2-6 *)").dow == {2, 3, 4, 5, 6}
    )


def test_fire_times_in_a_timezone() -> None:
    times = cron.parse("cron(0 7 ? * MON-FRI *)").fire_times("America/New_York", *WEEK)
    # 07:00 EST is 12:00 UTC, Monday 5 Jan to Friday 9 Jan 2026.
    assert [t.isoformat() for t in times] == [f"2026-01-0{d}T12:00:00+00:00" for d in range(5, 10)]


def test_every_day_and_steps() -> None:
    assert len(cron.parse("cron(0 22 * * ? *)").fire_times("UTC", *WEEK)) == 7
    assert cron.parse("cron(5/20 * * * ? *)").minutes == {5, 25, 45}
    assert cron.parse("cron(0 0/6 * * ? *)").hours == {0, 6, 12, 18}
    assert len(cron.parse("cron(*/15 9-10 ? * SUN *)").fire_times("UTC", *WEEK)) == 8


def test_dst_shifts_utc_time() -> None:
    expr = cron.parse("cron(0 7 * * ? *)")
    winter = expr.fire_times(
        "Europe/Dublin", datetime(2026, 1, 5, tzinfo=UTC), datetime(2026, 1, 6, tzinfo=UTC)
    )
    summer = expr.fire_times(
        "Europe/Dublin", datetime(2026, 7, 6, tzinfo=UTC), datetime(2026, 7, 7, tzinfo=UTC)
    )
    assert winter[0].hour == 7 and summer[0].hour == 6


def test_last_day_nearest_weekday_and_nth_weekday() -> None:
    assert cron.parse("cron(0 0 L * ? *)").matches_day(date(2026, 2, 28))
    assert not cron.parse("cron(0 0 L * ? *)").matches_day(date(2026, 2, 27))
    # 15 Feb 2026 is a Sunday: 15W fires Monday 16th.
    assert cron.parse("cron(0 0 15W * ? *)").matches_day(date(2026, 2, 16))
    # 3rd Friday (6#3) of January 2026 is the 16th; last Friday (6L) is the 30th.
    assert cron.parse("cron(0 0 ? * 6#3 *)").matches_day(date(2026, 1, 16))
    assert cron.parse("cron(0 0 ? * FRIL *)").matches_day(date(2026, 1, 30))
    assert not cron.parse("cron(0 0 ? * FRIL *)").matches_day(date(2026, 1, 23))


def test_year_field_limits_matches() -> None:
    expr = cron.parse("cron(0 0 * * ? 2027)")
    assert expr.fire_times("UTC", *WEEK) == []


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("cron(0 0 * *)", "has 4 fields"),
        ("rate(5 minutes)", "must look like cron("),
        ("cron(0 0 * * * *)", "exactly one"),
        ("cron(0 0 5-1 * ? *)", "runs backwards"),
        ("cron(0 0 * * ? 1900)", "year field"),
        ("cron(0/0 0 * * ? *)", "step"),
        ("cron(x 0 * * ? *)", "minutes field: 'x'"),
    ],
)
def test_errors_name_the_field(text: str, fragment: str) -> None:
    with pytest.raises(cron.CronError) as info:
        cron.parse(text)
    assert fragment in str(info.value)


@given(
    minute=st.integers(0, 59),
    hour=st.integers(0, 23),
    days=st.sets(st.sampled_from(sorted(cron.DAYS)), min_size=1),
)
def test_generated_weekly_expressions_fire_once_per_listed_day(
    minute: int, hour: int, days: set[str]
) -> None:
    expr = cron.parse(f"cron({minute} {hour} ? * {','.join(sorted(days))} *)")
    times = expr.fire_times("UTC", *WEEK)
    assert len(times) == len(days)
    assert all(t.minute == minute and t.hour == hour for t in times)
