"""A six-field AWS cron expression, read as the operator types: the core's parser says whether AWS
takes it, and if so when it fires in a week of the schedule's time zone."""

from __future__ import annotations

from datetime import timedelta

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from tui.widgets.fields import TextField
from tui.widgets.note import Note


def describe(text: str, timezone: str) -> tuple[bool, str]:
    """(valid, one line): how often ``text`` fires in the reference week, or why AWS would refuse it."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from mlfargate.cost.timeline import HOURS_PER_WEEK, REFERENCE_WEEK_START
    from mlfargate.spec import cron

    try:
        parsed = cron.parse(text)
    except cron.CronError as exc:
        return False, f"'{text}' {exc}"
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return True, "valid cron; set an IANA time zone to see when it fires"
    end = REFERENCE_WEEK_START + timedelta(hours=HOURS_PER_WEEK)
    times = parsed.fire_times(timezone, REFERENCE_WEEK_START, end)
    if not times:
        return True, "valid cron, but it never fires in a week (e.g. a date that is not in January)"
    local = [t.astimezone(zone) for t in times]
    shown = ", ".join(f"{t:%a %H:%M}" for t in local[:4]) + (", …" if len(local) > 4 else "")
    return True, f"fires {len(local)}× a week ({timezone}): {shown}"


class CronField(Vertical):
    """The cron field (bound to ``path``) and the line that reads it back."""

    def __init__(self, path: str, *, id: str | None = None) -> None:
        super().__init__(id=id, classes="cron-field")
        self.path = path

    def compose(self) -> ComposeResult:
        yield TextField(self.path, placeholder="cron(0 7 ? * MON-FRI *)", classes="cron-input")
        yield Note("", classes="hint cron-hint", markup=False)

    @property
    def input(self) -> TextField:
        return self.query_one(TextField)

    def read_back(self, timezone: str) -> None:
        ok, line = describe(self.input.value, timezone)
        hint = self.query_one(".cron-hint", Static)
        hint.update(line)
        hint.set_class(not ok, "-bad")
