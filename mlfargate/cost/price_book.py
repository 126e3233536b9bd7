"""The price book: a bundled snapshot (package data) and a local cache refreshed from AWS.

Prices are a flat map of keys to :class:`Price` (value, unit source, date, estimate flag):

- ``fargate.x86.vcpu_hour`` / ``fargate.x86.gb_hour``, ``fargate.arm.*``, ``fargate.spot.*``
- ``fargate.spot_arm.*`` (Fargate Spot on Graviton), ``fargate.ephemeral_gb_hour``
- ``alb.hour``, ``alb.lcu_hour``, ``nat.hour``, ``nat.gb``, ``logs.ingest_gb``, ``logs.storage_gb_month``,
  ``logs.vended_gb``, ``ipv4.hour``, ``vpce.hour``, ``vpce.gb``, ``kms.key_month``, ``kms.requests_10k``,
  ``cloudwatch.alarm_month``, ``cloudwatch.dashboard_month``, ``cloudwatch.metric_month``,
  ``container_insights.observations_m``, ``ebs.<volume type>.gb_month``, ``ecr.storage_gb_month``,
  ``s3.standard_gb_month`` (the other billable resources of the workspace: cost/billable.py)
- ``ec2.<type>.on_demand``, ``ec2.<type>.spot``, optionally ``ec2.<type>.mi_fee`` (Managed Instances)

:func:`load` returns the cached book for a region when ``mlfargate prices refresh`` wrote one, else the
bundled snapshot. :func:`refresh` reads the AWS Price List API (on-demand) and EC2 Spot price history
(median of the last 7 days across AZs) and writes the cache; anything the API did not return keeps
its bundled price and says so.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from mlfargate.errors import MlfargateError
from mlfargate.files import CACHE_ENV as CACHE_ENV  # re-exported: `mlfargate prices` and tests name it here
from mlfargate.files import user_cache_dir
from mlfargate.spec.text import load_data

#: Where the cache lives: ``$MLFARGATE_CACHE_DIR``, else ``$XDG_CACHE_HOME/mlfargate``, else ``~/.cache/mlfargate``.
#: Endpoint for the Price List client only (a mirror, or the test's local server).
PRICING_ENDPOINT_ENV = "MLFARGATE_PRICING_ENDPOINT_URL"
#: The Price List API answers in us-east-1 (also eu-central-1, ap-south-1) for every region's prices.
PRICING_API_REGION = "us-east-1"
#: Spot prices: the median over this many days of price history.
SPOT_DAYS = 7
SPOT_PRODUCTS = ("Linux/UNIX", "Linux/UNIX (Amazon VPC)")
BUNDLED_FILE = "mlfargate/data/prices.yaml"
REGION_PATTERN = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d$")


class PricingError(MlfargateError):
    """A price is missing, the cache is unreadable, or the Price List / EC2 call failed."""


@dataclass(frozen=True)
class Price:
    key: str
    usd: float
    source: str
    date: str
    estimate: bool = False


@dataclass(frozen=True)
class PriceBook:
    region: str
    currency: str
    #: One line naming where the prices come from (bundled snapshot, or cache with path).
    source: str
    date: str
    prices: Mapping[str, Price]
    mi_fee_fraction: float
    mi_fee_source: str
    notes: tuple[str, ...] = field(default_factory=tuple)

    def has(self, key: str) -> bool:
        return key in self.prices

    def get(self, key: str) -> Price:
        price = self.prices.get(key)
        if price is None:
            raise PricingError(
                f"no price for {key} in {self.region} ({self.source}); "
                f"run `mlfargate prices refresh --region {self.region}` or pick a priced item"
            )
        return price

    def on_demand(self, instance_type: str) -> Price:
        return self.get(f"ec2.{instance_type}.on_demand")

    def spot(self, instance_type: str) -> Price:
        return self.get(f"ec2.{instance_type}.spot")

    def with_mi_fee_fraction(self, fraction: float) -> PriceBook:
        """This book with the Managed Instances fee assumption set to ``fraction`` of on-demand (types with
        a listed per-type fee keep it)."""
        if not 0 <= fraction < 1:
            raise PricingError(
                f"--mi-fee-fraction {fraction:g} is not a fraction of the on-demand price; use 0 <= F < 1 "
                "(AWS's published c6a.2xlarge example is 0.12)"
            )
        return replace(
            self,
            mi_fee_fraction=fraction,
            mi_fee_source=f"set with --mi-fee-fraction {fraction:g}; {self.mi_fee_source}",
        )

    def mi_fee(self, instance_type: str) -> Price:
        """The Managed Instances fee per instance-hour: listed per type, else a fraction of on-demand."""
        listed = self.prices.get(f"ec2.{instance_type}.mi_fee")
        if listed is not None:
            return listed
        od = self.on_demand(instance_type)
        return Price(
            key=f"ec2.{instance_type}.mi_fee",
            usd=round(od.usd * self.mi_fee_fraction, 6),
            source=f"{self.mi_fee_fraction:g} x on-demand {od.usd:g}: {self.mi_fee_source}",
            date=od.date,
            estimate=True,
        )


# --- loading ---------------------------------------------------------------------------------------


@cache
def bundled_raw() -> dict[str, Any]:
    raw: dict[str, Any] = load_data(
        resources.files("mlfargate.data").joinpath("prices.yaml").read_text(encoding="utf-8")
    )
    return raw


def bundled_regions() -> list[str]:
    return sorted(bundled_raw()["regions"])


def bundled_date() -> str:
    return str(bundled_raw()["date"])


def cache_dir() -> Path:
    return user_cache_dir()


def cache_path(region: str) -> Path:
    return cache_dir() / f"prices-{region}.yaml"


def _entries(raw: dict[str, Any], region: str, default_date: str) -> dict[str, Price]:
    sources: dict[str, str] = raw.get("sources", {})
    out: dict[str, Price] = {}
    for key, entry in raw["regions"][region].items():
        src_key = str(entry["source"])
        out[key] = Price(
            key=key,
            usd=float(entry["usd"]),
            source=sources.get(src_key, src_key),
            date=str(entry.get("date", default_date)),
            estimate=bool(entry.get("estimate", False)),
        )
    return out


def _book(raw: dict[str, Any], region: str, source: str) -> PriceBook:
    date = str(raw["date"])
    bundled = bundled_raw()
    return PriceBook(
        region=region,
        currency=str(raw.get("currency", "USD")),
        source=source,
        date=date,
        prices=_entries(raw, region, date),
        mi_fee_fraction=float(
            raw.get("managed_instances_fee_fraction", bundled["managed_instances_fee_fraction"])
        ),
        mi_fee_source=str(
            raw.get("sources", {}).get("managed_instances", bundled["sources"]["managed_instances"])
        ),
        notes=tuple(raw.get("notes", ())),
    )


def load(region: str, *, use_cache: bool = True) -> PriceBook:
    """The price book for a region: the refreshed cache when one exists (and ``use_cache``), else the snapshot."""
    path = cache_path(region)
    if use_cache and path.is_file():
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
            if not isinstance(raw, dict) or region not in raw.get("regions", {}):
                raise ValueError("no prices for the region")
            return _book(raw, region, f"{raw.get('source', 'refreshed cache')} (cache {path})")
        except (OSError, ValueError, KeyError, TypeError, yaml.YAMLError) as exc:
            raise PricingError(
                f"{path}: unreadable price cache ({exc}); delete it or run `mlfargate prices refresh --region {region}`"
            ) from None
    raw = bundled_raw()
    if region not in raw["regions"]:
        raise PricingError(
            f"no prices for region {region}: the bundled snapshot covers {', '.join(bundled_regions())}; "
            f"run `mlfargate prices refresh --region {region}`"
        )
    return _book(raw, region, f"bundled snapshot {BUNDLED_FILE}")


# --- Price List API --------------------------------------------------------------------------------
