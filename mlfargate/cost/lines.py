"""A priced line of an estimate, and the charges that run with every instance or task.

Shared by :mod:`mlfargate.cost.estimate` (the monthly floor/ceiling) and :mod:`mlfargate.cost.billable`
(what the workspace creates besides compute), and by the cost-per-hour-now pricing of running capacity.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from mlfargate.cost.price_book import Price

HOURS_PER_MONTH = 730
#: Decimal places kept in JSON (quantities and money): enough for an outside check to match.
PLACES = 6

#: compute: tasks or instances; extra: charges every running instance/task carries (EBS, monitoring, the
#: Managed Instances fee); fixed: billed by the hour or month whatever runs; usage: quantity 0 with its unit
#: price (multiply by your volume); free: a billable service inside its free tier (price 0, ``note`` says why).
LineKind = Literal["compute", "extra", "fixed", "usage", "free"]


@dataclass(frozen=True)
class Line:
    item: str
    unit: str
    price: Price
    floor_quantity: float
    ceiling_quantity: float
    kind: LineKind
    #: The aws_* resource types of the workspace this line prices.
    resources: tuple[str, ...] = ()
    #: Why a free line costs nothing, or what a usage line counts.
    note: str = ""

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
            "resources": list(self.resources),
            "note": self.note,
        }


Per = Literal["instance", "task"]


@dataclass(frozen=True)
class RunningExtra:
    """A charge each running instance (or task) carries for every hour it runs: ``per_hour`` of ``unit``
    at ``price`` (e.g. a 100 GiB gp3 root volume adds 100/730 GB-month an instance-hour)."""

    item: str
    unit: str
    price: Price
    per_hour: float
    per: Per
    resources: tuple[str, ...] = ()

    @property
    def usd_per_hour(self) -> float:
        """USD one running instance (or task) adds per hour."""
        return self.price.usd * self.per_hour

    def line(self, floor_unit_hours: float, ceiling_unit_hours: float) -> Line:
        """The monthly line for that many instance-hours (or task-hours) a month."""
        return Line(
            self.item,
            self.unit,
            self.price,
            self.per_hour * floor_unit_hours,
            self.per_hour * ceiling_unit_hours,
            "extra",
            self.resources,
        )


def free_price(key: str, why: str, date: str) -> Price:
    """The zero price of a line inside its free tier; ``why`` says which tier and what lies beyond it."""
    return Price(key=key, usd=0.0, source=why, date=date)
