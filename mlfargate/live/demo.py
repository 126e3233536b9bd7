"""A deployment to look at without an AWS account (``mlfargate-tui --demo [SPEC]``).

Three parts, none of which touches AWS:

* :class:`Emulator`: ``moto_server`` on 127.0.0.1 (a port the server picks itself, read from its first
  lines, so no two emulators race for one), a child of this process that dies with it (Linux
  ``PR_SET_PDEATHSIG``, so even a killed front-end leaves no emulator behind) and is stopped by
  :meth:`Emulator.stop` on every normal way out.
* :func:`seed`: what the Terraform modules would create for the spec, made in the emulator through the
  same boto3 calls the tests use: VPC and subnets, the cluster, the task definition, the load balancer,
  target group ``<prefix>-tg`` and listener, the service, running tasks on on-demand and Spot capacity
  (Fargate / Fargate Spot, or EC2 hosts of the spec's instance types for GPU specs) registered as
  targets, a task stopped by an out-of-memory exit, the last hour of CloudWatch metrics, the scalable
  target with its target-tracking policy and the spec's scheduled actions.
* :class:`DemoData`: what moto cannot play (service events, running counts and rollout, an unhealthy
  target, stop and exit codes, p50/p99 latency, per-task CPU/memory, scaling activities), supplied
  through the same seam the tests use: the :data:`~mlfargate.live.clients.ClientFactory` the
  :class:`~mlfargate.live.collect.Watcher` reads through. Its clients talk to the emulator; botocore
  event handlers fill in those answers (``after-call``) or give them (``before-call``, as botocore's
  Stubber does). :attr:`DemoData.supplied` says which panels carry demo data, so a front-end marks
  them. The texts are real AWS texts (sources in /work/shared/aws-facts.md and tests/live/).

moto is the ``demo`` extra (``pip install 'mlfargate[demo]'``; ``make demo`` installs it, and ``make test``'s
dev environment has it).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

from mlfargate import aws
from mlfargate.errors import MlfargateError
from mlfargate.live.clients import ClientFactory
from mlfargate.live.names import names_for
from mlfargate.spec.model import Spec

#: How a front-end marks what the demo supplies.
DEMO_MARK = "demo data"
#: The demo's fake credentials (moto accepts any): never the operator's.
DEMO_KEY = "mlfargate-demo"
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0
CONTAINER = "model"  # modules/ecs-service: local.container_name

#: The spec the demo shows when none is given: a CPU model server on Fargate with Spot and schedules.
DEMO_SPEC = """\
version: 1
name: demo
environment: dev
aws:
  region: us-east-1
network:
  vpc_cidr: 10.40.0.0/16
  availability_zones: 2
  nat_gateways: single
service:
  allow_plain_http: true
compute:
  capacity: fargate
  cpu: 2048
  memory: 4096
spot:
  on_demand_base: 1
  spot_percentage: 60
scaling:
  min_tasks: 2
  max_tasks: 6
  target: {metric: requests_per_target, value: 100}
  schedules:
    - {name: night, cron: "cron(0 22 * * ? *)", timezone: America/New_York, min_tasks: 1, max_tasks: 2}
    - {name: workday, cron: "cron(0 7 ? * MON-FRI *)", timezone: America/New_York, min_tasks: 2, max_tasks: 6}
"""

#: Real AWS texts the demo plays (aws-facts.md "Stop codes"; ECS troubleshooting guide; ELB reason codes).
OOM_STOPPED_REASON = "Essential container in task exited"
OOM_CONTAINER_REASON = "OutOfMemoryError: Container killed due to memory usage"
UNHEALTHY_REASON = "Target.ResponseCodeMismatch"
UNHEALTHY_DESCRIPTION = "Health checks failed with these codes: [503]"


class EmulatorError(MlfargateError):
    """The local emulator is not installed, did not start, or stopped."""


def demo_spec() -> Spec:
    from mlfargate.spec.model import from_data
    from mlfargate.spec.text import load_data

    return from_data(load_data(DEMO_SPEC))


# --------------------------------------------------------------------------------------------------
# The emulator process


def moto_server_path() -> str | None:
    """``moto_server`` beside this interpreter (a virtualenv), else on PATH."""
    return shutil.which("moto_server", path=str(Path(sys.executable).parent)) or shutil.which("moto_server")


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Linux: the emulator gets SIGTERM when the thread that started it ends (the front-end's main
    thread: the process), however it ends, SIGKILL included."""
    with contextlib.suppress(Exception):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM)


class Emulator:
    """A ``moto_server`` child on 127.0.0.1. Start it from the main thread (its death signal follows
    the thread that started it); :meth:`wait_ready` from any thread."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.proc = proc
        self.url: str | None = None
        self._lines: deque[str] = deque(maxlen=20)
        self._found = threading.Event()
        self._reader = threading.Thread(target=self._drain, name="moto-stderr", daemon=True)
        self._reader.start()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def _drain(self) -> None:
        """Read the server's stderr for as long as it runs: its first lines name the port; then every
        request is logged there, and a pipe nobody reads would stop the server when it fills."""
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self._lines.append(line.rstrip())
            if self.url is None and "Running on http://127.0.0.1:" in line:
                port = line.rsplit(":", 1)[-1].strip().rstrip("/")
                if port.isdigit():
                    self.url = f"http://127.0.0.1:{port}"
                    self._found.set()
        self._found.set()

    def wait_ready(self, timeout: float = START_TIMEOUT_S) -> str:
        """The emulator's URL once it answers; :class:`EmulatorError` if it ends or takes too long."""
        deadline = time.monotonic() + timeout
        self._found.wait(timeout)
        while True:
            if self.url is not None:
                try:
                    urllib.request.urlopen(f"{self.url}/moto-api/", timeout=2).close()
                    return self.url
                except OSError:
                    pass
            if self.proc.poll() is not None:
                tail = " | ".join(self._lines) or "no output"
                raise EmulatorError(
                    f"the local AWS emulator (moto_server) exited with {self.proc.returncode}: {tail}"
                )
            if time.monotonic() > deadline:
                raise EmulatorError(
                    f"the local AWS emulator (moto_server) did not answer within {timeout:.0f} s"
                )
            time.sleep(0.05)

    @property
    def running(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> None:
        """Terminate the server and wait for it (kill it if it does not go); safe to call twice."""
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.terminate()
            try:
                self.proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stderr is not None:
            with contextlib.suppress(OSError):
                self.proc.stderr.close()

    def __enter__(self) -> Emulator:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


def start_emulator(account_id: str | None = None) -> Emulator:
    """Start ``moto_server`` on 127.0.0.1 on a port it picks (``-p 0``). ``account_id``: the account
    its answers name (the spec's ``aws.account_id``, so the account check has nothing to report)."""
    exe = moto_server_path()
    if exe is None:
        raise EmulatorError(
            "the demo needs the local AWS emulator moto_server, which is not installed: "
            "pip install 'mlfargate[demo]' (`make demo` installs it and starts the demo)"
        )
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    if account_id:
        env["MOTO_ACCOUNT_ID"] = account_id
    proc = subprocess.Popen(
        [exe, "-H", "127.0.0.1", "-p", "0"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
    )
    return Emulator(proc)


# --------------------------------------------------------------------------------------------------
# Clients on the emulator


def demo_factory(url: str, region: str) -> ClientFactory:
    """boto3 clients on the emulator with the demo's fake keys (never the operator's profile), one
    session per factory, one attempt per call (an emulator answers at once or not at all)."""
    shared: list[Any] = []

    def make(service: str) -> Any:
        if not shared:
            import boto3

            shared.append(
                boto3.Session(aws_access_key_id=DEMO_KEY, aws_secret_access_key=DEMO_KEY, region_name=region)
            )
        return aws.client(service, region, endpoint_url=url, from_session=shared[0], max_attempts=1)

    return make


def _post(url: str, body: dict[str, Any]) -> None:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST")
    urllib.request.urlopen(request, timeout=10).close()


# --------------------------------------------------------------------------------------------------
# Seeding


@dataclass(frozen=True)
class SeededTask:
    id: str
    arn: str
    ip: str | None
    purchase: str  # on-demand | spot
    host: str | None = None  # container instance ARN (EC2 / Managed Instances)
    az: str | None = None


@dataclass
class Seeded:
    """What :func:`seed` made (what the demo data refers to)."""

    spec: Spec
    url: str
    running: list[SeededTask] = field(default_factory=list)
    oom: SeededTask | None = None
    unhealthy: SeededTask | None = None
    target_group_arn: str = ""
    load_balancer_arn: str = ""
    task_definition_arn: str = ""
    #: container instance ARN -> purchase option (EC2 / Managed Instances hosts)
    hosts: dict[str, str] = field(default_factory=dict)
    seeded_at: datetime = field(default_factory=lambda: datetime.now(UTC))


def split_capacity(spec: Spec, count: int) -> tuple[int, int]:
    """(on-demand, Spot) of ``count`` tasks (or hosts): the on-demand base first, then the Spot share
    of the rest, as the capacity provider strategy places them."""
    base = min(count, spec.spot.on_demand_base)
    rest = count - base
    spot = round(rest * spec.spot.spot_percentage / 100)
    if spec.spot.spot_percentage > 0 and rest > 0 and spot == 0:
        spot = 1
    return count - spot, spot


def running_count(spec: Spec) -> int:
    """How many tasks the demo runs: three, within the spec's min..max (at least one)."""
    return max(1, min(max(3, spec.scaling.min_tasks), spec.scaling.max_tasks))


def seed(url: str, spec: Spec, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> Seeded:
    """Create the spec's service in the emulator at ``url`` (see the module docs)."""
    names = names_for(spec)
    region = spec.aws.region
    make = demo_factory(url, region)
    ec2, ecs, elb = make("ec2"), make("ecs"), make("elbv2")
    # Tasks stay in the state they are started in (moto steps one state per describe otherwise).
    _post(
        f"{url}/moto-api/state-manager/set-transition",
        {"model_name": "ecs::task", "transition": {"progression": "manual", "times": 1_000_000}},
    )
    seeded = Seeded(spec, url, seeded_at=clock())
    cidr = spec.network.vpc_cidr or "10.40.0.0/16"
    vpc = ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    import ipaddress

    blocks = list(
        ipaddress.ip_network(cidr).subnets(new_prefix=min(28, ipaddress.ip_network(cidr).prefixlen + 4))
    )
    subnets = []
    for i in range(max(2, spec.network.az_count)):
        az = f"{region}{'abcdef'[i]}"
        subnets.append(
            ec2.create_subnet(VpcId=vpc, CidrBlock=str(blocks[i]), AvailabilityZone=az)["Subnet"]["SubnetId"]
        )
    sg = ec2.create_security_group(GroupName=f"{names.prefix}-tasks", Description="tasks", VpcId=vpc)[
        "GroupId"
    ]
    ecs.create_cluster(
        clusterName=names.cluster, settings=[{"name": "containerInsights", "value": "enhanced"}]
    )
    fargate = spec.compute.capacity == "fargate"
    hosts: list[tuple[str, str, str]] = []  # (container instance arn, purchase, az)
    count = running_count(spec)
    on_demand, spot = split_capacity(spec, count)
    if not fargate:
        hosts = _hosts(make, spec, names.cluster, subnets, on_demand, spot + 1)  # + the OOM task's host
        seeded.hosts = {arn: purchase for arn, purchase, _ in hosts}
    container: dict[str, Any] = {
        "name": CONTAINER,
        "image": spec.service.image or f"123456789012.dkr.ecr.{region}.amazonaws.com/{names.prefix}:demo",
        "essential": True,
        "portMappings": [{"containerPort": spec.service.container_port, "protocol": "tcp"}],
    }
    if fargate:
        container["memory"] = spec.compute.memory
    else:
        # moto registers its own host sizes and knows no GPUs: the container asks for what one host
        # has, so each host runs one task; the task keeps the spec's size.
        container["cpu"], container["memory"] = _host_cpu(make, names.cluster, [h[0] for h in hosts]), 256
    seeded.task_definition_arn = ecs.register_task_definition(
        family=names.task_family,
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE" if fargate else "EC2"],
        cpu=str(spec.compute.cpu),
        memory=str(spec.compute.memory),
        containerDefinitions=[container],
    )["taskDefinition"]["taskDefinitionArn"]
    seeded.load_balancer_arn = elb.create_load_balancer(
        Name=names.load_balancer, Subnets=subnets, SecurityGroups=[sg]
    )["LoadBalancers"][0]["LoadBalancerArn"]
    seeded.target_group_arn = elb.create_target_group(
        Name=names.target_group,
        Protocol="HTTP",
        Port=spec.service.container_port,
        VpcId=vpc,
        TargetType="ip",
        HealthCheckPath=spec.service.health_check_path,
        Matcher={"HttpCode": "200"},
    )["TargetGroups"][0]["TargetGroupArn"]
    elb.create_listener(
        LoadBalancerArn=seeded.load_balancer_arn,
        Protocol="HTTP",
        Port=80,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": seeded.target_group_arn}],
    )
    network = {
        "awsvpcConfiguration": {"subnets": subnets, "securityGroups": [sg], "assignPublicIp": "DISABLED"}
    }
    ecs.create_service(
        cluster=names.cluster,
        serviceName=names.service,
        taskDefinition=seeded.task_definition_arn,
        desiredCount=count,
        capacityProviderStrategy=strategy(spec),
        networkConfiguration=network,
        loadBalancers=[
            {
                "targetGroupArn": seeded.target_group_arn,
                "containerName": CONTAINER,
                "containerPort": spec.service.container_port,
            }
        ],
        healthCheckGracePeriodSeconds=300,
        deploymentConfiguration={"deploymentCircuitBreaker": {"enable": True, "rollback": True}},
    )

    def run(purchase: str, az_index: int) -> SeededTask:
        kwargs: dict[str, Any] = {
            "cluster": names.cluster,
            "taskDefinition": seeded.task_definition_arn,
            "count": 1,
            "group": f"service:{names.service}",
            "startedBy": "ecs-svc/1234567890123456789",
            "networkConfiguration": {
                "awsvpcConfiguration": {
                    "subnets": [subnets[az_index % len(subnets)]],
                    "securityGroups": [sg],
                }
            },
        }
        if fargate:
            provider = "FARGATE_SPOT" if purchase == "spot" else "FARGATE"
            kwargs["capacityProviderStrategy"] = [{"capacityProvider": provider, "weight": 1}]
        elif spec.compute.capacity == "ec2":
            kwargs["capacityProviderStrategy"] = [{"capacityProvider": f"{names.prefix}-gpu", "weight": 1}]
        else:
            kwargs["launchType"] = "EC2"
        task = ecs.run_task(**kwargs)["tasks"][0]
        return SeededTask(
            id=str(task["taskArn"]).rsplit("/", 1)[-1],
            arn=str(task["taskArn"]),
            ip=_ip(task),
            purchase=purchase,
            host=task.get("containerInstanceArn"),
            az=f"{region}{'abcdef'[az_index % len(subnets)]}",
        )

    purchases = ["on-demand"] * on_demand + ["spot"] * spot
    seeded.running = [run(p, i) for i, p in enumerate(purchases)]
    if hosts:  # moto places on the first host with room: name each task's purchase after its host
        seeded.running = [
            SeededTask(t.id, t.arn, t.ip, seeded.hosts.get(t.host or "", t.purchase), t.host)
            for t in seeded.running
        ]
    targets = [{"Id": t.ip, "Port": spec.service.container_port} for t in seeded.running if t.ip]
    if targets:
        elb.register_targets(TargetGroupArn=seeded.target_group_arn, Targets=targets)
    oom = run("spot" if spot else "on-demand", len(purchases))
    ecs.stop_task(cluster=names.cluster, task=oom.arn, reason=OOM_STOPPED_REASON)
    seeded.oom = oom
    seeded.unhealthy = seeded.running[-1] if len(seeded.running) > 1 else None
    _scaling(make, spec, names.resource_id, names.prefix, names.scaling_policy)
    _metrics(make, spec, seeded, clock())
    return seeded


def strategy(spec: Spec) -> list[dict[str, Any]]:
    """The service's capacity provider strategy as the modules set it."""
    prefix = spec.prefix
    base, spot = spec.spot.on_demand_base, spec.spot.spot_percentage
    if spec.compute.capacity == "fargate":
        out = [{"capacityProvider": "FARGATE", "base": base, "weight": max(0, 100 - spot)}]
        if spot:
            out.append({"capacityProvider": "FARGATE_SPOT", "base": 0, "weight": spot})
        return out
    if spec.compute.capacity == "ec2":
        return [{"capacityProvider": f"{prefix}-gpu", "base": 0, "weight": 1}]
    out = [{"capacityProvider": f"{prefix}-on-demand", "base": base, "weight": max(0, 100 - spot)}]
    if spot:
        out.append({"capacityProvider": f"{prefix}-spot", "base": 0, "weight": spot})
    return out


def _ip(task: dict[str, Any]) -> str | None:
    for attachment in task.get("attachments", []):
        for detail in attachment.get("details", []):
            if detail.get("name") == "privateIPv4Address":
                return str(detail["value"])
    return None


def _hosts(
    make: ClientFactory, spec: Spec, cluster: str, subnets: list[str], on_demand: int, spot: int
) -> list[tuple[str, str, str]]:
    """EC2 instances of the spec's types (the first on-demand, the last on Spot) registered to the
    cluster as container instances; for EC2 capacity also the Auto Scaling group and its provider."""
    ec2, ecs = make("ec2"), make("ecs")
    types = spec.compute.instance_types or ["g6.xlarge"]
    out: list[tuple[str, str, str]] = []
    region = spec.aws.region
    for i, purchase in enumerate(["on-demand"] * on_demand + ["spot"] * spot):
        itype = types[0] if purchase == "on-demand" else types[-1]
        subnet = subnets[i % len(subnets)]
        az = f"{region}{'abcdef'[i % len(subnets)]}"
        kwargs: dict[str, Any] = {
            "ImageId": "ami-12c6146b",
            "MinCount": 1,
            "MaxCount": 1,
            "InstanceType": itype,
            "SubnetId": subnet,
        }
        if purchase == "spot":
            kwargs["InstanceMarketOptions"] = {"MarketType": "spot"}
        instance = ec2.run_instances(**kwargs)["Instances"][0]
        document = {
            "instanceId": instance["InstanceId"],
            "instanceType": itype,
            "availabilityZone": az,
            "region": region,
            "accountId": "123456789012",
        }
        registered = ecs.register_container_instance(
            cluster=cluster,
            instanceIdentityDocument=json.dumps(document),
            attributes=[
                {"name": "ecs.instance-type", "value": itype},
                {"name": "ecs.availability-zone", "value": az},
            ],
        )["containerInstance"]
        out.append((str(registered["containerInstanceArn"]), purchase, az))
    if spec.compute.capacity == "ec2":
        asg = make("autoscaling")
        name = f"{spec.prefix}-gpu"
        asg.create_launch_configuration(
            LaunchConfigurationName=name, ImageId="ami-12c6146b", InstanceType=types[0]
        )
        asg.create_auto_scaling_group(
            AutoScalingGroupName=name,
            LaunchConfigurationName=name,
            MinSize=0,
            MaxSize=max(spec.scaling.max_tasks, len(out)),
            DesiredCapacity=len(out),
            VPCZoneIdentifier=",".join(subnets),
        )
        arn = asg.describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"][0][
            "AutoScalingGroupARN"
        ]
        ecs.create_capacity_provider(name=name, autoScalingGroupProvider={"autoScalingGroupArn": arn})
    return out


def _host_cpu(make: ClientFactory, cluster: str, arns: list[str]) -> int:
    described = make("ecs").describe_container_instances(cluster=cluster, containerInstances=arns)
    cpus = [
        int(r.get("integerValue", 0))
        for ci in described.get("containerInstances", [])
        for r in ci.get("registeredResources", [])
        if r.get("name") == "CPU"
    ]
    return min(cpus) if cpus else 1024


def _scaling(make: ClientFactory, spec: Spec, rid: str, prefix: str, policy: str) -> None:
    aas = make("application-autoscaling")
    dim = {"ServiceNamespace": "ecs", "ResourceId": rid, "ScalableDimension": "ecs:service:DesiredCount"}
    aas.register_scalable_target(
        MinCapacity=spec.scaling.min_tasks, MaxCapacity=spec.scaling.max_tasks, **dim
    )
    target = spec.scaling.target
    if target.metric == "requests_per_target":
        metric: dict[str, Any] = {"PredefinedMetricType": "ALBRequestCountPerTarget", "ResourceLabel": "demo"}
    else:
        kind = "CPU" if target.metric == "cpu" else "Memory"
        metric = {"PredefinedMetricType": f"ECSServiceAverage{kind}Utilization"}
    aas.put_scaling_policy(
        PolicyName=policy,
        PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration={
            "TargetValue": float(target.value),
            "PredefinedMetricSpecification": metric,
            "ScaleInCooldown": 300,
            "ScaleOutCooldown": 60,
        },
        **dim,
    )
    for schedule in spec.scaling.schedules:
        action: dict[str, int] = {}
        if schedule.min_tasks is not None:
            action["MinCapacity"] = schedule.min_tasks
        if schedule.max_tasks is not None:
            action["MaxCapacity"] = schedule.max_tasks
        aas.put_scheduled_action(
            ScheduledActionName=f"{prefix}-{schedule.name}",
            Schedule=schedule.cron,
            Timezone=schedule.timezone,
            ScalableTargetAction=action,
            **dim,
        )


def wave(minute: int, base: float, swing: float, period: float = 17.0) -> float:
    """A smooth, repeatable curve (the demo's metrics are the same on every run)."""
    return round(
        base + swing * math.sin(minute / period * 2 * math.pi) + swing / 3 * math.sin(minute / 5.0), 2
    )


def _elb_dimension(arn: str) -> str:
    parts = arn.split(":", 5)
    return parts[5].removeprefix("loadbalancer/") if len(parts) == 6 else ""


def _metrics(make: ClientFactory, spec: Spec, seeded: Seeded, now: datetime) -> None:
    """The last hour, one point a minute, of what moto can store and read back (averages and sums)."""
    cw = make("cloudwatch")
    names = names_for(spec)
    svc = [{"Name": "ClusterName", "Value": names.cluster}, {"Name": "ServiceName", "Value": names.service}]
    alb = [
        {"Name": "TargetGroup", "Value": _elb_dimension(seeded.target_group_arn)},
        {"Name": "LoadBalancer", "Value": _elb_dimension(seeded.load_balancer_arn)},
    ]
    end = now.replace(second=0, microsecond=0)
    ecs_data: list[dict[str, Any]] = []
    alb_data: list[dict[str, Any]] = []
    for m in range(1, 61):
        at = end - timedelta(minutes=m)

        def point(
            name: str, dims: list[dict[str, str]], value: float, unit: str, at: datetime = at
        ) -> dict[str, Any]:
            return {"MetricName": name, "Dimensions": dims, "Value": value, "Unit": unit, "Timestamp": at}

        ecs_data += [
            point("CPUUtilization", svc, wave(m, 42, 14), "Percent"),
            point("MemoryUtilization", svc, wave(m, 63, 6, 29), "Percent"),
        ]
        if spec.compute.capacity == "ec2":
            ecs_data.append(point("GPUReservation", [svc[0]], 75.0 if m > 20 else 100.0, "Percent"))
        alb_data += [
            point("RequestCount", alb, max(0.0, wave(m, 1200, 450, 23)), "Count"),
            point("HTTPCode_Target_5XX_Count", alb, 9.0 if m in (7, 8) else float(m % 3 == 0), "Count"),
        ]
    for namespace, data in (("AWS/ECS", ecs_data), ("AWS/ApplicationELB", alb_data)):
        for i in range(0, len(data), 500):
            cw.put_metric_data(Namespace=namespace, MetricData=data[i : i + 500])


# --------------------------------------------------------------------------------------------------
# What moto cannot play


class DemoData:
    """The seam: :meth:`factory` gives the Watcher clients on the emulator whose answers are completed
    with what moto cannot produce (see the module docs); :attr:`supplied` names those parts by panel."""

    #: panel -> what in it the demo supplies (the rest comes from the emulator)
    supplied: ClassVar[dict[str, str]] = {
        "service": "counts, rollout, strategy",
        "tasks": "AZ, start, size",
        "events": "events",
        "targets": "unhealthy target, AZ",
        "stopped": "stop time, stop and exit code",
        "metrics": "p50/p99, per-task CPU/mem",
        "scaling": "activities",
    }

    def __init__(self, seeded: Seeded, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.seeded = seeded
        self.spec = seeded.spec
        self.clock = clock

    def factory(self) -> ClientFactory:
        base = demo_factory(self.seeded.url, self.spec.aws.region)

        def make(service: str) -> Any:
            client = base(service)
            self.hook(client)
            return client

        return make

    def hook(self, client: Any) -> None:
        events = client.meta.events
        sid = client.meta.service_model.service_id.hyphenize()
        after: dict[str, Callable[..., None]] = {
            "DescribeServices": self._services,
            "DescribeTasks": self._tasks,
            "DescribeTargetHealth": self._targets,
            "GetMetricData": self._metrics,
            "DescribeContainerInstances": self._hosts,
        }
        for operation, handler in after.items():
            events.register(f"after-call.{sid}.{operation}", handler, unique_id=f"demo-{sid}-{operation}")
        events.register(
            f"before-call.{sid}.DescribeScalingActivities",
            self._scaling_activities,
            unique_id=f"demo-{sid}-activities",
        )

    # -- answers -----------------------------------------------------------------------------------

    def _services(self, parsed: dict[str, Any], **_: Any) -> None:
        now = self.clock()
        running = len(self.seeded.running)
        prefix = self.spec.prefix
        for svc in parsed.get("services", []):
            svc["runningCount"], svc["pendingCount"] = running, 0
            svc["capacityProviderStrategy"] = strategy(self.spec)
            for d in svc.get("deployments", []):
                d.update(runningCount=running, pendingCount=0, desiredCount=svc.get("desiredCount", running))
                d["rolloutState"] = "COMPLETED"
                d["rolloutStateReason"] = f"ECS deployment {d.get('id', '')} completed."
            tg = self.seeded.target_group_arn
            events = [(now - timedelta(minutes=2), f"(service {prefix}) has reached a steady state.")]
            if self.seeded.unhealthy is not None:
                events.append(
                    (
                        now - timedelta(minutes=6),
                        f"(service {prefix}) (port {self.spec.service.container_port}) is unhealthy in "
                        f"(target-group {tg}) due to (reason {UNHEALTHY_DESCRIPTION}).",
                    )
                )
            if self.seeded.oom is not None:
                stopped = f"(service {prefix}) has stopped 1 running tasks: (task {self.seeded.oom.id})."
                events.append((now - timedelta(minutes=19), stopped))
            started = ", ".join(f"(task {t.id})" for t in self.seeded.running[:2])
            events.append(
                (now - timedelta(minutes=41), f"(service {prefix}) has started 2 tasks: {started}.")
            )
            events.append((now - timedelta(minutes=55), f"(service {prefix}) has reached a steady state."))
            svc["events"] = [
                {"id": f"demo-{i}", "createdAt": at, "message": message}
                for i, (at, message) in enumerate(events)
            ]

    def _tasks(self, parsed: dict[str, Any], **_: Any) -> None:
        oom = self.seeded.oom
        mi = self.spec.compute.capacity == "managed_instances"
        seeded = {t.id: t for t in [*self.seeded.running, *([oom] if oom else [])]}
        for n, task in enumerate(parsed.get("tasks", [])):
            tid = str(task.get("taskArn", "")).rsplit("/", 1)[-1]
            known = seeded.get(tid)
            if known is None:
                continue
            if known.az and not task.get("availabilityZone"):
                task["availabilityZone"] = known.az
            task.setdefault("cpu", str(self.spec.compute.cpu))
            task.setdefault("memory", str(self.spec.compute.memory))
            if not task.get("startedAt"):
                task["startedAt"] = self.seeded.seeded_at - timedelta(minutes=41 if n < 2 else 12)
            if oom is not None and tid == oom.id:
                task["stopCode"] = "EssentialContainerExited"
                task.setdefault("stoppingAt", self.seeded.seeded_at - timedelta(minutes=19))
                task.setdefault("stoppedAt", self.seeded.seeded_at - timedelta(minutes=19))
                for c in task.get("containers", []):
                    c.update(exitCode=137, reason=OOM_CONTAINER_REASON, lastStatus="STOPPED")
            if mi and task.get("containerInstanceArn"):
                purchase = self.seeded.hosts.get(str(task["containerInstanceArn"]), "on-demand")
                task["capacityProviderName"] = (
                    f"{self.spec.prefix}-{'spot' if purchase == 'spot' else 'on-demand'}"
                )

    def _hosts(self, parsed: dict[str, Any], **_: Any) -> None:
        if self.spec.compute.capacity != "managed_instances":
            return
        for ci in parsed.get("containerInstances", []):
            purchase = self.seeded.hosts.get(str(ci.get("containerInstanceArn")), "on-demand")
            ci["capacityProviderName"] = f"{self.spec.prefix}-{'spot' if purchase == 'spot' else 'on-demand'}"

    def _targets(self, parsed: dict[str, Any], **_: Any) -> None:
        bad = self.seeded.unhealthy
        zones = {t.ip: t.az for t in self.seeded.running if t.ip and t.az}
        for description in parsed.get("TargetHealthDescriptions", []):
            target = description.get("Target", {})
            if target.get("Id") in zones:
                target.setdefault("AvailabilityZone", zones[target["Id"]])
            if bad is not None and target.get("Id") == bad.ip:
                description["TargetHealth"] = {
                    "State": "unhealthy",
                    "Reason": UNHEALTHY_REASON,
                    "Description": UNHEALTHY_DESCRIPTION,
                }

    def _metrics(self, parsed: dict[str, Any], **_: Any) -> None:
        end = self.clock().replace(second=0, microsecond=0)
        stamps = [end - timedelta(minutes=m) for m in range(60, 0, -1)]
        results: list[dict[str, Any]] = []
        for r in parsed.get("MetricDataResults", []):
            rid = r.get("Id")
            if rid in ("response_p50", "response_p99"):
                scale = 0.045 if rid == "response_p50" else 0.21
                values = [round(scale * (1 + 0.25 * math.sin(i / 7.0)), 4) for i in range(60)]
                r.update(Timestamps=stamps, Values=values, StatusCode="Complete")
                results.append(r)
            elif rid in ("task_cpu", "task_memory"):
                for n, task in enumerate(self.seeded.running):
                    base = 35 + 9 * n if rid == "task_cpu" else 58 + 4 * n
                    values = [wave(m + 5 * n, base, 6) for m in range(60, 0, -1)]
                    results.append(
                        {
                            "Id": rid,
                            "Label": task.id,
                            "Timestamps": stamps,
                            "Values": values,
                            "StatusCode": "Complete",
                        }
                    )
            else:
                results.append(r)
        parsed["MetricDataResults"] = results

    def _scaling_activities(self, **_: Any) -> tuple[Any, dict[str, Any]]:
        from botocore.awsrequest import AWSResponse

        now = self.clock()
        rid = f"service/{self.spec.prefix}/{self.spec.prefix}"
        common = {
            "ServiceNamespace": "ecs",
            "ResourceId": rid,
            "ScalableDimension": "ecs:service:DesiredCount",
        }
        running = len(self.seeded.running)
        activities = [
            {
                **common,
                "ActivityId": "demo-activity-2",
                "Description": f"Setting desired count to {running}.",
                "Cause": f"monitor alarm TargetTracking-{rid}-AlarmHigh in state ALARM triggered policy "
                f"{self.spec.prefix}-{self.spec.scaling.target.metric.replace('_', '-')}",
                "StartTime": now - timedelta(minutes=41),
                "EndTime": now - timedelta(minutes=40),
                "StatusCode": "Successful",
                "StatusMessage": f"Successfully set desired count to {running}. Change successfully fulfilled by ecs.",
            },
            {
                **common,
                "ActivityId": "demo-activity-1",
                "Description": f"Setting min capacity to {self.spec.scaling.min_tasks}.",
                "Cause": "scheduled action triggered",
                "StartTime": now - timedelta(hours=3),
                "EndTime": now - timedelta(hours=3),
                "StatusCode": "Successful",
            },
        ]
        return AWSResponse(self.seeded.url, 200, {}, None), {"ScalingActivities": activities}


@dataclass
class Demo:
    """A running demo: the emulator, what was seeded in it, and the demo data over it."""

    emulator: Emulator
    seeded: Seeded
    data: DemoData

    @property
    def url(self) -> str:
        return self.seeded.url


def prepare(
    emulator: Emulator, spec: Spec, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
) -> Demo:
    """Wait for ``emulator`` and seed it like ``spec`` (the slow part: a few seconds; run it off the
    UI thread)."""
    url = emulator.wait_ready()
    seeded = seed(url, spec, clock=clock)
    return Demo(emulator, seeded, DemoData(seeded, clock))
