"""The week chart: the min and max task bounds the schedules produce, hour by hour, drawn in the
terminal from the core's timeline (:func:`mlfargate.cost.timeline.build`)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta

from rich.text import Text

from tui.widgets.note import Note

BLOCKS = " ▁▂▃▄▅▆▇█"
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MIN_STYLE = "bold green"
MAX_STYLE = "blue"


def whole_hour_offset(zone_name: str, at: datetime) -> int | None:
    """The zone's UTC offset at ``at`` in whole hours, or None when it is not whole (e.g. +05:30)."""
    from zoneinfo import ZoneInfo

    offset = at.astimezone(ZoneInfo(zone_name)).utcoffset() or timedelta(0)
    hours, rest = divmod(int(offset.total_seconds()), 3600)
    return None if rest else hours


def local_slots(slots: Sequence[tuple[int, int]], offset_hours: int) -> list[tuple[int, int]]:
    """The week's slots re-indexed from Monday 00:00 UTC to Monday 00:00 in a zone ``offset_hours`` away
    (the week is a cycle, so this is a rotation)."""
    n = len(slots)
    out = [(0, 0)] * n
    for h, bounds in enumerate(slots):
        out[(h + offset_hours) % n] = bounds
    return out


def _cell(value: float, row_floor: float, row_height: float) -> int:
    """Eighths of a cell filled by a bar of ``value`` in the row spanning [row_floor, row_floor+height)."""
    filled = (value - row_floor) / row_height
    return max(0, min(8, math.floor(filled * 8 + 1e-9)))


def render(slots: Sequence[tuple[int, int]], width: int, height: int = 6) -> list[Text]:
    """Chart lines: ``height`` rows of bars (max in blue, min in green in front of it), then the day
    axis. Each column covers ceil(168 / columns) hours and shows the largest bound in them."""
    label_w = 5
    columns = max(7, width - label_w - 1)
    per = math.ceil(len(slots) / columns)
    buckets = [slots[i : i + per] for i in range(0, len(slots), per)]
    lows = [max(lo for lo, _ in b) for b in buckets]
    highs = [max(hi for _, hi in b) for b in buckets]
    top = max([*highs, 1])
    row_h = top / height
    lines: list[Text] = []
    for row in range(height - 1, -1, -1):
        floor = row * row_h
        label = f"{top:>4} " if row == height - 1 else ("   0 " if row == 0 else " " * label_w)
        line = Text(label, style="dim")
        line.append("┤" if row in (0, height - 1) else "│", style="dim")
        for lo, hi in zip(lows, highs, strict=True):
            lo_e, hi_e = _cell(lo, floor, row_h), _cell(hi, floor, row_h)
            if lo_e >= 8:
                line.append("█", style=MIN_STYLE)
            elif lo_e > 0:
                line.append(BLOCKS[lo_e], style=f"{MIN_STYLE} on blue" if hi_e >= 8 else MIN_STYLE)
            elif hi_e > 0:
                line.append(BLOCKS[hi_e], style=MAX_STYLE)
            else:
                line.append(" ")
        lines.append(line)
    axis = Text(" " * (label_w + 1))
    day_cols = 24 / per
    for day in DAYS:
        start = len(axis.plain) - label_w - 1
        want = round(DAYS.index(day) * day_cols)
        axis.append(" " * max(0, want - start))
        axis.append(day[: max(1, math.floor(day_cols) - 1)] if day_cols < 4 else day, style="dim")
    lines.append(axis)
    return lines


class WeekChart(Note):
    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id, classes="week-chart", markup=False)
        self.slots: list[tuple[int, int]] = []
        self.caption = ""

    def show(self, slots: Sequence[tuple[int, int]], caption: str) -> None:
        self.slots = list(slots)
        self.caption = caption
        self._draw()

    def note(self, text: str) -> None:
        self.slots = []
        self.caption = text
        self.update(Text(text, style="dim"))

    def on_resize(self) -> None:
        if self.slots:
            self._draw()

    def _draw(self) -> None:
        width = self.content_size.width or 90
        lines = render(self.slots, width)
        legend = Text("      ")
        legend.append("█ min tasks", style=MIN_STYLE)
        legend.append("  ")
        legend.append("█ max tasks", style=MAX_STYLE)
        caption = Text(f"      {self.caption}", style="dim")
        self.update(Text("\n").join([*lines, legend, caption]))
