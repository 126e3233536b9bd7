"""`mlfargate status` against the real moto server: the snapshot, --json, partial snapshots, the
one-line failures, the calls per refresh, and the once-a-minute CloudWatch read."""

from __future__ import annotations

import hashlib
import json
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from mlfargate import aws, cli
from mlfargate.cost import price_book
from mlfargate.live.collect import Watcher, take_snapshot
from mlfargate.live.model import NO_DATA, Unread
from mlfargate.live.names import names_for
from tests.live.helpers import ACCOUNT, SPEC_TEXT, CallCounter, Deployment, counting_factory, spec_from
from tests.unit.test_cost_now import fixed_per_hour

TG_STOP = "Task failed ELB health checks in (target-group {tg})"
#: moto does not implement DescribeScalingActivities: it answers HTTP 500 (see conftest).
MOTO_NO_ACTIVITIES = Unread("scaling activities", "AWS answered HTTP 500")


def watcher(url: str, counter: CallCounter | None = None, **kwargs: Any) -> Watcher:
    spec = spec_from()
    return Watcher(
        spec,
        names_for(spec),
        counting_factory(url, counter or CallCounter()),
        book=price_book.load("us-east-1", use_cache=False),
        **kwargs,
    )


def test_the_snapshot_holds_the_deployed_service(deployment: Deployment) -> None:
    on_demand = deployment.run_tasks(1, "FARGATE")
    spot = deployment.run_tasks(3, "FARGATE_SPOT")
    deployment.stop(spot[2], TG_STOP.format(tg=deployment.tg_arn))
    deployment.put_metrics(cpu=41.0, memory=62.0, requests=120.0, errors=2.0)

    snap = watcher(deployment.url).refresh()

    assert snap.account == ACCOUNT
    svc = snap.service
    assert svc is not None
    assert (svc.name, svc.cluster, svc.status, svc.desired) == ("svc-dev", "svc-dev", "ACTIVE", 2)
    assert svc.target_group_arns == (deployment.tg_arn,)
    assert [(d.status, d.revision, d.rollout_state) for d in svc.deployments] == [
        ("PRIMARY", 1, "IN_PROGRESS")
    ]
    # Running tasks by capacity provider; each matched to its target by IP and port.
    running = {t.id: t for t in snap.tasks}
    assert set(running) == {t["taskArn"].rsplit("/", 1)[-1] for t in [*on_demand, *spot[:2]]}
    assert snap.by_capacity() == {"FARGATE (on-demand)": 1, "FARGATE_SPOT (spot)": 2}
    for task in snap.tasks:
        assert task.last_status == "RUNNING"
        assert task.target is not None and task.target.state == "healthy"
        assert task.target.id == task.ip and task.target.port == 8080
    assert {t.task_id for t in snap.targets} == set(running)
    # The stopped task with its reason (stop_task(reason=...) is what moto can play).
    assert [(t.id, t.stopped_reason) for t in snap.stopped] == [
        (spot[2]["taskArn"].rsplit("/", 1)[-1], TG_STOP.format(tg=deployment.tg_arn))
    ]
    # CloudWatch: what was put reads back; what was not is "no data", never 0.
    m = snap.metrics
    assert m is not None
    values = {s.key: s.latest for s in m.series}
    assert values == {
        "service_cpu": 41.0,
        "service_memory": 62.0,
        "requests": 120.0,
        "response_p50": None,
        "response_p99": None,
        "target_5xx": 2.0,
    }
    assert m.task_cpu == {} and all(t.cpu_percent is None for t in snap.tasks)
    # Scaling: bounds, the policy, the next scheduled action in its own time zone.
    s = snap.scaling
    assert s is not None
    assert (s.min_tasks, s.max_tasks, s.registered) == (1, 4, True)
    assert [(p.metric, p.target_value) for p in s.policies] == [("ECSServiceAverageCPUUtilization", 60.0)]
    assert s.next_action is not None and s.next_action.name == "svc-dev-night"
    nxt = s.next_action.next_run
    assert nxt is not None and str(nxt.tzinfo) == "America/New_York" and (nxt.hour, nxt.minute) == (22, 0)
    assert (s.next_action.min_tasks, s.next_action.max_tasks) == (0, 1)
    assert timedelta(0) < nxt - snap.taken_at <= timedelta(days=1)
    assert s.activities is None
    assert [u.part for u in snap.unread] == ["scaling activities"]
    assert snap.unread[0].reason.startswith(MOTO_NO_ACTIVITIES.reason)
    # Cost per hour now, by hand: 1 on-demand task (1 vCPU, 2 GB) 0.04048 + 2 x 0.004445 = 0.04937;
    # 2 Fargate Spot tasks 2 x (0.01254688 + 2 x 0.00137248) = 0.03058368; plus the fixed lines
    # (ALB 0.0225, one NAT 0.045, public IPv4, endpoints...: tests/unit/test_cost_now.py).
    assert snap.cost is not None
    assert snap.cost.per_hour == pytest.approx(0.04937 + 0.03058368 + fixed_per_hour(spec_from()))


def test_json_of_a_snapshot_says_no_data_never_zero(
    deployment: Deployment, spec_file: Path, capsys: Any
) -> None:
    deployment.run_tasks(2, "FARGATE")
    deployment.put_metrics()
    code = cli.main(["status", str(spec_file), "--json", "--endpoint-url", deployment.url])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    data = json.loads(captured.out)
    metrics = {s["key"]: s for s in data["metrics"]["series"]}
    assert metrics["response_p99"]["latest"] == NO_DATA and metrics["response_p99"]["hour_mean"] == NO_DATA
    assert metrics["response_p99"]["points"] == []
    assert metrics["service_cpu"]["latest"] == 41.0
    assert metrics["requests"]["hour_total"] == 120.0
    assert [t["cpu_percent"] for t in data["tasks"]] == [NO_DATA, NO_DATA]
    assert data["summary"]["by_capacity"] == {"FARGATE (on-demand)": 2}
    assert data["complete"] is False
    assert [u["part"] for u in data["unread"]] == ["scaling activities"]
    assert data["cost"]["lines"][0]["item"] == "Fargate on-demand tasks (x86_64, 1 vCPU, 2 GB)"
    assert data["cost"]["lines"][0]["quantity_per_hour"] == 2
    assert (
        data["calls"] == {k: v for k, v in data["calls"].items() if v} and data["summary"]["aws_calls"] == 12
    )


def test_human_output_is_compact_and_says_no_data(
    deployment: Deployment, spec_file: Path, capsys: Any
) -> None:
    tasks = deployment.run_tasks(2, "FARGATE_SPOT")
    deployment.stop(tasks[1], "OutOfMemoryError: Container killed due to memory usage")
    code = cli.main(["status", str(spec_file), "--endpoint-url", deployment.url])
    out = capsys.readouterr().out
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("svc-dev · us-east-1 · account 123456789012 · ")
    assert "service svc-dev (ACTIVE) in svc-dev: desired 2" in out
    assert "capacity FARGATE_SPOT (spot) 1" in out
    assert any(line.startswith("  CPU ") and line.endswith(NO_DATA) for line in lines)
    assert any(line.startswith("  response p99") and line.endswith(NO_DATA) for line in lines)
    assert "OutOfMemoryError: Container killed due to memory usage" in out
    assert "next: svc-dev-night" in out and "America/New_York 0..1" in out
    assert "not read: scaling activities: AWS answered HTTP 500" in out
    assert not any(" 0%" in line for line in lines)


def test_a_failed_cloudwatch_call_leaves_a_partial_snapshot(deployment: Deployment) -> None:
    """moto crashes on percentile statistics when datapoints exist (HTTP 500): the metrics are marked
    unread with the reason, and everything else is still read."""
    deployment.run_tasks(2, "FARGATE")
    deployment.put_metrics(response_time=0.18)
    snap = watcher(deployment.url).refresh()
    assert snap.metrics is None
    metrics = snap.unread_part("metrics")
    assert metrics == Unread(
        "metrics", "unreadable answer (not the service's format): 500 Internal Server Error"
    )
    assert len(snap.tasks) == 2 and all(t.target is not None for t in snap.tasks)
    assert snap.scaling is not None and snap.scaling.max_tasks == 4
    assert not snap.complete


@pytest.mark.parametrize("tasks", [1, 10, 100, 250])
def test_aws_calls_per_refresh_do_not_grow_with_the_tasks(deployment: Deployment, tasks: int) -> None:
    deployment.run_tasks(tasks, "FARGATE_SPOT")
    counter = CallCounter()
    w = watcher(deployment.url, counter)
    first = w.refresh()
    assert len(first.tasks) == tasks and all(t.target is not None for t in first.tasks)
    batches = math.ceil(tasks / 100)
    fast = {
        "ecs:DescribeServices": 1,
        "ecs:ListTasks": 2,  # RUNNING (moto returns every task in one page) + STOPPED
        "ecs:DescribeTasks": batches,  # 100 per call
        "elbv2:DescribeTargetHealth": 1,
    }
    slow = {
        "sts:GetCallerIdentity": 1,
        "elbv2:DescribeTargetGroups": 1,
        "cloudwatch:GetMetricData": 1,
        "application-autoscaling:DescribeScalableTargets": 1,
        "application-autoscaling:DescribeScalingPolicies": 1,
        "application-autoscaling:DescribeScheduledActions": 1,
        "application-autoscaling:DescribeScalingActivities": 1,
    }
    assert counter.take() == {**fast, **slow}
    assert first.calls == {**fast, **slow}
    assert first.call_count == 11 + batches
    # The next refresh within a minute reads the ECS parts only.
    second = w.refresh()
    assert counter.take() == fast and second.calls == fast
    assert second.metrics is first.metrics


def test_cloudwatch_is_read_at_most_once_a_minute(deployment: Deployment) -> None:
    deployment.run_tasks(1)
    start = datetime.now(UTC)
    clock = {"now": start}
    counter = CallCounter()
    w = watcher(deployment.url, counter, clock=lambda: clock["now"])
    reads = []
    for seconds in (0, 15, 30, 59, 60, 75, 119, 120):
        clock["now"] = start + timedelta(seconds=seconds)
        snap = w.refresh()
        calls = counter.take()
        reads.append(calls.get("cloudwatch:GetMetricData", 0))
        assert calls["ecs:DescribeServices"] == 1  # ECS parts on every refresh
        assert snap.metrics is not None and snap.taken_at == clock["now"]
    assert reads == [1, 0, 0, 0, 1, 0, 0, 1]


def test_a_throttled_call_is_retried_by_botocore(
    deployment: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The adaptive retry mode retries a ThrottlingException: the first DescribeServices attempt gets
    ECS's throttling answer (botocore before-send hook), the retry reaches moto."""
    from botocore.awsrequest import AWSResponse

    monkeypatch.setenv(aws.MAX_ATTEMPTS_ENV, "3")
    deployment.run_tasks(1)
    counter = CallCounter()
    throttled = {"n": 0}

    class Raw:
        def stream(self) -> Any:
            yield json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"}).encode()

    def throttle_once(request: Any, **_: Any) -> AWSResponse | None:
        if throttled["n"]:
            return None
        throttled["n"] += 1
        return AWSResponse(
            request.url, 400, {"x-amzn-RequestId": "t-1", "Content-Type": "application/x-amz-json-1.1"}, Raw()
        )

    base = counting_factory(deployment.url, counter)

    def factory(service: str) -> Any:
        client = base(service)
        if service == "ecs":
            client.meta.events.register("before-send.ecs.DescribeServices", throttle_once)
        return client

    spec = spec_from()
    snap = take_snapshot(spec, names_for(spec), factory, book=price_book.load("us-east-1", use_cache=False))
    assert throttled["n"] == 1
    assert counter.attempts["ecs.DescribeServices"] == 2  # one throttled attempt, one retry
    assert counter.calls["ecs:DescribeServices"] == 1  # one API call
    assert snap.service is not None and snap.service.name == "svc-dev"
    assert snap.unread_part("service") is None


# --------------------------------------------------------------------------------------------------
# One clear line each: wrong region, missing credentials, an expired SSO session.


def run_cli(argv: list[str], capsys: Any) -> tuple[int, list[str], str]:
    code = cli.main(argv)
    captured = capsys.readouterr()
    return code, captured.err.splitlines(), captured.out


def test_a_wrong_region_is_one_line(deployment: Deployment, tmp_path: Path, capsys: Any) -> None:
    spec = tmp_path / "west.yaml"
    spec.write_text(SPEC_TEXT.replace("region: us-east-1", "region: us-west-2"))
    code, err, out = run_cli(["status", str(spec), "--endpoint-url", deployment.url], capsys)
    assert code == 2 and out == ""
    assert err == [
        "error: cluster 'svc-dev' not found in us-west-2: check aws.region in the spec (and the account), "
        "pass --cluster, or apply the workspace first"
    ]


def test_a_wrong_service_name_is_one_line(deployment: Deployment, spec_file: Path, capsys: Any) -> None:
    code, err, _ = run_cli(
        ["status", str(spec_file), "--endpoint-url", deployment.url, "--service", "nope"], capsys
    )
    assert code == 2
    assert err == [
        "error: service 'nope' not found in cluster 'svc-dev' (us-east-1): MISSING; pass --service, "
        "or apply the workspace first"
    ]


def _no_aws_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    (home / ".aws").mkdir(parents=True)
    for key in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
    ):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(home / ".aws" / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(home / ".aws" / "credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    for key in (
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
    ):
        monkeypatch.delenv(key, raising=False)
    (home / ".aws" / "config").write_text("")
    (home / ".aws" / "credentials").write_text("")
    return home


def test_missing_credentials_are_one_line(
    deployment: Deployment, spec_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    _no_aws_config(tmp_path, monkeypatch)
    code, err, out = run_cli(["status", str(spec_file), "--endpoint-url", deployment.url], capsys)
    assert code == 2 and out == ""
    assert err == [
        "error: no AWS credentials found (the default credential chain): set aws.profile in the spec or "
        "AWS_PROFILE, run `aws configure` or `aws sso login`, or export AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"
    ]


def test_an_expired_sso_session_is_one_line(
    deployment: Deployment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    """botocore's own SSO token provider, offline: the cached token of the sso-session expired and has
    no refresh token, so botocore raises TokenRetrievalError before any network call."""
    home = _no_aws_config(tmp_path, monkeypatch)
    (home / ".aws" / "config").write_text(
        "[profile ml-dev]\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = Admin\n"
        "region = us-east-1\n\n[sso-session corp]\nsso_start_url = https://example.awsapps.com/start\n"
        "sso_region = us-east-1\nsso_registration_scopes = sso:account:access\n"
    )
    cache = home / ".aws" / "sso" / "cache"
    cache.mkdir(parents=True)
    (cache / f"{hashlib.sha1(b'corp').hexdigest()}.json").write_text(
        json.dumps(
            {
                "startUrl": "https://example.awsapps.com/start",
                "region": "us-east-1",
                "accessToken": "expired-token",
                "expiresAt": "2024-01-01T00:00:00Z",
            }
        )
    )
    spec = tmp_path / "sso.yaml"
    spec.write_text(SPEC_TEXT.replace("  region: us-east-1\n", "  region: us-east-1\n  profile: ml-dev\n"))
    code, err, out = run_cli(["status", str(spec), "--endpoint-url", deployment.url], capsys)
    assert code == 2 and out == ""
    assert err == [
        "error: the AWS SSO session of profile 'ml-dev' has expired or is missing: run `aws sso login --profile ml-dev`"
    ]


def test_an_unknown_profile_is_one_line(
    deployment: Deployment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    _no_aws_config(tmp_path, monkeypatch)
    spec = tmp_path / "p.yaml"
    spec.write_text(SPEC_TEXT.replace("  region: us-east-1\n", "  region: us-east-1\n  profile: nowhere\n"))
    code, err, _ = run_cli(["status", str(spec), "--endpoint-url", deployment.url], capsys)
    assert code == 2
    assert err == [
        "error: AWS profile 'nowhere' is not in your AWS config (~/.aws/config): fix aws.profile in the spec "
        "or run `aws configure --profile NAME`"
    ]
