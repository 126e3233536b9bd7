"""Reading one service from AWS into a :class:`~mlfargate.live.model.Snapshot`, in batched calls.

The calls of one refresh (AWS batch limits from /work/shared/aws-facts.md, each API reference):

every refresh ("fast"):
  ecs:DescribeServices           1 (the service; up to 10 per call, events: the last 100)
  ecs:ListTasks                  RUNNING: pages of 100 (ceil(n/100)); STOPPED: the first page of 100
  ecs:DescribeTasks              ceil((running + stopped) / 100): 100 tasks per call
  ecs:ListContainerInstances     EC2 / Managed Instances only: pages of 100
  ecs:DescribeContainerInstances EC2 / Managed Instances only: 100 per call
  ec2:DescribeInstances          EC2 only (Spot or on-demand of each host): 100 ids per call
  elbv2:DescribeTargetHealth     1 per target group of the service (all its targets)
at most once a minute ("slow", :data:`SLOW_EVERY`):
  sts:GetCallerIdentity          1 (the account, checked against the spec)
  elbv2:DescribeTargetGroups     1 (health check settings, the load balancer for ALB metrics)
  cloudwatch:GetMetricData       1 (every metric of the last hour; see mlfargate.live.metrics)
  application-autoscaling:       DescribeScalableTargets, DescribeScalingPolicies,
                                 DescribeScheduledActions (pages of 50), DescribeScalingActivities (50)
  ecs:DescribeCapacityProviders, autoscaling:DescribeAutoScalingGroups,
  autoscaling:DescribeScalingActivities   EC2 only: the Auto Scaling group behind the provider

So the number of calls per refresh does not depend on the number of tasks, apart from one more
ListTasks page and one more DescribeTasks call per 100 tasks (and per 100 hosts on EC2).

A failed call marks its part :class:`~mlfargate.live.model.Unread` (what and why) and the snapshot
goes on; missing credentials, an expired session and an unreachable region stop it with one line
(:class:`~mlfargate.aws.AwsError`); a cluster or service that does not exist raises
:class:`NotDeployedError`.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from mlfargate import aws
from mlfargate.cost import now as cost_now_mod
from mlfargate.cost.price_book import PriceBook
from mlfargate.errors import MlfargateError
from mlfargate.live import metrics as metrics_mod
from mlfargate.live.clients import ClientFactory, Clients
from mlfargate.live.model import (
    AsgActivity,
    CapacityGroup,
    Container,
    Deployment,
    Instance,
    Metrics,
    Scaling,
    ScalingActivity,
    ScalingPolicy,
    ScheduledAction,
    ServiceEvent,
    ServiceState,
    Snapshot,
    TargetGroupInfo,
    TargetHealth,
    Task,
    Unread,
)
from mlfargate.live.names import ServiceNames
from mlfargate.spec import cron
from mlfargate.spec.model import Spec

#: Slow parts (CloudWatch, scaling, target group, account, Auto Scaling group) are read at most this often.
SLOW_EVERY = timedelta(seconds=60)
DESCRIBE_TASKS_BATCH = 100
LIST_PAGE = 100
DESCRIBE_INSTANCES_BATCH = 100
SCALING_PAGE = 50
ASG_ACTIVITIES = 20

T = TypeVar("T")
Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


class NotDeployedError(MlfargateError):
    """The cluster or the service does not exist where the spec says (wrong region, account or names,
    or not applied yet)."""

    def __init__(self, message: str, *, what: str, region: str) -> None:
        super().__init__(message)
        self.what = what
        self.region = region


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


class _Parts:
    """Reads parts one by one; a failed call becomes an Unread entry, a credentials problem stops all."""

    def __init__(self, names: ServiceNames, profile: str | None) -> None:
        self.names = names
        self.profile = profile
        self.unread: list[Unread] = []

    def read(self, part: str, fn: Callable[[], T], default: T) -> T:
        try:
            return fn()
        except aws.call_errors() as exc:
            line = aws.credentials_problem(exc, self.names.region, self.profile)
            if line:
                raise aws.AwsError(line) from None
            self.unread.append(Unread(part, aws.explain(exc)))
            return default


@dataclasses.dataclass(frozen=True)
class _Slow:
    read_at: datetime
    account: str | None
    target_group: TargetGroupInfo | None
    metrics: Metrics | None
    scaling: Scaling | None
    capacity_group: CapacityGroup | None
    unread: tuple[Unread, ...]


class Watcher:
    """Takes snapshots of one service, again and again: ECS parts on every :meth:`refresh`, the slow
    parts (CloudWatch and the rest, see the module docs) at most once per :data:`SLOW_EVERY`, reused
    in between. The clock and the client factory are injected (tests, the TUI's worker thread)."""

    def __init__(
        self,
        spec: Spec,
        names: ServiceNames,
        factory: ClientFactory,
        *,
        clock: Clock = utcnow,
        book: PriceBook | None = None,
        book_error: str | None = None,
        slow_every: timedelta = SLOW_EVERY,
    ) -> None:
        self.spec = spec
        self.names = names
        self.clients = Clients(factory)
        self.clock = clock
        self.book = book
        self.book_error = book_error
        self.slow_every = slow_every
        self._slow: _Slow | None = None

    def refresh(self) -> Snapshot:
        now = self.clock()
        self.clients.take_calls()
        parts = _Parts(self.names, self.spec.aws.profile)
        service = _read_service(self.clients, self.names, parts)
        running_arns: list[str] = parts.read(
            "tasks", lambda: _list_tasks(self.clients, self.names, "RUNNING"), []
        )
        stopped_arns: list[str] = parts.read(
            "stopped tasks", lambda: _list_tasks(self.clients, self.names, "STOPPED", all_pages=False), []
        )
        raw_tasks: list[dict[str, Any]] = parts.read(
            "tasks", lambda: _describe_tasks(self.clients, self.names, running_arns + stopped_arns), []
        )
        instances: list[Instance] = []
        if self.names.capacity != "fargate":
            instances = parts.read("instances", lambda: _instances(self.clients, self.names, parts), [])
        tg_arns = service.target_group_arns if service else ()
        raw_targets: list[dict[str, Any]] = parts.read(
            "target health", lambda: _target_health(self.clients, tg_arns), []
        )
        if self._slow is None or now - self._slow.read_at >= self.slow_every:
            self._slow = self._read_slow(now, tg_arns)
        slow = self._slow
        by_arn = {i.arn: i for i in instances}
        container_port = self.spec.service.container_port
        targets = tuple(_target(t) for t in raw_targets)
        tasks = [_task(raw, self.names, by_arn) for raw in raw_tasks]
        by_ip = {(t.id, t.port if t.port is not None else container_port): t for t in targets}
        tasks = [_attach(t, by_ip, container_port, slow.metrics) for t in tasks]
        ip_to_task: dict[tuple[str, int | None], str] = {
            (t.ip, container_port): t.id for t in tasks if t.ip and t.desired_status == "RUNNING"
        }
        targets = tuple(dataclasses.replace(t, task_id=ip_to_task.get((t.id, t.port))) for t in targets)
        running = tuple(t for t in tasks if t.desired_status == "RUNNING")
        stopped = tuple(
            sorted(
                (t for t in tasks if t.desired_status != "RUNNING"),
                key=lambda t: t.stopped_at or t.stopping_at or datetime.min.replace(tzinfo=UTC),
                reverse=True,
            )
        )
        unread = [*parts.unread, *slow.unread]
        cost = None
        if self.book is None:
            unread.append(Unread("cost", self.book_error or "no price book"))
        else:
            cost = _cost(self.spec, self.book, running, instances)
        return Snapshot(
            prefix=self.names.prefix,
            region=self.names.region,
            cluster=self.names.cluster,
            service_name=self.names.service,
            capacity=self.names.capacity,
            taken_at=now,
            account=slow.account,
            service=service,
            tasks=running,
            stopped=stopped,
            targets=targets,
            target_group=slow.target_group,
            instances=tuple(instances),
            metrics=slow.metrics,
            scaling=slow.scaling,
            capacity_group=slow.capacity_group,
            cost=cost,
            unread=tuple(dict.fromkeys(unread)),
            calls=self.clients.take_calls(),
        )

    def _read_slow(self, now: datetime, tg_arns: Sequence[str]) -> _Slow:
        parts = _Parts(self.names, self.spec.aws.profile)
        account = parts.read(
            "account", lambda: str(self.clients("sts").get_caller_identity()["Account"]), None
        )
        target_group = parts.read("target group", lambda: _target_group(self.clients, tg_arns), None)
        lb = target_group.load_balancer_arns[0] if target_group and target_group.load_balancer_arns else None
        if tg_arns and lb is None and not parts.unread:
            parts.unread.append(Unread("load balancer metrics", "the target group has no load balancer"))
        queries = metrics_mod.queries(
            self.names.cluster,
            self.names.service,
            self.names.task_family,
            target_group_arn=tg_arns[0] if tg_arns else None,
            load_balancer_arn=lb,
            gpu_reservation=self.names.capacity == "ec2",
        )
        metrics = parts.read(
            "metrics", lambda: metrics_mod.read(self.clients("cloudwatch"), queries, now), None
        )
        scaling = _scaling(self.clients, self.names, parts, now)
        group = None
        if self.names.capacity == "ec2":
            group = parts.read(
                "capacity provider", lambda: _capacity_group(self.clients, self.names, parts), None
            )
        return _Slow(now, account, target_group, metrics, scaling, group, tuple(parts.unread))


def watcher_for(
    spec: Spec,
    *,
    endpoint_url: str | None = None,
    cluster: str | None = None,
    service: str | None = None,
    factory: ClientFactory | None = None,
    clock: Clock = utcnow,
) -> Watcher:
    """The watcher of ``spec``'s service as the front-ends make it: the modules' names (or
    ``cluster``/``service``), the region's price book (a missing one is an unread part, not an error),
    and clients from ``factory`` (default: :func:`~mlfargate.live.clients.aws_factory` for the spec's
    region and profile, every call to ``endpoint_url`` when given)."""
    from mlfargate.cost import price_book
    from mlfargate.live.clients import aws_factory
    from mlfargate.live.names import names_for

    names = names_for(spec, cluster=cluster, service=service)
    book, book_error = None, None
    try:
        book = price_book.load(spec.aws.region)
    except price_book.PricingError as exc:
        book_error = str(exc)
    if factory is None:
        factory = aws_factory(spec.aws.region, spec.aws.profile, endpoint_url)
    return Watcher(spec, names, factory, clock=clock, book=book, book_error=book_error)


def take_snapshot(
    spec: Spec,
    names: ServiceNames,
    factory: ClientFactory,
    *,
    clock: Clock = utcnow,
    book: PriceBook | None = None,
    book_error: str | None = None,
) -> Snapshot:
    """One snapshot (a fresh :class:`Watcher`'s first refresh)."""
    return Watcher(spec, names, factory, clock=clock, book=book, book_error=book_error).refresh()


# --------------------------------------------------------------------------------------------------
# ECS


def _read_service(clients: Clients, names: ServiceNames, parts: _Parts) -> ServiceState | None:
    from botocore.exceptions import ClientError

    def read() -> dict[str, Any] | None:
        try:
            out: dict[str, Any] = clients("ecs").describe_services(
                cluster=names.cluster, services=[names.service]
            )
        except ClientError as exc:
            if aws.error_code(exc) == "ClusterNotFoundException":
                raise NotDeployedError(
                    f"cluster {names.cluster!r} not found in {names.region}: check aws.region in the spec "
                    "(and the account), pass --cluster, or apply the workspace first",
                    what="cluster",
                    region=names.region,
                ) from None
            raise
        return out

    answer = parts.read("service", read, None)
    if answer is None:
        return None
    services = answer.get("services") or []
    if not services:
        reasons = ", ".join(f.get("reason", "?") for f in answer.get("failures", [])) or "not returned"
        raise NotDeployedError(
            f"service {names.service!r} not found in cluster {names.cluster!r} ({names.region}): {reasons}; "
            "pass --service, or apply the workspace first",
            what="service",
            region=names.region,
        )
    return _service(services[0])


def _service(raw: dict[str, Any]) -> ServiceState:
    deployments = tuple(
        Deployment(
            id=str(d.get("id", "")),
            status=str(d.get("status", "")),
            task_definition=_family_revision(d.get("taskDefinition")),
            revision=_revision(d.get("taskDefinition")),
            desired=int(d.get("desiredCount", 0)),
            running=int(d.get("runningCount", 0)),
            pending=int(d.get("pendingCount", 0)),
            failed_tasks=int(d.get("failedTasks", 0)),
            rollout_state=d.get("rolloutState"),
            rollout_reason=d.get("rolloutStateReason"),
            created_at=d.get("createdAt"),
            updated_at=d.get("updatedAt"),
            capacity_providers=tuple(s["capacityProvider"] for s in d.get("capacityProviderStrategy", [])),
        )
        for d in raw.get("deployments", [])
    )
    return ServiceState(
        name=str(raw.get("serviceName", "")),
        cluster=str(raw.get("clusterArn", "")).rsplit("/", 1)[-1],
        arn=str(raw.get("serviceArn", "")),
        status=str(raw.get("status", "")),
        desired=int(raw.get("desiredCount", 0)),
        running=int(raw.get("runningCount", 0)),
        pending=int(raw.get("pendingCount", 0)),
        task_definition=_family_revision(raw.get("taskDefinition")),
        launch_type=raw.get("launchType") or None,
        capacity_strategy=tuple(
            (str(s["capacityProvider"]), int(s.get("base", 0)), int(s.get("weight", 0)))
            for s in raw.get("capacityProviderStrategy", [])
        ),
        health_check_grace_s=raw.get("healthCheckGracePeriodSeconds"),
        target_group_arns=tuple(
            dict.fromkeys(
                lb["targetGroupArn"] for lb in raw.get("loadBalancers", []) if lb.get("targetGroupArn")
            )
        ),
        deployments=deployments,
        events=tuple(
            ServiceEvent(e.get("createdAt"), str(e.get("message", ""))) for e in raw.get("events", [])
        ),
    )


def _list_tasks(clients: Clients, names: ServiceNames, desired: str, *, all_pages: bool = True) -> list[str]:
    ecs = clients("ecs")
    kwargs: dict[str, Any] = {
        "cluster": names.cluster,
        "serviceName": names.service,
        "desiredStatus": desired,
        "maxResults": LIST_PAGE,
    }
    arns: list[str] = []
    while True:
        page = ecs.list_tasks(**kwargs)
        arns.extend(page.get("taskArns", []))
        token = page.get("nextToken")
        if not token or not all_pages:
            return list(dict.fromkeys(arns))
        kwargs["nextToken"] = token


def _describe_tasks(clients: Clients, names: ServiceNames, arns: Sequence[str]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for batch in chunks(list(dict.fromkeys(arns)), DESCRIBE_TASKS_BATCH):
        out.extend(clients("ecs").describe_tasks(cluster=names.cluster, tasks=list(batch)).get("tasks", []))
    return out


def _task(raw: dict[str, Any], names: ServiceNames, instances: dict[str, Instance]) -> Task:
    arn = str(raw.get("taskArn", ""))
    provider = raw.get("capacityProviderName") or None
    host = instances.get(str(raw.get("containerInstanceArn") or ""))
    purchase = names.purchase_of(provider)
    if purchase is None and host is not None:
        purchase = host.purchase
    if purchase is None and raw.get("launchType") == "FARGATE":
        purchase = "on-demand"
    return Task(
        id=arn.rsplit("/", 1)[-1],
        arn=arn,
        last_status=str(raw.get("lastStatus", "")),
        desired_status=str(raw.get("desiredStatus", "")),
        health=raw.get("healthStatus"),
        task_definition=_family_revision(raw.get("taskDefinitionArn")),
        revision=_revision(raw.get("taskDefinitionArn")),
        capacity_provider=provider,
        purchase=purchase,
        launch_type=raw.get("launchType") or None,
        az=raw.get("availabilityZone") or (host.az if host else None),
        ip=_task_ip(raw),
        container_instance_arn=raw.get("containerInstanceArn"),
        instance_id=host.ec2_instance_id if host else None,
        instance_type=host.instance_type if host else None,
        cpu=_int(raw.get("cpu")),
        memory=_int(raw.get("memory")),
        created_at=raw.get("createdAt"),
        started_at=raw.get("startedAt"),
        stopping_at=raw.get("stoppingAt"),
        stopped_at=raw.get("stoppedAt"),
        stop_code=raw.get("stopCode"),
        stopped_reason=raw.get("stoppedReason") or None,
        containers=tuple(
            Container(
                name=str(c.get("name", "")),
                last_status=c.get("lastStatus"),
                exit_code=c.get("exitCode"),
                reason=c.get("reason") or None,
                health=c.get("healthStatus"),
            )
            for c in raw.get("containers", [])
        ),
    )


def _task_ip(raw: dict[str, Any]) -> str | None:
    for attachment in raw.get("attachments", []):
        if attachment.get("type") == "ElasticNetworkInterface":
            for detail in attachment.get("details", []):
                if detail.get("name") == "privateIPv4Address":
                    return str(detail["value"])
    for container in raw.get("containers", []):
        for eni in container.get("networkInterfaces", []):
            if eni.get("privateIpv4Address"):
                return str(eni["privateIpv4Address"])
    return None


def _attach(
    task: Task, targets: dict[tuple[str, int], TargetHealth], port: int, metrics: Metrics | None
) -> Task:
    """The task with its target (same IP, the container port) and its Container Insights values."""
    target = targets.get((task.ip, port)) if task.ip and task.desired_status == "RUNNING" else None
    cpu = metrics.task_cpu.get(task.id) if metrics else None
    memory = metrics.task_memory.get(task.id) if metrics else None
    return dataclasses.replace(task, target=target, cpu_percent=cpu, memory_percent=memory)


def _instances(clients: Clients, names: ServiceNames, parts: _Parts) -> list[Instance]:
    ecs = clients("ecs")
    arns: list[str] = []
    kwargs: dict[str, Any] = {"cluster": names.cluster, "maxResults": LIST_PAGE}
    while True:
        page = ecs.list_container_instances(**kwargs)
        arns.extend(page.get("containerInstanceArns", []))
        token = page.get("nextToken")
        if not token:
            break
        kwargs["nextToken"] = token
    raw: list[dict[str, Any]] = []
    for batch in chunks(arns, DESCRIBE_TASKS_BATCH):
        raw.extend(
            ecs.describe_container_instances(cluster=names.cluster, containerInstances=list(batch)).get(
                "containerInstances", []
            )
        )
    lifecycle: dict[str, str] = {}
    ids = [str(r["ec2InstanceId"]) for r in raw if r.get("ec2InstanceId")]
    if names.capacity == "ec2" and ids:
        lifecycle = parts.read("instance purchase options", lambda: _lifecycles(clients, ids), {})
    out = []
    for r in raw:
        attrs = {a.get("name"): a.get("value") for a in r.get("attributes", [])}
        provider = r.get("capacityProviderName") or None
        purchase = names.purchase_of(provider)
        ec2_id = r.get("ec2InstanceId")
        if purchase is None and ec2_id in lifecycle:
            purchase = "spot" if lifecycle[ec2_id] == "spot" else "on-demand"
        out.append(
            Instance(
                arn=str(r.get("containerInstanceArn", "")),
                ec2_instance_id=ec2_id,
                instance_type=attrs.get("ecs.instance-type"),
                capacity_provider=provider,
                purchase=purchase,
                az=attrs.get("ecs.availability-zone"),
                status=str(r.get("status", "")),
                running_tasks=int(r.get("runningTasksCount", 0)),
                pending_tasks=int(r.get("pendingTasksCount", 0)),
            )
        )
    return out


def _lifecycles(clients: Clients, ids: Sequence[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for batch in chunks(list(ids), DESCRIBE_INSTANCES_BATCH):
        answer = clients("ec2").describe_instances(InstanceIds=list(batch))
        for reservation in answer.get("Reservations", []):
            for inst in reservation.get("Instances", []):
                out[str(inst["InstanceId"])] = str(inst.get("InstanceLifecycle") or "on-demand")
    return out


# --------------------------------------------------------------------------------------------------
# Load balancer


def _target_health(clients: Clients, tg_arns: Sequence[str]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for arn in tg_arns:
        out.extend(
            clients("elbv2").describe_target_health(TargetGroupArn=arn).get("TargetHealthDescriptions", [])
        )
    return out


def _target(raw: dict[str, Any]) -> TargetHealth:
    target, health = raw.get("Target", {}), raw.get("TargetHealth", {})
    return TargetHealth(
        id=str(target.get("Id", "")),
        port=target.get("Port"),
        az=target.get("AvailabilityZone"),
        state=str(health.get("State", "unknown")),
        reason=health.get("Reason"),
        description=health.get("Description"),
    )


def _target_group(clients: Clients, tg_arns: Sequence[str]) -> TargetGroupInfo | None:
    if not tg_arns:
        return None
    groups = (
        clients("elbv2").describe_target_groups(TargetGroupArns=list(tg_arns[:1])).get("TargetGroups", [])
    )
    if not groups:
        return None
    g = groups[0]
    return TargetGroupInfo(
        arn=str(g["TargetGroupArn"]),
        name=str(g.get("TargetGroupName", "")),
        port=g.get("Port"),
        health_check_path=g.get("HealthCheckPath"),
        health_check_interval_s=g.get("HealthCheckIntervalSeconds"),
        health_check_timeout_s=g.get("HealthCheckTimeoutSeconds"),
        healthy_threshold=g.get("HealthyThresholdCount"),
        unhealthy_threshold=g.get("UnhealthyThresholdCount"),
        matcher=(g.get("Matcher") or {}).get("HttpCode"),
        load_balancer_arns=tuple(g.get("LoadBalancerArns", [])),
    )


# --------------------------------------------------------------------------------------------------
# Scaling


def _scaling(clients: Clients, names: ServiceNames, parts: _Parts, now: datetime) -> Scaling | None:
    aas = clients("application-autoscaling")
    common = {"ServiceNamespace": "ecs", "ScalableDimension": "ecs:service:DesiredCount"}
    rid = names.resource_id
    targets = parts.read(
        "scaling",
        lambda: aas.describe_scalable_targets(ResourceIds=[rid], **common).get("ScalableTargets", []),
        None,
    )
    if targets is None:
        return None
    policies_raw: list[dict[str, Any]] = parts.read(
        "scaling policies",
        lambda: aas.describe_scaling_policies(ResourceId=rid, MaxResults=SCALING_PAGE, **common).get(
            "ScalingPolicies", []
        ),
        [],
    )
    actions_raw: list[dict[str, Any]] = parts.read(
        "scheduled actions", lambda: _scheduled_actions(aas, rid, common), []
    )
    activities_raw = parts.read(
        "scaling activities",
        lambda: aas.describe_scaling_activities(ResourceId=rid, MaxResults=SCALING_PAGE, **common).get(
            "ScalingActivities", []
        ),
        None,
    )
    target = targets[0] if targets else {}
    actions = tuple(
        sorted(
            (_action(a, names, now) for a in actions_raw),
            key=lambda a: (a.next_run is None, a.next_run.astimezone(UTC) if a.next_run else now, a.name),
        )
    )
    return Scaling(
        read_at=now,
        min_tasks=target.get("MinCapacity"),
        max_tasks=target.get("MaxCapacity"),
        registered=bool(targets),
        policies=tuple(_policy(p) for p in policies_raw),
        actions=actions,
        next_action=next((a for a in actions if a.next_run is not None), None),
        activities=None
        if activities_raw is None
        else tuple(
            ScalingActivity(
                at=a.get("StartTime"),
                end=a.get("EndTime"),
                status=str(a.get("StatusCode", "")),
                description=str(a.get("Description", "")),
                cause=str(a.get("Cause", "")),
                message=a.get("StatusMessage"),
            )
            for a in activities_raw
        ),
    )


def _scheduled_actions(aas: Any, rid: str, common: dict[str, str]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"ResourceId": rid, "MaxResults": SCALING_PAGE, **common}
    while True:
        page = aas.describe_scheduled_actions(**kwargs)
        out.extend(page.get("ScheduledActions", []))
        token = page.get("NextToken")
        if not token:
            return out
        kwargs["NextToken"] = token


def _policy(raw: dict[str, Any]) -> ScalingPolicy:
    config = raw.get("TargetTrackingScalingPolicyConfiguration") or {}
    predefined = (config.get("PredefinedMetricSpecification") or {}).get("PredefinedMetricType")
    custom = (config.get("CustomizedMetricSpecification") or {}).get("MetricName")
    return ScalingPolicy(
        name=str(raw.get("PolicyName", "")),
        type=str(raw.get("PolicyType", "")),
        metric=predefined or custom,
        target_value=config.get("TargetValue"),
        scale_in_cooldown_s=config.get("ScaleInCooldown"),
        scale_out_cooldown_s=config.get("ScaleOutCooldown"),
    )


def _action(raw: dict[str, Any], names: ServiceNames, now: datetime) -> ScheduledAction:
    schedule = str(raw.get("Schedule", ""))
    tz = str(raw.get("Timezone") or "UTC")
    action = raw.get("ScalableTargetAction") or {}
    return ScheduledAction(
        name=str(raw.get("ScheduledActionName", "")),
        schedule=schedule,
        timezone=tz,
        min_tasks=action.get("MinCapacity"),
        max_tasks=action.get("MaxCapacity"),
        next_run=next_run(schedule, tz, now, raw.get("StartTime"), raw.get("EndTime")),
    )


def next_run(
    schedule: str, tz: str, now: datetime, start: datetime | None = None, end: datetime | None = None
) -> datetime | None:
    """The next time a scheduled action runs, in its own time zone: ``cron(...)`` (AWS six fields),
    ``at(yyyy-mm-ddThh:mm:ss)`` (local time in ``tz``) or ``rate(N unit)`` (from its StartTime).
    None when it will not run again or cannot be computed."""
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    after = max(now, start) if start else now
    found: datetime | None = None
    text = schedule.strip()
    if text.startswith("cron("):
        try:
            parsed = cron.parse(text)
        except cron.CronError:
            return None
        for days in (8, 400):
            times = parsed.fire_times(tz, after, after + timedelta(days=days))
            if times:
                found = times[0]
                break
    elif text.startswith("at(") and text.endswith(")"):
        try:
            local = datetime.fromisoformat(text[3:-1]).replace(tzinfo=zone)
        except ValueError:
            return None
        found = local if local >= after else None
    elif text.startswith("rate(") and text.endswith(")") and start is not None:
        step = _rate(text[5:-1])
        if step is None:
            return None
        k = max(0, -(-(after - start) // step))
        found = start + k * step
    if found is None or (end is not None and found > end):
        return None
    return found.astimezone(zone)


def _rate(text: str) -> timedelta | None:
    parts = text.split()
    if len(parts) != 2 or not parts[0].isdigit():
        return None
    n, unit = int(parts[0]), parts[1].rstrip("s")
    seconds = {"minute": 60, "hour": 3600, "day": 86400}.get(unit)
    return timedelta(seconds=n * seconds) if seconds else None


# --------------------------------------------------------------------------------------------------
# EC2 capacity provider: its Auto Scaling group


def _capacity_group(clients: Clients, names: ServiceNames, parts: _Parts) -> CapacityGroup | None:
    provider = next(iter(names.providers))
    found = (
        clients("ecs").describe_capacity_providers(capacityProviders=[provider]).get("capacityProviders", [])
    )
    if not found:
        return None
    asg_arn = str((found[0].get("autoScalingGroupProvider") or {}).get("autoScalingGroupArn", ""))
    name = asg_arn.rsplit("autoScalingGroupName/", 1)[-1] if "autoScalingGroupName/" in asg_arn else asg_arn
    if not name:
        return None
    groups = clients("autoscaling").describe_auto_scaling_groups(AutoScalingGroupNames=[name])
    raw = (groups.get("AutoScalingGroups") or [{}])[0]
    activities: list[dict[str, Any]] = parts.read(
        "capacity provider activities",
        lambda: (
            clients("autoscaling")
            .describe_scaling_activities(AutoScalingGroupName=name, MaxRecords=ASG_ACTIVITIES)
            .get("Activities", [])
        ),
        [],
    )
    policy = raw.get("MixedInstancesPolicy") or {}
    overrides = (policy.get("LaunchTemplate") or {}).get("Overrides") or []
    instances = raw.get("Instances", [])
    return CapacityGroup(
        provider=provider,
        name=name,
        min_size=int(raw.get("MinSize", 0)),
        max_size=int(raw.get("MaxSize", 0)),
        desired=int(raw.get("DesiredCapacity", 0)),
        in_service=sum(1 for i in instances if i.get("LifecycleState") == "InService"),
        instance_types=tuple(
            dict.fromkeys(str(o["InstanceType"]) for o in overrides if o.get("InstanceType"))
        ),
        activities=tuple(
            AsgActivity(
                at=a.get("StartTime"),
                status=str(a.get("StatusCode", "")),
                description=str(a.get("Description", "")),
                cause=str(a.get("Cause", "")),
                message=a.get("StatusMessage"),
            )
            for a in activities
        ),
    )


# --------------------------------------------------------------------------------------------------
# Cost now


def _cost(
    spec: Spec, book: PriceBook, tasks: Sequence[Task], instances: Sequence[Instance]
) -> cost_now_mod.CostNow:
    if spec.compute.capacity == "fargate":
        counts: Counter[tuple[str, int, int]] = Counter(
            (t.purchase or "on-demand", t.cpu or spec.compute.cpu, t.memory or spec.compute.memory)
            for t in tasks
            if t.last_status == "RUNNING"
        )
        return cost_now_mod.cost_now(
            spec,
            book,
            tasks=[
                cost_now_mod.TaskCount("spot" if p == "spot" else "on-demand", cpu, mem, n)
                for (p, cpu, mem), n in counts.items()
            ],
        )
    hosts: Counter[tuple[str, str]] = Counter(
        (i.instance_type or "unknown", i.purchase or "on-demand")
        for i in instances
        if i.status in ("ACTIVE", "DRAINING")
    )
    return cost_now_mod.cost_now(
        spec,
        book,
        instances=[
            cost_now_mod.InstanceCount(itype, "spot" if p == "spot" else "on-demand", n)
            for (itype, p), n in hosts.items()
        ],
    )


# --------------------------------------------------------------------------------------------------
# Helpers


def _family_revision(arn: Any) -> str:
    return str(arn or "").rsplit("/", 1)[-1]


def _revision(arn: Any) -> int | None:
    tail = _family_revision(arn)
    _, _, rev = tail.rpartition(":")
    return int(rev) if rev.isdigit() else None


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
