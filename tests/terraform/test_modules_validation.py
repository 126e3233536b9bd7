"""Variable validation evaluated by real Terraform core (plan of a provider-free root made of the
module's variables.tf): GPU on Fargate cannot be expressed; the good combinations plan."""

from __future__ import annotations

from typing import Any

import pytest

from mlfargate.terraform import config_check as tfcore
from tests.terraform.conftest import MODULES

SERVICE = {
    "name": "llm-prod",
    "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/llm:1",
    "cluster_arn": "arn:aws:ecs:us-east-1:123456789012:cluster/llm-prod",
    "vpc_id": "vpc-1",
    "subnet_ids": ["subnet-1"],
    "alb_security_group_id": "sg-1",
    "target_group_arn": "arn:tg",
    "execution_role_arn": "arn:aws:iam::123456789012:role/llm-prod-execution",
    "task_role_arn": "arn:aws:iam::123456789012:role/llm-prod-task",
    "log_kms_key_arn": "arn:aws:kms:us-east-1:123456789012:key/1",
}


def _errors(module: str, values: dict[str, Any]) -> list[str]:
    diags = tfcore.check_variable_values(MODULES / module, values)
    return [f"{d.summary}: {d.detail}" for d in diags if d.severity == "error"]


pytestmark = pytest.mark.slow


def test_gpu_on_fargate_is_rejected() -> None:
    errors = _errors(
        "ecs-service", SERVICE | {"capacity": "fargate", "gpus_per_task": 1, "cpu": 4096, "memory": 16384}
    )
    assert len(errors) == 1
    assert "Fargate has no GPUs" in errors[0] and "ec2 or managed_instances" in errors[0]


@pytest.mark.parametrize("capacity", ["ec2", "managed_instances"])
def test_gpu_on_ec2_and_managed_instances_is_accepted(capacity: str) -> None:
    values = SERVICE | {
        "capacity": capacity,
        "gpus_per_task": 1,
        "cpu": 3072,
        "memory": 12288,
        "capacity_providers": {"on_demand": "llm-prod-gpu"},
    }
    assert _errors("ecs-service", values) == []


def test_arm64_fargate_spot_is_accepted() -> None:
    """Bug: the module refused ARM64 with Fargate Spot; FARGATE_SPOT runs Linux ARM64 tasks on platform
    version 1.4.0+ since 2024-09 (ECS API reference, CapacityProviderStrategyItem)."""
    values = SERVICE | {
        "capacity": "fargate",
        "cpu": 2048,
        "memory": 4096,
        "cpu_architecture": "ARM64",
        "spot_percentage": 80,
    }
    assert _errors("ecs-service", values) == []


def test_cpu_only_fargate_with_valid_pair_is_accepted() -> None:
    assert (
        _errors(
            "ecs-service",
            SERVICE | {"capacity": "fargate", "cpu": 2048, "memory": 8192, "spot_percentage": 70},
        )
        == []
    )


def test_invalid_fargate_pair_plain_secret_and_long_name_are_rejected() -> None:
    errors = _errors(
        "ecs-service",
        SERVICE
        | {
            "name": "a-very-long-application-name-prod",
            "capacity": "fargate",
            "cpu": 256,
            "memory": 4096,
            "environment": {"DB_PASSWORD": "hunter2"},
        },
    )
    text = "\n".join(errors)
    assert "memory is not valid for this Fargate cpu" in text
    assert "must not carry credentials" in text
    assert "at most 28 characters" in text


def test_gpu_capacity_refuses_fargate_and_non_gpu_types() -> None:
    errors = _errors(
        "gpu-capacity",
        {
            "name": "llm-prod",
            "capacity": "fargate",
            "cluster_name": "c",
            "cluster_arn": "a",
            "vpc_id": "v",
            "subnet_ids": ["s"],
            "instance_types": ["m5.xlarge"],
            "instance_profile_arn": "p",
        },
    )
    text = "\n".join(errors)
    assert "Fargate has no GPUs" in text and "GPU instance type" in text


def test_autoscaling_schedule_rules() -> None:
    base = {"name": "llm-prod", "cluster_name": "c", "service_name": "s"}
    good = [
        {"name": "night", "schedule": "cron(0 22 * * ? *)", "timezone": "America/New_York", "min_capacity": 0}
    ]
    assert _errors("autoscaling", base | {"schedules": good}) == []
    bad = [{"name": "night", "schedule": "cron(0 22 * * *)", "max_capacity": 1}]
    errors = _errors("autoscaling", base | {"schedules": bad, "target_metric": "requests_per_target"})
    text = "\n".join(errors)
    assert "six-field AWS cron" in text and "alb_resource_label" in text


ALB = {
    "name": "llm-prod",
    "vpc_id": "vpc-1",
    "vpc_cidr": "10.0.0.0/16",
    "subnet_ids": ["subnet-1", "subnet-2"],
}
CERT = "arn:aws:acm:us-east-1:123456789012:certificate/abc"


def test_alb_plain_http_is_an_explicit_choice() -> None:
    """Without a certificate the caller must say allow_plain_http (it used to be the silent default)."""
    missing = "\n".join(_errors("alb", ALB))
    assert "certificate_arn is required for HTTPS" in missing and "allow_plain_http = true" in missing
    both = "\n".join(_errors("alb", ALB | {"certificate_arn": CERT, "allow_plain_http": True}))
    assert "has no effect with certificate_arn" in both
    assert _errors("alb", ALB | {"certificate_arn": CERT}) == []
    assert _errors("alb", ALB | {"allow_plain_http": True, "internal": True}) == []


@pytest.mark.parametrize(
    ("values", "fragment"),
    [
        ({"ingress_cidrs": ["10.0.0.1/16"]}, "no host bits set"),
        ({"ingress_cidrs": ["::/0"]}, "IPv4 network"),
        ({"ingress_cidrs": []}, "at least one IPv4 network"),
        ({"forwarded_paths": ["/a", "/b", "/c", "/d"]}, "1 to 3 paths"),
        ({"forwarded_paths": ["predict"]}, "starting with /"),
        (
            {
                "waf_web_acl_arn": "arn:aws:wafv2:us-east-1:123456789012:global/webacl/a/a1b2c3d4-5678-90ab-cdef-1"
            },
            "regional WAFv2 web ACL",
        ),
    ],
)
def test_alb_exposure_inputs_are_validated(values: dict[str, Any], fragment: str) -> None:
    assert fragment in "\n".join(_errors("alb", ALB | {"certificate_arn": CERT} | values))


def test_ecs_service_refuses_wildcard_secrets_and_narrow_egress_inputs() -> None:
    base = SERVICE | {"capacity": "fargate", "cpu": 2048, "memory": 4096}
    wildcard = {"API_KEY": "arn:aws:secretsmanager:us-east-1:123456789012:secret:*"}
    assert "without wildcards" in "\n".join(_errors("ecs-service", base | {"secrets": wildcard}))
    assert "IPv4 CIDR" in "\n".join(_errors("ecs-service", base | {"egress_cidrs": ["anywhere"]}))
    assert "prefix list IDs" in "\n".join(_errors("ecs-service", base | {"egress_prefix_list_ids": ["s3"]}))
    good = base | {"egress_cidrs": ["10.0.0.0/16"], "egress_prefix_list_ids": ["pl-63a5400a"]}
    assert _errors("ecs-service", good) == []


def test_iam_refuses_wildcard_grants() -> None:
    base = {"name": "llm-prod", "capacity": "fargate"}
    assert "IAM wildcards" in "\n".join(_errors("iam", base | {"model_s3_uri": "s3://acme-models/*"}))
    assert "without wildcards" in "\n".join(
        _errors("iam", base | {"secret_arns": ["arn:aws:ssm:us-east-1:123456789012:parameter/*"]})
    )
    assert "not aliases or wildcards" in "\n".join(
        _errors("iam", base | {"secret_kms_key_arns": ["arn:aws:kms:us-east-1:123456789012:alias/x"]})
    )
