"""The live stage looks for the names the Terraform modules give: read from modules/*/main.tf (hcl2),
evaluated for the spec's prefix, and compared with :func:`mlfargate.live.names.names_for`."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import hcl2
import pytest

from mlfargate.generate import wiring
from mlfargate.generate.model import Ref
from mlfargate.live.names import names_for
from tests.live.helpers import SPEC_TEXT, spec_from

REPO = Path(__file__).resolve().parents[2]


def resource_attr(module: str, rtype: str, name: str, attr: str) -> str:
    doc = hcl2.loads((REPO / "modules" / module / "main.tf").read_text())
    for block in doc["resource"]:
        if rtype in block and name in block[rtype]:
            value: Any = block[rtype][name][attr]
            return str(value[0] if isinstance(value, list) else value)
    raise AssertionError(f"{module}: no {rtype}.{name}")


def local_attr(module: str, name: str) -> str:
    doc = hcl2.loads((REPO / "modules" / module / "main.tf").read_text())
    for block in doc["locals"]:
        if name in block:
            return str(block[name][0] if isinstance(block[name], list) else block[name])
    raise AssertionError(f"{module}: no local.{name}")


def evaluate(template: str, name: str, each_key: str = "", target_metric: str = "") -> str:
    """The few HCL interpolations the modules use in names."""
    out = template.replace("${var.name}", name)
    out = out.replace('${replace(each.key, "_", "-")}', each_key.replace("_", "-"))
    out = out.replace("${each.key}", each_key)
    out = out.replace('${replace(var.target_metric, "_", "-")}', target_metric.replace("_", "-"))
    assert "${" not in out, f"unevaluated interpolation in {template!r}"
    return out


@pytest.mark.parametrize("capacity", ["fargate", "ec2", "managed_instances"])
def test_names_are_the_modules_names(capacity: str) -> None:
    text = SPEC_TEXT
    if capacity != "fargate":
        text = text.replace(
            "capacity: fargate", f"capacity: {capacity}\n  accelerator: gpu\n  instance_types: [g5.xlarge]"
        )
    spec = spec_from(text)
    names = names_for(spec)
    prefix = spec.prefix
    assert names.cluster == evaluate(resource_attr("ecs-cluster", "aws_ecs_cluster", "this", "name"), prefix)
    assert names.service == evaluate(resource_attr("ecs-service", "aws_ecs_service", "this", "name"), prefix)
    assert names.task_family == evaluate(
        resource_attr("ecs-service", "aws_ecs_task_definition", "this", "family"), prefix
    )
    assert names.log_group == evaluate(local_attr("ecs-service", "log_group_name"), prefix)
    assert names.target_group == evaluate(resource_attr("alb", "aws_lb_target_group", "this", "name"), prefix)
    assert names.load_balancer == evaluate(resource_attr("alb", "aws_lb", "this", "name"), prefix)
    assert names.scaling_policy == evaluate(
        resource_attr("autoscaling", "aws_appautoscaling_policy", "target_tracking", "name"),
        prefix,
        target_metric=spec.scaling.target.metric,
    )
    action = resource_attr("autoscaling", "aws_appautoscaling_scheduled_action", "this", "name")
    assert names.scheduled_action_prefix + "night" == evaluate(action, prefix, each_key="night")
    assert names.resource_id == "service/svc-dev/svc-dev"
    resource_id = resource_attr("autoscaling", "aws_appautoscaling_target", "this", "resource_id")
    assert resource_id == "service/${var.cluster_name}/${var.service_name}"
    if capacity == "fargate":
        assert names.providers == {"FARGATE": "on-demand", "FARGATE_SPOT": "spot"}
        strategy = local_attr("ecs-service", "on_demand_provider") + local_attr(
            "ecs-service", "spot_provider"
        )
        assert '"FARGATE"' in strategy and '"FARGATE_SPOT"' in strategy
    elif capacity == "ec2":
        asg = evaluate(resource_attr("gpu-capacity", "aws_ecs_capacity_provider", "asg", "name"), prefix)
        assert names.providers == {asg: None}  # one provider; Spot or not is the instance's lifecycle
    else:
        template = resource_attr("gpu-capacity", "aws_ecs_capacity_provider", "managed", "name")
        keys = re.findall(
            r"'(on_demand|spot)': '(ON_DEMAND|SPOT)'", local_attr("gpu-capacity", "mi_providers")
        )
        assert keys == [("on_demand", "ON_DEMAND"), ("spot", "SPOT")]
        assert names.providers == {
            evaluate(template, prefix, each_key="on_demand"): "on-demand",
            evaluate(template, prefix, each_key="spot"): "spot",
        }


def test_every_module_the_live_stage_reads_is_called_with_the_spec_prefix() -> None:
    spec = spec_from()
    calls = {name: inputs for name, _module, inputs, _comment in wiring.module_calls(spec)}
    for module in ("ecs_cluster", "ecs_service", "alb", "autoscaling"):
        assert calls[module]["name"] == spec.prefix
    assert calls["autoscaling"]["cluster_name"] == Ref("module.ecs_cluster.cluster_name")
    assert calls["autoscaling"]["service_name"] == Ref("module.ecs_service.service_name")


def test_overrides_replace_cluster_and_service_only() -> None:
    spec = spec_from()
    names = names_for(spec, cluster="other", service="api")
    assert (names.cluster, names.service, names.resource_id) == ("other", "api", "service/other/api")
    assert names.target_group == "svc-dev-tg" and names.task_family == "svc-dev"
