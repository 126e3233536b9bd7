"""The catalog as code reads it: the data file parsed into the facts every rule, estimate and generated
Auto Scaling group relies on, and the per-instance task arithmetic.

``catalog.load`` is cached for the life of the process; these tests parse the file afresh
(``load.__wrapped__``), so what they check is the parser, not whatever an earlier test left cached.
"""

from __future__ import annotations

import math
from importlib import resources

import pytest
import yaml

from mlfargate.spec import catalog
from mlfargate.spec.catalog import Accelerator, TaskLimit, instances_for


@pytest.fixture
def fresh() -> catalog.Catalog:
    """The catalog parsed for this test alone (a shared one would be parsed once, for the first test)."""
    return catalog.load.__wrapped__()


@pytest.fixture(scope="module")
def raw() -> dict[str, object]:
    data: dict[str, object] = yaml.safe_load(
        resources.files("mlfargate.data").joinpath("catalog.yaml").read_text()
    )
    return data


def test_fargate_sizes_are_the_aws_table(fresh: catalog.Catalog) -> None:
    # AWS's table of Fargate task sizes (catalog.yaml cites it): a list for 256 CPU units, inclusive
    # min..max ranges with a step for the others.
    assert fresh.fargate_memory_for(256) == (512, 1024, 2048)
    assert fresh.fargate_memory_for(512) == (1024, 2048, 3072, 4096)
    assert fresh.fargate_memory_for(4096) == tuple(range(8192, 30720 + 1, 1024))
    assert fresh.fargate_memory_for(16384)[0] == 32768 and fresh.fargate_memory_for(16384)[-1] == 122880
    assert fresh.fargate_memory_for(16384)[1] - fresh.fargate_memory_for(16384)[0] == 8192
    assert sorted(fresh.fargate_sizes) == [256, 512, 1024, 2048, 4096, 8192, 16384]
    assert all(size.cpu == cpu for cpu, size in fresh.fargate_sizes.items())
    assert fresh.fargate_memory_for(384) == ()


def test_instance_types_carry_their_hardware(fresh: catalog.Catalog) -> None:
    g5 = fresh.instance("g5.xlarge")
    assert g5 is not None
    assert (g5.name, g5.vcpu, g5.memory_gib, g5.arch) == ("g5.xlarge", 4, 16, "x86_64")
    assert g5.accelerator == Accelerator(kind="nvidia", model="NVIDIA A10G", count=1, memory_gib=24)
    assert g5.nvidia_gpus == 1 and g5.cpu_units == 4096
    p5 = fresh.instance("p5.48xlarge")
    assert p5 is not None and p5.nvidia_gpus == 8 and p5.accelerator is not None
    assert p5.accelerator.memory_gib == 80
    inf2 = fresh.instance("inf2.xlarge")
    assert inf2 is not None and inf2.accelerator is not None and inf2.accelerator.kind == "neuron"
    assert inf2.nvidia_gpus == 0  # Inferentia is no GPU ECS can hand out
    c7g = fresh.instance("c7g.xlarge")
    assert c7g is not None and c7g.arch == "arm64" and c7g.accelerator is None and c7g.nvidia_gpus == 0
    assert fresh.instance("g99.huge") is None


def test_registered_memory_is_the_measured_value_else_the_fraction(
    fresh: catalog.Catalog, raw: dict[str, object]
) -> None:
    # g4dn.xlarge registers 15731 MiB of 16384 (measured, listed in the file); a type without a
    # measured value registers floor(physical x registered_memory_fraction).
    g4dn = fresh.instance("g4dn.xlarge")
    assert g4dn is not None and g4dn.registered_memory_mib == 15731
    fraction = raw["registered_memory_fraction"]
    assert fraction == 0.96
    g5 = fresh.instance("g5.xlarge")
    assert g5 is not None and g5.registered_memory_mib == math.floor(16 * 1024 * 0.96) == 15728
    m6i = fresh.instance("m6i.2xlarge")
    assert m6i is not None and m6i.registered_memory_mib == math.floor(32 * 1024 * 0.96)


def test_every_type_and_region_of_the_file_is_loaded(fresh: catalog.Catalog, raw: dict[str, object]) -> None:
    types = raw["instance_types"]
    assert isinstance(types, dict) and set(fresh.instance_types) == set(types)
    regions = raw["regions"]
    assert isinstance(regions, dict) and fresh.region_azs == {r: int(e["azs"]) for r, e in regions.items()}
    assert fresh.region_azs["us-east-1"] == 6 and fresh.region_azs["us-west-1"] == 2
    assert fresh.date == str(raw["date"]) and fresh.sources == raw["sources"]


def test_task_limits_name_each_resource_with_what_the_instance_has() -> None:
    g4dn = catalog.load().instance("g4dn.xlarge")
    assert g4dn is not None
    assert g4dn.task_limits(1024, 4096, 1) == [
        TaskLimit("cpu", 4, 4096, 1024),
        TaskLimit("memory", 3, 15731, 4096),
        TaskLimit("gpu", 1, 1, 1),
    ]
    assert g4dn.tasks_per_instance(1024, 4096, 1) == 1
    # A CPU task: no GPU limit; memory binds.
    assert g4dn.task_limits(1024, 4096, 0) == [
        TaskLimit("cpu", 4, 4096, 1024),
        TaskLimit("memory", 3, 15731, 4096),
    ]
    assert g4dn.tasks_per_instance(1024, 4096, 0) == 3


def test_a_task_without_a_cpu_reservation_is_limited_by_memory_alone() -> None:
    # ECS on EC2 allows a task definition without task-level CPU: CPU then limits nothing.
    m6i = catalog.load().instance("m6i.xlarge")
    assert m6i is not None
    limits = m6i.task_limits(0, 2048, 0)
    assert limits[0] == TaskLimit("cpu", None, 4096, 0)
    assert m6i.tasks_per_instance(0, 2048, 0) == m6i.registered_memory_mib // 2048


@pytest.mark.parametrize(
    ("tasks", "per_instance", "instances"), [(0, 3, 0), (0, 0, 0), (1, 3, 1), (3, 3, 1), (4, 3, 2), (7, 1, 7)]
)
def test_instances_for_rounds_up_and_needs_none_for_no_tasks(
    tasks: int, per_instance: int, instances: int
) -> None:
    # (0, 0): no tasks need no instance, even of a type that holds none (never a division by zero).
    assert instances_for(tasks, per_instance) == instances


def test_a_memory_range_includes_its_maximum_and_nothing_past_it() -> None:
    size = catalog._fargate({"cpu": 1, "min": 1, "max": 3, "step": 1})
    assert size == catalog.FargateSize(cpu=1, memory=(1, 2, 3))
    assert catalog._fargate({"cpu": "256", "memory": ["512", 1024]}) == catalog.FargateSize(256, (512, 1024))


def test_an_instance_entry_is_read_field_by_field() -> None:
    entry = {
        "vcpu": "8",
        "memory_gib": "32",
        "arch": "arm64",
        "accelerator": {"kind": "nvidia", "model": "NVIDIA T4G", "count": "2", "memory_gib": "16"},
    }
    got = catalog._instance("x.large", entry, 0.5)
    assert got == catalog.InstanceType(
        name="x.large",
        vcpu=8,
        memory_gib=32,
        arch="arm64",
        accelerator=Accelerator(kind="nvidia", model="NVIDIA T4G", count=2, memory_gib=16),
        registered_memory_mib=16384,  # floor(32 GiB x 1024 x 0.5)
    )
    measured = catalog._instance("x.large", {**entry, "registered_memory_mib": "30000"}, 0.5)
    assert measured.registered_memory_mib == 30000
    plain = catalog._instance("c.large", {"vcpu": 2, "memory_gib": 3, "arch": "x86_64"}, 0.9)
    assert plain.accelerator is None and plain.registered_memory_mib == 2764  # floor(3072 x 0.9)
