"""The price book: a bundled snapshot (package data) and a local cache refreshed from AWS.

Prices are a flat map of keys to :class:`Price` (value, unit source, date, estimate flag):

- ``fargate.x86.vcpu_hour`` / ``fargate.x86.gb_hour``, ``fargate.arm.*``, ``fargate.spot.*``
- ``alb.hour``, ``alb.lcu_hour``, ``nat.hour``, ``nat.gb``, ``logs.ingest_gb``
- ``ec2.<type>.on_demand``, ``ec2.<type>.spot``, optionally ``ec2.<type>.mi_fee`` (Managed Instances)

:func:`load` returns the cached book for a region when ``mlfargate prices refresh`` wrote one, else the
bundled snapshot. :func:`refresh` reads the AWS Price List API (on-demand) and EC2 Spot price history
(median of the last 7 days across AZs) and writes the cache; anything the API did not return keeps
its bundled price and says so.
"""

from __future__ import annotations

import json
import os
import re
import statistics
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from mlfargate import catalog as catalog_mod
from mlfargate.errors import MlfargateError
from mlfargate.files import write_text_atomic

#: Where the cache lives: ``$MLFARGATE_CACHE_DIR``, else ``$XDG_CACHE_HOME/mlfargate``, else ``~/.cache/mlfargate``.
CACHE_ENV = "MLFARGATE_CACHE_DIR"
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
def _bundled_raw() -> dict[str, Any]:
    raw: dict[str, Any] = yaml.safe_load(
        resources.files("mlfargate.data").joinpath("prices.yaml").read_text(encoding="utf-8")
    )
    return raw


def bundled_regions() -> list[str]:
    return sorted(_bundled_raw()["regions"])


def bundled_date() -> str:
    return str(_bundled_raw()["date"])


def cache_dir() -> Path:
    explicit = os.environ.get(CACHE_ENV)
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "mlfargate"


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
    bundled = _bundled_raw()
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
    raw = _bundled_raw()
    if region not in raw["regions"]:
        raise PricingError(
            f"no prices for region {region}: the bundled snapshot covers {', '.join(bundled_regions())}; "
            f"run `mlfargate prices refresh --region {region}`"
        )
    return _book(raw, region, f"bundled snapshot {BUNDLED_FILE}")


# --- Price List API --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ListedPrice:
    """One Price List product with its on-demand USD price per unit."""

    attributes: Mapping[str, str]
    usd: float
    unit: str
    published: str


def parse_price_item(item: str | Mapping[str, Any]) -> ListedPrice | None:
    """One ``PriceList`` entry (a JSON string in the real API) -> its first non-zero on-demand price.

    Shape (https://docs.aws.amazon.com/awsaccountbilling/latest/aboutv2/price-changes.html, GetProducts):
    ``{"product": {"attributes": {...}}, "terms": {"OnDemand": {sku.term: {"priceDimensions":
    {sku.term.dim: {"unit": "Hrs", "pricePerUnit": {"USD": "1.0060000000"}}}}}}, "publicationDate": ...}``
    """
    doc: Mapping[str, Any] = json.loads(item) if isinstance(item, str) else item
    attributes = doc.get("product", {}).get("attributes", {})
    for term in doc.get("terms", {}).get("OnDemand", {}).values():
        for dim in term.get("priceDimensions", {}).values():
            text = dim.get("pricePerUnit", {}).get("USD")
            if text is None:
                continue
            usd = float(text)
            if usd > 0:
                return ListedPrice(
                    attributes=attributes,
                    usd=usd,
                    unit=str(dim.get("unit", "")),
                    published=str(doc.get("publicationDate", term.get("effectiveDate", ""))),
                )
    return None


def _get_products(client: Any, service: str, filters: Mapping[str, str]) -> Iterator[ListedPrice]:
    kwargs: dict[str, Any] = {
        "ServiceCode": service,
        "FormatVersion": "aws_v1",
        "Filters": [{"Type": "TERM_MATCH", "Field": k, "Value": v} for k, v in filters.items()],
        "MaxResults": 100,
    }
    while True:
        page = client.get_products(**kwargs)
        for item in page.get("PriceList", []):
            listed = parse_price_item(item)
            if listed is not None:
                yield listed
        token = page.get("NextToken")
        if not token:
            return
        kwargs["NextToken"] = token


#: Price List usage-type suffixes -> price book keys (the usage type starts with a region code such as USE1-).
_ECS_USAGE = {
    "Fargate-vCPU-Hours:perCPU": "fargate.x86.vcpu_hour",
    "Fargate-GB-Hours": "fargate.x86.gb_hour",
    "Fargate-ARM-vCPU-Hours:perCPU": "fargate.arm.vcpu_hour",
    "Fargate-ARM-GB-Hours": "fargate.arm.gb_hour",
    "SpotUsage-Fargate-vCPU-Hours:perCPU": "fargate.spot.vcpu_hour",
    "SpotUsage-Fargate-GB-Hours": "fargate.spot.gb_hour",
}
#: Fargate Spot on ARM appears in billing data (e.g. EUC1-SpotUsage-Fargate-ARM-vCPU-Hours:perCPU); recorded, unused.
_ECS_USAGE_ARM_SPOT = {
    "SpotUsage-Fargate-ARM-vCPU-Hours:perCPU": "fargate.spot_arm.vcpu_hour",
    "SpotUsage-Fargate-ARM-GB-Hours": "fargate.spot_arm.gb_hour",
}
_USAGE = re.compile(r"(?:[A-Z]{2,4}[0-9]?-)?(?P<suffix>.+)")
_MI_FEE = re.compile(r"ECS-Managed-Instances:(?P<type>[a-z0-9-]+\.[a-z0-9]+)-management-hours$")
_ELB_USAGE = {"LoadBalancerUsage": "alb.hour", "LCUUsage": "alb.lcu_hour"}
_NAT_USAGE = {"NatGateway-Hours": "nat.hour", "NatGateway-Bytes": "nat.gb"}


def _usage_key(usagetype: str, table: Mapping[str, str]) -> str | None:
    """The key for a usage type that is exactly ``[REGIONCODE-]suffix`` (us-east-1 often has no prefix).

    Exact, so that "USE1-SpotUsage-Fargate-ARM-vCPU-Hours:perCPU" never matches "Fargate-ARM-vCPU-Hours:perCPU".
    """
    match = _USAGE.fullmatch(usagetype)
    return table.get(match.group("suffix")) if match else None


def fetch_on_demand(client: Any, region: str, instance_types: Iterable[str]) -> dict[str, ListedPrice]:
    """On-demand prices from the Price List API, keyed like the price book."""
    found: dict[str, ListedPrice] = {}
    for itype in instance_types:
        filters = {
            "instanceType": itype,
            "regionCode": region,
            "operatingSystem": "Linux",
            "tenancy": "Shared",
            "preInstalledSw": "NA",
            "capacitystatus": "Used",
        }
        for listed in _get_products(client, "AmazonEC2", filters):
            if "BoxUsage" in listed.attributes.get("usagetype", ""):
                found[f"ec2.{itype}.on_demand"] = listed
                break
    for listed in _get_products(client, "AmazonECS", {"regionCode": region}):
        usage = listed.attributes.get("usagetype", "")
        key = _usage_key(usage, {**_ECS_USAGE, **_ECS_USAGE_ARM_SPOT})
        fee = _MI_FEE.search(usage)
        if key:
            found[key] = listed
        elif fee:
            found[f"ec2.{fee.group('type')}.mi_fee"] = listed
    for service, family, table in (
        ("AWSELB", "Load Balancer-Application", _ELB_USAGE),
        ("AmazonEC2", "NAT Gateway", _NAT_USAGE),
    ):
        for listed in _get_products(client, service, {"regionCode": region, "productFamily": family}):
            key = _usage_key(listed.attributes.get("usagetype", ""), table)
            if key:
                found[key] = listed
    return found


# --- EC2 Spot price history --------------------------------------------------------------------------


@dataclass(frozen=True)
class SpotRecord:
    instance_type: str
    zone: str
    usd: float
    at: datetime


def spot_median(records: Iterable[SpotRecord], start: datetime, end: datetime) -> dict[str, float]:
    """Median Spot price per instance type over [start, end], across AZs.

    Per AZ, the prices that count are every price change inside the window plus the last change
    before ``start`` (the price in effect at the window's start; DescribeSpotPriceHistory returns it
    too). The median is taken over all those prices of all AZs together (unweighted by duration).
    """
    by_pool: dict[tuple[str, str], list[SpotRecord]] = {}
    for rec in records:
        if rec.at <= end:
            by_pool.setdefault((rec.instance_type, rec.zone), []).append(rec)
    values: dict[str, list[float]] = {}
    for (itype, _zone), recs in by_pool.items():
        recs.sort(key=lambda r: r.at)
        before = [r for r in recs if r.at < start]
        inside = [r for r in recs if r.at >= start]
        chosen = ([before[-1]] if before else []) + inside
        values.setdefault(itype, []).extend(r.usd for r in chosen)
    return {itype: statistics.median(v) for itype, v in values.items() if v}


def fetch_spot(client: Any, instance_types: Iterable[str], now: datetime) -> dict[str, float]:
    start = now - timedelta(days=SPOT_DAYS)
    paginator = client.get_paginator("describe_spot_price_history")
    records: list[SpotRecord] = []
    for page in paginator.paginate(
        InstanceTypes=list(instance_types),
        ProductDescriptions=list(SPOT_PRODUCTS),
        StartTime=start,
        EndTime=now,
    ):
        for item in page.get("SpotPriceHistory", []):
            at: datetime = item["Timestamp"]  # botocore parses timestamps into datetimes
            records.append(
                SpotRecord(
                    instance_type=item["InstanceType"],
                    zone=item.get("AvailabilityZone", ""),
                    usd=float(item["SpotPrice"]),
                    at=at if at.tzinfo else at.replace(tzinfo=UTC),
                )
            )
    return spot_median(records, start, now)


# --- refresh ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RefreshResult:
    region: str
    path: Path
    date: str
    from_price_list: list[str]
    from_spot_history: list[str]
    kept_bundled: list[str]


def refresh(
    region: str,
    *,
    profile: str | None = None,
    now: datetime | None = None,
    pricing_endpoint: str | None = None,
    ec2_endpoint: str | None = None,
) -> RefreshResult:
    """Read current prices for ``region`` from AWS and write the cache (atomically)."""
    from botocore.exceptions import BotoCoreError, ClientError

    from mlfargate import aws

    if not REGION_PATTERN.match(region):
        raise PricingError(f"--region {region!r} is not an AWS region name such as us-east-1")
    now = now or datetime.now(UTC)
    today = now.date().isoformat()
    cat = catalog_mod.load()
    types = sorted(cat.instance_types)
    bundled = _bundled_raw()
    base: dict[str, dict[str, Any]] = {
        k: {**v, "source": bundled["sources"].get(v["source"], v["source"]), "date": bundled_date()}
        for k, v in bundled["regions"].get(region, {}).items()
    }
    try:
        pricing = aws.client(
            "pricing",
            PRICING_API_REGION,
            profile,
            endpoint_url=pricing_endpoint or os.environ.get(PRICING_ENDPOINT_ENV) or None,
        )
        listed = fetch_on_demand(pricing, region, types)
        ec2 = aws.client("ec2", region, profile, endpoint_url=ec2_endpoint)
        spot = fetch_spot(ec2, types, now)
    except (BotoCoreError, ClientError) as exc:
        raise PricingError(f"price refresh for {region} failed: {exc}") from None
    list_source = f"AWS Price List API GetProducts, read {today}"
    spot_source = (
        f"EC2 DescribeSpotPriceHistory ({'/'.join(SPOT_PRODUCTS)}), median of {SPOT_DAYS} days "
        f"to {now.strftime('%Y-%m-%dT%H:%MZ')} across AZs"
    )
    entries = dict(base)
    for key, item in listed.items():
        entries[key] = {
            "usd": item.usd,
            "source": f"{list_source} (published {item.published})",
            "date": today,
        }
    for itype, usd in spot.items():
        entries[f"ec2.{itype}.spot"] = {"usd": usd, "source": spot_source, "date": today}
    if not entries:
        raise PricingError(f"price refresh for {region}: AWS returned no prices and the snapshot has none")
    fresh = set(listed) | {f"ec2.{t}.spot" for t in spot}
    kept = sorted(k for k in base if k not in fresh)
    doc = {
        "date": today,
        "currency": "USD",
        "source": f"AWS Price List API + EC2 Spot price history, refreshed {today}",
        "managed_instances_fee_fraction": bundled["managed_instances_fee_fraction"],
        "sources": {"managed_instances": bundled["sources"]["managed_instances"]},
        "notes": [f"{len(kept)} price(s) not returned by AWS keep the bundled snapshot of {bundled_date()}"]
        if kept
        else [],
        "regions": {region: {k: entries[k] for k in sorted(entries)}},
    }
    path = cache_path(region)
    write_text_atomic(path, yaml.safe_dump(doc, sort_keys=False, width=200), overwrite=True)
    return RefreshResult(
        region=region,
        path=path,
        date=today,
        from_price_list=sorted(listed),
        from_spot_history=sorted(f"ec2.{t}.spot" for t in spot),
        kept_bundled=kept,
    )
