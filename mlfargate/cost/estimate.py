"""The monthly cost estimate: weekly timeline x Spot split x price book -> floor and ceiling lines.

The model is documented precisely in docs/cost-model.md (an outside check recomputes it):

- The week is exact intervals of (start, end, min, max) task bounds, to the minute (timeline.py);
  monthly = weekly x 730 / 168 (a month is 730 hours).
- For N tasks in an interval: Fargate prices tasks; EC2 / Managed Instances price
  ceil(N / tasks_per_instance) instances of the first instance type. Of those N units,
  min(N, on_demand_base) are on-demand and the rest spot_percentage% Spot, the remainder on-demand
  (expected values; fractions allowed). Each unit-hour is weighted by the interval's duration.
- Floor: every interval at its min bound; ceiling: every interval at its max bound.
- Every other billable resource the workspace creates (cost/billable.py, read from the render plan and
  the modules): running extras per instance- or task-hour (EBS volumes, detailed monitoring), fixed
  lines (ALB, NAT, public IPv4, interface endpoints, KMS keys, alarms, dashboard), usage lines at
  quantity 0 with their unit prices, free tiers stated.

Public for the cost-per-hour-now pricing of running capacity: :func:`fixed_lines` (what does not depend
on the running count) and :func:`running_extras` (what each running instance or task adds per hour).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mlfargate.cost import billable
from mlfargate.cost import timeline as timeline_mod
from mlfargate.cost.billable import CostError, ResourceCost
from mlfargate.cost.lines import HOURS_PER_MONTH, PLACES, Line, LineKind, RunningExtra
from mlfargate.cost.price_book import Price, PriceBook
from mlfargate.generate import inventory as inventory_mod
from mlfargate.spec import catalog as catalog_mod
from mlfargate.spec.catalog import Catalog, InstanceType, instances_for
from mlfargate.spec.model import Spec

__all__ = [
    "HOURS_PER_MONTH",
    "PLACES",
    "CostError",
    "Estimate",
    "Line",
    "LineKind",
    "RunningExtra",
    "estimate",
    "fixed_lines",
    "running_extras",
    "split",
]

HOURS_PER_WEEK = timeline_mod.HOURS_PER_WEEK
WEEK_TO_MONTH = HOURS_PER_MONTH / HOURS_PER_WEEK


@dataclass(frozen=True)
class Estimate:
    region: str
    price_source: str
    price_date: str
    lines: tuple[Line, ...]
    assumptions: tuple[str, ...]
    timeline: timeline_mod.Timeline
    currency: str = "USD"
    hours_per_month: int = HOURS_PER_MONTH
    capacity: dict[str, Any] = field(default_factory=dict)
    #: Every aws_* type the workspace creates, how it bills and which lines price it.
    resources: tuple[ResourceCost, ...] = ()

    @property
    def monthly_floor(self) -> float:
        return sum(line.monthly_floor for line in self.lines)

    @property
    def monthly_ceiling(self) -> float:
        return sum(line.monthly_ceiling for line in self.lines)

    def to_json(self) -> dict[str, Any]:
        return {
            "currency": self.currency,
            "region": self.region,
            "hours_per_month": self.hours_per_month,
            "price_source": self.price_source,
            "price_date": self.price_date,
            "monthly_floor": round(self.monthly_floor, PLACES),
            "monthly_ceiling": round(self.monthly_ceiling, PLACES),
            "lines": [line.to_json() for line in self.lines],
            "assumptions": list(self.assumptions),
            "capacity": self.capacity,
            "resources": [r.to_json() for r in self.resources],
            "week": {
                "start": self.timeline.week_start.isoformat(),
                "end": self.timeline.week_end.isoformat(),
                "intervals": [i.to_json() for i in self.timeline.intervals],
            },
        }


def split(units: float, on_demand_base: int, spot_percentage: int) -> tuple[float, float]:
    """(on-demand, Spot) expected units for ``units`` running units."""
    base = min(units, on_demand_base)
    rest = units - base
    spot = rest * spot_percentage / 100
    return base + (rest - spot), spot


_LIMIT_WORDS = {
    "cpu": "CPU ({has} units, {per_task} per task)",
    "memory": "memory ({has} MiB registered with ECS, {per_task} per task)",
    "gpu": "GPUs ({has}, {per_task} per task)",
}


def tasks_per_instance_reason(itype: InstanceType, cpu: int, memory: int, gpus: int) -> str:
    """Which resource limits tasks per instance, in words (for the assumptions)."""
    tpi = itype.tasks_per_instance(cpu, memory, gpus)
    binding = [
        _LIMIT_WORDS[limit.resource].format(has=limit.has, per_task=limit.per_task)
        for limit in itype.task_limits(cpu, memory, gpus)
        if limit.tasks == tpi
    ]
    return f"{tpi} task(s) per {itype.name}, limited by {' and '.join(binding)}"


def _weekly_units(
    intervals: tuple[timeline_mod.Interval, ...], per_unit: int, base: int, pct: int
) -> dict[str, float]:
    """Weekly on-demand and Spot unit-hours at the floor (interval min) and ceiling (interval max)."""
    out = {"od_floor": 0.0, "spot_floor": 0.0, "od_ceiling": 0.0, "spot_ceiling": 0.0}
    for interval in intervals:
        hours = interval.hours
        for n, tag in ((interval.min_tasks, "floor"), (interval.max_tasks, "ceiling")):
            od, spot = split(instances_for(n, per_unit), base, pct)
            out[f"od_{tag}"] += od * hours
            out[f"spot_{tag}"] += spot * hours
    return out


def _monthly(weekly: float) -> float:
    return weekly * WEEK_TO_MONTH


_FARGATE = ("aws_ecs_service", "aws_ecs_task_definition")
_EC2 = ("aws_ecs_service", "aws_ecs_task_definition", "aws_autoscaling_group", "aws_ecs_capacity_provider")
_MANAGED = ("aws_ecs_service", "aws_ecs_task_definition", "aws_ecs_capacity_provider")


def _compute_line(
    item: str,
    unit: str,
    price: Price,
    weekly: dict[str, float],
    tags: tuple[str, ...],
    resources: tuple[str, ...],
) -> Line:
    """A compute line whose monthly quantities are the weekly unit-hours of ``tags`` (od, spot) x 730/168."""
    floor = sum(weekly[f"{t}_floor"] for t in tags)
    ceiling = sum(weekly[f"{t}_ceiling"] for t in tags)
    return Line(item, unit, price, _monthly(floor), _monthly(ceiling), "compute", resources)


def estimate(
    spec: Spec,
    book: PriceBook,
    cat: Catalog | None = None,
    *,
    timeline: timeline_mod.Timeline | None = None,
) -> Estimate:
    """Price a (valid) spec with ``book``. Raises :class:`CostError` when it cannot be priced.

    ``timeline``: the week to price (default: built from the spec's scaling and schedules)."""
    cat = cat or catalog_mod.load()
    c, s = spec.compute, spec.scaling
    tl = timeline or timeline_mod.build(s.min_tasks, s.max_tasks, s.schedules)
    base, pct = spec.spot.on_demand_base, spec.spot.spot_percentage
    assumptions = [
        f"A month is {HOURS_PER_MONTH} hours: monthly = reference week x {HOURS_PER_MONTH}/{HOURS_PER_WEEK}; "
        f"the week starts {tl.week_start:%A %Y-%m-%d %H:%M} UTC (no DST change in the spec's time zones).",
        "Floor: the minimum task count in force at each minute of the week; ceiling: the maximum "
        "(a schedule counts from the minute it fires). Target tracking runs somewhere in between.",
        f"Spot split at any moment: min(N, {base}) on-demand, the rest {pct}% Spot and {100 - pct}% on-demand "
        "(expected values, so fractions appear).",
    ]
    inv = inventory_mod.build(spec)
    lines: list[Line] = []
    capacity: dict[str, Any] = {
        "kind": c.capacity,
        "week_task_hours": [round(tl.min_task_hours, PLACES), round(tl.max_task_hours, PLACES)],
    }
    if c.capacity == "fargate":
        if c.gpus:
            raise CostError(
                "Fargate has no GPUs: a GPU task cannot be priced on Fargate; use ec2 or managed_instances"
            )
        vcpu, gb = c.cpu / 1024, c.memory / 1024
        arch = "arm" if c.architecture == "arm64" else "x86"
        od_price = task_price(book, f"fargate.{arch}", vcpu, gb)
        w = _weekly_units(tl.intervals, 1, base, pct)
        label = f"{c.architecture}, {vcpu:g} vCPU, {gb:g} GB"
        lines.append(
            _compute_line(f"Fargate on-demand tasks ({label})", "task-hour", od_price, w, ("od",), _FARGATE)
        )
        if pct > 0:
            spot_prefix = "fargate.spot_arm" if arch == "arm" else "fargate.spot"
            spot_price = task_price(book, spot_prefix, vcpu, gb)
            lines.append(
                _compute_line(
                    f"Fargate Spot tasks ({label})", "task-hour", spot_price, w, ("spot",), _FARGATE
                )
            )
        assumptions.append(
            f"Fargate task-hour = {vcpu:g} vCPU x vCPU-hour price + {gb:g} GB x GB-hour price"
            + (" (Fargate Spot runs arm64 Linux tasks since 2024-09)." if arch == "arm" and pct else ".")
        )
        capacity["tasks_per_unit"] = 1
        unit_hours = (
            _monthly(w["od_floor"] + w["spot_floor"]),
            _monthly(w["od_ceiling"] + w["spot_ceiling"]),
        )
        extras_per = "task"
    else:
        first = c.instance_types[0]
        itype = cat.instance(first)
        if itype is None:
            raise CostError(f"compute.instance_types[0]: '{first}' is not in the catalog")
        tpi = itype.tasks_per_instance(c.cpu, c.memory, c.gpus)
        if tpi < 1:
            raise CostError(
                f"a task ({c.cpu} CPU units, {c.memory} MiB, {c.gpus} GPU) does not fit on {first}"
            )
        w = _weekly_units(tl.intervals, tpi, base, pct)
        od, spot = book.on_demand(first), book.spot(first)
        resources = _MANAGED if c.capacity == "managed_instances" else _EC2
        lines.append(_compute_line(f"EC2 {first} on-demand", "instance-hour", od, w, ("od",), resources))
        lines.append(_compute_line(f"EC2 {first} Spot", "instance-hour", spot, w, ("spot",), resources))
        others = c.instance_types[1:]
        assumptions.append(
            f"N tasks run on ceil(N / {tpi}) {first} instances "
            f"({tasks_per_instance_reason(itype, c.cpu, c.memory, c.gpus)}); "
            f"priced at the first instance type"
            + (f"; {', '.join(others)} (Spot pool alternatives) are not priced." if others else ".")
        )
        if c.capacity == "managed_instances":
            fee = book.mi_fee(first)
            lines.append(
                _compute_line(
                    f"ECS Managed Instances fee {first}",
                    "instance-hour",
                    fee,
                    w,
                    ("od", "spot"),
                    ("aws_ecs_capacity_provider",),
                )
            )
            assumptions.append(
                "Managed Instances add a management fee per instance-hour (billed per second, one-minute "
                f"minimum), on-demand and Spot alike: {fee.usd:g} USD for {first}"
                + ("" if fee.estimate else f" ({fee.source})")
                + "."
            )
        capacity["tasks_per_unit"] = tpi
        capacity["instance_type"] = first
        unit_hours = (
            _monthly(w["od_floor"] + w["spot_floor"]),
            _monthly(w["od_ceiling"] + w["spot_ceiling"]),
        )
        extras_per = "instance"
    extras = billable.running_extras(inv, spec, book, assumptions)
    lines.extend(x.line(*unit_hours) for x in extras if x.per == extras_per)
    lines.extend(billable.fixed_lines(inv, spec, book, assumptions))
    _estimate_notes(lines, assumptions)
    assumptions.extend(tl.notes)
    assumptions.extend(book.notes)
    return Estimate(
        region=spec.aws.region,
        price_source=book.source,
        price_date=book.date,
        lines=tuple(lines),
        assumptions=tuple(assumptions),
        timeline=tl,
        currency=book.currency,
        capacity=capacity,
        resources=tuple(billable.resource_costs(inv, lines)),
    )


def _estimate_notes(lines: list[Line], assumptions: list[str]) -> None:
    """One assumption per estimated price, naming the line, the price and its source (which says
    ESTIMATE or ASSUMPTION itself: nothing here repeats it)."""
    seen: set[str] = set()
    for line in lines:
        price = line.price
        if price.estimate and price.key not in seen:
            seen.add(price.key)
            assumptions.append(f"{line.item} at {price.usd:g} USD per {line.unit}: {price.source}")


def task_price(book: PriceBook, prefix: str, vcpu: float, gb: float) -> Price:
    """One Fargate task-hour: ``vcpu`` x the vCPU-hour price + ``gb`` x the GB-hour price of ``prefix``."""
    p_cpu, p_gb = book.get(f"{prefix}.vcpu_hour"), book.get(f"{prefix}.gb_hour")
    return Price(
        key=f"{prefix}.task_hour",
        usd=vcpu * p_cpu.usd + gb * p_gb.usd,
        source=f"{vcpu:g} x {p_cpu.usd:g} per vCPU-hour + {gb:g} x {p_gb.usd:g} per GB-hour; {p_cpu.source}",
        date=p_cpu.date,
        estimate=p_cpu.estimate or p_gb.estimate,
    )


def fixed_lines(spec: Spec, book: PriceBook, assumptions: list[str]) -> list[Line]:
    """Every line of the workspace that does not depend on how many tasks run: hourly and monthly
    charges (``kind`` "fixed", monthly quantities), usage lines at quantity 0 and free tiers, read from
    what the workspace creates for ``spec``. Appends the assumptions they rest on to ``assumptions``."""
    return billable.fixed_lines(inventory_mod.build(spec), spec, book, assumptions)


def running_extras(spec: Spec, book: PriceBook, assumptions: list[str] | None = None) -> list[RunningExtra]:
    """What each running instance (``per`` "instance": EBS volumes, detailed monitoring) or Fargate task
    (``per`` "task": ephemeral storage above 20 GiB) adds per hour it runs, besides its compute price."""
    return billable.running_extras(
        inventory_mod.build(spec), spec, book, [] if assumptions is None else assumptions
    )
