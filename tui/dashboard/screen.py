"""The live dashboard (``mlfargate-tui SPEC --dashboard``, where apply ends, and ``--demo``): the deployed
service as ``mlfargate status`` and ``doctor SPEC`` read it, refreshed in a thread worker.

Read-only: the worker calls :meth:`mlfargate.live.collect.Watcher.refresh` (Describe/List/Get calls
only) and :func:`mlfargate.live.doctor.diagnose`; nothing here changes anything in AWS. ECS is read
every ``every_s`` seconds (15 by default), CloudWatch and the other slow parts at most once a minute
(the Watcher's cadence). The UI thread only renders: a refresh never blocks a key. Tables are updated
in place by row key (:class:`~tui.widgets.keyed_table.KeyedTable`), so the selected row, the sort and
the filter survive refreshes. A part that could not be read keeps its last good data and says so; a
refresh that failed as a whole says why and when the data was last good."""

from __future__ import annotations

import time
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Input, Sparkline, Static

from mlfargate.errors import MlfargateError
from tui import errors
from tui.dashboard import view as v
from tui.dashboard.source import DemoInfo, DemoSource, Source
from tui.messages import RefreshFailed, SnapshotReady
from tui.widgets.keyed_table import KeyedTable
from tui.widgets.note import Note

if TYPE_CHECKING:
    from mlfargate.live.collect import Watcher
    from tui.app import MlfargateApp

DEFAULT_EVERY_S = 15
#: Below this many columns the panels stack (app.tcss, ``-narrow``).
NARROW_BELOW = 110
TABLES = ("tasks", "targets", "stopped", "events")


class DashboardScreen(Screen[None]):
    AUTO_FOCUS = "#tasks"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "refresh_now", "Refresh"),
        Binding("slash", "filter", "Filter"),
        Binding("s", "sort", "Sort"),
        Binding("w", "wizard", "Wizard"),
        Binding("ctrl+c", "app.quit", "Quit", show=False, priority=True),
        Binding("q", "app.quit", "Quit", show=False),
    ]

    def __init__(self, source: Source, *, every_s: int = DEFAULT_EVERY_S, wizard: bool = True) -> None:
        super().__init__(id="dashboard-screen")
        self.source = source
        self.spec = source.spec
        self.every_s = every_s
        self.wizard_allowed = wizard
        self.view: v.View | None = None
        self.demo: DemoInfo | None = None
        self.watcher: Watcher | None = None
        self.refreshing = False
        self.queued = False
        self.stopped = False  # a fatal failure: no more refreshes
        self.failure: str | None = None
        #: Seconds each refresh took (worker start to its message), newest last (the benchmark reads it).
        self.refresh_seconds: list[float] = []
        self.refreshes = 0

    @property
    def mlfargate_app(self) -> MlfargateApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield Note("", id="title-bar", markup=False)
        yield Note("", id="dash-head", markup=False)
        yield Note("", id="demo-banner", markup=False, classes="hidden")
        yield Input(
            placeholder="filter the tables (Enter: keep, Esc: clear)", id="dash-filter", classes="hidden"
        )
        with VerticalScroll(id="dash-body"):
            with Horizontal(id="dash-top", classes="dash-row"):
                yield self._panel("service", "Service", Note("", id="service-text", markup=False))
                yield self._panel("cost", "Cost now", Note("", id="cost-text", markup=False))
                yield self._panel("scaling", "Scaling", Note("", id="scaling-text", markup=False))
            yield self._panel("tasks", "Tasks", KeyedTable(v.TASK_COLUMNS, id="tasks"))
            with Horizontal(id="dash-mid", classes="dash-row"):
                yield self._panel("targets", "Targets", KeyedTable(v.TARGET_COLUMNS, id="targets"))
                yield self._panel("stopped", "Stopped tasks", KeyedTable(v.STOPPED_COLUMNS, id="stopped"))
            with Horizontal(id="dash-low", classes="dash-row"):
                rows = [
                    Horizontal(
                        Note(label, classes="metric-label", markup=False),
                        Sparkline([], id=f"spark-{key}", classes="spark"),
                        Note("", id=f"value-{key}", classes="metric-value", markup=False),
                        id=f"metric-{key}",
                        classes="metric-row",
                    )
                    for key, label in v.METRICS
                ]
                yield self._panel("metrics", "Last hour", *rows)
                yield self._panel("events", "Events", KeyedTable(v.EVENT_COLUMNS, id="events"))
            yield self._panel("doctor", "Doctor", Note("", id="doctor-text", markup=False))
        yield Footer()

    @staticmethod
    def _panel(name: str, title: str, *children: Static | KeyedTable | Horizontal) -> Vertical:
        panel = Vertical(*children, id=f"p-{name}", classes="panel")
        panel.border_title = title
        return panel

    def on_resize(self, event: object) -> None:
        self.set_class(self.size.width < NARROW_BELOW, "-narrow")

    def on_mount(self) -> None:
        self.query_one("#title-bar", Static).update(
            Text(
                f"mlfargate — {self.spec.prefix} · {self.spec.aws.region} · dashboard (read-only)",
                style="bold",
            )
        )
        self.query_one("#metric-gpu_reservation").display = self.spec.compute.capacity == "ec2"
        self._show_head()
        self.query_one("#tasks", KeyedTable).focus()
        self.set_interval(self.every_s, self._tick, name="dashboard-refresh")
        self.refresh_now()

    # --- refreshing -------------------------------------------------------------------------------

    def _tick(self) -> None:
        if not self.refreshing:
            self.refresh_now()

    def refresh_now(self) -> None:
        """Start a refresh now, or right after the one that is running."""
        if self.stopped:
            return
        if self.refreshing:
            self.queued = True
            return
        self.refreshing = True
        self._show_head()
        self._refresh_worker()

    def action_refresh_now(self) -> None:
        self.refresh_now()

    @work(thread=True, group="dashboard-refresh", exit_on_error=False, name="dashboard refresh")
    def _refresh_worker(self) -> None:
        started = time.perf_counter()
        try:
            demo = None
            if self.watcher is None:
                self.watcher, demo = self.source.open()
            snapshot = self.watcher.refresh()
            diagnosis = None
            try:
                from mlfargate.live.doctor import diagnose

                diagnosis = diagnose(snapshot, self.spec)
            except Exception as exc:  # the doctor's failure must not hide the snapshot
                errors.record(exc, "dashboard doctor")
            self.post_message(SnapshotReady(snapshot, diagnosis, time.perf_counter() - started, demo))
        except MlfargateError as exc:
            from mlfargate.live.demo import EmulatorError

            self.post_message(RefreshFailed(str(exc), fatal=isinstance(exc, EmulatorError)))
        except Exception as exc:  # one line and the log's path, never a traceback
            self.post_message(RefreshFailed(errors.record(exc, "dashboard refresh")))

    def on_snapshot_ready(self, message: SnapshotReady) -> None:
        message.stop()
        self.refreshes += 1
        self.refresh_seconds.append(message.seconds)
        if message.demo is not None:
            self.demo = message.demo
        self.failure = None
        self.view = v.merge(self.view, message.snapshot, message.diagnosis)
        self._show_view()
        self._done()

    def on_refresh_failed(self, message: RefreshFailed) -> None:
        message.stop()
        self.refreshes += 1
        self.failure = message.problem
        self.view = v.failed(self.view, message.problem, self.mlfargate_app.clock())
        if message.fatal:
            self.stopped = True
        if self.view is None:
            self._show_nothing(message.problem)
        else:
            self._show_view()  # every panel keeps its data, marked with the time it was read
        self._done()

    def _done(self) -> None:
        self.refreshing = False
        self._show_head()
        if self.queued:
            self.queued = False
            self.refresh_now()

    # --- rendering --------------------------------------------------------------------------------

    def _show_head(self) -> None:
        head = self.query_one("#dash-head", Static)
        if self.view is None and self.failure is None and isinstance(self.source, DemoSource):
            head.update(
                Text(
                    "starting the local AWS emulator (moto) and creating the service of the spec in it…",
                    "yellow",
                )
            )
            return
        text = v.head_line(
            self.view,
            self.every_s,
            refreshing=self.refreshing,
            now=self.mlfargate_app.clock(),
            failure=self.failure,
        )
        if self.failure is not None:
            hints = ["r: try again"]
            if self.wizard_allowed:
                hints.append("w: back to the wizard")
            text.append(f"  ({'; '.join(hints)})", style="dim")
        head.update(text)

    def _show_nothing(self, problem: str) -> None:
        self.query_one("#service-text", Static).update(Text(f"nothing could be read: {problem}", style="red"))

    def _show_view(self) -> None:
        view = self.view
        if view is None:
            return
        demo = self.demo.supplied if self.demo else None
        banner = self.query_one("#demo-banner", Static)
        if self.demo is not None:
            banner.update(
                Text.assemble(
                    (" DEMO ", "bold reverse magenta"),
                    (
                        f" a local AWS emulator (moto) at {self.demo.url}: no AWS account is used. What the "
                        "emulator cannot play is supplied by the demo and marked 'demo data' on its panel.",
                        "magenta",
                    ),
                )
            )
            banner.remove_class("hidden")
        self._show_head()
        prefix = self.spec.prefix
        snap = {name: panel.snapshot for name, panel in view.panels.items()}
        self.query_one("#service-text", Static).update(v.service_text(snap["service"]))
        self.query_one("#cost-text", Static).update(v.cost_text(snap["cost"]))
        self.query_one("#scaling-text", Static).update(v.scaling_text(snap["scaling"], prefix))
        self.query_one("#tasks", KeyedTable).sync(v.task_rows(snap["tasks"]))
        self.query_one("#targets", KeyedTable).sync(v.target_rows(snap["targets"]))
        self.query_one("#stopped", KeyedTable).sync(v.stopped_rows(snap["stopped"]))
        self.query_one("#events", KeyedTable).sync(v.event_rows(snap["events"]))
        self._render_metrics(snap["metrics"])
        self.query_one("#doctor-text", Static).update(v.doctor_text(view.diagnosis))
        size = v.task_size(snap["tasks"])
        titles = {
            "tasks": f"Tasks · {v.capacity_summary(snap['tasks'])}" + (f" · {size}" if size else ""),
            "stopped": f"Stopped tasks · {len(snap['stopped'].stopped)}",
            "targets": f"Targets · {len(snap['targets'].targets)}",
            "events": "Events (newest first)",
        }
        metrics = snap["metrics"].metrics
        if metrics is not None:
            titles["metrics"] = f"Last hour · CloudWatch read {v.hms(metrics.read_at)} UTC"
        for name in ("service", "cost", "scaling", "tasks", "targets", "stopped", "metrics", "events"):
            panel = self.query_one(f"#p-{name}")
            if name in titles:
                panel.border_title = titles[name]
            panel.border_subtitle = v.panel_subtitle(view, name, demo)
        doctor = self.query_one("#p-doctor")
        healthy = view.diagnosis is not None and view.diagnosis.healthy
        doctor.set_class(not healthy and view.diagnosis is not None, "-bad")

    def _render_metrics(self, snap: object) -> None:
        from mlfargate.live.model import Snapshot

        assert isinstance(snap, Snapshot)
        for key, _ in v.METRICS:
            series = snap.metrics.get(key) if snap.metrics else None
            spark = self.query_one(f"#spark-{key}", Sparkline)
            points = list(v.metric_points(series))
            spark.display = bool(points)
            if points and list(spark.data or []) != points:
                spark.data = points
            self.query_one(f"#value-{key}", Static).update(v.metric_value(series))

    # --- keys -------------------------------------------------------------------------------------

    def action_filter(self) -> None:
        field = self.query_one("#dash-filter", Input)
        field.remove_class("hidden")
        field.focus()

    @on(Input.Changed, "#dash-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        for table in TABLES:
            self.query_one(f"#{table}", KeyedTable).set_filter(event.value)

    @on(Input.Submitted, "#dash-filter")
    def _filter_kept(self) -> None:
        field = self.query_one("#dash-filter", Input)
        if not field.value:
            field.add_class("hidden")
        self.query_one("#tasks", KeyedTable).focus()

    def key_escape(self) -> None:
        field = self.query_one("#dash-filter", Input)
        if field.has_focus or field.value:
            field.value = ""
            field.add_class("hidden")
            self.query_one("#tasks", KeyedTable).focus()

    def action_sort(self) -> None:
        focused = self.focused
        table = focused if isinstance(focused, KeyedTable) else self.query_one("#tasks", KeyedTable)
        table.action_cycle_sort()

    def action_wizard(self) -> None:
        if not self.wizard_allowed:
            self.notify("the demo has no wizard: run `mlfargate-tui SPEC` for your own spec", timeout=6)
            return
        self.mlfargate_app.open_wizard()

    def selected(self, table: str) -> str | None:
        return self.query_one(f"#{table}", KeyedTable).selected_key

    def now(self) -> datetime:
        return self.mlfargate_app.clock()
