"""Step 5, Scaling: min/max tasks, the target tracking metric, schedules (presets or custom six-field
cron with an IANA time zone) and the week chart of the task bounds they produce (the core's
timeline, drawn in the terminal)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.coordinate import Coordinate
from textual.suggester import SuggestFromList
from textual.widgets import Button, DataTable, Input, Static

from tui.state import Analysis, WizardState
from tui.widgets.cron_field import CronField
from tui.widgets.fields import ChoiceField, TextField
from tui.widgets.note import Note
from tui.widgets.week_chart import WeekChart, local_slots, whole_hour_offset
from tui.wizard.base import StepBody, row

METRICS = (("CPU %", "cpu"), ("memory %", "memory"), ("requests per task (ALB)", "requests_per_target"))
Preset = Callable[[int, int, str], list[dict[str, Any]]]


def _schedule(name: str, cron: str, tz: str, lo: int, hi: int) -> dict[str, Any]:
    return {"name": name, "cron": cron, "timezone": tz, "min_tasks": lo, "max_tasks": hi}


def business_hours(lo: int, hi: int, tz: str) -> list[dict[str, Any]]:
    """The full range 08:00-18:00 on weekdays; at most one task the rest of the week."""
    return [
        _schedule("business-hours", "cron(0 8 ? * MON-FRI *)", tz, max(lo, 1), max(hi, 1)),
        _schedule("after-hours", "cron(0 18 ? * MON-FRI *)", tz, min(lo, 1), 1),
    ]


def nights_weekends_off(lo: int, hi: int, tz: str) -> list[dict[str, Any]]:
    """The full range 07:00-19:00 on weekdays; no task at night or over the weekend."""
    return [
        _schedule("workday", "cron(0 7 ? * MON-FRI *)", tz, max(lo, 1), max(hi, 1)),
        _schedule("night", "cron(0 19 ? * MON-FRI *)", tz, 0, 0),
    ]


PRESETS: dict[str, tuple[str, Preset]] = {
    "business-hours": ("Business hours Mon–Fri", business_hours),
    "nights-off": ("Nights and weekends off", nights_weekends_off),
}


def zone_suggester() -> SuggestFromList:
    """Completes IANA time zone names as they are typed (the names zoneinfo knows)."""
    from zoneinfo import available_timezones

    return SuggestFromList(sorted(available_timezones()), case_sensitive=False)


def bounds(state: WizardState) -> tuple[int, int]:
    lo, hi = state.get("scaling.min_tasks"), state.get("scaling.max_tasks")
    return (lo if isinstance(lo, int) else 1, hi if isinstance(hi, int) else 2)


def chart_zone(schedules: list[Any]) -> str:
    """The zone the chart is drawn in: the schedules' one zone, else UTC."""
    zones = {s.timezone for s in schedules}
    return zones.pop() if len(zones) == 1 else "UTC"


class ScalingStep(StepBody):
    STEP = "scaling"
    TITLE = "Scaling"

    def __init__(self, state: WizardState) -> None:
        super().__init__(state)
        self.selected = 0

    def compose_body(self) -> ComposeResult:
        yield Note("How many tasks run, what scales them, and when.", classes="lead")
        with Horizontal(classes="row"):
            yield Note("Tasks", classes="row-label")
            yield Note("min", classes="inline")
            yield TextField("scaling.min_tasks", kind="int", placeholder="1", id="min")
            yield Note("max", classes="inline")
            yield TextField("scaling.max_tasks", kind="int", placeholder="2", id="max")
        with Horizontal(classes="row"):
            yield Note("Target", classes="row-label")
            yield ChoiceField("scaling.target.metric", [(label, v) for label, v in METRICS], id="metric")
            yield TextField("scaling.target.value", kind="number", placeholder="60", id="target")
            yield Note("", id="target-hint", classes="hint", markup=False)
        with Horizontal(classes="row"):
            yield Note("Presets", classes="row-label")
            for key, (label, _) in PRESETS.items():
                yield Button(label, id=f"preset-{key}", compact=True, classes="preset")
            yield Note("in", classes="inline")
            yield TextField("@tz", placeholder="UTC", id="preset-tz", suggester=zone_suggester())
        with Horizontal(classes="row"):
            yield Note("Schedules", classes="row-label")
            yield Button("+ add", id="add", compact=True)
            yield Button("remove", id="remove", compact=True)
            yield Note("the schedule under the cursor is edited below", classes="hint")
        yield DataTable[str](id="schedules", cursor_type="row", zebra_stripes=True)
        with Vertical(id="schedule-form"):
            with Horizontal(classes="row"):
                yield Note("Name", classes="row-label")
                yield TextField("@s.name", id="s-name")
                yield Note("min", classes="inline")
                yield TextField("@s.min_tasks", kind="int", id="s-min")
                yield Note("max", classes="inline")
                yield TextField("@s.max_tasks", kind="int", id="s-max")
            with Horizontal(classes="row"):
                yield Note("Cron", classes="row-label")
                yield CronField("@s.cron", id="s-cron")
            yield row(
                "Time zone",
                TextField("@s.timezone", id="s-tz", placeholder="UTC", suggester=zone_suggester()),
                hint="IANA name; → completes (America/New_York, Europe/Berlin, UTC)",
            )
        yield WeekChart(id="week")
        yield Note("", id="week-notes", classes="hint", markup=False)

    # --- the schedule being edited: its fields' paths follow the selected row ------------------------

    def schedules(self) -> list[dict[str, Any]]:
        value = self.state.get("scaling.schedules")
        return [s for s in value if isinstance(s, dict)] if isinstance(value, list) else []

    def _bind_form(self) -> None:
        n = len(self.schedules())
        self.selected = min(self.selected, max(n - 1, 0))
        self.query_one("#schedule-form").display = n > 0
        for field in self.query_one("#schedule-form").query(TextField):
            attr = field.path.split(".")[-1]
            field.path = f"scaling.schedules[{self.selected}].{attr}" if n else f"@s.{attr}"

    def load_more(self) -> None:
        table = self.query_one("#schedules", DataTable)
        if not table.columns:
            for col in ("name", "cron", "time zone", "min", "max"):
                table.add_column(col, key=col)
        table.clear()
        for s in self.schedules():
            table.add_row(
                *(str(s.get(k, "")) for k in ("name", "cron", "timezone", "min_tasks", "max_tasks"))
            )
        tz_field = self.query_one("#preset-tz", TextField)
        if not tz_field.value:
            with self.prevent(Input.Changed):
                tz_field.value = next(
                    (str(s["timezone"]) for s in self.schedules() if s.get("timezone")), "UTC"
                )
        self._bind_form()
        if self.schedules():
            table.move_cursor(row=self.selected, animate=False)
            super().load_fields()
        self._read_back_cron()

    def load_fields(self) -> None:
        self._bind_form()
        super().load_fields()

    def _read_back_cron(self) -> None:
        tz = self.query_one("#s-tz", TextField).value or "UTC"
        self.query_one(CronField).read_back(tz)

    @on(DataTable.RowHighlighted, "#schedules")
    def _row(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        if event.cursor_row != self.selected:
            self.selected = event.cursor_row
            self.load_fields()
            self._read_back_cron()

    def after_input(self, field: TextField) -> None:
        if field.path.startswith("scaling.schedules["):
            table = self.query_one("#schedules", DataTable)
            s = self.schedules()[self.selected]
            for i, key in enumerate(("name", "cron", "timezone", "min_tasks", "max_tasks")):
                table.update_cell_at(Coordinate(self.selected, i), str(s.get(key, "")))
            self._read_back_cron()

    # --- adding, removing, presets ----------------------------------------------------------------

    def _set_schedules(self, items: list[dict[str, Any]]) -> None:
        self.state.set("scaling.schedules", items or None)
        self.load()
        self.changed()

    @on(Button.Pressed, "#add")
    def _add(self) -> None:
        items = self.schedules()
        lo, hi = bounds(self.state)
        names = {s.get("name") for s in items}
        n = next(i for i in range(1, 1000) if f"schedule-{i}" not in names)
        tz = self.query_one("#preset-tz", TextField).value or "UTC"
        items.append(
            {
                "name": f"schedule-{n}",
                "cron": "cron(0 8 ? * MON-FRI *)",
                "timezone": tz,
                "min_tasks": lo,
                "max_tasks": hi,
            }
        )
        self.selected = len(items) - 1
        self._set_schedules(items)
        self.query_one("#s-name", TextField).focus()

    @on(Button.Pressed, "#remove")
    def _remove(self) -> None:
        items = self.schedules()
        if items:
            items.pop(self.selected)
            self.selected = max(0, self.selected - 1)
            self._set_schedules(items)

    @on(Button.Pressed, "#preset-business-hours")
    def _business(self) -> None:
        self._preset("business-hours")

    @on(Button.Pressed, "#preset-nights-off")
    def _nights(self) -> None:
        self._preset("nights-off")

    def _preset(self, key: str) -> None:
        label, make = PRESETS[key]
        lo, hi = bounds(self.state)
        tz = self.query_one("#preset-tz", TextField).value or "UTC"
        replaced = len(self.schedules())
        self.selected = 0
        self._set_schedules(make(lo, hi, tz))
        self.app.notify(f"{label}: {replaced} schedule(s) replaced" if replaced else label)

    # --- the week -------------------------------------------------------------------------------

    def refresh_more(self, analysis: Analysis) -> None:
        metric = self.state.get("scaling.target.metric")
        self.query_one("#target-hint", Static).update(
            "requests per task per minute" if metric == "requests_per_target" else "% average across tasks"
        )
        self._read_back_cron()
        chart = self.query_one(WeekChart)
        notes = self.query_one("#week-notes", Static)
        if analysis.errors_for(self.STEP) or analysis.spec is None:
            chart.note("The week chart appears when the scaling section is valid.")
            notes.update("")
            return
        from mlfargate.cost import timeline

        scaling = analysis.spec.scaling
        tl = timeline.build(scaling.min_tasks, scaling.max_tasks, scaling.schedules)
        zone = chart_zone(scaling.schedules)
        offset = whole_hour_offset(zone, tl.week_start)
        if offset is None:
            zone, offset = "UTC", 0
        caption = f"times in {zone} · task-hours a week: min {tl.min_task_hours:,}, max {tl.max_task_hours:,}"
        chart.show(local_slots(tl.slots, offset), caption)
        notes.update(Text("\n".join(tl.notes), style="yellow") if tl.notes else "")
