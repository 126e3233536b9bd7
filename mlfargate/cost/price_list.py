"""Refreshing the price book from AWS: on-demand prices from the Price List API (``GetProducts``) and
EC2 Spot prices from ``DescribeSpotPriceHistory`` (median of the last 7 days across AZs), written to
the cache that :func:`mlfargate.cost.price_book.load` reads. Anything the API did not return keeps its
bundled price and says so."""

from __future__ import annotations

import json
import os
import re
import statistics
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from mlfargate.cost.price_book import (
    PRICING_API_REGION,
    PRICING_ENDPOINT_ENV,
    REGION_PATTERN,
    SPOT_DAYS,
    SPOT_PRODUCTS,
    PricingError,
    bundled_date,
    bundled_raw,
    cache_path,
)
from mlfargate.files import write_text_atomic
from mlfargate.spec import catalog as catalog_mod


@dataclass(frozen=True)
class ListedPrice:
    """One Price List product with its on-demand USD price per unit."""

    attributes: Mapping[str, str]
    usd: float
    unit: str
    published: str


def parse_price_item(item: str | Mapping[str, Any]) -> ListedPrice | None:
    """One ``PriceList`` entry (a JSON string in the real API) -> its on-demand price: of the non-zero
    price dimensions, the one of the lowest tier (``beginRange``), so that a free tier (a first tier at 0)
    and cheaper volume tiers (``beginRange`` 10 TB...) are both skipped.

    Shape (https://docs.aws.amazon.com/awsaccountbilling/latest/aboutv2/price-changes.html, GetProducts):
    ``{"product": {"attributes": {...}}, "terms": {"OnDemand": {sku.term: {"priceDimensions":
    {sku.term.dim: {"unit": "Hrs", "pricePerUnit": {"USD": "1.0060000000"}}}}}}, "publicationDate": ...}``
    """
    doc: Mapping[str, Any] = json.loads(item) if isinstance(item, str) else item
    attributes = doc.get("product", {}).get("attributes", {})
    best: tuple[float, ListedPrice] | None = None
    for term in doc.get("terms", {}).get("OnDemand", {}).values():
        for dim in term.get("priceDimensions", {}).values():
            text = dim.get("pricePerUnit", {}).get("USD")
            if text is None:
                continue
            usd = float(text)
            if usd <= 0:
                continue
            begin = float(dim.get("beginRange", 0) or 0)
            if best is None or begin < best[0]:
                best = (
                    begin,
                    ListedPrice(
                        attributes=attributes,
                        usd=usd,
                        unit=str(dim.get("unit", "")),
                        published=str(doc.get("publicationDate", term.get("effectiveDate", ""))),
                    ),
                )
    return None if best is None else best[1]


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
    # Fargate Spot on ARM (Graviton, since 2024-09), e.g. EUC1-SpotUsage-Fargate-ARM-vCPU-Hours:perCPU.
    "SpotUsage-Fargate-ARM-vCPU-Hours:perCPU": "fargate.spot_arm.vcpu_hour",
    "SpotUsage-Fargate-ARM-GB-Hours": "fargate.spot_arm.gb_hour",
    "Fargate-EphemeralStorage-GB-Hours": "fargate.ephemeral_gb_hour",
}
#: The usage type's region prefix: a billing code (USE1-, EU-, APN1-) or, for some services (KMS), the
#: region name itself (us-east-1-KMS-Keys); us-east-1 often has none.
_USAGE = re.compile(r"(?:(?:[A-Z]{2,4}[0-9]?|[a-z]{2}(?:-gov)?-[a-z]+-[0-9])-)?(?P<suffix>.+)")
_MI_FEE = re.compile(r"ECS-Managed-Instances:(?P<type>[a-z0-9-]+\.[a-z0-9]+)-management-hours$")
_ELB_USAGE = {"LoadBalancerUsage": "alb.hour", "LCUUsage": "alb.lcu_hour"}
_NAT_USAGE = {"NatGateway-Hours": "nat.hour", "NatGateway-Bytes": "nat.gb"}
#: The other billable resources of the workspace (cost/billable.py), by service: (filters besides
#: regionCode, usage-type suffix -> price book key). Usage types as AWS bills them (Cost and Usage Report
#: and Price List): AmazonVPC PublicIPv4:InUseAddress and VpcEndpoint-Hours/-Bytes, awskms
#: <region>-KMS-Keys, AmazonCloudWatch CW:AlarmMonitorUsage, CW:MetricMonitorUsage, DataProcessing-Bytes
#: (Logs ingestion), TimedStorage-ByteHrs (Logs storage), VendedLog-Bytes, AmazonEC2
#: EBS:VolumeUsage.gp3, AmazonECR and AmazonS3 TimedStorage-ByteHrs.
_OTHER_USAGE: tuple[tuple[str, dict[str, str], dict[str, str]], ...] = (
    (
        "AmazonVPC",
        {},
        {
            "PublicIPv4:InUseAddress": "ipv4.hour",
            "VpcEndpoint-Hours": "vpce.hour",
            "VpcEndpoint-Bytes": "vpce.gb",
        },
    ),
    ("awskms", {}, {"KMS-Keys": "kms.key_month"}),
    (
        "AmazonCloudWatch",
        {},
        {
            "CW:AlarmMonitorUsage": "cloudwatch.alarm_month",
            "CW:MetricMonitorUsage": "cloudwatch.metric_month",
            "DataProcessing-Bytes": "logs.ingest_gb",
            "TimedStorage-ByteHrs": "logs.storage_gb_month",
            "VendedLog-Bytes": "logs.vended_gb",
        },
    ),
    (
        "AmazonEC2",
        {"productFamily": "Storage", "volumeApiName": "gp3"},
        {"EBS:VolumeUsage.gp3": "ebs.gp3.gb_month"},
    ),
    ("AmazonECR", {}, {"TimedStorage-ByteHrs": "ecr.storage_gb_month"}),
    (
        "AmazonS3",
        {"storageClass": "General Purpose", "volumeType": "Standard"},
        {"TimedStorage-ByteHrs": "s3.standard_gb_month"},
    ),
)
#: CloudWatch dashboards are priced globally (no regionCode): DashboardsUsageHour-Basic is a dashboard of
#: up to 50 metrics, per month.
_DASHBOARD = ("AmazonCloudWatch", {"usagetype": "DashboardsUsageHour-Basic"}, "cloudwatch.dashboard_month")


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
        key = _usage_key(usage, _ECS_USAGE)
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
    for service, filters, table in _OTHER_USAGE:
        for listed in _get_products(client, service, {"regionCode": region, **filters}):
            key = _usage_key(listed.attributes.get("usagetype", ""), table)
            if key and key not in found:
                found[key] = listed
    service, filters, key = _DASHBOARD
    for listed in _get_products(client, service, filters):
        found[key] = listed
        break
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
    bundled = bundled_raw()
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
