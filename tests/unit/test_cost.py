"""The cost model: Spot split, tasks per instance, lines, floor/ceiling, the seed guide's calculator."""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from mlfargate import cli
from mlfargate.cost import estimate as cost
from mlfargate.cost import price_book
from mlfargate.cost.price_book import Price, PriceBook
from mlfargate.spec import catalog, rules
from mlfargate.spec.model import Spec, from_data

REPO = Path(__file__).resolve().parents[2]
MONTH = 730 / 168


def make_spec(**over: Any) -> Spec:
    data: dict[str, Any] = {
        "name": "svc",
        "environment": "dev",
        "aws": {"region": "us-east-1"},
        "network": {"vpc_cidr": "10.0.0.0/16", "availability_zones": 2, "nat_gateways": "none"},
        "service": {"allow_plain_http": True},  # public, so the ALB's public IPv4 addresses are priced
        "compute": {"capacity": "fargate", "cpu": 2048, "memory": 4096},
        "spot": {"on_demand_base": 0, "spot_percentage": 0},
        "scaling": {"min_tasks": 1, "max_tasks": 1},
    }
    for key, value in over.items():
        data[key] = {**data[key], **value} if isinstance(value, dict) else value
    spec = from_data(data)
    assert rules.check(spec) == [], rules.check(spec)
    return spec


@pytest.fixture(autouse=True)
def no_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(price_book.CACHE_ENV, str(tmp_path / "cache"))


def book(region: str = "us-east-1") -> PriceBook:
    return price_book.load(region)


def line(est: cost.Estimate, prefix: str) -> cost.Line:
    (found,) = [x for x in est.lines if x.item.startswith(prefix)]
    return found


@pytest.mark.parametrize(
    ("units", "base", "pct", "expected"),
    [
        (0, 1, 70, (0, 0)),
        (1, 1, 70, (1, 0)),
        (5, 1, 70, (1 + 4 * 0.3, 4 * 0.7)),
        (3, 0, 0, (3, 0)),
        (3, 0, 100, (0, 3)),
        (2, 5, 100, (2, 0)),
        (10, 2, 50, (6, 4)),
    ],
)
def test_spot_split(units: int, base: int, pct: int, expected: tuple[float, float]) -> None:
    od, spot = cost.split(units, base, pct)
    assert od == pytest.approx(expected[0]) and spot == pytest.approx(expected[1])
    assert od + spot == pytest.approx(units)


def test_tasks_per_instance_limits() -> None:
    cat = catalog.load()
    g4x12 = cat.instance_types["g4dn.12xlarge"]  # 48 vCPU, 4 GPUs, 192 GiB
    assert g4x12.tasks_per_instance(4096, 8192, 1) == 4  # GPUs bind
    assert g4x12.tasks_per_instance(16384, 8192, 1) == 3  # vCPU binds (49152 // 16384)
    assert g4x12.tasks_per_instance(4096, 90000, 1) == 2  # memory binds (registered, not physical)
    assert "GPUs (4, 1 per task)" in cost.tasks_per_instance_reason(g4x12, 4096, 8192, 1)
    g4x1 = cat.instance_types["g4dn.xlarge"]  # registers 15731 MiB of 16384
    assert g4x1.tasks_per_instance(4096, 15731, 1) == 1
    assert g4x1.tasks_per_instance(4096, 15732, 1) == 0
    assert cost.instances_for(0, 4) == 0 and cost.instances_for(5, 4) == 2 and cost.instances_for(8, 4) == 2


def test_fargate_hand_worked() -> None:
    spec = make_spec(
        spot={"on_demand_base": 1, "spot_percentage": 80}, scaling={"min_tasks": 1, "max_tasks": 6}
    )
    est = cost.estimate(spec, book())
    od, spot = line(est, "Fargate on-demand"), line(est, "Fargate Spot")
    assert od.unit == spot.unit == "task-hour"
    assert od.unit_price == pytest.approx(2 * 0.04048 + 4 * 0.004445)
    assert spot.unit_price == pytest.approx(2 * 0.01254688 + 4 * 0.00137248)
    # floor: 1 task, on-demand base. ceiling: 6 tasks = 1 + 5 x 20% on-demand, 5 x 80% Spot.
    assert (od.floor_quantity, spot.floor_quantity) == (pytest.approx(730), 0)
    assert od.ceiling_quantity == pytest.approx(2 * 730) and spot.ceiling_quantity == pytest.approx(4 * 730)
    alb = line(est, "Application Load Balancer")
    assert alb.floor_quantity == alb.ceiling_quantity == 730 and alb.unit_price == 0.0225
    # What the workspace creates besides the tasks, by hand (nat_gateways: none, 2 AZs, no image given):
    fixed = (
        730 * 0.0225  # the ALB
        + 2 * 730 * 0.005  # its two public IPv4 addresses (one per AZ)
        + 5 * 2 * 730 * 0.01  # 5 interface endpoints x 2 AZs
        + 2 * 1.0  # KMS keys: flow logs, ECS logs
        + (5 + 2) * 0.1  # 5 alarms + 2 the target-tracking policy creates
        + 3.0  # the dashboard
    )
    assert est.monthly_floor == pytest.approx(730 * od.unit_price + fixed)
    assert not [x for x in est.lines if x.item.startswith("NAT gateway")]


def test_ec2_instances_hold_several_tasks_and_split_by_instance() -> None:
    spec = make_spec(
        compute={
            "capacity": "ec2",
            "accelerator": "gpu",
            "instance_types": ["g4dn.12xlarge"],
            "cpu": 4096,
            "memory": 16384,
            "gpus_per_task": 1,
        },
        spot={"on_demand_base": 0, "spot_percentage": 50},
        scaling={"min_tasks": 1, "max_tasks": 6},
        network={"nat_gateways": "per_az", "availability_zones": 3},
    )
    est = cost.estimate(spec, book())
    assert est.capacity["tasks_per_unit"] == 4
    od, spot = line(est, "EC2 g4dn.12xlarge on-demand"), line(est, "EC2 g4dn.12xlarge Spot")
    # floor: 1 task -> 1 instance, half Spot; ceiling: 6 tasks -> 2 instances, half Spot.
    assert od.floor_quantity == pytest.approx(0.5 * 730) and spot.floor_quantity == pytest.approx(0.5 * 730)
    assert od.ceiling_quantity == pytest.approx(730) and spot.ceiling_quantity == pytest.approx(730)
    assert od.unit_price == 3.912 and od.unit == "instance-hour"
    nat = line(est, "NAT gateway")
    assert nat.floor_quantity == 3 * 730 and nat.unit_price == 0.045
    assert line(est, "NAT data processed").floor_quantity == 0


def test_example_gpu_spec_with_schedules_against_hand_computation() -> None:
    spec = rules.load_valid(REPO / "examples" / "gpu-ec2-spot-schedules.yaml")
    est = cost.estimate(spec, book())
    # New York 07:00-22:00 Mon-Fri at 2..8 tasks (75 h/week), otherwise 0..1 (93 h/week); base 1, 70% Spot.
    od_floor = 75 * (1 + 1 * 0.3)
    spot_floor = 75 * 1 * 0.7
    od_ceiling = 75 * (1 + 7 * 0.3) + 93 * 1
    spot_ceiling = 75 * 7 * 0.7
    od, spot = line(est, "EC2 g5.xlarge on-demand"), line(est, "EC2 g5.xlarge Spot")
    assert od.floor_quantity == pytest.approx(od_floor * MONTH)
    assert spot.floor_quantity == pytest.approx(spot_floor * MONTH)
    assert od.ceiling_quantity == pytest.approx(od_ceiling * MONTH)
    assert spot.ceiling_quantity == pytest.approx(spot_ceiling * MONTH)
    # ALB, one NAT gateway, 3 public IPv4 (2 ALB + 1 EIP), 5 endpoints x 2 AZs, 2 KMS keys, 6 + 2 alarms,
    # the dashboard; and per instance-hour a 100 GiB gp3 root volume and 7 detailed-monitoring metrics.
    fixed = 730 * (0.0225 + 0.045) + 3 * 730 * 0.005 + 10 * 730 * 0.01 + 2 + 8 * 0.1 + 3
    per_instance_hour = 100 / 730 * 0.08 + 7 / 730 * 0.3

    def total(od_h: float, spot_h: float) -> float:
        return (od_h * (1.006 + per_instance_hour) + spot_h * (0.4024 + per_instance_hour)) * MONTH + fixed

    assert est.monthly_floor == pytest.approx(total(od_floor, spot_floor))
    assert est.monthly_ceiling == pytest.approx(total(od_ceiling, spot_ceiling))
    ebs = line(est, "EBS gp3 volumes (100 GiB per instance)")
    assert ebs.unit == "GB-month" and ebs.kind == "extra" and ebs.resources == ("aws_launch_template",)
    assert ebs.floor_quantity == pytest.approx(100 * (od_floor + spot_floor) * MONTH / 730)
    assert any("not an observed price" in a for a in est.assumptions)
    assert any("g6.xlarge" in a and "not priced" in a for a in est.assumptions)


def test_managed_instances_add_the_fee_on_every_instance_hour() -> None:
    spec = rules.load_valid(REPO / "examples" / "gpu-managed-instances.yaml")
    b = book()
    est = cost.estimate(spec, b)
    fee = line(est, "ECS Managed Instances fee")
    od, spot = line(est, "EC2 g6.2xlarge on-demand"), line(est, "EC2 g6.2xlarge Spot")
    assert fee.unit_price == pytest.approx(0.12 * 0.9776) and fee.price.estimate
    assert fee.floor_quantity == pytest.approx(od.floor_quantity + spot.floor_quantity)
    assert fee.ceiling_quantity == pytest.approx(od.ceiling_quantity + spot.ceiling_quantity)
    listed = replace(
        b, prices={**b.prices, "ec2.g6.2xlarge.mi_fee": Price("ec2.g6.2xlarge.mi_fee", 0.05, "list", "d")}
    )
    assert line(cost.estimate(spec, listed), "ECS Managed Instances fee").unit_price == 0.05


def test_existing_vpc_has_no_nat_line_and_says_so() -> None:
    spec = rules.load_valid(REPO / "examples" / "existing-vpc.yaml")
    est = cost.estimate(spec, book("eu-west-1"))
    assert not [x for x in est.lines if "NAT" in x.item]
    assert any(a.startswith("Existing VPC") for a in est.assumptions)
    assert line(est, "Application Load Balancer").unit_price == 0.0252


def test_arm64_fargate_spot_is_priced_at_the_arm_spot_price() -> None:
    spec = make_spec(
        compute={"architecture": "arm64"},
        spot={"on_demand_base": 1, "spot_percentage": 80},
        scaling={"min_tasks": 1, "max_tasks": 6},
    )
    est = cost.estimate(spec, book())
    od, spot = line(est, "Fargate on-demand"), line(est, "Fargate Spot tasks (arm64")
    assert od.unit_price == pytest.approx(2 * 0.03238 + 4 * 0.00356)
    assert spot.unit_price == pytest.approx(2 * 0.01003626 + 4 * 0.00109922)
    assert spot.ceiling_quantity == pytest.approx(4 * 730) and spot.price.estimate
    assert any(a.startswith("Fargate Spot tasks (arm64") and "ESTIMATE" in a for a in est.assumptions)
    # No Spot at all: no Spot line.
    plain = cost.estimate(make_spec(compute={"architecture": "arm64"}), book())
    assert not [x for x in plain.lines if "Spot" in x.item]


# --- the seed guide's calculator (shared/seed-guide.md section 10) --------------------------------------

SEED = {"vcpu": 4, "memory_gb": 30, "gpu_count": 1, "hours": 730, "spot_percentage": 0.7}


def seed_calculator(
    vcpu_price: float, memory_price: float, gpu_price: float, spot_discount: float
) -> dict[str, float]:
    """The seed guide's own arithmetic, line by line."""
    cpu_cost = SEED["vcpu"] * vcpu_price * SEED["hours"]
    memory_cost = SEED["memory_gb"] * memory_price * SEED["hours"]
    gpu_cost = SEED["gpu_count"] * gpu_price * SEED["hours"]
    factor = (1 - SEED["spot_percentage"]) + SEED["spot_percentage"] * spot_discount
    return {"cpu_memory": (cpu_cost + memory_cost) * factor, "gpu": gpu_cost * factor}


def seed_spec() -> Spec:
    return make_spec(
        compute={"cpu": 4096, "memory": 30720},
        spot={"on_demand_base": 0, "spot_percentage": 70},
        scaling={"min_tasks": 1, "max_tasks": 1},
    )


def test_seed_calculator_inputs_reproduced() -> None:
    b = book()
    est = cost.estimate(seed_spec(), b)
    od, spot = line(est, "Fargate on-demand"), line(est, "Fargate Spot")
    # 1 task all 730 hours: 30% on-demand, 70% Spot, as the calculator assumes.
    assert od.floor_quantity == od.ceiling_quantity == pytest.approx(0.3 * 730)
    assert spot.floor_quantity == spot.ceiling_quantity == pytest.approx(0.7 * 730)
    assert od.unit_price == pytest.approx(4 * 0.04048 + 30 * 0.004445)
    # With the calculator's own Spot assumption (Spot = 30% of on-demand) our CPU + memory total is its total.
    seed = seed_calculator(0.04048, 0.004445, 0.7, 0.3)
    spot_as_seed = replace(
        b,
        prices={
            **b.prices,
            "fargate.spot.vcpu_hour": Price("fargate.spot.vcpu_hour", 0.3 * 0.04048, "seed guide", "s"),
            "fargate.spot.gb_hour": Price("fargate.spot.gb_hour", 0.3 * 0.004445, "seed guide", "s"),
        },
    )
    ours = cost.estimate(seed_spec(), spot_as_seed)
    compute = sum(x.monthly_ceiling for x in ours.lines if x.kind == "compute")
    assert compute == pytest.approx(seed["cpu_memory"]) and compute == pytest.approx(109.93, abs=0.01)
    # With the snapshot's Fargate Spot prices instead of the guess:
    snapshot = 0.3 * 730 * (4 * 0.04048 + 30 * 0.004445) + 0.7 * 730 * (4 * 0.01254688 + 30 * 0.00137248)
    assert sum(x.monthly_floor for x in est.lines if x.kind == "compute") == pytest.approx(snapshot)


def test_seed_calculator_gpu_line_is_impossible_on_fargate() -> None:
    seed = seed_calculator(0.04048, 0.004445, 0.7, 0.3)
    assert seed["gpu"] == pytest.approx(0.7 * 730 * 0.51)  # the line the guide adds
    data = {
        "name": "seed",
        "environment": "dev",
        "aws": {"region": "us-east-1"},
        "network": {"vpc_cidr": "10.0.0.0/16"},
        "compute": {
            "capacity": "fargate",
            "accelerator": "gpu",
            "gpus_per_task": 1,
            "cpu": 4096,
            "memory": 30720,
        },
        "spot": {"spot_percentage": 70},
    }
    spec = from_data(data)
    messages = [e.message for e in rules.check(spec)]
    assert any(m.startswith("Fargate has no GPUs") for m in messages)
    with pytest.raises(cost.CostError, match="Fargate has no GPUs"):
        cost.estimate(spec, book())


# --- the CLI contract --------------------------------------------------------------------------------------


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = cli.main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_cost_json_contract(capsys: pytest.CaptureFixture[str]) -> None:
    code, stdout, _ = run_cli(
        ["cost", str(REPO / "examples" / "gpu-ec2-spot-schedules.yaml"), "--json"], capsys
    )
    assert code == 0
    data = json.loads(stdout)
    assert data["currency"] == "USD" and data["region"] == "us-east-1" and data["hours_per_month"] == 730
    assert "bundled snapshot" in data["price_source"] and data["price_date"] == "2026-01-15"
    keys = {
        "item",
        "unit_price",
        "unit",
        "floor_quantity",
        "ceiling_quantity",
        "monthly_floor",
        "monthly_ceiling",
    }
    assert all(keys <= set(x) for x in data["lines"])
    compute = {x["item"]: x for x in data["lines"] if x["kind"] == "compute"}
    assert compute["EC2 g5.xlarge on-demand"]["unit_price"] == 1.006
    assert compute["EC2 g5.xlarge Spot"]["unit_price"] == 0.4024
    assert data["monthly_floor"] == pytest.approx(sum(x["monthly_floor"] for x in data["lines"]), abs=1e-5)
    assert data["monthly_ceiling"] == pytest.approx(
        sum(x["monthly_ceiling"] for x in data["lines"]), abs=1e-5
    )
    for x in data["lines"]:
        assert x["monthly_floor"] == pytest.approx(x["unit_price"] * x["floor_quantity"], abs=1e-5)
    assert isinstance(data["assumptions"], list) and data["assumptions"]
    intervals = data["week"]["intervals"]
    assert intervals[0][0] == "2026-01-12T00:00Z" and intervals[-1][1] == "2026-01-19T00:00Z"
    assert all(a[1] == b[0] for a, b in itertools.pairwise(intervals))
    assert all(isinstance(lo, int) and isinstance(hi, int) and lo <= hi for _, _, lo, hi in intervals)
    resources = {r["type"]: r for r in data["resources"]}
    assert resources["aws_launch_template"]["lines"] == [
        "EBS gp3 volumes (100 GiB per instance)",
        "EC2 detailed monitoring (7 metrics per instance)",
    ]
    assert resources["aws_vpc"]["classification"] == "none" and resources["aws_vpc"]["lines"] == []
    assert all(r["classification"] and r["how"] and r["source"] for r in data["resources"])


def test_cost_table_for_humans(capsys: pytest.CaptureFixture[str]) -> None:
    code, stdout, _ = run_cli(["cost", str(REPO / "examples" / "cpu-fargate-spot.yaml")], capsys)
    assert code == 0
    assert "floor/mo" in stdout and "Fargate Spot tasks" in stdout and "assumptions:" in stdout
    assert "bundled snapshot" in stdout and "2026-01-15" in stdout


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("missing", "no such file"),
        ("no-prices", "no prices for region us-east-2"),
    ],
)
def test_cost_bad_input_is_one_line_and_exit_2(
    setup: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "spec.yaml"
    if setup == "no-prices":
        text = (REPO / "examples" / "cpu-fargate-spot.yaml").read_text().replace("us-west-2", "us-east-2")
        path.write_text(text)
    code, stdout, stderr = run_cli(["cost", str(path)], capsys)
    assert code == 2 and stdout == ""
    assert len(stderr.strip().splitlines()) == 1 and message in stderr


def test_every_example_prices_with_positive_floor_not_above_ceiling() -> None:
    for path in sorted((REPO / "examples").glob("*.yaml")):
        spec = rules.load_valid(path)
        est = cost.estimate(spec, book(spec.aws.region))
        assert 0 < est.monthly_floor <= est.monthly_ceiling, path.name
        assert not math.isnan(est.monthly_ceiling)


def test_cli_prices_an_arm64_fargate_spot_spec(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = (REPO / "examples" / "cpu-fargate-spot.yaml").read_text()
    assert "capacity: fargate" in text and "architecture" not in text
    path = tmp_path / "arm.yaml"
    path.write_text(text.replace("capacity: fargate", "capacity: fargate\n  architecture: arm64"))
    assert cli.main(["validate", str(path)]) == 0
    capsys.readouterr()
    code, stdout, _ = run_cli(["cost", str(path), "--json"], capsys)
    assert code == 0
    lines = {x["item"]: x for x in json.loads(stdout)["lines"]}
    spot = lines["Fargate Spot tasks (arm64, 2 vCPU, 4 GB)"]
    assert spot["unit_price"] == pytest.approx(2 * 0.01003626 + 4 * 0.00109922)
    assert spot["price_is_estimate"] and spot["ceiling_quantity"] > 0


def test_cli_mi_fee_fraction(capsys: pytest.CaptureFixture[str]) -> None:
    spec = str(REPO / "examples" / "gpu-managed-instances.yaml")
    code, stdout, _ = run_cli(["cost", spec, "--mi-fee-fraction", "0.078", "--json"], capsys)
    assert code == 0
    fee = next(x for x in json.loads(stdout)["lines"] if x["item"].startswith("ECS Managed Instances fee"))
    assert fee["unit_price"] == pytest.approx(round(0.078 * 0.9776, 6)) and fee["price_is_estimate"]
    assert "--mi-fee-fraction 0.078" in fee["price_source"]
    code, stdout, stderr = run_cli(["cost", spec, "--mi-fee-fraction", "1.5"], capsys)
    assert code == 2 and stdout == "" and len(stderr.strip().splitlines()) == 1
    assert "is not a fraction of the on-demand price" in stderr
