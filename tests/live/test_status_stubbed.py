"""The snapshot from AWS answers moto cannot play, fed through botocore's Stubber (every request and
response validated against the service model): events, capacity strategy, AZs, per-task Container
Insights metrics, p50/p99, scaling activities, unhealthy targets, AWS's real ListTasks paging, EC2
hosts with their purchase option, errors and throttling.

Texts and their sources:
- "(service svc-dev) has reached a steady state.": aws-facts.md, ECS service event messages
  (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-event-messages-list.html).
- "ECS deployment ecs-svc/... completed.": the rolloutStateReason ECS writes on completion (DescribeServices
  Deployment.rolloutStateReason).
- ExpiredTokenException "The security token included in the request is expired": the message AWS returns
  for expired temporary credentials (aws-samples/aws-iot-twinmaker-samples#147, mapbox/ecs-watchbot#61;
  the codes in aws/aws-sdk-go#253).
- AccessDenied "User: ... is not authorized to perform: cloudwatch:GetMetricData because no identity-based
  policy allows the cloudwatch:GetMetricData action": IAM's access-denied format
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html).
- ThrottlingException "Rate exceeded": the throttling answer of AWS JSON APIs (aws-facts.md; ECS
  "ECS_OPERATION_THROTTLED").
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from mlfargate import aws
from mlfargate.cost import price_book
from mlfargate.live.collect import Watcher
from mlfargate.live.model import NO_DATA, Unread
from mlfargate.live.names import names_for
from tests.live.helpers import CallCounter, spec_from
from tests.live.stubs import (
    NOW,
    PREFIX,
    Scenario,
    StubbedAws,
    complete_scenario,
    series,
    task,
    task_arn,
)
from tests.unit.test_cost_now import extras_per_hour, fixed_per_hour

BOOK = price_book.load("us-east-1", use_cache=False)


def refresh(aws_: StubbedAws, text: str | None = None, counter: CallCounter | None = None) -> Any:
    spec = spec_from(text) if text else spec_from()
    base = aws_.factory()

    def factory(service: str) -> Any:
        client = base(service)
        return counter.hook(client) if counter else client

    snap = Watcher(spec, names_for(spec), factory, clock=lambda: NOW, book=BOOK).refresh()
    aws_.assert_done()
    return snap


def test_a_complete_snapshot_from_aws_answers() -> None:
    a, b = "a" * 32, "b" * 32
    scenario = complete_scenario()
    stubbed = StubbedAws()
    scenario.queue(stubbed)
    snap = refresh(stubbed)
    assert snap.complete, snap.unread
    svc = snap.service
    assert svc.capacity_strategy == (("FARGATE", 1, 50), ("FARGATE_SPOT", 0, 50))
    assert svc.health_check_grace_s == 300
    assert svc.events[0].message == f"(service {PREFIX}) has reached a steady state."
    assert svc.deployments[0].rollout_reason == "ECS deployment ecs-svc/1234567890123456789 completed."
    assert snap.by_capacity() == {"FARGATE (on-demand)": 1, "FARGATE_SPOT (spot)": 1}
    assert snap.by_az() == {"us-east-1a": 1, "us-east-1b": 1}
    tasks = {t.id: t for t in snap.tasks}
    assert (tasks[a].cpu_percent, tasks[a].memory_percent) == (43.0, 63.0)
    assert (tasks[b].cpu_percent, tasks[b].memory_percent) == (39.0, 60.0)
    assert tasks[b].target.reason == "Target.ResponseCodeMismatch"
    assert tasks[b].target.description == "Health checks failed with these codes: [503]"
    assert {t.id: t.task_id for t in snap.targets} == {"10.30.8.10": a, "10.30.9.11": b}
    m = snap.metrics
    assert m.get("response_p50").latest == 0.12 and m.get("response_p99").latest == 0.18
    assert m.get("requests").summary == 2334.0 and m.get("target_5xx").latest == 2.0
    # The request: every metric in one GetMetricData, the per-task ones as two SEARCH expressions.
    assert m.queries == 8
    s = snap.scaling
    assert [(x.status, x.description) for x in s.activities] == [
        ("Successful", "Setting desired count to 2.")
    ]
    assert s.next_action.next_run.isoformat() == "2026-11-26T22:00:00-05:00"
    assert snap.calls == {
        "application-autoscaling:DescribeScalableTargets": 1,
        "application-autoscaling:DescribeScalingActivities": 1,
        "application-autoscaling:DescribeScalingPolicies": 1,
        "application-autoscaling:DescribeScheduledActions": 1,
        "cloudwatch:GetMetricData": 1,
        "ecs:DescribeServices": 1,
        "ecs:DescribeTasks": 1,
        "ecs:ListTasks": 2,
        "elbv2:DescribeTargetGroups": 1,
        "elbv2:DescribeTargetHealth": 1,
        "sts:GetCallerIdentity": 1,
    }
    json.dumps(snap.to_dict())


def test_the_metric_request_holds_every_query_once() -> None:
    stubbed = StubbedAws()
    Scenario().queue(stubbed)
    sent: list[dict[str, Any]] = []
    stubbed.stub("cloudwatch")
    stubbed.clients["cloudwatch"].meta.events.register(
        "before-parameter-build.cloudwatch.GetMetricData", lambda params, **_: sent.append(params)
    )
    refresh(stubbed)
    (params,) = sent
    assert params["EndTime"] == NOW.replace(second=0) and params["StartTime"] == params[
        "EndTime"
    ] - timedelta(hours=1)
    queries = {q["Id"]: q for q in params["MetricDataQueries"]}
    assert list(queries) == [
        "service_cpu", "service_memory", "requests", "response_p50", "response_p99", "target_5xx",
        "task_cpu", "task_memory",
    ]  # fmt: skip
    assert queries["response_p99"]["MetricStat"]["Stat"] == "p99"
    dims = {d["Name"]: d["Value"] for d in queries["requests"]["MetricStat"]["Metric"]["Dimensions"]}
    assert dims == {
        "TargetGroup": "targetgroup/svc-dev-tg/73e2d6bc24d8a067",
        "LoadBalancer": "app/svc-dev-alb/50dc6c495c0c9188",
    }
    assert queries["task_cpu"]["Expression"] == (
        "SEARCH('{ECS/ContainerInsights,ClusterName,TaskDefinitionFamily,TaskId} "
        'MetricName="TaskCpuUtilization" ClusterName="svc-dev" TaskDefinitionFamily="svc-dev"\', \'Average\', 60)'
    )
    assert queries["task_cpu"]["Label"] == "${PROP('Dim.TaskId')}"
    assert not any("GPU" in json.dumps(q) for q in queries.values())  # Fargate: no GPUReservation


@pytest.mark.parametrize("tasks", [1, 10, 100, 250])
def test_aws_paging_costs_one_list_page_and_one_describe_per_100_tasks(tasks: int) -> None:
    """ECS pages ListTasks by 100 (maxResults) and describes 100 tasks per call: 250 tasks take 3 + 3."""
    running = [task(f"{i:032x}", ip=f"10.30.{8 + i // 200}.{i % 200 + 10}") for i in range(tasks)]
    arns = [t["taskArn"] for t in running]
    scenario = Scenario(
        running=running, targets=[], running_pages=[arns[i : i + 100] for i in range(0, tasks, 100)]
    )
    stubbed = StubbedAws()
    scenario.queue(stubbed)
    counter = CallCounter()
    snap = refresh(stubbed, counter=counter)
    pages = -(-tasks // 100)
    assert len(snap.tasks) == tasks
    calls = counter.take()
    assert calls["ecs:ListTasks"] == pages + 1  # RUNNING pages + the STOPPED page
    assert calls["ecs:DescribeTasks"] == pages
    assert sum(calls.values()) == 12 + 2 * (pages - 1)  # constant, but one more of each per 100
    assert snap.calls == calls


GPU_SPEC = """\
version: 1
name: svc
environment: dev
aws: {region: us-east-1}
network: {vpc_cidr: 10.30.0.0/20, availability_zones: 2, nat_gateways: single}
compute: {accelerator: gpu, capacity: ec2, instance_types: [g5.xlarge], cpu: 4096, memory: 14336}
spot: {on_demand_base: 1, spot_percentage: 50}
scaling: {min_tasks: 1, max_tasks: 4}
"""
CI = [f"arn:aws:ecs:us-east-1:123456789012:container-instance/{PREFIX}/{c * 32}" for c in "cd"]
ASG_NAME = "svc-dev-gpu-20261126"
ASG_ARN = (
    "arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:9a1b2c3d-1111-2222-3333-444455556666:"
    f"autoScalingGroupName/{ASG_NAME}"
)


def gpu_task(task_id: str, host: str, **kwargs: Any) -> dict[str, Any]:
    return task(task_id, provider=f"{PREFIX}-gpu", container_instance=host, launch_type="EC2", cpu="4096",
                memory="14336", **kwargs)  # fmt: skip


def queue_ec2(
    stubbed: StubbedAws, scenario: Scenario, *, asg: dict[str, Any], asg_activities: list[dict[str, Any]]
) -> None:
    """A refresh of an EC2 GPU service: the hosts (container instances, Spot or not) after the tasks,
    and the capacity provider's Auto Scaling group in the slow part."""
    scenario.queue_fast(stubbed)
    instances = [
        {
            "containerInstanceArn": arn,
            "ec2InstanceId": iid,
            "capacityProviderName": f"{PREFIX}-gpu",
            "status": "ACTIVE",
            "runningTasksCount": 1,
            "pendingTasksCount": 0,
            "attributes": [
                {"name": "ecs.instance-type", "value": "g5.xlarge"},
                {"name": "ecs.availability-zone", "value": az},
            ],
        }
        for arn, iid, az in zip(
            CI, ("i-0aaaaaaaaaaaaaaa1", "i-0bbbbbbbbbbbbbbb2"), ("us-east-1a", "us-east-1b"), strict=True
        )
    ]
    ecs = stubbed.stub("ecs")
    ecs.add_response(
        "list_container_instances", {"containerInstanceArns": CI}, {"cluster": PREFIX, "maxResults": 100}
    )
    ecs.add_response(
        "describe_container_instances", {"containerInstances": instances, "failures": []},
        {"cluster": PREFIX, "containerInstances": CI},
    )  # fmt: skip
    stubbed.stub("ec2").add_response(
        "describe_instances",
        {
            "Reservations": [
                {"ReservationId": "r-1", "Instances": [
                    {"InstanceId": "i-0aaaaaaaaaaaaaaa1", "InstanceType": "g5.xlarge"}]},
                {"ReservationId": "r-2", "Instances": [
                    {"InstanceId": "i-0bbbbbbbbbbbbbbb2", "InstanceType": "g5.xlarge", "InstanceLifecycle": "spot"}]},
            ]
        },
        {"InstanceIds": ["i-0aaaaaaaaaaaaaaa1", "i-0bbbbbbbbbbbbbbb2"]},
    )  # fmt: skip
    scenario.queue_slow(stubbed)
    ecs.add_response(
        "describe_capacity_providers",
        {
            "capacityProviders": [
                {
                    "capacityProviderArn": f"arn:aws:ecs:us-east-1:123456789012:capacity-provider/{PREFIX}-gpu",
                    "name": f"{PREFIX}-gpu",
                    "status": "ACTIVE",
                    "autoScalingGroupProvider": {
                        "autoScalingGroupArn": ASG_ARN,
                        "managedScaling": {"status": "ENABLED", "targetCapacity": 100},
                        "managedTerminationProtection": "ENABLED",
                    },
                }
            ]
        },
        {"capacityProviders": [f"{PREFIX}-gpu"]},
    )
    auto = stubbed.stub("autoscaling")
    auto.add_response(
        "describe_auto_scaling_groups", {"AutoScalingGroups": [asg]}, {"AutoScalingGroupNames": [ASG_NAME]}
    )
    auto.add_response(
        "describe_scaling_activities",
        {"Activities": asg_activities},
        {"AutoScalingGroupName": ASG_NAME, "MaxRecords": 20},
    )


def asg(*, desired: int, max_size: int) -> dict[str, Any]:
    return {
        "AutoScalingGroupName": ASG_NAME,
        "AutoScalingGroupARN": ASG_ARN,
        "MinSize": 0,
        "MaxSize": max_size,
        "DesiredCapacity": desired,
        "DefaultCooldown": 300,
        "AvailabilityZones": ["us-east-1a", "us-east-1b"],
        "HealthCheckType": "EC2",
        "CreatedTime": NOW - timedelta(days=3),
        "Instances": [
            {
                "InstanceId": f"i-0{c * 16}",
                "InstanceType": "g5.xlarge",
                "AvailabilityZone": "us-east-1a",
                "LifecycleState": "InService",
                "HealthStatus": "Healthy",
                "ProtectedFromScaleIn": True,
            }
            for c in "ab"[:desired]
        ],
        "MixedInstancesPolicy": {
            "LaunchTemplate": {
                "LaunchTemplateSpecification": {
                    "LaunchTemplateId": "lt-0123456789abcdef0",
                    "Version": "$Latest",
                },
                "Overrides": [{"InstanceType": "g5.xlarge"}],
            }
        },
    }


def test_ec2_hosts_are_priced_with_their_purchase_option() -> None:
    running = [gpu_task("a" * 32, CI[0]), gpu_task("b" * 32, CI[1], ip="10.30.9.11")]
    scenario = Scenario(
        running=running, metrics=[series("service_cpu", [50.0]), series("gpu_reservation", [100.0])]
    )
    stubbed = StubbedAws()
    queue_ec2(stubbed, scenario, asg=asg(desired=2, max_size=4), asg_activities=[])
    snap = refresh(stubbed, GPU_SPEC)
    assert snap.complete, snap.unread
    tasks = {t.id: t for t in snap.tasks}
    assert (tasks["a" * 32].purchase, tasks["a" * 32].instance_type) == ("on-demand", "g5.xlarge")
    assert (tasks["b" * 32].purchase, tasks["b" * 32].instance_type) == ("spot", "g5.xlarge")
    assert snap.metrics.get("gpu_reservation").latest == 100.0
    assert (snap.capacity_group.desired, snap.capacity_group.max_size) == (2, 4)
    # By hand: g5.xlarge on-demand 1.006 + Spot 0.4024 (an estimate: flagged); each host's EBS root
    # volume and monitoring, and the fixed lines (tests/unit/test_cost_now.py).
    gpu_spec = spec_from(GPU_SPEC)
    extras = extras_per_hour(gpu_spec, "instance", 2) + fixed_per_hour(gpu_spec)
    assert snap.cost.per_hour == pytest.approx(1.006 + 0.4024 + extras)
    assert snap.cost.has_estimates
    assert snap.calls["ecs:DescribeContainerInstances"] == 1 and snap.calls["ec2:DescribeInstances"] == 1


def test_an_expired_session_token_is_one_line() -> None:
    stubbed = StubbedAws()
    stubbed.stub("ecs").add_client_error(
        "describe_services",
        service_error_code="ExpiredTokenException",
        service_message="The security token included in the request is expired",
        http_status_code=400,
    )
    spec = spec_from()
    with pytest.raises(aws.AwsError) as caught:
        Watcher(spec, names_for(spec), stubbed.factory(), clock=lambda: NOW, book=BOOK).refresh()
    assert str(caught.value) == (
        "the AWS session token of the default credential chain has expired (ExpiredTokenException): "
        "sign in again (`aws sso login`) and retry"
    )


def test_denied_and_throttled_parts_are_marked_unread_with_why() -> None:
    denied = (
        "User: arn:aws:sts::123456789012:assumed-role/ops/me is not authorized to perform: "
        "cloudwatch:GetMetricData because no identity-based policy allows the cloudwatch:GetMetricData action"
    )
    scenario = Scenario(
        errors={
            ("cloudwatch", "get_metric_data"): ("AccessDenied", denied, 403),
            ("application-autoscaling", "describe_scaling_activities"): (
                "ThrottlingException",
                "Rate exceeded",
                400,
            ),
        }
    )
    stubbed = StubbedAws()
    scenario.queue(stubbed)
    snap = refresh(stubbed)
    assert snap.unread == (
        Unread("metrics", f"AccessDenied (HTTP 403): {denied}"),
        Unread("scaling activities", "throttled by AWS (ThrottlingException)"),
    )
    assert snap.metrics is None and snap.scaling.activities is None
    assert len(snap.tasks) == 2 and snap.scaling.max_tasks == 4
    text = json.dumps(snap.to_dict())
    assert '"complete": false' in text


def test_a_task_without_datapoints_says_no_data() -> None:
    stubbed = StubbedAws()
    scenario = Scenario(metrics=[series("task_cpu", [30.0], label="a" * 32)])
    scenario.queue(stubbed)
    snap = refresh(stubbed)
    data = {t["id"]: t for t in snap.to_dict()["tasks"]}
    assert data["a" * 32]["cpu_percent"] == 30.0
    assert data["b" * 32]["cpu_percent"] == NO_DATA and data["a" * 32]["memory_percent"] == NO_DATA
    assert snap.to_dict()["metrics"]["series"][0]["latest"] == NO_DATA  # service CPU: no datapoints


def test_stopped_tasks_come_newest_first() -> None:
    older = task("c" * 32, status="STOPPED", stopped=NOW - timedelta(minutes=50), stop_code="EssentialContainerExited",
                 reason="Essential container in task exited", exit_code=1)  # fmt: skip
    newer = task("d" * 32, status="STOPPED", stopped=NOW - timedelta(minutes=5), stop_code="ServiceSchedulerInitiated",
                 reason="Scaling activity initiated by (deployment ecs-svc/1234567890123456789)")  # fmt: skip
    stubbed = StubbedAws()
    Scenario(stopped=[older, newer]).queue(stubbed)
    snap = refresh(stubbed)
    assert [t.id for t in snap.stopped] == ["d" * 32, "c" * 32]
    assert snap.stopped[1].containers[0].exit_code == 1
    assert task_arn("c" * 32).endswith(snap.stopped[1].id)
