"""Exact schedules: the estimate prices intervals to the minute and never above the hourly-slot model
it replaced (168 slots, each at the largest bounds in force at any moment of its hour)."""

from __future__ import annotations

import itertools
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlfargate.cost import estimate as cost
from mlfargate.cost import price_book, timeline
from mlfargate.spec import rules
from mlfargate.spec.model import Spec, from_data

MONTH = 730 / 168
ZONES = ["UTC", "America/New_York", "Europe/Dublin", "Australia/Sydney", "Asia/Kolkata"]


@pytest.fixture(autouse=True)
def no_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(price_book.CACHE_ENV, str(tmp_path / "cache"))


def hourly_slots(tl: timeline.Timeline) -> timeline.Timeline:
    """The model before 2026-11, as a timeline of 168 one-hour intervals: slot h takes the largest min
    and the largest max in force at any moment of [h:00, h+1:00); an action on the hour holds it all."""
    events = list(tl.events)
    # The settled state at the week start: what the first action found, else the one interval's bounds.
    start_state = events[0].before if events else (tl.intervals[0].min_tasks, tl.intervals[0].max_tasks)
    slots: list[timeline.Interval] = []
    state = start_state
    i = 0
    for hour in range(timeline.HOURS_PER_WEEK):
        slot_start = tl.week_start + timedelta(hours=hour)
        slot_end = slot_start + timedelta(hours=1)
        while i < len(events) and events[i].action.at <= slot_start:
            state = events[i].after
            i += 1
        lo, hi = state
        while i < len(events) and events[i].action.at < slot_end:
            state = events[i].after
            lo, hi = max(lo, state[0]), max(hi, state[1])
            i += 1
        slots.append(timeline.Interval(slot_start, slot_end, lo, hi))
    return timeline.Timeline(tl.week_start, tuple(slots), tl.events, tl.notes)


def make_spec(
    compute: dict[str, Any], schedules: list[dict[str, Any]], lo: int, hi: int, base: int, pct: int
) -> Spec:
    data: dict[str, Any] = {
        "name": "svc",
        "environment": "dev",
        "aws": {"region": "us-east-1"},
        "network": {"vpc_cidr": "10.0.0.0/16", "availability_zones": 2, "nat_gateways": "none"},
        "service": {"allow_plain_http": True},  # public, so the ALB's public IPv4 addresses are priced
        "compute": compute,
        "spot": {"on_demand_base": base, "spot_percentage": pct},
        "scaling": {"min_tasks": lo, "max_tasks": hi, "schedules": schedules},
    }
    spec = from_data(data)
    assert rules.check(spec) == [], rules.check(spec)
    return spec


FARGATE = {"capacity": "fargate", "cpu": 1024, "memory": 2048}
EC2_SHARED = {
    "capacity": "ec2",
    "accelerator": "gpu",
    "instance_types": ["g4dn.12xlarge"],  # 4 tasks per instance: ceil() matters
    "gpus_per_task": 1,
    "cpu": 4096,
    "memory": 16384,
}


def test_estimate_counts_a_half_hour_firing_from_its_minute() -> None:
    """Up at 07:30, down at 10:30 UTC on weekdays: 15 h a week at 3..6 tasks, 153 h at 1..2. The
    hourly slots counted 4 h a day (20 h a week), ~5% more task-hours at the ceiling."""
    schedules = [
        {"name": "up", "cron": "cron(30 7 ? * MON-FRI *)", "min_tasks": 3, "max_tasks": 6},
        {"name": "down", "cron": "cron(30 10 ? * MON-FRI *)", "min_tasks": 1, "max_tasks": 2},
    ]
    spec = make_spec(FARGATE, schedules, 1, 2, 0, 0)
    est = cost.estimate(spec, price_book.load("us-east-1"))
    od = next(x for x in est.lines if x.item.startswith("Fargate on-demand"))
    assert od.floor_quantity == pytest.approx((15 * 3 + 153 * 1) * MONTH)
    assert od.ceiling_quantity == pytest.approx((15 * 6 + 153 * 2) * MONTH)
    assert est.capacity["week_task_hours"] == [15 * 3 + 153, 15 * 6 + 153 * 2]
    old = cost.estimate(spec, price_book.load("us-east-1"), timeline=hourly_slots(est.timeline))
    old_od = next(x for x in old.lines if x.item.startswith("Fargate on-demand"))
    assert old_od.ceiling_quantity == pytest.approx((20 * 6 + 148 * 2) * MONTH)
    assert old_od.ceiling_quantity / od.ceiling_quantity == pytest.approx(416 / 396)  # +5.05%
    data = est.to_json()
    assert data["week"]["intervals"][0] == ["2026-01-12T00:00Z", "2026-01-12T07:30Z", 1, 2]
    assert data["week"]["intervals"][1] == ["2026-01-12T07:30Z", "2026-01-12T10:30Z", 3, 6]


def test_ec2_instances_follow_the_quarter_hours() -> None:
    # 08:15-17:45 weekdays at 5..9 tasks (2..3 instances of 4 tasks), otherwise 1..4 (1 instance); no Spot.
    schedules = [
        {"name": "up", "cron": "cron(15 8 ? * MON-FRI *)", "min_tasks": 5, "max_tasks": 9},
        {"name": "down", "cron": "cron(45 17 ? * MON-FRI *)", "min_tasks": 1, "max_tasks": 4},
    ]
    spec = make_spec(EC2_SHARED, schedules, 1, 4, 0, 0)
    est = cost.estimate(spec, price_book.load("us-east-1"))
    od = next(x for x in est.lines if x.item == "EC2 g4dn.12xlarge on-demand")
    up, rest = 5 * 9.5, 168 - 5 * 9.5
    assert od.floor_quantity == pytest.approx((up * 2 + rest * 1) * MONTH)
    assert od.ceiling_quantity == pytest.approx((up * 3 + rest * 1) * MONTH)
    ebs = next(x for x in est.lines if x.item.startswith("EBS gp3"))
    assert ebs.ceiling_quantity == pytest.approx(100 / 730 * od.ceiling_quantity)


minutes = st.sampled_from([0, 15, 30, 45, 7, 59])
schedule_st = st.builds(
    lambda name, minute, hour, days, zone, lo, width: {
        "name": name,
        "cron": f"cron({minute} {hour} ? * {days} *)",
        "timezone": zone,
        "min_tasks": lo,
        "max_tasks": lo + width,
    },
    st.just("s"),
    minutes,
    st.integers(0, 23),
    st.sampled_from(["MON-FRI", "SAT,SUN", "MON", "WED", "*"]),
    st.sampled_from(ZONES),
    st.integers(0, 5),
    st.integers(0, 6),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    schedules=st.lists(schedule_st, min_size=1, max_size=4),
    compute=st.sampled_from([FARGATE, EC2_SHARED]),
    base=st.integers(0, 2),
    pct=st.sampled_from([0, 50, 70, 100]),
)
def test_exact_floor_and_ceiling_never_exceed_the_hourly_slot_model(
    schedules: list[dict[str, Any]], compute: dict[str, Any], base: int, pct: int
) -> None:
    for i, sched in enumerate(schedules):
        sched["name"] = f"s{i}"
    spec = make_spec(compute, schedules, 1, 11, base, pct)
    book = price_book.load("us-east-1")
    exact = cost.estimate(spec, book)
    slots = cost.estimate(spec, book, timeline=hourly_slots(exact.timeline))
    assert exact.timeline.min_task_hours <= slots.timeline.min_task_hours + 1e-9
    assert exact.timeline.max_task_hours <= slots.timeline.max_task_hours + 1e-9
    assert exact.monthly_floor <= slots.monthly_floor + 1e-6
    assert exact.monthly_ceiling <= slots.monthly_ceiling + 1e-6
    for new, old in zip(exact.lines, slots.lines, strict=True):
        assert new.item == old.item
        assert new.floor_quantity <= old.floor_quantity + 1e-9, new.item
        assert new.ceiling_quantity <= old.ceiling_quantity + 1e-9, new.item
    # Exact intervals tile the week.
    tl = exact.timeline
    assert tl.intervals[0].start == tl.week_start and tl.intervals[-1].end == tl.week_end
    assert all(a.end == b.start for a, b in itertools.pairwise(tl.intervals))
    assert sum(i.hours for i in tl.intervals) == pytest.approx(168)


def test_on_the_hour_schedules_price_the_same_as_the_hourly_slots() -> None:
    """Where every action fires on the hour the two models agree exactly (the old tests' schedules)."""
    spec = rules.load_valid(Path(__file__).resolve().parents[2] / "examples" / "gpu-ec2-spot-schedules.yaml")
    book = price_book.load("us-east-1")
    exact = cost.estimate(spec, book)
    slots = cost.estimate(spec, book, timeline=hourly_slots(exact.timeline))
    assert exact.monthly_floor == pytest.approx(slots.monthly_floor)
    assert exact.monthly_ceiling == pytest.approx(slots.monthly_ceiling)
