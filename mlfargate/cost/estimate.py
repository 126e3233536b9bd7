"""The monthly cost estimate: weekly timeline x Spot split x price book -> floor and ceiling lines.

The model is documented precisely in docs/cost-model.md (an outside check recomputes it):

- Monthly = reference week x 730 / 168 (a month is 730 hours).
- For N tasks in an hour: Fargate prices tasks; EC2 / Managed Instances price
  ceil(N / tasks_per_instance) instances of the first instance type. Of those N units,
  min(N, on_demand_base) are on-demand and the rest spot_percentage% Spot, the remainder on-demand
  (expected values; fractions allowed).
- Floor: every hour at its min bound; ceiling: every hour at its max bound.
- Fixed lines: ALB hours, NAT gateway hours; usage lines at zero quantity with their unit prices.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from mlfargate.cost import timeline as timeline_mod
from mlfargate.cost.price_book import Price, PriceBook
from mlfargate.errors import MlfargateError
from mlfargate.spec import catalog as catalog_mod
from mlfargate.spec.catalog import Catalog, InstanceType, instances_for
from mlfargate.spec.model import Spec

HOURS_PER_MONTH = 730
HOURS_PER_WEEK = timeline_mod.HOURS_PER_WEEK
WEEK_TO_MONTH = HOURS_PER_MONTH / HOURS_PER_WEEK
#: Decimal places kept in JSON (quantities and money): enough for an outside check to match.
PLACES = 6

LineKind = Literal["compute", "fixed", "usage"]


class CostError(MlfargateError):
    """The spec cannot be priced as written (e.g. a task that fits no instance)."""


@dataclass(frozen=True)
class Line:
    item: str
    unit: str
    price: Price
    floor_quantity: float
    ceiling_quantity: float
    kind: LineKind

    @property
    def unit_price(self) -> float:
        return self.price.usd

    @property
    def monthly_floor(self) -> float:
        return self.unit_price * self.floor_quantity

    @property
    def monthly_ceiling(self) -> float:
        return self.unit_price * self.ceiling_quantity

    def to_json(self) -> dict[str, Any]:
        return {
            "item": self.item,
            "kind": self.kind,
            "unit_price": round(self.unit_price, 10),
            "unit": self.unit,
            "floor_quantity": round(self.floor_quantity, PLACES),
            "ceiling_quantity": round(self.ceiling_quantity, PLACES),
            "monthly_floor": round(self.monthly_floor, PLACES),
            "monthly_ceiling": round(self.monthly_ceiling, PLACES),
            "price_key": self.price.key,
            "price_source": self.price.source,
            "price_date": self.price.date,
            "price_is_estimate": self.price.estimate,
        }


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
            "week": {
                "start": self.timeline.week_start.isoformat(),
                "slots": [list(s) for s in self.timeline.slots],
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


def _weekly_units(slots: tuple[tuple[int, int], ...], per_unit: int, base: int, pct: int) -> dict[str, float]:
    """Weekly on-demand and Spot unit-hours at the floor (slot min) and ceiling (slot max)."""
    out = {"od_floor": 0.0, "spot_floor": 0.0, "od_ceiling": 0.0, "spot_ceiling": 0.0}
    for lo, hi in slots:
        for n, tag in ((lo, "floor"), (hi, "ceiling")):
            units = instances_for(n, per_unit)
            od, spot = split(units, base, pct)
            out[f"od_{tag}"] += od
            out[f"spot_{tag}"] += spot
    return out


def _monthly(weekly: float) -> float:
    return weekly * WEEK_TO_MONTH


def _compute_line(item: str, unit: str, price: Price, weekly: dict[str, float], *tags: str) -> Line:
    """A compute line whose monthly quantities are the weekly unit-hours of ``tags`` (od, spot) x 730/168."""
    floor = sum(weekly[f"{t}_floor"] for t in tags)
    ceiling = sum(weekly[f"{t}_ceiling"] for t in tags)
    return Line(item, unit, price, _monthly(floor), _monthly(ceiling), "compute")


def estimate(spec: Spec, book: PriceBook, cat: Catalog | None = None) -> Estimate:
    """Price a (valid) spec with ``book``. Raises :class:`CostError` when it cannot be priced."""
    cat = cat or catalog_mod.load()
    c, s = spec.compute, spec.scaling
    tl = timeline_mod.build(s.min_tasks, s.max_tasks, s.schedules)
    base, pct = spec.spot.on_demand_base, spec.spot.spot_percentage
    assumptions = [
        f"A month is {HOURS_PER_MONTH} hours: monthly = reference week x {HOURS_PER_MONTH}/{HOURS_PER_WEEK}; "
        f"the week starts {tl.week_start:%A %Y-%m-%d %H:%M} UTC (no DST change in the spec's time zones).",
        "Floor: every hour at its minimum task count; ceiling: every hour at its maximum. "
        "Target tracking runs somewhere in between.",
        f"Spot split per hour: min(N, {base}) on-demand, the rest {pct}% Spot and {100 - pct}% on-demand "
        "(expected values, so fractions appear).",
    ]
    lines: list[Line] = []
    capacity: dict[str, Any] = {"kind": c.capacity, "week_task_hours": [tl.min_task_hours, tl.max_task_hours]}
    if c.capacity == "fargate":
        if c.gpus:
            raise CostError(
                "Fargate has no GPUs: a GPU task cannot be priced on Fargate; use ec2 or managed_instances"
            )
        vcpu, gb = c.cpu / 1024, c.memory / 1024
        arch = "arm" if c.architecture == "arm64" else "x86"
        od_price = task_price(book, f"fargate.{arch}", vcpu, gb)
        w = _weekly_units(tl.slots, 1, base, pct)
        label = f"{c.architecture}, {vcpu:g} vCPU, {gb:g} GB"
        lines.append(_compute_line(f"Fargate on-demand tasks ({label})", "task-hour", od_price, w, "od"))
        if arch == "x86":
            spot_price = task_price(book, "fargate.spot", vcpu, gb)
            lines.append(_compute_line(f"Fargate Spot tasks ({label})", "task-hour", spot_price, w, "spot"))
        else:
            assumptions.append("Fargate Spot runs x86_64 only: an arm64 service has no Spot line.")
        assumptions.append(
            f"Fargate task-hour = {vcpu:g} vCPU x vCPU-hour price + {gb:g} GB x GB-hour price."
        )
        capacity["tasks_per_unit"] = 1
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
        w = _weekly_units(tl.slots, tpi, base, pct)
        od, spot = book.on_demand(first), book.spot(first)
        lines.append(_compute_line(f"EC2 {first} on-demand", "instance-hour", od, w, "od"))
        lines.append(_compute_line(f"EC2 {first} Spot", "instance-hour", spot, w, "spot"))
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
                _compute_line(f"ECS Managed Instances fee {first}", "instance-hour", fee, w, "od", "spot")
            )
            assumptions.append(
                "Managed Instances add a management fee per instance-hour, on-demand and Spot alike: "
                f"{fee.usd:g} USD for {first} ({fee.source})."
            )
        if spot.estimate:
            assumptions.append(
                f"The {first} Spot price ({spot.usd:g}) is not an observed price: {spot.source}"
            )
        capacity["tasks_per_unit"] = tpi
        capacity["instance_type"] = first
    lines.extend(fixed_lines(spec, book, assumptions))
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
    )


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
    """The lines that do not depend on the task count, with monthly quantities (fixed: per hour x 730;
    usage: 0 with their unit prices). Appends what they assume to ``assumptions``. Shared by the
    monthly estimate and the cost per hour now (:mod:`mlfargate.cost.now`)."""
    hours = float(HOURS_PER_MONTH)
    lines = [Line("Application Load Balancer", "hour", book.get("alb.hour"), hours, hours, "fixed")]
    net = spec.network
    nat = net.nat
    gateways = {"none": 0, "single": 1, "per_az": net.az_count}[nat]
    if gateways:
        q = hours * gateways
        lines.append(
            Line(f"NAT gateway ({nat}: {gateways})", "gateway-hour", book.get("nat.hour"), q, q, "fixed")
        )
    elif not net.creates_vpc:
        assumptions.append(
            "Existing VPC: its NAT gateways (if any) are not created by this deployment and not priced."
        )
    lines.append(
        Line("ALB capacity units (traffic)", "LCU-hour", book.get("alb.lcu_hour"), 0.0, 0.0, "usage")
    )
    if gateways:
        lines.append(Line("NAT data processed", "GB", book.get("nat.gb"), 0.0, 0.0, "usage"))
    lines.append(Line("CloudWatch Logs ingestion", "GB", book.get("logs.ingest_gb"), 0.0, 0.0, "usage"))
    assumptions.append(
        "Zero traffic: ALB LCU-hours, NAT data processed and log ingestion are listed at quantity 0 with "
        "their unit prices; multiply by your volume."
    )
    assumptions.append(
        "Not included: EBS volumes, data transfer out, ECR storage, CloudWatch metrics and alarms, "
        "VPC endpoints, Savings Plans or Reserved Instance discounts, taxes."
    )
    return lines
