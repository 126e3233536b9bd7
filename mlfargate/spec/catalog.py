"""The AWS catalog: instance types, Fargate task sizes and regions, loaded from package data.

The data file (``mlfargate/data/catalog.yaml``) records the source and date of every fact; code
never scatters these numbers as literals.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any, Literal

from mlfargate.spec.text import load_data

AcceleratorKind = Literal["nvidia", "neuron"]


@dataclass(frozen=True)
class Accelerator:
    kind: AcceleratorKind
    model: str
    count: int
    memory_gib: int


@dataclass(frozen=True)
class InstanceType:
    name: str
    vcpu: int
    memory_gib: int
    arch: Literal["x86_64", "arm64"]
    accelerator: Accelerator | None
    registered_memory_mib: int

    @property
    def nvidia_gpus(self) -> int:
        """GPUs ECS can hand to tasks through ``resourceRequirements`` (NVIDIA only)."""
        return self.accelerator.count if self.accelerator and self.accelerator.kind == "nvidia" else 0

    @property
    def cpu_units(self) -> int:
        return self.vcpu * 1024

    def task_limits(self, cpu: int, memory: int, gpus: int) -> list[TaskLimit]:
        """How many tasks of this size each resource of one instance allows: CPU units, the memory ECS
        registers (less than physical) and, for GPU tasks, NVIDIA GPUs. The one place this arithmetic
        lives: the rules (a task that does not fit), the cost (instances per task count) and the
        generator (the Auto Scaling group's size) all read it."""
        limits = [
            TaskLimit("cpu", self.cpu_units // cpu if cpu else None, self.cpu_units, cpu),
            TaskLimit("memory", self.registered_memory_mib // memory, self.registered_memory_mib, memory),
        ]
        if gpus:
            limits.append(TaskLimit("gpu", self.nvidia_gpus // gpus, self.nvidia_gpus, gpus))
        return limits

    def tasks_per_instance(self, cpu: int, memory: int, gpus: int) -> int:
        """How many tasks of this size fit on one instance (the tightest of :meth:`task_limits`)."""
        return min(limit.tasks for limit in self.task_limits(cpu, memory, gpus) if limit.tasks is not None)


@dataclass(frozen=True)
class TaskLimit:
    """One resource's limit on the tasks an instance holds: ``tasks`` = ``has // per_task`` (None when a
    task asks for none of it)."""

    resource: Literal["cpu", "memory", "gpu"]
    tasks: int | None
    has: int
    per_task: int


def instances_for(tasks: int, tasks_per_instance: int) -> int:
    """Instances that hold ``tasks`` tasks at ``tasks_per_instance`` each (0 for no tasks)."""
    return math.ceil(tasks / tasks_per_instance) if tasks else 0


@dataclass(frozen=True)
class FargateSize:
    cpu: int
    memory: tuple[int, ...]


@dataclass(frozen=True)
class Catalog:
    date: str
    sources: dict[str, str]
    instance_types: dict[str, InstanceType]
    fargate_sizes: dict[int, FargateSize]
    region_azs: dict[str, int] = field(default_factory=dict)

    def instance(self, name: str) -> InstanceType | None:
        return self.instance_types.get(name)

    def fargate_memory_for(self, cpu: int) -> tuple[int, ...]:
        size = self.fargate_sizes.get(cpu)
        return size.memory if size else ()


def _fargate(entry: dict[str, Any]) -> FargateSize:
    if "memory" in entry:
        values = tuple(int(m) for m in entry["memory"])
    else:
        values = tuple(range(int(entry["min"]), int(entry["max"]) + 1, int(entry["step"])))
    return FargateSize(cpu=int(entry["cpu"]), memory=values)


def _instance(name: str, entry: dict[str, Any], fraction: float) -> InstanceType:
    acc = entry.get("accelerator")
    accelerator = (
        Accelerator(
            kind=acc["kind"], model=acc["model"], count=int(acc["count"]), memory_gib=int(acc["memory_gib"])
        )
        if acc
        else None
    )
    physical_mib = int(entry["memory_gib"]) * 1024
    return InstanceType(
        name=name,
        vcpu=int(entry["vcpu"]),
        memory_gib=int(entry["memory_gib"]),
        arch=entry["arch"],
        accelerator=accelerator,
        registered_memory_mib=int(entry.get("registered_memory_mib", math.floor(physical_mib * fraction))),
    )


@cache
def load() -> Catalog:
    raw = load_data(resources.files("mlfargate.data").joinpath("catalog.yaml").read_text())
    fraction = float(raw["registered_memory_fraction"])
    return Catalog(
        date=str(raw["date"]),
        sources=dict(raw["sources"]),
        instance_types={n: _instance(n, e, fraction) for n, e in raw["instance_types"].items()},
        fargate_sizes={int(e["cpu"]): _fargate(e) for e in raw["fargate"]},
        region_azs={r: int(e["azs"]) for r, e in raw["regions"].items()},
    )
