"""Cost per hour now (mlfargate/cost/now.py), with numbers computed by hand from the bundled price book
(mlfargate/data/prices.yaml, us-east-1, dated 2026-01-15):

Fargate x86 0.04048 per vCPU-hour, 0.004445 per GB-hour; Fargate Spot 0.01254688 / 0.00137248;
Fargate ARM 0.03238 / 0.00356; g5.xlarge 1.006 on-demand, 0.4024 Spot (an estimate); g6.xlarge 0.8048,
0.32192 Spot (an estimate), Managed Instances fee 0.12 x on-demand (an assumption); ALB 0.0225 per
hour; NAT gateway 0.045 per hour. The other fixed lines (public IPv4, endpoints, KMS, alarms...) and the
per-instance extras (EBS root volumes) come from the estimate's own functions, hand-checked in
tests/unit/test_billable.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from mlfargate.cost import estimate, price_book
from mlfargate.cost.now import InstanceCount, TaskCount, cost_now
from mlfargate.spec.model import Spec
from tests.unit.test_cost import make_spec as cost_spec

BOOK = price_book.load("us-east-1", use_cache=False)


def make_spec(**over: Any) -> Spec:
    """test_cost's spec with one NAT gateway, Spot above one on-demand task, and room to scale."""
    base = {"network": {"nat_gateways": "single"}, "spot": {"on_demand_base": 1, "spot_percentage": 50},
            "scaling": {"min_tasks": 1, "max_tasks": 6}}  # fmt: skip
    for key, value in over.items():
        base[key] = {**base.get(key, {}), **value} if isinstance(value, dict) else value
    return cost_spec(**base)


def by_item(cost: Any) -> dict[str, tuple[float, float]]:
    return {line.item: (line.quantity, round(line.per_hour, 8)) for line in cost.lines}


def fixed_per_hour(spec: Spec) -> float:
    """The estimate's fixed lines per hour (hand-checked in tests/unit/test_billable.py)."""
    return sum(line.monthly_ceiling for line in estimate.fixed_lines(spec, BOOK, [])) / 730


def extras_per_hour(spec: Spec, per: str, running: int) -> float:
    """What ``running`` instances (or tasks) add per hour besides compute: EBS, monitoring, storage."""
    return running * sum(x.usd_per_hour for x in estimate.running_extras(spec, BOOK) if x.per == per)


def test_fargate_tasks_by_purchase_option() -> None:
    spec = make_spec()
    cost = cost_now(
        spec, BOOK, tasks=[TaskCount("on-demand", 2048, 4096, 3), TaskCount("spot", 2048, 4096, 2)]
    )
    # On-demand task: 2 x 0.04048 + 4 x 0.004445 = 0.09874; x 3 = 0.29622.
    # Spot task: 2 x 0.01254688 + 4 x 0.00137248 = 0.03058368; x 2 = 0.06116736.
    lines = by_item(cost)
    assert lines["Fargate on-demand tasks (x86_64, 2 vCPU, 4 GB)"] == (3.0, 0.29622)
    assert lines["Fargate Spot tasks (x86_64, 2 vCPU, 4 GB)"] == (2.0, 0.06116736)
    assert lines["Application Load Balancer"] == (1.0, 0.0225)
    assert lines["NAT gateway (single: 1)"] == (1.0, 0.045)
    assert lines["ALB capacity units (traffic)"] == (0.0, 0.0)
    total = 0.29622 + 0.06116736 + fixed_per_hour(spec)
    assert cost.per_hour == pytest.approx(total)
    assert cost.per_month == pytest.approx(total * 730)
    assert cost.unpriced == ()
    data = cost.to_json()
    assert data["per_hour"] == round(total, 6) and data["lines"][1]["price_is_estimate"] is False
    assert data["lines"][0]["unit_price"] == pytest.approx(0.09874)


def test_each_task_is_priced_at_its_own_size() -> None:
    """During a rollout from 1 vCPU / 2 GB to 2 vCPU / 4 GB both sizes run."""
    cost = cost_now(
        make_spec(),
        BOOK,
        tasks=[TaskCount("on-demand", 1024, 2048, 1), TaskCount("on-demand", 2048, 4096, 1)],
    )
    lines = by_item(cost)
    assert lines["Fargate on-demand tasks (x86_64, 1 vCPU, 2 GB)"] == (1.0, 0.04937)  # 0.04048 + 2 x 0.004445
    assert lines["Fargate on-demand tasks (x86_64, 2 vCPU, 4 GB)"] == (1.0, 0.09874)


def test_arm_tasks_on_demand_and_spot() -> None:
    spec = make_spec(compute={"architecture": "arm64", "cpu": 1024, "memory": 2048})
    cost = cost_now(
        spec, BOOK, tasks=[TaskCount("on-demand", 1024, 2048, 2), TaskCount("spot", 1024, 2048, 1)]
    )
    # ARM: 0.03238 + 2 x 0.00356 = 0.0395 per task. ARM Fargate Spot (since 2024-09) is an estimate in
    # the bundled book (x86 Spot scaled by the ARM/x86 on-demand ratio): flagged, as `mlfargate cost` does.
    lines = by_item(cost)
    assert lines["Fargate on-demand tasks (arm64, 1 vCPU, 2 GB)"] == (2.0, 0.079)
    spot = next(line for line in cost.lines if line.item == "Fargate Spot tasks (arm64, 1 vCPU, 2 GB)")
    assert spot.quantity == 1.0 and spot.price.estimate and cost.unpriced == ()
    arm_spot = BOOK.get("fargate.spot_arm.vcpu_hour").usd + 2 * BOOK.get("fargate.spot_arm.gb_hour").usd
    assert spot.per_hour == pytest.approx(arm_spot)
    assert cost.per_hour == pytest.approx(0.079 + arm_spot + fixed_per_hour(spec))


def test_ec2_instances_on_demand_and_spot() -> None:
    spec = make_spec(
        network={"nat_gateways": "per_az", "availability_zones": 3},
        compute={
            "accelerator": "gpu",
            "capacity": "ec2",
            "instance_types": ["g5.xlarge"],
            "cpu": 4096,
            "memory": 14336,
        },
    )
    cost = cost_now(
        spec,
        BOOK,
        instances=[InstanceCount("g5.xlarge", "on-demand", 1), InstanceCount("g5.xlarge", "spot", 2)],
    )
    lines = by_item(cost)
    assert lines["EC2 g5.xlarge on-demand"] == (1.0, 1.006)
    assert lines["EC2 g5.xlarge Spot"] == (2.0, 0.8048)  # 2 x 0.4024
    assert lines["NAT gateway (per_az: 3)"] == (3.0, 0.135)
    assert cost.per_hour == pytest.approx(
        1.006 + 0.8048 + extras_per_hour(spec, "instance", 3) + fixed_per_hour(spec)
    )
    assert extras_per_hour(spec, "instance", 3) > 0  # every host carries its EBS root volume
    # The Spot price is the book's estimate: flagged as `mlfargate cost` flags it.
    spot = next(line for line in cost.lines if line.item == "EC2 g5.xlarge Spot")
    assert spot.price.estimate and cost.has_estimates
    assert any("g5.xlarge Spot price (0.4024) is not an observed price" in a for a in cost.assumptions)


def test_managed_instances_add_the_fee_on_every_instance() -> None:
    spec = make_spec(
        network={"nat_gateways": "none"},
        compute={
            "accelerator": "gpu",
            "capacity": "managed_instances",
            "instance_types": ["g6.xlarge"],
            "cpu": 4096,
            "memory": 14336,
        },
    )
    cost = cost_now(
        spec,
        BOOK,
        instances=[InstanceCount("g6.xlarge", "on-demand", 1), InstanceCount("g6.xlarge", "spot", 1)],
    )
    lines = by_item(cost)
    # Fee: 0.12 x 0.8048 = 0.096576 per instance-hour, on-demand and Spot alike: x 2 = 0.193152.
    assert lines["ECS Managed Instances fee g6.xlarge"] == (2.0, 0.193152)
    assert lines["EC2 g6.xlarge on-demand"] == (1.0, 0.8048) and lines["EC2 g6.xlarge Spot"] == (1.0, 0.32192)
    assert "NAT gateway" not in " ".join(lines)
    assert cost.per_hour == pytest.approx(
        0.8048 + 0.32192 + 0.193152 + extras_per_hour(spec, "instance", 2) + fixed_per_hour(spec)
    )
    fee = next(line for line in cost.lines if line.item.startswith("ECS Managed Instances fee"))
    assert fee.price.estimate


def test_an_instance_type_without_a_price_is_reported_never_zero() -> None:
    spec = make_spec(
        compute={
            "accelerator": "gpu",
            "capacity": "ec2",
            "instance_types": ["g5.xlarge"],
            "cpu": 4096,
            "memory": 14336,
        }
    )
    cost = cost_now(spec, BOOK, instances=[InstanceCount("x9.mega", "on-demand", 2)])
    assert cost.unpriced == (
        "2 on-demand x9.mega instance(s): no price for ec2.x9.mega.on_demand in us-east-1 (bundled snapshot "
        "mlfargate/data/prices.yaml); run `mlfargate prices refresh --region us-east-1` or pick a priced item",
    )
    # The hosts' EBS root volumes bill whatever the instance type.
    assert cost.per_hour == pytest.approx(fixed_per_hour(spec) + extras_per_hour(spec, "instance", 2))


def test_nothing_running_costs_the_fixed_lines_the_estimate_uses() -> None:
    spec = make_spec()
    cost = cost_now(spec, BOOK)
    fixed = estimate.fixed_lines(spec, BOOK, [])
    assert [line.item for line in cost.lines] == [line.item for line in fixed]
    assert cost.per_hour == pytest.approx(sum(line.monthly_ceiling for line in fixed) / 730)
