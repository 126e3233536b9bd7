"""The live snapshot as plain typed data: what ``mlfargate status`` prints, ``--json`` dumps
(:meth:`Snapshot.to_dict`), ``mlfargate doctor SPEC`` reads and the TUI dashboard renders.

Nothing here talks to AWS (see :mod:`mlfargate.live.collect`). Times are aware datetimes in UTC. A
metric without datapoints is :data:`NO_DATA` in ``to_dict()``, never 0; a part that could not be read
is an :class:`Unread` entry (what, and why), never an empty list that looks healthy.
"""

from __future__ import annotations

import dataclasses
import statistics
from collections import Counter
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

from mlfargate.cost.now import CostNow

NO_DATA = "no data"
Stat = str  # Average | Sum | Maximum | p50 | p99 ...


def plain(value: Any) -> Any:
    """JSON-ready data: dataclasses -> dicts, datetimes -> ISO 8601, tuples -> lists."""
    if hasattr(value, "to_dict") and not isinstance(value, type):
        return value.to_dict()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    return value


@dataclasses.dataclass(frozen=True)
class Unread:
    """A part of the snapshot that could not be read, and why (one line)."""

    part: str
    reason: str


@dataclasses.dataclass(frozen=True)
class Deployment:
    id: str
    status: str  # PRIMARY | ACTIVE | INACTIVE
    task_definition: str  # family:revision
    revision: int | None
    desired: int
    running: int
    pending: int
    failed_tasks: int
    rollout_state: str | None  # IN_PROGRESS | COMPLETED | FAILED
    rollout_reason: str | None
    created_at: datetime | None
    updated_at: datetime | None
    capacity_providers: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class ServiceEvent:
    at: datetime | None
    message: str


@dataclasses.dataclass(frozen=True)
class ServiceState:
    name: str
    cluster: str
    arn: str
    status: str
    desired: int
    running: int
    pending: int
    task_definition: str
    launch_type: str | None
    capacity_strategy: tuple[tuple[str, int, int], ...]  # (provider, base, weight)
    health_check_grace_s: int | None
    target_group_arns: tuple[str, ...]
    deployments: tuple[Deployment, ...]
    #: Newest first, as DescribeServices returns them (at most 100).
    events: tuple[ServiceEvent, ...]


@dataclasses.dataclass(frozen=True)
class Container:
    name: str
    last_status: str | None
    exit_code: int | None
    reason: str | None
    health: str | None


@dataclasses.dataclass(frozen=True)
class TargetHealth:
    """One registered target of the service's target group, matched to its task by IP and port."""

    id: str
    port: int | None
    az: str | None
    state: str  # initial | healthy | unhealthy | unused | draining | unavailable
    reason: str | None  # Elb.InitialHealthChecking, Target.ResponseCodeMismatch, Target.Timeout, ...
    description: str | None
    task_id: str | None = None


@dataclasses.dataclass(frozen=True)
class Task:
    id: str
    arn: str
    last_status: str
    desired_status: str
    health: str | None
    task_definition: str
    revision: int | None
    capacity_provider: str | None
    purchase: Literal["on-demand", "spot"] | None
    launch_type: str | None
    az: str | None
    ip: str | None
    container_instance_arn: str | None
    instance_id: str | None
    instance_type: str | None
    cpu: int | None  # CPU units
    memory: int | None  # MiB
    created_at: datetime | None
    started_at: datetime | None
    stopping_at: datetime | None
    stopped_at: datetime | None
    stop_code: str | None
    stopped_reason: str | None
    containers: tuple[Container, ...]
    #: Latest CloudWatch value (percent), None when CloudWatch has no datapoint for the task.
    cpu_percent: float | None = None
    memory_percent: float | None = None
    target: TargetHealth | None = None

    @property
    def lifetime_s(self) -> float | None:
        """Seconds from container start to the stop request (None while running or never started)."""
        end = self.stopping_at or self.stopped_at
        if self.started_at is None or end is None:
            return None
        return (end - self.started_at).total_seconds()

    def container_problems(self) -> list[str]:
        """Containers that exited non-zero or with a reason, e.g. ``model exit 137: OutOfMemoryError: ...``."""
        out = []
        for c in self.containers:
            if c.exit_code not in (None, 0) or c.reason:
                exit_text = f" exit {c.exit_code}" if c.exit_code is not None else ""
                out.append(f"{c.name}{exit_text}{': ' + c.reason if c.reason else ''}")
        return out

    def to_dict(self) -> dict[str, Any]:
        data = {f.name: plain(getattr(self, f.name)) for f in dataclasses.fields(self)}
        for key in ("cpu_percent", "memory_percent"):
            if data[key] is None:
                data[key] = NO_DATA
        return data


@dataclasses.dataclass(frozen=True)
class Instance:
    """An EC2 / Managed Instances host registered to the cluster."""

    arn: str
    ec2_instance_id: str | None
    instance_type: str | None
    capacity_provider: str | None
    purchase: Literal["on-demand", "spot"] | None
    az: str | None
    status: str
    running_tasks: int
    pending_tasks: int


@dataclasses.dataclass(frozen=True)
class TargetGroupInfo:
    arn: str
    name: str
    port: int | None
    health_check_path: str | None
    health_check_interval_s: int | None
    health_check_timeout_s: int | None
    healthy_threshold: int | None
    unhealthy_threshold: int | None
    matcher: str | None
    load_balancer_arns: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class MetricSeries:
    """One CloudWatch time series of the last hour (1-minute points, oldest first)."""

    key: str  # service_cpu, service_memory, requests, response_p50, response_p99, target_5xx, gpu_reservation
    label: str
    namespace: str
    metric: str
    stat: Stat
    unit: str
    timestamps: tuple[datetime, ...]
    values: tuple[float, ...]

    @property
    def has_data(self) -> bool:
        return bool(self.values)

    @property
    def latest(self) -> float | None:
        return self.values[-1] if self.values else None

    @property
    def summary(self) -> float | None:
        """Over the hour: the total of a Sum, else the mean of the points. None without data."""
        if not self.values:
            return None
        return sum(self.values) if self.stat == "Sum" else statistics.fmean(self.values)

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "namespace": self.namespace,
            "metric": self.metric,
            "stat": self.stat,
            "unit": self.unit,
            "latest": NO_DATA if self.latest is None else self.latest,
            "hour_total" if self.stat == "Sum" else "hour_mean": NO_DATA
            if self.summary is None
            else self.summary,
            "points": [[t.isoformat(), v] for t, v in zip(self.timestamps, self.values, strict=True)],
        }


@dataclasses.dataclass(frozen=True)
class Metrics:
    read_at: datetime
    start: datetime
    end: datetime
    period_s: int
    series: tuple[MetricSeries, ...]
    #: Latest per-task values (percent) by task id, from Container Insights.
    task_cpu: Mapping[str, float] = dataclasses.field(default_factory=dict)
    task_memory: Mapping[str, float] = dataclasses.field(default_factory=dict)
    queries: int = 0

    def get(self, key: str) -> MetricSeries | None:
        return next((s for s in self.series if s.key == key), None)


@dataclasses.dataclass(frozen=True)
class ScheduledAction:
    name: str
    schedule: str
    timezone: str
    min_tasks: int | None
    max_tasks: int | None
    #: The next run in the action's own time zone (None when it cannot be computed, e.g. rate()).
    next_run: datetime | None


@dataclasses.dataclass(frozen=True)
class ScalingPolicy:
    name: str
    type: str
    metric: str | None
    target_value: float | None
    scale_in_cooldown_s: int | None
    scale_out_cooldown_s: int | None


@dataclasses.dataclass(frozen=True)
class ScalingActivity:
    at: datetime | None
    end: datetime | None
    status: str
    description: str
    cause: str
    message: str | None


@dataclasses.dataclass(frozen=True)
class Scaling:
    read_at: datetime
    min_tasks: int | None
    max_tasks: int | None
    registered: bool
    policies: tuple[ScalingPolicy, ...]
    actions: tuple[ScheduledAction, ...]
    next_action: ScheduledAction | None
    #: Newest first (DescribeScalingActivities order); None when they could not be read.
    activities: tuple[ScalingActivity, ...] | None


@dataclasses.dataclass(frozen=True)
class AsgActivity:
    at: datetime | None
    status: str
    description: str
    cause: str
    message: str | None


@dataclasses.dataclass(frozen=True)
class CapacityGroup:
    """The EC2 Auto Scaling group behind an EC2 capacity provider."""

    provider: str
    name: str
    min_size: int
    max_size: int
    desired: int
    in_service: int
    instance_types: tuple[str, ...]
    activities: tuple[AsgActivity, ...]


@dataclasses.dataclass(frozen=True)
class Snapshot:
    """Everything ``mlfargate status`` knows about one service at ``taken_at``."""

    prefix: str
    region: str
    cluster: str
    service_name: str
    capacity: str  # fargate | ec2 | managed_instances
    taken_at: datetime
    account: str | None
    service: ServiceState | None
    #: Tasks whose desired status is RUNNING (includes PROVISIONING/PENDING ones).
    tasks: tuple[Task, ...]
    #: Recently stopped tasks (the first page of 100 ListTasks returns), newest first.
    stopped: tuple[Task, ...]
    targets: tuple[TargetHealth, ...]
    target_group: TargetGroupInfo | None
    instances: tuple[Instance, ...]
    metrics: Metrics | None
    scaling: Scaling | None
    capacity_group: CapacityGroup | None
    cost: CostNow | None
    unread: tuple[Unread, ...]
    #: AWS API calls this refresh made, by ``service:Operation``.
    calls: Mapping[str, int]

    @property
    def complete(self) -> bool:
        return not self.unread

    @property
    def call_count(self) -> int:
        return sum(self.calls.values())

    def by_status(self) -> dict[str, int]:
        return dict(Counter(t.last_status for t in self.tasks))

    def by_capacity(self) -> dict[str, int]:
        """Tasks by capacity provider and purchase option, e.g. ``{"FARGATE_SPOT (spot)": 2}``."""
        out: Counter[str] = Counter()
        for t in self.tasks:
            name = t.capacity_provider or t.launch_type or "unknown"
            out[f"{name} ({t.purchase})" if t.purchase else name] += 1
        return dict(sorted(out.items()))

    def by_az(self) -> dict[str, int]:
        return dict(sorted(Counter(t.az or "unknown" for t in self.tasks).items()))

    def unread_part(self, part: str) -> Unread | None:
        return next((u for u in self.unread if u.part == part), None)

    def to_dict(self) -> dict[str, Any]:
        data = {f.name: plain(getattr(self, f.name)) for f in dataclasses.fields(self)}
        data["complete"] = self.complete
        data["summary"] = {
            "by_status": self.by_status(),
            "by_capacity": self.by_capacity(),
            "by_az": self.by_az(),
            "aws_calls": self.call_count,
        }
        if self.cost is not None:
            data["cost"] = self.cost.to_json()
        return data
