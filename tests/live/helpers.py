"""Helpers for the live stage tests: a deployed service in the real moto server, and call counting.

``Deployment`` builds through boto3 what the Terraform modules would create for a spec (VPC, subnets,
security group, cluster, task definition, ALB + target group ``<prefix>-tg`` + listener, service with
the circuit breaker, scalable target, target-tracking policy, scheduled actions), then runs, stops and
registers tasks and puts metric data, as the tests need.

moto's rough edges are worked around HERE, never in product code:

- tasks step one lifecycle state per DescribeTasks (RUNNING -> DEACTIVATING -> ... -> STOPPED): the
  state manager pins them (``/moto-api/state-manager/set-transition``, manual, a million describes);
- ListTasks ignores ``serviceName``: the service has its own cluster, as the modules make it;
- awsvpc RunTask needs EnableDnsHostnames on the VPC, security groups, and container-level memory;
- DescribeScalingActivities is not implemented (HTTP 500): every test runs with ``AWS_MAX_ATTEMPTS=1``
  so the failed call costs no backoff; the snapshot marks the part unread, as it would on AWS;
- TargetResponseTime percentiles (p50/p99) crash GetMetricData when datapoints exist: no test puts
  TargetResponseTime data except the one that shows the partial snapshot this causes.
"""

from __future__ import annotations

import json
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import yaml

from mlfargate import aws
from mlfargate.live.clients import ClientFactory, aws_factory
from mlfargate.spec import model as spec_model

REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default account

SPEC_TEXT = """\
version: 1
name: svc
environment: dev
aws:
  region: us-east-1
network:
  vpc_cidr: 10.30.0.0/20
  availability_zones: 2
  nat_gateways: single
service:
  allow_plain_http: true
compute:
  capacity: fargate
  cpu: 1024
  memory: 2048
spot:
  on_demand_base: 1
  spot_percentage: 50
scaling:
  min_tasks: 1
  max_tasks: 4
  schedules:
    - {name: night, cron: "cron(0 22 * * ? *)", timezone: America/New_York, min_tasks: 0, max_tasks: 1}
"""


def spec_from(text: str = SPEC_TEXT, **changes: Any) -> spec_model.Spec:
    data = spec_model.from_data(yaml.safe_load(text))
    return data.model_copy(update=changes) if changes else data


def post(url: str, body: dict[str, Any] | None = None) -> None:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method="POST")
    urllib.request.urlopen(req, timeout=10).close()


class CallCounter:
    """Counts AWS API calls per ``service:Operation`` with botocore's ``before-parameter-build`` event
    (once per call, and emitted to every handler, so a Stubber does not hide calls), and HTTP attempts
    with ``before-send``; independently of the product's own counter."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.attempts: Counter[str] = Counter()

    def hook(self, client: Any) -> Any:
        client.meta.events.register("before-parameter-build", self._call)
        client.meta.events.register("before-send", self._send)
        return client

    def _call(self, model: Any, **_: Any) -> None:
        self.calls[f"{model.service_model.service_name}:{model.name}"] += 1

    def _send(self, event_name: str, **_: Any) -> None:
        self.attempts[event_name.split(".", 1)[1]] += 1

    def take(self) -> dict[str, int]:
        out = dict(self.calls)
        self.calls.clear()
        self.attempts.clear()
        return out


def counting_factory(url: str, counter: CallCounter, region: str = REGION) -> ClientFactory:
    """The production factory (one session per factory), each client hooked to ``counter``."""
    base = aws_factory(region, None, url)

    def make(service: str) -> Any:
        return counter.hook(base(service))

    return make


@dataclass
class Deployment:
    """The AWS side of ``SPEC_TEXT`` in moto, and helpers to change it."""

    url: str
    prefix: str = "svc-dev"
    container_port: int = 8080
    health_check_path: str = "/ready"
    cpu: int = 1024
    memory: int = 2048
    vpc: str = ""
    subnets: list[str] = field(default_factory=list)
    sg: str = ""
    task_definition: str = ""
    tg_arn: str = ""
    lb_arn: str = ""
    _clients: dict[str, Any] = field(default_factory=dict)

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = aws.client(service, REGION, endpoint_url=self.url)
        return self._clients[service]

    def create(self, *, schedules: bool = True, desired: int = 2) -> Deployment:
        ec2, ecs, elb = self.client("ec2"), self.client("ecs"), self.client("elbv2")
        self.vpc = ec2.create_vpc(CidrBlock="10.30.0.0/20")["Vpc"]["VpcId"]
        ec2.modify_vpc_attribute(VpcId=self.vpc, EnableDnsHostnames={"Value": True})
        for i, az in enumerate(("us-east-1a", "us-east-1b")):
            subnet = ec2.create_subnet(VpcId=self.vpc, CidrBlock=f"10.30.{8 + i}.0/24", AvailabilityZone=az)
            self.subnets.append(subnet["Subnet"]["SubnetId"])
        self.sg = ec2.create_security_group(
            GroupName=f"{self.prefix}-tasks", Description="tasks", VpcId=self.vpc
        )["GroupId"]
        ecs.create_cluster(
            clusterName=self.prefix, settings=[{"name": "containerInsights", "value": "enhanced"}]
        )
        self.task_definition = ecs.register_task_definition(
            family=self.prefix,
            networkMode="awsvpc",
            requiresCompatibilities=["FARGATE"],
            cpu=str(self.cpu),
            memory=str(self.memory),
            containerDefinitions=[
                {
                    "name": "model",
                    "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/svc-dev:v1",
                    "memory": self.memory,
                    "essential": True,
                    "portMappings": [{"containerPort": self.container_port, "protocol": "tcp"}],
                }
            ],
        )["taskDefinition"]["taskDefinitionArn"]
        self.lb_arn = elb.create_load_balancer(
            Name=f"{self.prefix}-alb", Subnets=self.subnets, SecurityGroups=[self.sg]
        )["LoadBalancers"][0]["LoadBalancerArn"]
        self.tg_arn = elb.create_target_group(
            Name=f"{self.prefix}-tg",
            Protocol="HTTP",
            Port=self.container_port,
            VpcId=self.vpc,
            TargetType="ip",
            HealthCheckPath=self.health_check_path,
            Matcher={"HttpCode": "200"},
        )["TargetGroups"][0]["TargetGroupArn"]
        elb.create_listener(
            LoadBalancerArn=self.lb_arn,
            Protocol="HTTP",
            Port=80,
            DefaultActions=[{"Type": "forward", "TargetGroupArn": self.tg_arn}],
        )
        ecs.create_service(
            cluster=self.prefix,
            serviceName=self.prefix,
            taskDefinition=self.task_definition,
            desiredCount=desired,
            capacityProviderStrategy=[
                {"capacityProvider": "FARGATE", "base": 1, "weight": 50},
                {"capacityProvider": "FARGATE_SPOT", "base": 0, "weight": 50},
            ],
            networkConfiguration={
                "awsvpcConfiguration": {
                    "subnets": self.subnets,
                    "securityGroups": [self.sg],
                    "assignPublicIp": "DISABLED",
                }
            },
            loadBalancers=[
                {
                    "targetGroupArn": self.tg_arn,
                    "containerName": "model",
                    "containerPort": self.container_port,
                }
            ],
            healthCheckGracePeriodSeconds=300,
            deploymentConfiguration={"deploymentCircuitBreaker": {"enable": True, "rollback": True}},
        )
        aas = self.client("application-autoscaling")
        rid = f"service/{self.prefix}/{self.prefix}"
        dim = {"ServiceNamespace": "ecs", "ResourceId": rid, "ScalableDimension": "ecs:service:DesiredCount"}
        aas.register_scalable_target(MinCapacity=1, MaxCapacity=4, **dim)
        aas.put_scaling_policy(
            PolicyName=f"{self.prefix}-cpu",
            PolicyType="TargetTrackingScaling",
            TargetTrackingScalingPolicyConfiguration={
                "TargetValue": 60.0,
                "PredefinedMetricSpecification": {"PredefinedMetricType": "ECSServiceAverageCPUUtilization"},
                "ScaleInCooldown": 300,
                "ScaleOutCooldown": 60,
            },
            **dim,
        )
        if schedules:
            self.schedule("night", "cron(0 22 * * ? *)", "America/New_York", 0, 1)
        return self

    def schedule(self, name: str, cron: str, tz: str, lo: int | None, hi: int | None) -> None:
        action: dict[str, int] = {}
        if lo is not None:
            action["MinCapacity"] = lo
        if hi is not None:
            action["MaxCapacity"] = hi
        self.client("application-autoscaling").put_scheduled_action(
            ServiceNamespace="ecs",
            ScheduledActionName=f"{self.prefix}-{name}",
            ResourceId=f"service/{self.prefix}/{self.prefix}",
            ScalableDimension="ecs:service:DesiredCount",
            Schedule=cron,
            Timezone=tz,
            ScalableTargetAction=action,
        )

    def run_tasks(
        self, count: int, provider: str = "FARGATE", *, register: bool = True
    ) -> list[dict[str, Any]]:
        """Start ``count`` tasks of the service (RunTask takes at most 10 per call) and register their IPs."""
        tasks: list[dict[str, Any]] = []
        while len(tasks) < count:
            batch = min(10, count - len(tasks))
            answer = self.client("ecs").run_task(
                cluster=self.prefix,
                taskDefinition=self.task_definition,
                count=batch,
                group=f"service:{self.prefix}",
                startedBy="ecs-svc/1234567890123456789",
                capacityProviderStrategy=[{"capacityProvider": provider, "weight": 1}],
                networkConfiguration={
                    "awsvpcConfiguration": {"subnets": self.subnets[:1], "securityGroups": [self.sg]}
                },
            )
            tasks.extend(answer["tasks"])
        if register:
            targets = [{"Id": ip_of(t), "Port": self.container_port} for t in tasks]
            for i in range(0, len(targets), 100):
                self.client("elbv2").register_targets(
                    TargetGroupArn=self.tg_arn, Targets=targets[i : i + 100]
                )
        return tasks

    def stop(self, task: dict[str, Any], reason: str) -> None:
        self.client("ecs").stop_task(cluster=self.prefix, task=task["taskArn"], reason=reason)
        ip = ip_of(task)
        self.client("elbv2").deregister_targets(
            TargetGroupArn=self.tg_arn, Targets=[{"Id": ip, "Port": self.container_port}]
        )

    def put_metrics(self, *, cpu: float = 41.0, memory: float = 62.0, requests: float = 120.0, errors: float = 2.0,
                    response_time: float | None = None) -> None:  # fmt: skip
        now = datetime.now(UTC)
        cw = self.client("cloudwatch")
        svc = [{"Name": "ClusterName", "Value": self.prefix}, {"Name": "ServiceName", "Value": self.prefix}]
        alb = [
            {"Name": "TargetGroup", "Value": self.tg_arn.split(":", 5)[5]},
            {"Name": "LoadBalancer", "Value": self.lb_arn.split(":", 5)[5].removeprefix("loadbalancer/")},
        ]
        data: list[dict[str, Any]] = []
        for minutes in (3, 2):
            at = now - timedelta(minutes=minutes)
            data += [
                {
                    "MetricName": "CPUUtilization",
                    "Dimensions": svc,
                    "Value": cpu,
                    "Unit": "Percent",
                    "Timestamp": at,
                },
                {
                    "MetricName": "MemoryUtilization",
                    "Dimensions": svc,
                    "Value": memory,
                    "Unit": "Percent",
                    "Timestamp": at,
                },
            ]
        cw.put_metric_data(Namespace="AWS/ECS", MetricData=data)
        at = now - timedelta(minutes=2)
        alb_data = [
            {
                "MetricName": "RequestCount",
                "Dimensions": alb,
                "Value": requests,
                "Unit": "Count",
                "Timestamp": at,
            },
            {
                "MetricName": "HTTPCode_Target_5XX_Count",
                "Dimensions": alb,
                "Value": errors,
                "Unit": "Count",
                "Timestamp": at,
            },
        ]
        if response_time is not None:
            alb_data.append(
                {
                    "MetricName": "TargetResponseTime",
                    "Dimensions": alb,
                    "Value": response_time,
                    "Unit": "Seconds",
                    "Timestamp": at,
                }
            )
        cw.put_metric_data(Namespace="AWS/ApplicationELB", MetricData=alb_data)


def ip_of(task: dict[str, Any]) -> str:
    for attachment in task["attachments"]:
        for detail in attachment["details"]:
            if detail["name"] == "privateIPv4Address":
                return str(detail["value"])
    raise AssertionError("task without an IP")
