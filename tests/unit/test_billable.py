"""Every billable resource the workspace creates has a line.

The set of aws_* resource types each example workspace instantiates is derived from the render plan
(the module calls of the workspace `mlfargate generate` writes, checked against its main.tf) and the
modules' Terraform (counts evaluated under the plan's arguments), never from a hand list; a type with no
cost classification, or a billable type no line prices, fails here.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mlfargate.cost import billable, price_book
from mlfargate.cost import estimate as cost
from mlfargate.generate import inventory, sources
from mlfargate.generate.model import Options
from mlfargate.generate.workspace import render_files
from mlfargate.spec import rules
from tests.unit.test_cost import line, make_spec

REPO = Path(__file__).resolve().parents[2]
WORKSPACE_SPECS = sorted(
    [
        *(REPO / "examples").glob("*.yaml"),
        *(REPO / "environments").glob("*/mlfargate.yaml"),
        *(REPO / "modules" / "examples").glob("*/mlfargate.yaml"),
    ]
)


def spec_id(path: Path) -> str:
    return str(path.relative_to(REPO))


@pytest.fixture(autouse=True)
def no_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(price_book.CACHE_ENV, str(tmp_path / "cache"))


def test_every_type_a_module_declares_is_classified_and_the_table_has_no_stale_type() -> None:
    declared = set().union(*inventory.module_resource_types().values())
    assert declared, "no aws_* resources found under modules/"
    assert sorted(declared - set(billable.CLASSIFICATION)) == []
    assert sorted(set(billable.CLASSIFICATION) - declared) == []
    for rtype, c in billable.CLASSIFICATION.items():
        assert c.how and c.source.startswith("https://"), rtype


@pytest.mark.parametrize("path", WORKSPACE_SPECS, ids=spec_id)
def test_each_example_workspace_prices_every_billable_type_it_creates(path: Path, tmp_path: Path) -> None:
    spec = rules.load_valid(path)
    inv = inventory.build(spec)
    # The inventory walks the module calls of the workspace generate writes (its main.tf), no others.
    import hcl2

    files, _notes = render_files(path, REPO / "build" / "inventory-check", Options())
    blocks = hcl2.loads(files["main.tf"])["module"]
    written = {name: Path(str(body["source"][0])).name for block in blocks for name, body in block.items()}
    assert written == {call: mod.module for call, mod in inv.calls.items()}
    for block in blocks:
        for name, body in block.items():
            arguments = {k for k in body if not k.startswith("__") and k != "source"}
            assert arguments == set(inv.calls[name].inputs), name
    created = inv.types()
    assert created and all(t.startswith("aws_") for t in created)
    est = cost.estimate(spec, price_book.load(spec.aws.region))
    assert {r.type for r in est.resources} == created
    assert billable.unpriced(list(est.resources)) == []
    assert not any(a.startswith("NOT PRICED") for a in est.assumptions)
    # Every line names what it prices, and only what the workspace creates.
    for ln in est.lines:
        assert ln.resources and set(ln.resources) <= created, ln.item


def test_a_planted_unclassified_resource_is_caught(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    modules = tmp_path / "modules"
    shutil.copytree(REPO / "modules", modules, ignore=shutil.ignore_patterns("examples", ".terraform"))
    with (modules / "ecs-service" / "main.tf").open("a", encoding="utf-8") as f:
        f.write('\nresource "aws_sagemaker_endpoint" "planted" {\n  name = "${var.name}-planted"\n}\n')
    declared = set().union(*inventory.module_resource_types(modules).values())
    assert sorted(declared - set(billable.CLASSIFICATION)) == ["aws_sagemaker_endpoint"]
    monkeypatch.setattr(sources, "modules_dir", lambda: modules)
    spec = make_spec()
    est = cost.estimate(spec, price_book.load("us-east-1"))
    assert "aws_sagemaker_endpoint" in {r.type for r in est.resources}
    assert billable.unpriced(list(est.resources)) == ["aws_sagemaker_endpoint: no cost classification"]
    assert any(a.startswith("NOT PRICED") and "aws_sagemaker_endpoint" in a for a in est.assumptions)


def test_a_billable_type_without_a_line_is_caught() -> None:
    inv = inventory.build(make_spec())
    problems = billable.unpriced(billable.resource_costs(inv, []))
    assert "aws_lb: classified priced but no line prices it" in problems
    assert "aws_vpc_endpoint: classified priced but no line prices it" in problems
    assert not any(p.startswith("aws_vpc:") for p in problems)  # no charge: needs no line


def test_a_resource_that_a_count_switches_off_is_not_created() -> None:
    fargate = inventory.build(make_spec())
    assert "aws_launch_template" not in fargate.types() and "aws_nat_gateway" not in fargate.types()
    assert fargate.count("aws_eip") == 0 and fargate.count("aws_budgets_budget") == 0
    ec2 = inventory.build(rules.load_valid(REPO / "examples" / "gpu-ec2-spot-schedules.yaml"))
    assert ec2.count("aws_launch_template") == 1 and ec2.count("aws_nat_gateway") == 1
    assert ec2.count("aws_cloudwatch_metric_alarm") == 6  # the GPU reservation alarm is EC2-only
    assert ec2.count("aws_appautoscaling_scheduled_action") == 2


def test_the_inventory_is_the_workspace_as_it_runs_with_an_image_pinned() -> None:
    """Until `mlfargate image push` pins a digest the workspace registers no autoscaling (docs/image.md);
    the cost prices the service as it runs: scaling target, policy and schedules created."""
    ec2 = inventory.build(rules.load_valid(REPO / "examples" / "cpu-fargate-spot.yaml"))
    assert ec2.count("aws_appautoscaling_target") == 1 and ec2.count("aws_appautoscaling_policy") == 1


def test_nat_none_shows_the_interface_endpoints_and_their_cost() -> None:
    est = cost.estimate(make_spec(network={"availability_zones": 3}), price_book.load("us-east-1"))
    vpce = line(est, "Interface VPC endpoints")
    assert vpce.item == "Interface VPC endpoints (5 x 3 AZs: ecr.api, ecr.dkr, logs, secretsmanager, ssm)"
    assert vpce.unit == "endpoint-AZ-hour" and vpce.unit_price == 0.01
    assert vpce.floor_quantity == vpce.ceiling_quantity == 15 * 730
    assert vpce.monthly_floor == pytest.approx(109.5)
    assert line(est, "Interface endpoint data processed").unit_price == 0.01
    assert not [x for x in est.lines if "NAT" in x.item]
    # The S3 gateway endpoint is created too, and free: no line, classified.
    inv = inventory.build(make_spec())
    kinds = [r.value("vpc_endpoint_type", k) for r in inv.of("aws_vpc_endpoint") for k in (r.keys or [None])]
    assert sorted(kinds) == ["Gateway"] + ["Interface"] * 5


def test_the_network_module_creates_interface_endpoints_with_nat_too() -> None:
    """What the module does (modules/network/main.tf): interface_endpoints defaults to five services and
    the wiring does not pass it, so a NAT workspace pays for endpoints as well; the estimate says so."""
    est = cost.estimate(make_spec(network={"nat_gateways": "single"}), price_book.load("us-east-1"))
    assert line(est, "Interface VPC endpoints").floor_quantity == 10 * 730
    assert line(est, "NAT gateway (single: 1)").floor_quantity == 730


def test_public_ipv4_for_alb_azs_and_nat_elastic_ips() -> None:
    est = cost.estimate(
        make_spec(network={"nat_gateways": "per_az", "availability_zones": 3}), price_book.load("us-east-1")
    )
    ipv4 = line(est, "Public IPv4 addresses")
    assert ipv4.item == "Public IPv4 addresses (3 ALB, 3 NAT Elastic IP)"
    assert ipv4.floor_quantity == 6 * 730 and ipv4.unit_price == 0.005
    assert set(ipv4.resources) == {"aws_lb", "aws_eip"}
    existing = rules.load_valid(REPO / "examples" / "existing-vpc.yaml")
    est = cost.estimate(existing, price_book.load("eu-west-1"))
    assert (
        line(est, "Public IPv4 addresses").item == "Public IPv4 addresses (2 ALB)"
    )  # its two public subnets
    assert not [x for x in est.lines if "endpoint" in x.item or "flow logs" in x.item]


def test_an_ec2_gpu_spec_shows_its_ebs_volumes_and_monitoring() -> None:
    spec = rules.load_valid(REPO / "environments" / "prod" / "mlfargate.yaml")
    est = cost.estimate(spec, price_book.load("us-east-1"))
    od, spot = line(est, "EC2 g5.xlarge on-demand"), line(est, "EC2 g5.xlarge Spot")
    ebs = line(est, "EBS gp3 volumes (100 GiB per instance)")
    assert ebs.unit_price == 0.08 and ebs.unit == "GB-month"
    assert ebs.floor_quantity == pytest.approx(100 / 730 * (od.floor_quantity + spot.floor_quantity))
    assert ebs.ceiling_quantity == pytest.approx(100 / 730 * (od.ceiling_quantity + spot.ceiling_quantity))
    monitoring = line(est, "EC2 detailed monitoring (7 metrics per instance)")
    assert monitoring.ceiling_quantity == pytest.approx(
        7 / 730 * (od.ceiling_quantity + spot.ceiling_quantity)
    )
    managed = rules.load_valid(REPO / "examples" / "gpu-managed-instances.yaml")
    mi = cost.estimate(managed, price_book.load("us-east-1"))
    assert line(mi, "EBS gp3 volumes (100 GiB per instance)").resources == ("aws_ecs_capacity_provider",)
    assert any("data volume" in a and "gp3 assumed" in a for a in mi.assumptions)


def test_root_volume_size_and_insights_mode_are_read_from_the_modules(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    modules = tmp_path / "modules"
    shutil.copytree(REPO / "modules", modules, ignore=shutil.ignore_patterns("examples", ".terraform"))
    for module, old, new in (
        ("gpu-capacity", "default     = 100", "default     = 250"),
        ("ecs-cluster", 'default     = "enhanced"', 'default     = "enabled"'),
    ):
        path = modules / module / "variables.tf"
        text = path.read_text(encoding="utf-8")
        assert old in text
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
    monkeypatch.setattr(sources, "modules_dir", lambda: modules)
    spec = rules.load_valid(REPO / "examples" / "gpu-ec2-spot-schedules.yaml")
    est = cost.estimate(spec, price_book.load("us-east-1"))
    assert line(est, "EBS gp3 volumes (250 GiB per instance)")
    assert line(est, "Container Insights metrics (custom metrics)").unit == "metric-month"
    assert not [x for x in est.lines if "enhanced observability" in x.item]


def test_kms_alarms_dashboard_and_free_tiers() -> None:
    spec = rules.load_valid(REPO / "examples" / "existing-vpc.yaml")
    est = cost.estimate(spec, price_book.load("eu-west-1"))
    assert (
        line(est, "KMS customer managed keys (1)").monthly_floor == 1.0
    )  # no network module: no flow-log key
    assert line(est, "CloudWatch alarms (5 + 2 target tracking)").monthly_floor == pytest.approx(0.7)
    assert line(est, "CloudWatch dashboard").monthly_floor == 3.0
    sns, budget = line(est, "SNS alarm topic"), line(est, "AWS Budgets")
    for free in (sns, budget):
        assert free.kind == "free" and free.unit_price == 0 and free.monthly_ceiling == 0
        assert "free" in free.note and "https://" in free.note
    assert "1,000 email notifications" in sns.note
    insights = line(est, "Container Insights, enhanced observability")
    assert insights.kind == "usage" and insights.floor_quantity == 0 and insights.price.estimate
    for usage in ("CloudWatch Logs storage", "ECR image storage", "S3 access-log bucket storage"):
        assert line(est, usage).kind == "usage" and line(est, usage).unit == "GB-month"


def test_fixed_lines_and_running_extras_are_public_for_cost_now() -> None:
    spec = rules.load_valid(REPO / "examples" / "gpu-ec2-spot-schedules.yaml")
    book = price_book.load("us-east-1")
    notes: list[str] = []
    fixed = cost.fixed_lines(spec, book, notes)
    est = cost.estimate(spec, book)
    assert [x.item for x in fixed] == [x.item for x in est.lines if x.kind in ("fixed", "usage", "free")]
    assert {x.kind for x in fixed} == {"fixed", "usage", "free"} and notes
    extras = cost.running_extras(spec, book)
    assert [(x.item, x.per) for x in extras] == [
        ("EBS gp3 volumes (100 GiB per instance)", "instance"),
        ("EC2 detailed monitoring (7 metrics per instance)", "instance"),
    ]
    assert sum(x.usd_per_hour for x in extras) == pytest.approx(100 * 0.08 / 730 + 7 * 0.3 / 730)


def test_fargate_ephemeral_storage_above_20_gib_is_a_per_task_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    modules = tmp_path / "modules"
    shutil.copytree(REPO / "modules", modules, ignore=shutil.ignore_patterns("examples", ".terraform"))
    path = modules / "ecs-service" / "variables.tf"
    text = path.read_text(encoding="utf-8")
    start = text.index('variable "ephemeral_storage_gib"')
    old = "default     = null"
    at = text.index(old, start)
    path.write_text(text[:at] + "default     = 50" + text[at + len(old) :], encoding="utf-8")
    monkeypatch.setattr(sources, "modules_dir", lambda: modules)
    est = cost.estimate(make_spec(scaling={"min_tasks": 1, "max_tasks": 3}), price_book.load("us-east-1"))
    extra = line(est, "Fargate ephemeral storage above 20 GiB (30 GiB per task)")
    assert extra.unit == "GB-hour" and extra.unit_price == 0.000111
    assert extra.floor_quantity == pytest.approx(30 * 730) and extra.ceiling_quantity == pytest.approx(
        90 * 730
    )


def test_estimate_wording_is_not_doubled() -> None:
    """Bug: the Spot assumption read "is not an observed price: ESTIMATE, not an observed price"."""
    for path in WORKSPACE_SPECS:
        spec = rules.load_valid(path)
        for text in cost.estimate(spec, price_book.load(spec.aws.region)).assumptions:
            assert "not an observed price: ESTIMATE" not in text, text
            assert text.count("not an observed price") <= 1, text
            assert text.count("ASSUMPTION") <= 1, text


def test_the_classification_table_in_the_docs_matches_the_code() -> None:
    rows: dict[str, list[str]] = {}
    for text in (REPO / "docs" / "cost-model.md").read_text(encoding="utf-8").splitlines():
        if text.startswith("| `aws_"):
            cells = [c.strip() for c in text.strip("|").split("|")]
            rows[cells[0].strip("`")] = cells
    assert set(rows) == set(billable.CLASSIFICATION)
    for rtype, c in billable.CLASSIFICATION.items():
        _type, _modules, kind, how, source = rows[rtype]
        assert (kind, how, source) == (c.kind, c.how, c.source), rtype


@pytest.mark.parametrize("capacity", ["ec2", "managed_instances"])
def test_container_instances_without_nat_get_the_ecs_endpoints(capacity: str) -> None:
    """EC2 container instances in private subnets without NAT register with ECS only through the ecs,
    ecs-agent and ecs-telemetry interface endpoints (Amazon ECS Developer Guide, "Amazon ECS interface
    VPC endpoints (AWS PrivateLink)", read 2026-11-29). Without them the hosts never join the cluster and
    the service never starts. Fargate tasks and NAT workspaces do not need them."""
    gpu = {"capacity": capacity, "accelerator": "gpu", "instance_types": ["g5.xlarge"], "cpu": 2048}
    spec = make_spec(compute={**gpu, "memory": 8192}, spot={"on_demand_base": 1})
    est = cost.estimate(spec, price_book.load("us-east-1"))
    assert line(est, "Interface VPC endpoints").item == (
        "Interface VPC endpoints (8 x 2 AZs: ecr.api, ecr.dkr, ecs, ecs-agent, ecs-telemetry, logs, "
        "secretsmanager, ssm)"
    )
    with_nat = make_spec(
        compute={**gpu, "memory": 8192}, spot={"on_demand_base": 1}, network={"nat_gateways": "single"}
    )
    assert line(
        cost.estimate(with_nat, price_book.load("us-east-1")), "Interface VPC endpoints"
    ).floor_quantity == (10 * 730)
    fargate = cost.estimate(make_spec(), price_book.load("us-east-1"))
    assert line(fargate, "Interface VPC endpoints").floor_quantity == 10 * 730
