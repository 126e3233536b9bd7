"""Cost per hour now: what is running at this moment, priced with the price book.

The live snapshot (:mod:`mlfargate.live`) counts what runs by capacity provider and hands the counts
here:

- Fargate / Fargate Spot: each running task is ``vCPU x vCPU-hour + GB x GB-hour`` at the on-demand
  or Spot price of its architecture (the task's own size, so a rollout between two sizes is right);
- ECS on EC2: each instance registered to the cluster at the on-demand or Spot price of its type;
- ECS Managed Instances: the same, plus the management fee per instance-hour (on-demand and Spot alike);
- what each running instance or task adds per hour besides compute (EBS root volumes and detailed
  monitoring of EC2 / Managed Instances hosts, Fargate ephemeral storage above 20 GiB:
  :func:`mlfargate.cost.estimate.running_extras`);
- plus the fixed lines of the monthly estimate (:func:`mlfargate.cost.estimate.fixed_lines`: load
  balancer and NAT gateway hours; traffic lines at 0 with their unit prices), per hour.

Prices keep the estimate flag of the price book (a Spot price that is an estimate, the Managed
Instances fee), exactly as ``mlfargate cost`` shows them. A running thing without a price (an instance
type the book does not list) is reported in ``unpriced``, never priced at 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from mlfargate.cost.estimate import HOURS_PER_MONTH, PLACES, LineKind, fixed_lines, running_extras, task_price
from mlfargate.cost.price_book import Price, PriceBook, PricingError
from mlfargate.spec.model import Spec

Purchase = Literal["on-demand", "spot"]


@dataclass(frozen=True)
class TaskCount:
    """Running Fargate tasks of one size and purchase option."""

    purchase: Purchase
    cpu: int  # CPU units (1024 = 1 vCPU)
    memory: int  # MiB
    count: int


@dataclass(frozen=True)
class InstanceCount:
    """Running EC2 / Managed Instances hosts of one type and purchase option."""

    instance_type: str
    purchase: Purchase
    count: int


@dataclass(frozen=True)
class NowLine:
    item: str
    unit: str
    price: Price
    quantity: float  # units per hour
    kind: LineKind

    @property
    def per_hour(self) -> float:
        return self.price.usd * self.quantity

    def to_json(self) -> dict[str, Any]:
        return {
            "item": self.item,
            "kind": self.kind,
            "unit_price": round(self.price.usd, 10),
            "unit": self.unit,
            "quantity_per_hour": round(self.quantity, PLACES),
            "per_hour": round(self.per_hour, PLACES),
            "price_key": self.price.key,
            "price_source": self.price.source,
            "price_date": self.price.date,
            "price_is_estimate": self.price.estimate,
        }


@dataclass(frozen=True)
class CostNow:
    region: str
    currency: str
    price_source: str
    price_date: str
    lines: tuple[NowLine, ...]
    assumptions: tuple[str, ...]
    #: Running things that could not be priced, one line each (never counted as 0 silently).
    unpriced: tuple[str, ...] = ()

    @property
    def per_hour(self) -> float:
        return sum(line.per_hour for line in self.lines)

    @property
    def per_month(self) -> float:
        """This hour's rate held for a month of 730 hours (a projection, not an estimate)."""
        return self.per_hour * HOURS_PER_MONTH

    @property
    def has_estimates(self) -> bool:
        return any(line.price.estimate and line.quantity for line in self.lines)

    def to_json(self) -> dict[str, Any]:
        return {
            "currency": self.currency,
            "region": self.region,
            "price_source": self.price_source,
            "price_date": self.price_date,
            "per_hour": round(self.per_hour, PLACES),
            "per_month_at_this_rate": round(self.per_month, PLACES - 4),
            "hours_per_month": HOURS_PER_MONTH,
            "lines": [line.to_json() for line in self.lines],
            "unpriced": list(self.unpriced),
            "assumptions": list(self.assumptions),
        }


def cost_now(
    spec: Spec,
    book: PriceBook,
    *,
    tasks: Sequence[TaskCount] = (),
    instances: Sequence[InstanceCount] = (),
) -> CostNow:
    """Price what runs now: ``tasks`` (Fargate) and ``instances`` (EC2 / Managed Instances), plus the
    spec's fixed lines. Counts of zero are left out; lines are in a stable order."""
    lines: list[NowLine] = []
    unpriced: list[str] = []
    assumptions: list[str] = []
    arch = "arm" if spec.compute.architecture == "arm64" else "x86"
    for t in sorted(tasks, key=lambda t: (t.purchase != "on-demand", t.cpu, t.memory)):
        if not t.count:
            continue
        vcpu, gb = t.cpu / 1024, t.memory / 1024
        prefix = f"fargate.{arch}" if t.purchase == "on-demand" else _spot_prefix(arch)
        label = f"{spec.compute.architecture}, {vcpu:g} vCPU, {gb:g} GB"
        what = "Fargate on-demand" if t.purchase == "on-demand" else "Fargate Spot"
        try:
            price = task_price(book, prefix, vcpu, gb)
        except PricingError as exc:
            unpriced.append(f"{t.count} {what} task(s) ({label}): {exc}")
            continue
        lines.append(NowLine(f"{what} tasks ({label})", "task", price, float(t.count), "compute"))
    if tasks:
        assumptions.append(
            "Fargate task per hour = vCPU x vCPU-hour price + GB x GB-hour price, at each task's size."
        )
    managed = spec.compute.capacity == "managed_instances"
    fees: dict[str, int] = {}
    for i in sorted(instances, key=lambda i: (i.instance_type, i.purchase != "on-demand")):
        if not i.count:
            continue
        word = "on-demand" if i.purchase == "on-demand" else "Spot"
        try:
            price = (
                book.on_demand(i.instance_type) if i.purchase == "on-demand" else book.spot(i.instance_type)
            )
        except PricingError as exc:
            unpriced.append(f"{i.count} {word} {i.instance_type} instance(s): {exc}")
            continue
        lines.append(NowLine(f"EC2 {i.instance_type} {word}", "instance", price, float(i.count), "compute"))
        if price.estimate:
            assumptions.append(
                f"The {i.instance_type} {word} price ({price.usd:g}) is not an observed price: {price.source}"
            )
        fees[i.instance_type] = fees.get(i.instance_type, 0) + i.count
    if instances:
        assumptions.append(
            "EC2 / Managed Instances: every instance registered to the cluster is priced, with or without tasks."
        )
    if managed:
        for itype, count in sorted(fees.items()):
            fee = book.mi_fee(itype)
            lines.append(
                NowLine(f"ECS Managed Instances fee {itype}", "instance", fee, float(count), "compute")
            )
            assumptions.append(
                f"Managed Instances add a management fee per instance-hour, on-demand and Spot alike: "
                f"{fee.usd:g} USD for {itype} ({fee.source})."
            )
    running = {"task": sum(t.count for t in tasks), "instance": sum(i.count for i in instances)}
    for extra in running_extras(spec, book, assumptions):
        if running[extra.per]:
            quantity = extra.per_hour * running[extra.per]
            lines.append(NowLine(extra.item, extra.unit, extra.price, quantity, "extra"))
    for line in fixed_lines(spec, book, assumptions):
        lines.append(
            NowLine(line.item, line.unit, line.price, line.ceiling_quantity / HOURS_PER_MONTH, line.kind)
        )
    assumptions.append(
        f"Per month at this rate = per hour x {HOURS_PER_MONTH}: a projection of this hour, not the monthly estimate."
    )
    assumptions.extend(book.notes)
    return CostNow(
        region=spec.aws.region,
        currency=book.currency,
        price_source=book.source,
        price_date=book.date,
        lines=tuple(lines),
        assumptions=tuple(dict.fromkeys(assumptions)),
        unpriced=tuple(unpriced),
    )


def _spot_prefix(arch: str) -> str:
    # The price book records Fargate Spot on ARM as fargate.spot_arm.* when a refresh found it.
    return "fargate.spot" if arch == "x86" else "fargate.spot_arm"
