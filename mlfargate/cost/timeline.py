"""The weekly capacity timeline: the week as exact intervals of (start, end, min, max) task bounds.

Built from ``scaling.min_tasks/max_tasks`` and the scheduled actions (see docs/cost-model.md):

- Every schedule's cron is evaluated in its time zone over the reference week, Monday
  2026-01-12 00:00 UTC to Monday 2026-01-19 00:00 UTC (no DST change in any IANA zone we test;
  :func:`dst_changes` checks the zones a spec uses and the estimate says so if one changes).
- An action sets the bounds it names and leaves the other as it was; it holds until the next action
  of any schedule. The week wraps: the state at week start is the state left by the last actions of
  the week. It is found by replaying the week, starting from the spec's own bounds, until the state
  at the end of the week equals the state at its start (the weekly cycle a new deployment settles into).
- Actions at the same instant apply in the order the schedules are listed in the spec (AWS documents
  no order); the later one wins for the bounds it sets.
- An action that would leave min > max is not applied (the bounds stay as they were) and is
  reported. AWS's scheduled-scaling docs say to set both bounds so that this cannot happen; they do
  not say what a run that breaks it does, so we model it as a failed run.
- The week is cut at every applied action, to the minute: each interval [start, end) holds the bounds
  in force from one action to the next (an action at 08:30 counts from 08:30). Intervals are priced by
  their duration in hours, so nothing is rounded to the hour. (Until 2026-11 the week was 168 hourly
  slots taking the largest bounds in force at any moment of the hour; that model erred high by up to an
  hour per change, ~5% for schedules firing at :30. The exact intervals never price above it.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from mlfargate.spec import cron
from mlfargate.spec.model import Schedule

#: Monday 00:00 UTC of the reference week (mid-January: no DST change in the zones we test).
REFERENCE_WEEK_START = datetime(2026, 1, 12, tzinfo=UTC)
HOURS_PER_WEEK = 168
MAX_PASSES = 16

Bounds = tuple[int, int]


@dataclass(frozen=True)
class Action:
    at: datetime
    schedule: str
    order: int
    min_tasks: int | None
    max_tasks: int | None


@dataclass(frozen=True)
class Event:
    """What one action did in the (final) replay of the week."""

    action: Action
    before: Bounds
    after: Bounds
    applied: bool


@dataclass(frozen=True)
class Interval:
    """[start, end) of the week with the task bounds in force all through it."""

    start: datetime
    end: datetime
    min_tasks: int
    max_tasks: int

    @property
    def hours(self) -> float:
        return (self.end - self.start).total_seconds() / 3600

    def to_json(self) -> list[Any]:
        return [_minute(self.start), _minute(self.end), self.min_tasks, self.max_tasks]


def _minute(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")


@dataclass(frozen=True)
class Timeline:
    week_start: datetime
    intervals: tuple[Interval, ...]
    events: tuple[Event, ...]
    notes: tuple[str, ...]

    @property
    def week_end(self) -> datetime:
        return self.week_start + timedelta(hours=HOURS_PER_WEEK)

    @property
    def min_task_hours(self) -> float:
        return sum(i.hours * i.min_tasks for i in self.intervals)

    @property
    def max_task_hours(self) -> float:
        return sum(i.hours * i.max_tasks for i in self.intervals)

    @property
    def slots(self) -> tuple[Bounds, ...]:
        """The week by hour from ``week_start``, for charts: each hour's largest (min, max) in force at any
        minute of it. The estimate prices the exact intervals; a chart column is an hour."""
        out: list[Bounds] = []
        for hour in range(HOURS_PER_WEEK):
            start = self.week_start + timedelta(hours=hour)
            end = start + timedelta(hours=1)
            inside = [i for i in self.intervals if i.start < end and start < i.end]
            out.append((max(i.min_tasks for i in inside), max(i.max_tasks for i in inside)))
        return tuple(out)

    def bounds_at(self, at: datetime) -> Bounds:
        """The (min, max) bounds in force at ``at`` (inside the week)."""
        for interval in self.intervals:
            if interval.start <= at < interval.end:
                return interval.min_tasks, interval.max_tasks
        raise ValueError(f"{at} is outside the week starting {self.week_start}")


def intervals_of(
    start: Bounds, events: Sequence[Event], week_start: datetime, hours: int = HOURS_PER_WEEK
) -> tuple[Interval, ...]:
    """The week cut at every action: consecutive intervals with equal bounds are merged; actions at the
    same instant leave no empty interval between them."""
    end = week_start + timedelta(hours=hours)
    out: list[Interval] = []
    cursor, state = week_start, start

    def close(until: datetime) -> None:
        if until <= cursor:
            return
        if out and out[-1].end == cursor and (out[-1].min_tasks, out[-1].max_tasks) == state:
            out[-1] = Interval(out[-1].start, until, *state)
        else:
            out.append(Interval(cursor, until, *state))

    for ev in events:
        close(ev.action.at)
        cursor = max(cursor, ev.action.at)
        state = ev.after
    close(end)
    return tuple(out)


def week_actions(schedules: Sequence[Schedule], week_start: datetime = REFERENCE_WEEK_START) -> list[Action]:
    """Every firing of every schedule inside the week, in the order they apply."""
    end = week_start + timedelta(hours=HOURS_PER_WEEK)
    actions = [
        Action(at=at, schedule=s.name, order=i, min_tasks=s.min_tasks, max_tasks=s.max_tasks)
        for i, s in enumerate(schedules)
        for at in cron.parse(s.cron).fire_times(s.timezone, week_start, end)
    ]
    return sorted(actions, key=lambda a: (a.at, a.order))


def apply(state: Bounds, action: Action) -> tuple[Bounds, bool]:
    lo = state[0] if action.min_tasks is None else action.min_tasks
    hi = state[1] if action.max_tasks is None else action.max_tasks
    if lo > hi:
        return state, False
    return (lo, hi), True


def _replay(start: Bounds, actions: Sequence[Action]) -> tuple[Bounds, list[Event]]:
    state = start
    events = []
    for action in actions:
        after, applied = apply(state, action)
        events.append(Event(action=action, before=state, after=after, applied=applied))
        state = after
    return state, events


def dst_changes(zones: Sequence[str], week_start: datetime = REFERENCE_WEEK_START) -> list[str]:
    """Zones whose UTC offset changes inside the week (each hour checked)."""
    changed = []
    for name in sorted(set(zones)):
        zone = ZoneInfo(name)
        offsets = {
            (week_start + timedelta(hours=h)).astimezone(zone).utcoffset() for h in range(HOURS_PER_WEEK + 1)
        }
        if len(offsets) > 1:
            changed.append(name)
    return changed


def build(
    min_tasks: int,
    max_tasks: int,
    schedules: Sequence[Schedule] = (),
    week_start: datetime = REFERENCE_WEEK_START,
) -> Timeline:
    actions = week_actions(schedules, week_start)
    notes: list[str] = []
    start: Bounds = (min_tasks, max_tasks)
    for _ in range(MAX_PASSES):
        end, _events = _replay(start, actions)
        if end == start:
            break
        start = end
    else:
        notes.append(f"the schedules do not settle into a weekly cycle; the week starts at {start}")
    _end, events = _replay(start, actions)
    for ev in events:
        if not ev.applied:
            a = ev.action
            lo = a.min_tasks if a.min_tasks is not None else ev.before[0]
            hi = a.max_tasks if a.max_tasks is not None else ev.before[1]
            want = f"min {lo}, max {hi}"
            notes.append(
                f"schedule '{a.schedule}' at {a.at:%a %H:%M} UTC would set {want} (min above max); "
                f"modelled as a failed action: bounds stay min {ev.before[0]}, max {ev.before[1]}"
            )
    changed = dst_changes([s.timezone for s in schedules], week_start)
    if changed:
        notes.append(f"time zone(s) {', '.join(changed)} change UTC offset inside the reference week")
    return Timeline(
        week_start=week_start,
        intervals=intervals_of(start, events, week_start),
        events=tuple(events),
        notes=tuple(notes),
    )
