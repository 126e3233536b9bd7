"""What the dashboard shows, as plain data and rich text (no widgets, no AWS): the latest snapshot
merged with the last good data of each panel, and each panel's rows and lines.

A refresh that could not read a part (``Snapshot.unread``) does not blank the panel: the panel keeps
the data it had, says what could not be read and when its data was last read. A refresh that failed
as a whole (the endpoint is gone, the credentials expired) keeps every panel and says so in the head
line. "no data" where CloudWatch has none, never 0.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from rich.text import Text

from mlfargate.cost.text import money

if TYPE_CHECKING:
    from mlfargate.live.doctor import Diagnosis
    from mlfargate.live.model import MetricSeries, Snapshot, Task, Unread

NO_DATA = "no data"
#: The snapshot parts (``Unread.part``) each panel is made of.
PANEL_PARTS: dict[str, tuple[str, ...]] = {
    "service": ("service",),
    "events": ("service",),
    "tasks": ("tasks", "instances", "instance purchase options"),
    "stopped": ("stopped tasks", "tasks"),
    "targets": ("target health", "target group"),
    "metrics": ("metrics", "load balancer metrics"),
    "scaling": ("scaling", "scaling policies", "scheduled actions", "scaling activities"),
    "cost": ("cost",),
    "capacity": ("capacity provider", "capacity provider activities"),
    "account": ("account",),
}
PANELS = tuple(PANEL_PARTS)
#: Metrics shown, in order: key -> label.
METRICS: tuple[tuple[str, str], ...] = (
    ("service_cpu", "CPU"),
    ("service_memory", "memory"),
    ("requests", "requests"),
    ("response_p50", "p50"),
    ("response_p99", "p99"),
    ("target_5xx", "5xx"),
    ("gpu_reservation", "GPU res."),
)
ID_WIDTH = 10


def _essential(snap: Snapshot, panel: str) -> bool:
    """Whether the snapshot holds the panel's data (a failed read leaves it empty)."""
    unread = {u.part for u in snap.unread}
    if panel in ("service", "events"):
        return snap.service is not None
    if panel == "tasks":
        return "tasks" not in unread
    if panel == "stopped":
        return "stopped tasks" not in unread and "tasks" not in unread
    if panel == "targets":
        return "target health" not in unread
    if panel == "metrics":
        return snap.metrics is not None
    if panel == "scaling":
        return snap.scaling is not None
    if panel == "cost":
        return snap.cost is not None
    if panel == "capacity":
        return snap.capacity_group is not None or snap.capacity != "ec2"
    return snap.account is not None


@dataclasses.dataclass(frozen=True)
class Panel:
    #: The snapshot whose data the panel shows (an older one when the latest could not read it).
    snapshot: Snapshot
    #: What the latest refresh could not read for this panel.
    problems: tuple[Unread, ...] = ()

    @property
    def as_of(self) -> datetime:
        return self.snapshot.taken_at


@dataclasses.dataclass(frozen=True)
class View:
    latest: Snapshot
    panels: dict[str, Panel]
    diagnosis: Diagnosis | None
    #: The last refresh failed as a whole: why, and when (the panels show the last good data).
    failed: str | None = None
    failed_at: datetime | None = None
    #: When the last refresh that read everything finished (None: none yet).
    last_complete: datetime | None = None

    def stale(self, panel: str) -> bool:
        return self.failed is not None or self.panels[panel].snapshot is not self.latest


def merge(previous: View | None, snap: Snapshot, diagnosis: Diagnosis | None) -> View:
    """The view after a refresh that returned ``snap``: every panel from it, except a panel whose part
    could not be read, which keeps the data it had (and says what failed)."""
    panels: dict[str, Panel] = {}
    for name, parts in PANEL_PARTS.items():
        problems = tuple(u for u in snap.unread if u.part in parts)
        if problems and previous is not None and not _essential(snap, name):
            panels[name] = Panel(previous.panels[name].snapshot, problems)
        else:
            panels[name] = Panel(snap, problems)
    last = snap.taken_at if snap.complete else (previous.last_complete if previous else None)
    return View(snap, panels, diagnosis, last_complete=last)


def failed(previous: View | None, reason: str, at: datetime) -> View | None:
    """The view after a refresh that failed as a whole (None when there was never any data)."""
    if previous is None:
        return None
    return dataclasses.replace(previous, failed=reason, failed_at=at)


# --------------------------------------------------------------------------------------------------
# Text


def short(task_id: str) -> str:
    return task_id if len(task_id) <= ID_WIDTH + 1 else task_id[:ID_WIDTH] + "…"


def hms(at: datetime | None) -> str:
    return f"{at:%H:%M:%S}" if at else "–"


def hm(at: datetime | None) -> str:
    return f"{at:%H:%M}" if at else "–"


def percent(value: float | None) -> Text:
    return Text(NO_DATA, style="dim") if value is None else Text(f"{value:.0f}%", justify="right")


def head_line(
    view: View | None, every_s: int, *, refreshing: bool, now: datetime, failure: str | None
) -> Text:
    """The status line under the title: when the data was read, the cadence, the calls; or why the
    last refresh failed and when data was last good."""
    text = Text()
    if view is None:
        if failure:
            text.append("refresh failed", style="bold red")
            text.append(f" at {hms(now)}: {failure}", style="red")
        else:
            text.append("reading the service…", style="yellow")
        return text
    snap = view.latest
    if view.failed:
        text.append("refresh failed", style="bold red")
        text.append(f" at {hms(view.failed_at)}: {view.failed}", style="red")
        text.append(f" · showing data from {hms(snap.taken_at)} UTC (last good)", style="yellow")
        return text
    text.append(f"refreshed {hms(snap.taken_at)} UTC", style="bold")
    text.append(f" (every {every_s} s; CloudWatch at most once a minute)", style="dim")
    text.append(f" · {snap.call_count} AWS calls", style="dim")
    if not snap.complete:
        parts = ", ".join(dict.fromkeys(u.part for u in snap.unread))
        text.append(f" · not read: {parts}", style="yellow")
    if refreshing:
        text.append(" · refreshing…", style="yellow")
    return text


def panel_subtitle(view: View, panel: str, demo: dict[str, str] | None) -> Text:
    """A panel's border subtitle: what could not be read and since when the data is old; demo data."""
    p = view.panels[panel]
    text = Text()
    if p.problems:
        text.append("not read: " + "; ".join(f"{u.part}: {u.reason}" for u in p.problems), style="yellow")
    if view.stale(panel):
        text.append(("  " if text else "") + f"data from {hms(p.as_of)}", style="yellow")
    if demo and panel in demo:
        text.append(("  " if text else "") + f"demo data: {demo[panel]}", style="bold magenta")
    return text


def service_text(snap: Snapshot) -> Text:
    svc = snap.service
    if svc is None:
        return Text(f"service {snap.service_name} in {snap.cluster}: not read", style="yellow")
    text = Text()
    text.append("desired ", style="dim")
    text.append(str(svc.desired), style="bold")
    text.append("  running ", style="dim")
    text.append(str(svc.running), style="bold green" if svc.running >= svc.desired else "bold yellow")
    text.append("  pending ", style="dim")
    text.append(str(svc.pending), style="bold yellow" if svc.pending else "bold")
    text.append(f"  {svc.status} · {svc.task_definition}", style="dim")
    if svc.health_check_grace_s is not None:
        text.append(f" · grace {svc.health_check_grace_s} s", style="dim")
    for d in svc.deployments:
        state = d.rollout_state or "?"
        style = {"COMPLETED": "green", "IN_PROGRESS": "yellow", "FAILED": "bold red"}.get(state, "")
        text.append(f"\n{d.status:<8}", style="bold")
        text.append(f" rev {d.revision if d.revision is not None else '?'} ")
        text.append(state, style=style)
        text.append(
            f" {d.running}/{d.desired} running, {d.pending} pending, {d.failed_tasks} failed", style="dim"
        )
        if d.rollout_reason and d.rollout_state == "FAILED":
            text.append(f"\n  {d.rollout_reason}", style="red")
    if svc.capacity_strategy:
        parts = [f"{p} base {b} weight {w}" for p, b, w in svc.capacity_strategy]
        text.append("\nstrategy ", style="dim")
        text.append(" · ".join(parts))
    return text


def cost_text(snap: Snapshot) -> Text:
    cost = snap.cost
    if cost is None:
        return Text("not priced", style="yellow")
    star = "*" if cost.has_estimates else ""
    text = Text()
    text.append(f"{money(cost.per_hour)} /h{star}", style="bold")
    text.append(f" · {money(cost.per_month)} /mo at this rate", style="dim")
    for line in cost.lines:
        if line.kind == "compute" and line.quantity:
            text.append(f"\n{line.quantity:g} × {line.item}")
            text.append(f"  {money(line.per_hour)} /h", style="dim")
    fixed = [line.item for line in cost.lines if line.kind != "compute" and line.per_hour]
    if fixed:
        text.append("\nplus " + ", ".join(fixed), style="dim")
    for item in cost.unpriced:
        text.append(f"\nnot priced: {item}", style="yellow")
    if star:
        text.append("\n* an estimated price", style="dim")
    return text


def scaling_text(snap: Snapshot, names_prefix: str) -> Text:
    s = snap.scaling
    if s is None:
        return Text("not read", style="yellow")
    if not s.registered:
        return Text("not registered with Application Auto Scaling", style="yellow")
    text = Text()
    text.append(f"min {s.min_tasks} max {s.max_tasks}", style="bold")
    for p in s.policies:
        target = f" {p.target_value:g}" if p.target_value is not None else ""
        text.append(f" · target {p.metric or p.name}{target}", style="dim")
    a = s.next_action
    if a is not None and a.next_run is not None:
        bounds = f"{'' if a.min_tasks is None else a.min_tasks}..{'' if a.max_tasks is None else a.max_tasks}"
        name = a.name.removeprefix(f"{names_prefix}-")
        text.append("\nnext: ", style="dim")
        text.append(f"{name} {a.next_run:%a %H:%M} {a.timezone} → {bounds}")
    elif not s.actions:
        text.append("\nno scheduled actions", style="dim")
    if s.activities is None:
        text.append("\nlast activities: not read", style="yellow")
    elif not s.activities:
        text.append("\nno scaling activity", style="dim")
    for act in (s.activities or ())[:2]:
        style = "red" if act.status.lower() in ("failed", "cancelled") else ""
        text.append(f"\n{hm(act.at)} ", style="dim")
        text.append(f"{act.status} ", style=style)
        text.append(act.description)
    return text


def capacity_summary(snap: Snapshot) -> str:
    by_cap = " · ".join(f"{k} {v}" for k, v in snap.by_capacity().items())
    by_az = " · ".join(f"{k} {v}" for k, v in snap.by_az().items())
    return " · ".join(p for p in (f"{len(snap.tasks)} running", by_cap, by_az) if p)


def task_size(snap: Snapshot) -> str:
    """The tasks' size, when they all have one (a service's tasks share their task definition's)."""
    sizes = {(t.cpu, t.memory) for t in snap.tasks if t.cpu is not None and t.memory is not None}
    if len(sizes) != 1:
        return ""
    cpu, memory = next(iter(sizes))
    assert cpu is not None and memory is not None
    return f"{cpu / 1024:g} vCPU / {memory / 1024:g} GB per task"


def reason_code(reason: str | None) -> str:
    """``Target.ResponseCodeMismatch`` -> ``ResponseCodeMismatch`` (the prefix says nothing more)."""
    if not reason:
        return ""
    return reason.split(".", 1)[1] if reason.startswith(("Target.", "Elb.")) else reason


TARGET_STYLE = {"healthy": "green", "unhealthy": "bold red", "initial": "yellow", "draining": "yellow"}


def _target(t: Task) -> Text:
    if t.target is None:
        return Text("–", style="dim")
    label = f"{t.target.state} {reason_code(t.target.reason)}".rstrip()
    return Text(label, style=TARGET_STYLE.get(t.target.state, ""))


TASK_COLUMNS = (
    ("task", "task"),
    ("status", "status"),
    ("capacity", "capacity"),
    ("az", "AZ"),
    ("cpu", "cpu"),
    ("mem", "mem"),
    ("target", "target health"),
    ("started", "started"),
)


def task_rows(snap: Snapshot) -> dict[str, list[Text]]:
    rows: dict[str, list[Text]] = {}
    for t in snap.tasks:
        status_style = "green" if t.last_status == "RUNNING" else "yellow"
        capacity = Text(t.capacity_provider or t.launch_type or "–")
        if t.purchase:
            capacity.append(f" {t.purchase}", style="magenta" if t.purchase == "spot" else "")
        if t.instance_type:
            capacity.append(f" {t.instance_type}", style="dim")
        rows[t.id] = [
            Text(short(t.id)),
            Text(t.last_status, style=status_style),
            capacity,
            Text(t.az or "–"),
            percent(t.cpu_percent),
            percent(t.memory_percent),
            _target(t),
            Text(hms(t.started_at or t.created_at), style="dim"),
        ]
    return rows


TARGET_COLUMNS = (
    ("target", "target"),
    ("state", "state"),
    ("reason", "reason"),
    ("task", "task"),
    ("az", "AZ"),
    ("description", "description"),
)


def target_rows(snap: Snapshot) -> dict[str, list[Text]]:
    return {
        f"{t.id}:{t.port}": [
            Text(f"{t.id}:{t.port}"),
            Text(t.state, style=TARGET_STYLE.get(t.state, "")),
            Text(reason_code(t.reason) or "–"),
            Text(
                short(t.task_id) if t.task_id else "not this service's", style="" if t.task_id else "yellow"
            ),
            Text(t.az or "–"),
            Text(t.description or "", style="dim"),
        ]
        for t in snap.targets
    }


STOPPED_COLUMNS = (
    ("task", "task"),
    ("stopped", "stopped"),
    ("exit", "exit"),
    ("code", "stop code"),
    ("reason", "reason"),
)


def stopped_rows(snap: Snapshot) -> dict[str, list[Text]]:
    rows: dict[str, list[Text]] = {}
    for t in snap.stopped:
        exits = ", ".join(str(c.exit_code) for c in t.containers if c.exit_code is not None) or "–"
        reasons = [t.stopped_reason or "", *(c.reason for c in t.containers if c.reason)]
        bad = any(c.exit_code not in (None, 0) for c in t.containers)
        rows[t.id] = [
            Text(short(t.id)),
            Text(hms(t.stopped_at or t.stopping_at), style="dim"),
            Text(exits, style="bold red" if bad else ""),
            Text(t.stop_code or "–"),
            Text(" · ".join(r for r in reasons if r) or "–"),
        ]
    return rows


EVENT_COLUMNS = (("at", "time"), ("message", "event"))


def event_rows(snap: Snapshot) -> dict[str, list[Text]]:
    from mlfargate.live.doctor import FAILURE_WORDS

    rows: dict[str, list[Text]] = {}
    events = snap.service.events if snap.service else ()
    own = f"(service {snap.service.name}) " if snap.service else ""
    for e in events:
        key = f"{e.at.isoformat() if e.at else ''}|{e.message}"
        if key in rows:
            continue
        style = "red" if FAILURE_WORDS.search(e.message) else ""
        # The service names itself in every event: the panel is the service's, so the prefix goes.
        message = e.message.removeprefix(own) if own else e.message
        rows[key] = [Text(hms(e.at), style="dim"), Text(message, style=style)]
    return rows


def metric_value(series: MetricSeries | None) -> Text:
    if series is None or not series.has_data:
        return Text(NO_DATA, style="dim")
    latest = series.latest
    assert latest is not None
    if series.unit == "%":
        return Text(f"{latest:.0f}%")
    if series.unit == "s":
        return Text(f"{latest * 1000:,.0f} ms")
    return Text(f"{latest:,.0f}/min")


def metric_points(series: MetricSeries | None) -> Sequence[float]:
    return series.values if series is not None else ()


def doctor_text(diagnosis: Diagnosis | None, *, evidence: int = 2) -> Text:
    if diagnosis is None:
        return Text("doctor: not run yet", style="dim")
    if diagnosis.healthy:
        return Text("✓ doctor: no problems found", style="green")
    text = Text()
    for i, advice in enumerate(diagnosis.advice):
        if i:
            text.append("\n")
        text.append(f"[{advice.rule}] ", style="bold red")
        text.append(advice.problem, style="bold")
        text.append("\n  → ", style="dim")
        text.append(advice.advice)
        for line in advice.evidence[:evidence]:
            text.append(f"\n  evidence: {line}", style="dim")
        if len(advice.evidence) > evidence:
            text.append(f"\n  … {len(advice.evidence) - evidence} more", style="dim")
    if diagnosis.unrecognised:
        text.append(
            ("\n" if text else "") + f"unrecognised ({len(diagnosis.unrecognised)}), shown raw:",
            style="yellow",
        )
        for line in diagnosis.unrecognised[:3]:
            text.append(f"\n  {line}", style="dim")
    return text
