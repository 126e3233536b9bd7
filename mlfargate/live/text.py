"""A snapshot and a diagnosis as compact plain-text lines (the CLI prints them; nothing here prints).

Dense like the dashboard wireframe (/work/shared/tui-wireframes.md): one line per fact, tables for
tasks. "no data" where CloudWatch has none, never 0. Times are UTC.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from mlfargate.cost.text import money
from mlfargate.live.doctor import Diagnosis
from mlfargate.live.model import NO_DATA, MetricSeries, Snapshot, Task

ID_WIDTH = 12
EVENTS_SHOWN = 8
STOPPED_SHOWN = 8
ACTIVITIES_SHOWN = 3


def short(task_id: str) -> str:
    return task_id if len(task_id) <= ID_WIDTH else task_id[:ID_WIDTH] + "…"


def hms(at: datetime | None) -> str:
    return f"{at:%H:%M:%S}" if at else "–"


def metric_text(series: MetricSeries | None) -> str:
    if series is None or not series.has_data:
        return NO_DATA
    latest, summary = series.latest, series.summary
    assert latest is not None and summary is not None
    if series.unit == "%":
        return f"{latest:.0f}% (hour mean {summary:.0f}%)"
    if series.unit == "s":
        return f"{latest * 1000:.0f} ms (hour mean {summary * 1000:.0f} ms)"
    return f"{latest:,.0f}/min ({summary:,.0f} in the hour)"


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(str(c)) for c in col) for col in zip(headers, *rows, strict=False)]
    return [
        "  " + "  ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=False)).rstrip()
        for cells in (headers, *rows)
    ]


def _percent(value: float | None) -> str:
    return NO_DATA if value is None else f"{value:.0f}%"


def _capacity(t: Task) -> str:
    name = t.capacity_provider or t.launch_type or "?"
    bits = [name]
    if t.purchase:
        bits.append(t.purchase)
    if t.instance_type:
        bits.append(t.instance_type)
    return " ".join(bits)


def _target_text(t: Task) -> str:
    if t.target is None:
        return "–"
    return f"{t.target.state} {t.target.reason}" if t.target.reason else t.target.state


def status_lines(snap: Snapshot, *, every_s: int | None = None) -> list[str]:
    head = [snap.prefix, snap.region]
    if snap.account:
        head.append(f"account {snap.account}")
    head.append(f"{snap.taken_at:%Y-%m-%d %H:%M:%S} UTC")
    if every_s:
        head.append(f"every {every_s} s (CloudWatch at most once a minute)")
    lines = [" · ".join(head)]
    svc = snap.service
    if svc is None:
        lines.append(f"service {snap.service_name} in {snap.cluster}: not read")
    else:
        grace = f"  grace {svc.health_check_grace_s} s" if svc.health_check_grace_s is not None else ""
        lines.append(
            f"service {svc.name} ({svc.status}) in {svc.cluster}: desired {svc.desired}  running {svc.running}  "
            f"pending {svc.pending}  {svc.task_definition}{grace}"
        )
        for d in svc.deployments:
            rollout = f"  {d.rollout_state}" if d.rollout_state else ""
            why = f"  {d.rollout_reason}" if d.rollout_reason and d.rollout_state != "COMPLETED" else ""
            lines.append(
                f"  {d.status:<8} rev {d.revision if d.revision is not None else '?'}{rollout}  "
                f"{d.running}/{d.desired} running, {d.pending} pending, {d.failed_tasks} failed{why}"
            )
    if snap.tasks:
        lines.append(
            "capacity "
            + " · ".join(f"{k} {v}" for k, v in snap.by_capacity().items())
            + "   AZ "
            + " · ".join(f"{k} {v}" for k, v in snap.by_az().items())
        )
    if snap.instances:
        lines.append(
            "instances "
            + " · ".join(
                f"{i.instance_type or '?'} {i.purchase or '?'} {i.status} ({i.running_tasks} tasks)"
                for i in snap.instances
            )
        )
    if snap.capacity_group:
        g = snap.capacity_group
        lines.append(
            f"capacity provider {g.provider}: Auto Scaling group {g.name} {g.desired} desired "
            f"({g.min_size}..{g.max_size}), {g.in_service} in service"
        )
    lines += _cost_lines(snap)
    lines += _scaling_lines(snap)
    lines.append(f"tasks ({len(snap.tasks)})" + (":" if snap.tasks else ": none"))
    if snap.tasks:
        rows = [
            [
                short(t.id),
                t.last_status,
                _capacity(t),
                t.az or "–",
                _percent(t.cpu_percent),
                _percent(t.memory_percent),
                _target_text(t),
                hms(t.started_at or t.created_at),
            ]
            for t in snap.tasks
        ]
        lines += _table(["task", "status", "capacity", "AZ", "cpu", "mem", "target", "started"], rows)
    stray = [t for t in snap.targets if t.task_id is None]
    for target in stray:
        why = f" {target.reason}: {target.description}" if target.reason else ""
        lines.append(f"  target {target.id}:{target.port} (no task of this service): {target.state}{why}")
    if snap.stopped:
        shown = snap.stopped[:STOPPED_SHOWN]
        lines.append(f"stopped (newest {len(shown)} of {len(snap.stopped)}):")
        for t in shown:
            parts = [t.stop_code or "", t.stopped_reason or "", *(f"({p})" for p in t.container_problems())]
            lines.append(
                f"  {short(t.id)}  {hms(t.stopped_at or t.stopping_at)}  " + "  ".join(p for p in parts if p)
            )
    lines += _metric_lines(snap)
    if svc and svc.events:
        lines.append("events (newest first):")
        lines += [f"  {hms(e.at)}  {e.message}" for e in svc.events[:EVENTS_SHOWN]]
    for u in snap.unread:
        lines.append(f"not read: {u.part}: {u.reason}")
    lines.append(f"{snap.call_count} AWS calls this refresh")
    return lines


def _cost_lines(snap: Snapshot) -> list[str]:
    cost = snap.cost
    if cost is None:
        return []
    star = "*" if cost.has_estimates else ""
    what = [
        f"{line.quantity:g} x {line.item}" for line in cost.lines if line.kind == "compute" and line.quantity
    ]
    out = [
        f"cost now ${cost.per_hour:,.3f}/h{star} ({money(cost.per_month)}/month at this rate): "
        + ("; ".join(what) if what else "nothing running")
        + "; plus fixed lines"
    ]
    out += [f"  not priced: {u}" for u in cost.unpriced]
    if star:
        out.append("  * includes an estimated price (see `mlfargate status --json` cost.assumptions)")
    return out


def _scaling_lines(snap: Snapshot) -> list[str]:
    s = snap.scaling
    if s is None:
        return []
    if not s.registered:
        return ["scaling: the service is not registered with Application Auto Scaling"]
    bits = [f"scaling min {s.min_tasks} max {s.max_tasks}"]
    for p in s.policies:
        target = f" {p.target_value:g}" if p.target_value is not None else ""
        bits.append(f"{p.type} {p.metric or p.name}{target}")
    if s.next_action and s.next_action.next_run:
        a = s.next_action
        run = a.next_run
        assert run is not None
        bounds = f"{'' if a.min_tasks is None else a.min_tasks}..{'' if a.max_tasks is None else a.max_tasks}"
        bits.append(f"next: {a.name} {run:%a %Y-%m-%d %H:%M} {a.timezone} {bounds}")
    out = [" · ".join(bits)]
    if s.activities:
        for act in s.activities[:ACTIVITIES_SHOWN]:
            out.append(f"  {hms(act.at)}  {act.status}  {act.description}")
    return out


def _metric_lines(snap: Snapshot) -> list[str]:
    m = snap.metrics
    if m is None:
        return []
    out = [f"last hour (CloudWatch {m.start:%H:%M}–{m.end:%H:%M} UTC, read {hms(m.read_at)}):"]
    labels = {
        "service_cpu": "CPU",
        "service_memory": "memory",
        "requests": "requests",
        "response_p50": "response p50",
        "response_p99": "response p99",
        "target_5xx": "target 5xx",
        "gpu_reservation": "GPU reservation",
    }
    for key, label in labels.items():
        series = m.get(key)
        if series is None:
            continue
        out.append(f"  {label:<16}{metric_text(series)}")
    return out


def doctor_lines(d: Diagnosis) -> list[str]:
    when = f", snapshot {d.taken_at:%Y-%m-%d %H:%M:%S} UTC" if d.taken_at else ""
    lines = [f"doctor {d.prefix} ({d.region}{when})"]
    lines += list(d.notes)
    if d.healthy:
        lines.append("no problems found")
    if d.advice:
        lines.append(f"{len(d.advice)} problem(s):")
    for i, a in enumerate(d.advice, 1):
        lines.append(f"{i}. [{a.rule}] {a.problem}")
        lines.append(f"   -> {a.advice}")
        lines.append("   evidence:")
        lines += [f"     - {e}" for e in a.evidence]
    if d.unrecognised:
        lines.append(f"unrecognised ({len(d.unrecognised)}, shown raw):")
        lines += [f"  - {text}" for text in d.unrecognised]
    for u in d.unread:
        lines.append(f"not read: {u.part}: {u.reason}")
    return lines
