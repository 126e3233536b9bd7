"""Every rule has a spec that breaks it, and the error names the key."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from mlfargate.errors import SpecError, SpecErrors
from mlfargate.spec import rules
from mlfargate.spec.model import from_data

REPO = Path(__file__).resolve().parents[2]
GPU = yaml.safe_load((REPO / "examples/gpu-ec2-spot-schedules.yaml").read_text())
CPU = yaml.safe_load((REPO / "examples/cpu-fargate-spot.yaml").read_text())
EXISTING = yaml.safe_load((REPO / "examples/existing-vpc.yaml").read_text())

Mutate = Callable[[dict[str, Any]], None]


def errors(base: dict[str, Any], mutate: Mutate) -> list[SpecError]:
    data = copy.deepcopy(base)
    mutate(data)
    try:
        spec = from_data(data)
    except SpecErrors as exc:
        return exc.errors
    return rules.check(spec)


def assert_error(found: list[SpecError], path: str, *fragments: str) -> None:
    matching = [e for e in found if e.path == path]
    assert matching, f"no error at {path}; got {[str(e) for e in found]}"
    text = " | ".join(e.message for e in matching)
    for fragment in fragments:
        assert fragment in text, f"{fragment!r} not in {text!r}"


@pytest.mark.parametrize("path", sorted((REPO / "examples").glob("*.yaml")), ids=lambda p: p.name)
def test_examples_obey_every_rule(path: Path) -> None:
    assert rules.check(from_data(yaml.safe_load(path.read_text()))) == []


def test_valid_specs_produce_no_error_lines() -> None:
    assert errors(GPU, lambda d: None) == []
    assert errors(CPU, lambda d: None) == []


def test_gpu_on_fargate_is_refused_with_the_way_out() -> None:
    def fargate_gpu(d: dict[str, Any]) -> None:
        d["compute"].update(capacity="fargate", instance_types=[], cpu=4096, memory=16384)

    found = errors(GPU, fargate_gpu)
    assert_error(found, "compute.capacity", "Fargate has no GPUs", "ec2", "managed_instances")


def test_gpus_on_fargate_even_without_accelerator_flag() -> None:
    found = errors(CPU, lambda d: d["compute"].update(gpus_per_task=1))
    assert_error(found, "compute.capacity", "Fargate has no GPUs")
    assert_error(found, "compute.gpus_per_task", "accelerator: gpu")


def test_gpu_accelerator_with_zero_gpus() -> None:
    assert_error(errors(GPU, lambda d: d["compute"].update(gpus_per_task=0)), "compute.gpus_per_task", ">= 1")


@pytest.mark.parametrize(
    ("cpu", "memory", "path", "fragment"),
    [
        (3000, 4096, "compute.cpu", "not a Fargate CPU size"),
        (2048, 2048, "compute.memory", "4096-16384 in steps of 1024"),
        (256, 4096, "compute.memory", "512, 1024, 2048"),
        (8192, 18432, "compute.memory", "steps of 4096"),
        (4096, 30721, "compute.memory", "8192-30720"),
    ],
)
def test_fargate_cpu_memory_pairs(cpu: int, memory: int, path: str, fragment: str) -> None:
    assert_error(errors(CPU, lambda d: d["compute"].update(cpu=cpu, memory=memory)), path, fragment)


@pytest.mark.parametrize(("cpu", "memory"), [(256, 512), (512, 4096), (4096, 30720), (16384, 122880)])
def test_fargate_edges_of_the_table_are_allowed(cpu: int, memory: int) -> None:
    assert errors(CPU, lambda d: d["compute"].update(cpu=cpu, memory=memory)) == []


def test_fargate_takes_no_instance_types() -> None:
    found = errors(CPU, lambda d: d["compute"].update(instance_types=["c6i.xlarge"]))
    assert_error(found, "compute.instance_types", "remove instance_types")


def test_ec2_needs_instance_types() -> None:
    assert_error(
        errors(GPU, lambda d: d["compute"].update(instance_types=[])),
        "compute.instance_types",
        "at least one",
    )


def test_unknown_instance_type() -> None:
    found = errors(GPU, lambda d: d["compute"].update(instance_types=["g5.xlarge", "g99.huge"]))
    assert_error(found, "compute.instance_types[1]", "'g99.huge' is not in the catalog", "g5.xlarge")


def test_gpu_needs_a_type_with_nvidia_gpus() -> None:
    found = errors(GPU, lambda d: d["compute"].update(instance_types=["c6i.2xlarge", "inf2.xlarge"]))
    assert_error(found, "compute.instance_types[0]", "has no GPU")
    assert_error(found, "compute.instance_types[1]", "Inferentia2", "not ECS GPU resources")


def test_task_must_fit_gpus_of_every_type() -> None:
    found = errors(GPU, lambda d: d["compute"].update(gpus_per_task=2))
    assert_error(found, "compute.instance_types[0]", "needs 2 GPUs", "has 1")
    assert_error(found, "compute.instance_types[1]", "needs 2 GPUs")


def test_task_must_fit_vcpu() -> None:
    found = errors(GPU, lambda d: d["compute"].update(cpu=8192))
    assert_error(found, "compute.instance_types[0]", "8192 CPU units", "has 4096")


def test_task_must_fit_registered_memory_not_physical() -> None:
    # g4dn.xlarge has 16384 MiB but ECS registers 15731: a 16000 MiB task does not fit.
    found = errors(GPU, lambda d: d["compute"].update(instance_types=["g4dn.xlarge"], memory=16000))
    assert_error(found, "compute.instance_types[0]", "16000 MiB", "15731", "agent reserves")
    assert errors(GPU, lambda d: d["compute"].update(instance_types=["g4dn.xlarge"], memory=15731)) == []


def test_duplicate_and_wrong_architecture_instance_types() -> None:
    found = errors(GPU, lambda d: d["compute"].update(instance_types=["g5.xlarge", "g5.xlarge"]))
    assert_error(found, "compute.instance_types[1]", "listed twice")
    arm = errors(
        CPU,
        lambda d: d["compute"].update(
            capacity="ec2", instance_types=["c7g.xlarge", "c6i.xlarge"], architecture="arm64"
        ),
    )
    assert_error(arm, "compute.instance_types[1]", "x86_64", "arm64")
    assert not [e for e in arm if e.path == "compute.instance_types[0]"]


def test_fargate_spot_runs_arm64_since_2024_09() -> None:
    """Bug: the rule "Fargate Spot runs x86_64 Linux only" is stale. FARGATE_SPOT supports Linux ARM64
    tasks on platform version 1.4.0+ (ECS API reference, CapacityProviderStrategyItem; What's New
    2024-09-06): an arm64 Fargate service with Spot is valid."""
    assert errors(CPU, lambda d: d["compute"].update(architecture="arm64")) == []
    ok = errors(
        CPU, lambda d: (d["compute"].update(architecture="arm64"), d["spot"].update(spot_percentage=0))
    )
    assert ok == []


def test_two_availability_zones_at_least() -> None:
    assert_error(
        errors(GPU, lambda d: d["network"].update(availability_zones=1)), "network.availability_zones"
    )


def test_more_azs_than_the_region_has() -> None:
    found = errors(
        CPU, lambda d: d.update(aws={"region": "us-west-1"}) or d["network"].update(availability_zones=3)
    )
    assert_error(found, "network.availability_zones", "us-west-1 has 2")


@pytest.mark.parametrize(
    ("cidr", "fragments"),
    [
        ("10.20.0.0/33", ["not a valid CIDR"]),
        ("10.20.0.1/16", ["not a valid CIDR", "host bits"]),
        ("fd00::/56", ["IPv4"]),
        ("10.0.0.0/8", ["/16 to /28"]),
        ("10.0.0.0/26", ["too small", "/23 or larger"]),
        ("10.0.0.0/24", ["too small", "16 blocks", "/23 or larger"]),
    ],
)
def test_vpc_cidr(cidr: str, fragments: list[str]) -> None:
    found = errors(GPU, lambda d: d["network"].update(vpc_cidr=cidr))
    assert_error(found, "network.vpc_cidr", *fragments)


def test_cidr_room_follows_the_network_modules_layout() -> None:
    # modules/network cuts the VPC into 16 blocks (cidrsubnet(cidr, 4, i)); a /23 gives /27 subnets.
    assert errors(GPU, lambda d: d["network"].update(vpc_cidr="10.0.0.0/23", availability_zones=6)) == []
    found = errors(GPU, lambda d: d["network"].update(vpc_cidr="10.0.0.0/25"))
    assert_error(found, "network.vpc_cidr", "too small", "/23 or larger")


def test_network_modes_do_not_mix() -> None:
    found = errors(EXISTING, lambda d: d["network"].update(vpc_cidr="10.0.0.0/16"))
    assert_error(found, "network.vpc_cidr", "new VPC only")
    found = errors(GPU, lambda d: d["network"].update(private_subnet_ids=["subnet-0a1b2c3d4e5f60003"]))
    assert_error(found, "network.private_subnet_ids", "existing VPC only")
    found = errors(GPU, lambda d: d["network"].pop("vpc_cidr"))
    assert_error(found, "network", "vpc_cidr", "vpc_id")


def test_existing_vpc_needs_two_distinct_subnets_each() -> None:
    found = errors(EXISTING, lambda d: d["network"].update(public_subnet_ids=["subnet-0a1b2c3d4e5f60001"]))
    assert_error(found, "network.public_subnet_ids", "at least 2")
    dup = ["subnet-0a1b2c3d4e5f60003", "subnet-0a1b2c3d4e5f60003"]
    assert_error(
        errors(EXISTING, lambda d: d["network"].update(private_subnet_ids=dup)),
        "network.private_subnet_ids",
        "twice",
    )


def test_min_not_above_max() -> None:
    found = errors(GPU, lambda d: d["scaling"].update(min_tasks=9))
    assert_error(found, "scaling.min_tasks", "above max_tasks (8)")


@pytest.mark.parametrize(
    ("expr", "fragment"),
    [
        ("cron(0 7 * * MON-FRI)", "six"),
        ("0 7 ? * MON-FRI *", "must look like cron("),
        ("cron(0 7 * * MON *)", "exactly one"),
        ("cron(0 7 ? * ? *)", "exactly one"),
        ("cron(0 24 ? * MON *)", "hours field: 24 is outside 0-23"),
        ("cron(0 7 ? * FUNDAY *)", "day-of-week field"),
        ("cron(0 7 ? 13 MON *)", "month field"),
    ],
)
def test_schedule_cron(expr: str, fragment: str) -> None:
    found = errors(GPU, lambda d: d["scaling"]["schedules"][1].update(cron=expr))
    assert_error(found, "scaling.schedules[1].cron", fragment)


@pytest.mark.parametrize("zone", ["EST5EDT-ish", "America", "../etc"])
def test_schedule_timezone_must_be_iana(zone: str) -> None:
    found = errors(GPU, lambda d: d["scaling"]["schedules"][0].update(timezone=zone))
    assert_error(found, "scaling.schedules[0].timezone", "IANA")


def test_schedule_bounds() -> None:
    assert_error(
        errors(GPU, lambda d: d["scaling"]["schedules"][0].update(min_tasks=3, max_tasks=1)),
        "scaling.schedules[0].min_tasks",
        "above this schedule's max_tasks",
    )
    neither = errors(GPU, lambda d: [d["scaling"]["schedules"][0].pop(k) for k in ("min_tasks", "max_tasks")])
    assert_error(neither, "scaling.schedules[0]", "neither")
    only_min = errors(GPU, lambda d: d["scaling"]["schedules"][0].pop("max_tasks") and None)
    assert only_min == []
    too_high = errors(
        GPU,
        lambda d: (
            d["scaling"]["schedules"][0].pop("max_tasks"),
            d["scaling"]["schedules"][0].update(min_tasks=9),
        ),
    )
    assert_error(too_high, "scaling.schedules[0].min_tasks", "above scaling.max_tasks")
    too_low = errors(
        GPU, lambda d: (d["scaling"]["schedules"][0].pop("min_tasks"), d["scaling"].update(min_tasks=2))
    )
    assert_error(too_low, "scaling.schedules[0].max_tasks", "below scaling.min_tasks")
    over = errors(GPU, lambda d: d["scaling"]["schedules"][0].update(max_tasks=1001))
    assert_error(over, "scaling.schedules[0].max_tasks", "1000")


def test_schedule_names_unique() -> None:
    found = errors(GPU, lambda d: d["scaling"]["schedules"][1].update(name="night"))
    assert_error(found, "scaling.schedules[1].name", "used twice")


def test_names_must_leave_room_for_elb_suffixes() -> None:
    found = errors(GPU, lambda d: d.update(name="sentiment-analysis", environment="production"))
    assert_error(found, "name", "33 characters", "at most 27")
    # 27 characters of name + environment is exactly the limit.
    assert errors(GPU, lambda d: d.update(name="sentiment-analysis", environment="productio")) == []


def test_target_percentages() -> None:
    found = errors(CPU, lambda d: d["scaling"].update(target={"metric": "cpu", "value": 120}))
    assert_error(found, "scaling.target.value", "1..100")


def test_on_demand_base_within_max() -> None:
    assert_error(
        errors(CPU, lambda d: d["spot"].update(on_demand_base=7)), "spot.on_demand_base", "0..max_tasks"
    )


def test_spot_percentage_bounds() -> None:
    assert_error(errors(CPU, lambda d: d["spot"].update(spot_percentage=101)), "spot.spot_percentage")


def test_certificate_in_the_albs_region_and_account() -> None:
    found = errors(
        GPU, lambda d: d["service"].update(certificate_arn="arn:aws:acm:eu-west-1:999999999999:certificate/x")
    )
    assert_error(found, "service.certificate_arn", "eu-west-1", "us-east-1")
    assert_error(found, "service.certificate_arn", "account 999999999999")


def test_unknown_region() -> None:
    assert_error(
        errors(CPU, lambda d: d.update(aws={"region": "xx-nowhere-9"})), "aws.region", "not in the catalog"
    )


def test_unknown_keys_are_errors_at_any_depth() -> None:
    found = errors(GPU, lambda d: (d.update(colour="blue"), d["compute"].update(gpu_type="a10g")))
    assert_error(found, "colour", "unknown key")
    assert_error(found, "compute.gpu_type", "unknown key")


def test_all_errors_are_collected_not_just_the_first() -> None:
    def many(d: dict[str, Any]) -> None:
        d["compute"].update(capacity="fargate", instance_types=[])
        d["scaling"].update(min_tasks=9)
        d["network"].update(vpc_cidr="10.0.0.0/27")
        d["scaling"]["schedules"][0].update(timezone="Nowhere/Land")

    paths = {e.path for e in errors(GPU, many)}
    assert {
        "compute.capacity",
        "scaling.min_tasks",
        "network.vpc_cidr",
        "scaling.schedules[0].timezone",
    } <= paths


def test_error_line_format() -> None:
    line = str(SpecError("compute.capacity", "Fargate has no GPUs"))
    assert line == "spec error: compute.capacity: Fargate has no GPUs"


# Regression (issue #12): values that validated but AWS rejects.


@pytest.mark.parametrize(
    "expr",
    [
        "cron(0\t7 ? * MON-FRI *)",
        "cron(0 7 ? * MON-FRI\n*)",
        "cron(0 7 ? * MON-FRI *)\n",
        "cron(0\r7 ? * MON-FRI *)",
        "cron(0\x0b7 ? * MON-FRI *)",
        "cron(0\x0c7 ? * MON-FRI *)",
        "cron(0 7 ? * MON-FRI\x00*)",
        "cron(0 7 ? * MON-FRI\u2028*)",
        "cron(0\u00a07 ? * MON-FRI *)",
    ],
    ids=["tab", "newline", "trailing-newline", "cr", "vt", "ff", "nul", "line-separator", "nbsp"],
)
def test_schedule_cron_takes_spaces_between_fields_only(expr: str) -> None:
    found = errors(GPU, lambda d: d["scaling"]["schedules"][1].update(cron=expr))
    assert_error(found, "scaling.schedules[1].cron", "separate the six fields with spaces, on one line")
    assert all("\n" not in line and "\t" not in line for line in SpecErrors(found).lines())


def test_schedule_cron_is_sent_as_written_so_no_surrounding_space() -> None:
    found = errors(GPU, lambda d: d["scaling"]["schedules"][1].update(cron=" cron(0 7 ? * MON-FRI *)"))
    assert_error(found, "scaling.schedules[1].cron", "must look like cron(")


@pytest.mark.parametrize(
    "zone", ["posix/America/New_York", "right/UTC", "localtime", "Factory", "posixrules"]
)
def test_schedule_timezone_refuses_names_zoneinfo_opens_but_aws_does_not_know(zone: str) -> None:
    found = errors(GPU, lambda d: d["scaling"]["schedules"][0].update(timezone=zone))
    assert_error(found, "scaling.schedules[0].timezone", "is not an IANA time zone", "posix/")


@pytest.mark.parametrize(
    "zone", ["UTC", "Etc/GMT+9", "Pacific/Tahiti", "US/Eastern", "Asia/Kolkata", "EST5EDT"]
)
def test_schedule_timezone_takes_tz_database_names_and_links(zone: str) -> None:
    found = errors(GPU, lambda d: d["scaling"]["schedules"][0].update(timezone=zone))
    assert [e for e in found if e.path.endswith("timezone")] == []


@pytest.mark.parametrize(
    ("bucket", "problem"),
    [
        ("a..b", "must not contain two adjacent dots"),
        ("192.168.5.4", "must not be formatted as an IP address"),
        ("xn--models", "must not start with 'xn--' (reserved by S3)"),
        ("models-s3alias", "must not end with '-s3alias' (reserved by S3)"),
        ("models--x-s3", "must not end with '--x-s3' (reserved by S3)"),
    ],
)
def test_model_uri_bucket_follows_the_backend_bucket_rule(bucket: str, problem: str) -> None:
    assert rules.bucket_name_error(bucket) == problem  # the very rule --backend-bucket uses
    found = errors(GPU, lambda d: d["service"].update(model_uri=f"s3://{bucket}/models/v1/"))
    assert any(e.path == "service.model_uri" and problem in e.message for e in found), found


def test_model_uri_with_a_valid_bucket_passes() -> None:
    found = errors(GPU, lambda d: d["service"].update(model_uri="s3://acme-models.eu/v1/model.onnx"))
    assert [e for e in found if e.path == "service.model_uri"] == []
