"""botocore ``Stubber`` scenarios for what moto cannot play: service events, unhealthy targets, exit
codes and stop codes, percentile metrics, per-task Container Insights metrics, scaling activities,
capacity provider strategies, Auto Scaling group activities and AWS's real paging.

Every request and every response goes through botocore's validation against the real service model
(a field AWS does not have, or a stop code that is not in the enum, fails the test). The texts are real
AWS texts; each names its source where it is used.

:class:`Scenario` queues one complete refresh (every call, in order per client) of a healthy Fargate
service; tests change the parts they need.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from botocore.stub import ANY, Stubber

from mlfargate.live.clients import ClientFactory

REGION = "us-east-1"
ACCOUNT = "123456789012"
PREFIX = "svc-dev"
NOW = datetime(2026, 11, 26, 12, 0, 30, tzinfo=UTC)
CLUSTER_ARN = f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{PREFIX}"
TG_ARN = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/{PREFIX}-tg/73e2d6bc24d8a067"
LB_ARN = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:loadbalancer/app/{PREFIX}-alb/50dc6c495c0c9188"
ROLE_ARN = (
    f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/ecs.application-autoscaling.amazonaws.com/"
    "AWSServiceRoleForApplicationAutoScaling_ECSService"
)
TD_ARN = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/{PREFIX}:12"


def task_arn(task_id: str) -> str:
    return f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/{PREFIX}/{task_id}"


def task(
    task_id: str,
    *,
    status: str = "RUNNING",
    desired: str | None = None,
    provider: str | None = "FARGATE",
    az: str = "us-east-1a",
    ip: str = "10.30.8.10",
    created: datetime | None = None,
    started: datetime | None = None,
    stopping: datetime | None = None,
    stopped: datetime | None = None,
    stop_code: str | None = None,
    reason: str | None = None,
    exit_code: int | None = None,
    container_reason: str | None = None,
    cpu: str = "1024",
    memory: str = "2048",
    revision: int = 12,
    container_instance: str | None = None,
    launch_type: str = "FARGATE",
) -> dict[str, Any]:
    """A DescribeTasks task as ECS returns it (awsvpc: the ENI attachment carries the private IP)."""
    created = created or NOW - timedelta(minutes=30)
    container: dict[str, Any] = {
        "containerArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:container/{PREFIX}/{task_id}/5f0b2c41",
        "taskArn": task_arn(task_id),
        "name": "model",
        "image": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{PREFIX}:v1",
        "lastStatus": status,
        "healthStatus": "UNKNOWN",
        "cpu": "0",
    }
    if exit_code is not None:
        container["exitCode"] = exit_code
    if container_reason is not None:
        container["reason"] = container_reason
    raw: dict[str, Any] = {
        "taskArn": task_arn(task_id),
        "clusterArn": CLUSTER_ARN,
        "taskDefinitionArn": TD_ARN.replace(":12", f":{revision}"),
        "lastStatus": status,
        "desiredStatus": desired or ("STOPPED" if status == "STOPPED" else "RUNNING"),
        "launchType": launch_type,
        "availabilityZone": az,
        "cpu": cpu,
        "memory": memory,
        "createdAt": created,
        "group": f"service:{PREFIX}",
        "startedBy": "ecs-svc/1234567890123456789",
        "healthStatus": "UNKNOWN",
        "containers": [container],
        "attachments": [
            {
                "id": f"att-{task_id[:8]}",
                "type": "ElasticNetworkInterface",
                "status": "ATTACHED",
                "details": [
                    {"name": "subnetId", "value": "subnet-0a1b2c3d4e5f60718"},
                    {"name": "networkInterfaceId", "value": "eni-0123456789abcdef0"},
                    {"name": "privateIPv4Address", "value": ip},
                ],
            }
        ],
    }
    if provider:
        raw["capacityProviderName"] = provider
    if started:
        raw["startedAt"] = started
    elif status == "RUNNING":
        raw["startedAt"] = created + timedelta(seconds=40)
    for key, value in (
        ("stoppingAt", stopping),
        ("stoppedAt", stopped),
        ("stopCode", stop_code),
        ("stoppedReason", reason),
        ("containerInstanceArn", container_instance),
    ):
        if value is not None:
            raw[key] = value
    return raw


def service(
    *,
    desired: int = 2,
    running: int = 2,
    pending: int = 0,
    events: list[tuple[datetime, str]] | None = None,
    deployments: list[dict[str, Any]] | None = None,
    grace: int = 300,
    strategy: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A DescribeServices service as ECS returns it."""
    return {
        "serviceArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/{PREFIX}/{PREFIX}",
        "serviceName": PREFIX,
        "clusterArn": CLUSTER_ARN,
        "loadBalancers": [{"targetGroupArn": TG_ARN, "containerName": "model", "containerPort": 8080}],
        "status": "ACTIVE",
        "desiredCount": desired,
        "runningCount": running,
        "pendingCount": pending,
        "taskDefinition": TD_ARN,
        "capacityProviderStrategy": strategy
        if strategy is not None
        else [
            {"capacityProvider": "FARGATE", "base": 1, "weight": 50},
            {"capacityProvider": "FARGATE_SPOT", "base": 0, "weight": 50},
        ],
        "healthCheckGracePeriodSeconds": grace,
        "deployments": deployments
        if deployments is not None
        else [
            {
                "id": "ecs-svc/1234567890123456789",
                "status": "PRIMARY",
                "taskDefinition": TD_ARN,
                "desiredCount": desired,
                "pendingCount": pending,
                "runningCount": running,
                "failedTasks": 0,
                "createdAt": NOW - timedelta(hours=5),
                "updatedAt": NOW - timedelta(hours=4),
                "rolloutState": "COMPLETED",
                "rolloutStateReason": "ECS deployment ecs-svc/1234567890123456789 completed.",
            }
        ],
        "events": [
            {"id": f"e{i}", "createdAt": at, "message": message}
            for i, (at, message) in enumerate(
                events
                if events is not None
                else [(NOW - timedelta(minutes=4), f"(service {PREFIX}) has reached a steady state.")]
            )
        ],
    }


def target(
    ip: str, state: str = "healthy", reason: str | None = None, description: str | None = None
) -> dict[str, Any]:
    health: dict[str, Any] = {"State": state}
    if reason:
        health["Reason"] = reason
    if description:
        health["Description"] = description
    return {
        "Target": {"Id": ip, "Port": 8080, "AvailabilityZone": "us-east-1a"},
        "HealthCheckPort": "8080",
        "TargetHealth": health,
    }


def target_group(path: str = "/ready") -> dict[str, Any]:
    return {
        "TargetGroupArn": TG_ARN,
        "TargetGroupName": f"{PREFIX}-tg",
        "Protocol": "HTTP",
        "Port": 8080,
        "VpcId": "vpc-0a1b2c3d4e5f60718",
        "HealthCheckProtocol": "HTTP",
        "HealthCheckPort": "traffic-port",
        "HealthCheckEnabled": True,
        "HealthCheckIntervalSeconds": 15,
        "HealthCheckTimeoutSeconds": 5,
        "HealthyThresholdCount": 2,
        "UnhealthyThresholdCount": 3,
        "HealthCheckPath": path,
        "Matcher": {"HttpCode": "200"},
        "LoadBalancerArns": [LB_ARN],
        "TargetType": "ip",
    }


def series(query_id: str, values: list[float], label: str | None = None) -> dict[str, Any]:
    """One MetricDataResult: 1-minute points ending a minute before NOW."""
    end = NOW.replace(second=0) - timedelta(minutes=1)
    stamps = [end - timedelta(minutes=len(values) - 1 - i) for i in range(len(values))]
    return {
        "Id": query_id,
        "Label": label or query_id,
        "Timestamps": stamps,
        "Values": values,
        "StatusCode": "Complete",
    }


@dataclass
class Scenario:
    """One refresh of a Fargate service, call by call; change the parts, then :meth:`queue`."""

    service: dict[str, Any] = field(default_factory=service)
    running: list[dict[str, Any]] = field(
        default_factory=lambda: [
            task("a" * 32, ip="10.30.8.10"),
            task("b" * 32, provider="FARGATE_SPOT", ip="10.30.9.11", az="us-east-1b"),
        ]
    )
    stopped: list[dict[str, Any]] = field(default_factory=list)
    targets: list[dict[str, Any]] = field(
        default_factory=lambda: [target("10.30.8.10"), target("10.30.9.11")]
    )
    target_group: dict[str, Any] = field(default_factory=target_group)
    metrics: list[dict[str, Any]] = field(
        default_factory=lambda: [series("service_cpu", [38.0, 41.0]), series("service_memory", [60.0, 62.0])]
    )
    scalable_targets: list[dict[str, Any]] = field(
        default_factory=lambda: [
            {
                "ServiceNamespace": "ecs",
                "ResourceId": f"service/{PREFIX}/{PREFIX}",
                "ScalableDimension": "ecs:service:DesiredCount",
                "MinCapacity": 1,
                "MaxCapacity": 4,
                "RoleARN": ROLE_ARN,
                "CreationTime": NOW - timedelta(days=3),
            }
        ]
    )
    policies: list[dict[str, Any]] = field(default_factory=list)
    actions: list[dict[str, Any]] = field(default_factory=list)
    activities: list[dict[str, Any]] = field(default_factory=list)
    account: str = ACCOUNT
    #: ListTasks RUNNING pages as ECS pages them (None: one page of all running tasks).
    running_pages: list[list[str]] | None = None
    #: (service, operation) -> (code, message, HTTP status): that call fails.
    errors: dict[tuple[str, str], tuple[str, str, int]] = field(default_factory=dict)

    def queue(self, aws: StubbedAws) -> None:
        """Every call of a first refresh (ECS parts, then the slow parts)."""
        self.queue_fast(aws)
        self.queue_slow(aws)

    def _add(
        self, aws: StubbedAws, svc: str, op: str, response: dict[str, Any], expected: Any = None
    ) -> None:
        if (svc, op) in self.errors:
            code, message, status = self.errors[(svc, op)]
            aws.stub(svc).add_client_error(
                op, service_error_code=code, service_message=message, http_status_code=status
            )
        else:
            aws.stub(svc).add_response(op, response, expected)

    def queue_fast(self, aws: StubbedAws) -> None:
        """The calls of every refresh (ECS, target health). EC2 host calls follow on the ecs client."""

        def add(svc: str, op: str, response: dict[str, Any], expected: Any = None) -> None:
            self._add(aws, svc, op, response, expected)

        add(
            "ecs",
            "describe_services",
            {"services": [self.service], "failures": []},
            {"cluster": PREFIX, "services": [PREFIX]},
        )
        arns = [t["taskArn"] for t in self.running]
        pages = self.running_pages if self.running_pages is not None else [arns]
        for i, page in enumerate(pages):
            response: dict[str, Any] = {"taskArns": page}
            expected: dict[str, Any] = {
                "cluster": PREFIX,
                "serviceName": PREFIX,
                "desiredStatus": "RUNNING",
                "maxResults": 100,
            }
            if i + 1 < len(pages):
                response["nextToken"] = f"page-{i + 1}"
            if i:
                expected["nextToken"] = f"page-{i}"
            add("ecs", "list_tasks", response, expected)
        stopped_arns = [t["taskArn"] for t in self.stopped]
        add(
            "ecs",
            "list_tasks",
            {"taskArns": stopped_arns},
            {"cluster": PREFIX, "serviceName": PREFIX, "desiredStatus": "STOPPED", "maxResults": 100},
        )
        everything = self.running + self.stopped
        for i in range(0, len(everything), 100):
            batch = everything[i : i + 100]
            add(
                "ecs",
                "describe_tasks",
                {"tasks": batch, "failures": []},
                {"cluster": PREFIX, "tasks": [t["taskArn"] for t in batch]},
            )
        add(
            "elbv2",
            "describe_target_health",
            {"TargetHealthDescriptions": self.targets},
            {"TargetGroupArn": TG_ARN},
        )

    def queue_slow(self, aws: StubbedAws) -> None:
        """The calls made at most once a minute (account, target group, metrics, scaling)."""

        def add(svc: str, op: str, response: dict[str, Any], expected: Any = None) -> None:
            self._add(aws, svc, op, response, expected)

        add(
            "sts",
            "get_caller_identity",
            {
                "UserId": "AROAEXAMPLE:ops",
                "Account": self.account,
                "Arn": f"arn:aws:sts::{self.account}:assumed-role/ops/me",
            },
        )
        add(
            "elbv2",
            "describe_target_groups",
            {"TargetGroups": [self.target_group]},
            {"TargetGroupArns": [TG_ARN]},
        )
        add(
            "cloudwatch",
            "get_metric_data",
            {"MetricDataResults": self.metrics, "Messages": []},
            {"MetricDataQueries": ANY, "StartTime": ANY, "EndTime": ANY, "ScanBy": "TimestampAscending"},
        )
        common = {"ServiceNamespace": "ecs", "ScalableDimension": "ecs:service:DesiredCount"}
        rid = f"service/{PREFIX}/{PREFIX}"
        add(
            "application-autoscaling",
            "describe_scalable_targets",
            {"ScalableTargets": self.scalable_targets},
            {"ResourceIds": [rid], **common},
        )
        add(
            "application-autoscaling",
            "describe_scaling_policies",
            {"ScalingPolicies": self.policies},
            {"ResourceId": rid, "MaxResults": 50, **common},
        )
        add(
            "application-autoscaling",
            "describe_scheduled_actions",
            {"ScheduledActions": self.actions},
            {"ResourceId": rid, "MaxResults": 50, **common},
        )
        add(
            "application-autoscaling",
            "describe_scaling_activities",
            {"ScalingActivities": self.activities},
            {"ResourceId": rid, "MaxResults": 50, **common},
        )


class StubbedAws:
    """Real boto3 clients with an active Stubber each (they never send a request anywhere)."""

    def __init__(self) -> None:
        self.clients: dict[str, Any] = {}
        self.stubbers: dict[str, Stubber] = {}

    def stub(self, service: str) -> Stubber:
        if service not in self.stubbers:
            client = boto3.client(
                service, region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing"
            )
            stubber = Stubber(client)
            stubber.activate()
            self.clients[service], self.stubbers[service] = client, stubber
        return self.stubbers[service]

    def factory(self) -> ClientFactory:
        def make(service: str) -> Any:
            self.stub(service)
            return self.clients[service]

        return make

    def assert_done(self) -> None:
        for stubber in self.stubbers.values():
            stubber.assert_no_pending_responses()


def complete_scenario() -> Scenario:
    """A healthy-looking Fargate service with everything a refresh can read: events, an unhealthy
    target, every metric (p50/p99 and per-task Container Insights too), a target-tracking policy, a
    scheduled action and a scaling activity (tests/live/test_status_stubbed.py, the TUI's snapshot)."""
    a, b = "a" * 32, "b" * 32
    scenario = Scenario()
    scenario.service["events"] = [
        {
            "id": "e1",
            "createdAt": NOW - timedelta(minutes=4),
            "message": f"(service {PREFIX}) has reached a steady state.",
        },
        {
            "id": "e2",
            "createdAt": NOW - timedelta(minutes=9),
            "message": f"(service {PREFIX}) has started 1 tasks: (task {b}).",
        },
    ]
    scenario.targets = [
        target("10.30.8.10"),
        target(
            "10.30.9.11",
            "unhealthy",
            "Target.ResponseCodeMismatch",
            "Health checks failed with these codes: [503]",
        ),
    ]
    scenario.metrics = [
        series("service_cpu", [38.0, 41.0]),
        series("service_memory", [60.0, 62.0]),
        series("requests", [1100.0, 1234.0]),
        series("response_p50", [0.11, 0.12]),
        series("response_p99", [0.17, 0.18]),
        series("target_5xx", [0.0, 2.0]),
        series("task_cpu", [40.0, 43.0], label=a),
        series("task_cpu", [35.0, 39.0], label=b),
        series("task_memory", [61.0, 63.0], label=a),
        series("task_memory", [58.0, 60.0], label=b),
    ]
    scenario.policies = [
        {
            "PolicyARN": "arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:1:"
            "resource/ecs/service/svc-dev/svc-dev:policyName/svc-dev-cpu",
            "PolicyName": "svc-dev-cpu",
            "ServiceNamespace": "ecs",
            "ResourceId": f"service/{PREFIX}/{PREFIX}",
            "ScalableDimension": "ecs:service:DesiredCount",
            "PolicyType": "TargetTrackingScaling",
            "TargetTrackingScalingPolicyConfiguration": {
                "TargetValue": 60.0,
                "PredefinedMetricSpecification": {"PredefinedMetricType": "ECSServiceAverageCPUUtilization"},
                "ScaleOutCooldown": 60,
                "ScaleInCooldown": 300,
            },
            "CreationTime": NOW - timedelta(days=3),
        }
    ]
    scenario.actions = [
        {
            "ScheduledActionName": "svc-dev-night",
            "ScheduledActionARN": "arn:aws:autoscaling:us-east-1:123456789012:scheduledAction:1:"
            "scheduledActionName/svc-dev-night",
            "ServiceNamespace": "ecs",
            "Schedule": "cron(0 22 * * ? *)",
            "Timezone": "America/New_York",
            "ResourceId": f"service/{PREFIX}/{PREFIX}",
            "ScalableDimension": "ecs:service:DesiredCount",
            "ScalableTargetAction": {"MinCapacity": 0, "MaxCapacity": 1},
            "CreationTime": NOW - timedelta(days=3),
        }
    ]
    # DescribeScalingActivities for ECS (the Application Auto Scaling API reference example shape).
    scenario.activities = [
        {
            "ActivityId": "e6c5f7d1-1a2b-4c3d-9e8f-0a1b2c3d4e5f",
            "ServiceNamespace": "ecs",
            "ResourceId": f"service/{PREFIX}/{PREFIX}",
            "ScalableDimension": "ecs:service:DesiredCount",
            "Description": "Setting desired count to 2.",
            "Cause": "monitor alarm TargetTracking-service/svc-dev/svc-dev-AlarmHigh-1a2b in state ALARM "
            "triggered policy svc-dev-cpu",
            "StartTime": NOW - timedelta(minutes=9),
            "EndTime": NOW - timedelta(minutes=8),
            "StatusCode": "Successful",
            "StatusMessage": "Successfully set desired count to 2. Change successfully fulfilled by ecs.",
        }
    ]
    return scenario
