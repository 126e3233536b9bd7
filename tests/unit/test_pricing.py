"""The price book: bundled snapshot coverage, cache precedence, Price List parsing, the Spot median."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from mlfargate.cost import price_book, price_list
from mlfargate.spec import catalog

REGIONS = ("us-east-1", "us-west-2", "eu-west-1")


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(price_book.CACHE_ENV, str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_bundled_snapshot_covers_the_catalog_and_the_shared_items() -> None:
    assert set(REGIONS) <= set(price_book.bundled_regions())
    shared = [
        "fargate.x86.vcpu_hour",
        "fargate.x86.gb_hour",
        "fargate.arm.vcpu_hour",
        "fargate.arm.gb_hour",
        "fargate.spot.vcpu_hour",
        "fargate.spot.gb_hour",
        "alb.hour",
        "alb.lcu_hour",
        "nat.hour",
        "nat.gb",
        "logs.ingest_gb",
        # the other billable resources of the workspace (cost/billable.py), verified 2026-11-29
        "fargate.spot_arm.vcpu_hour",
        "fargate.spot_arm.gb_hour",
        "fargate.ephemeral_gb_hour",
        "ipv4.hour",
        "vpce.hour",
        "vpce.gb",
        "kms.key_month",
        "kms.requests_10k",
        "cloudwatch.alarm_month",
        "cloudwatch.dashboard_month",
        "cloudwatch.metric_month",
        "logs.storage_gb_month",
        "logs.vended_gb",
        "container_insights.observations_m",
        "ebs.gp3.gb_month",
        "ecr.storage_gb_month",
        "s3.standard_gb_month",
    ]
    for region in REGIONS:
        book = price_book.load(region)
        assert book.source.startswith("bundled snapshot") and book.date == "2026-01-15"
        for key in shared:
            assert book.get(key).usd > 0, (region, key)
        for price in book.prices.values():
            # The snapshot's date, or the date a price added later was checked (recorded per entry).
            assert price.source and price.date in ("2026-01-15", "2026-11-29") and price.usd > 0
            assert " " in price.source, f"{price.key}: source key did not resolve to text"
            if price.estimate:
                assert price.source.startswith(("ESTIMATE", "ASSUMPTION")), price.key
    for region in ("us-east-1", "us-west-2"):
        book = price_book.load(region)
        for name in catalog.load().instance_types:
            assert book.on_demand(name).usd > book.spot(name).usd > 0, (region, name)
            assert book.spot(name).estimate and "ESTIMATE" in book.spot(name).source


def test_snapshot_matches_aws_facts_for_some_known_prices() -> None:
    east, west, eu = (price_book.load(r) for r in REGIONS)
    assert east.on_demand("g5.xlarge").usd == 1.006 and eu.on_demand("g5.xlarge").usd == 1.123
    assert east.on_demand("p5.48xlarge").usd == 55.04
    assert west.get("fargate.x86.vcpu_hour").usd == 0.04048
    assert eu.get("nat.hour").usd == 0.048
    assert not eu.has("ec2.g6.xlarge.on_demand")  # no price in the snapshot: "not in region" for sizing


def test_missing_price_and_unknown_region_are_one_line_errors() -> None:
    with pytest.raises(
        price_book.PricingError, match=r"no price for ec2\.g6\.xlarge\.on_demand in eu-west-1"
    ):
        price_book.load("eu-west-1").on_demand("g6.xlarge")
    with pytest.raises(price_book.PricingError, match="bundled snapshot covers"):
        price_book.load("ap-south-1")


def test_managed_instances_fee_is_a_stated_fraction_unless_listed() -> None:
    book = price_book.load("us-east-1")
    fee = book.mi_fee("g5.xlarge")
    assert fee.usd == pytest.approx(0.12 * 1.006) and fee.estimate and "ASSUMPTION" in fee.source
    assert "c6a.2xlarge" in fee.source and "7.8%" in fee.source  # the example and the GPU anecdote


def test_managed_instances_fee_fraction_is_configurable() -> None:
    book = price_book.load("us-east-1").with_mi_fee_fraction(0.078)
    fee = book.mi_fee("g6.xlarge")
    assert fee.usd == pytest.approx(round(0.078 * 0.8048, 6)) and fee.estimate
    assert "--mi-fee-fraction 0.078" in fee.source and "ASSUMPTION" in fee.source
    for bad in (-0.1, 1.0, 2.5):
        with pytest.raises(price_book.PricingError, match="is not a fraction of the on-demand price"):
            price_book.load("us-east-1").with_mi_fee_fraction(bad)


def test_cache_takes_precedence_and_a_broken_cache_is_reported(cache: Path) -> None:
    cache.mkdir(parents=True)
    doc = {
        "date": "2026-11-01",
        "currency": "USD",
        "source": "AWS Price List API + EC2 Spot price history, refreshed 2026-11-01",
        "regions": {"us-east-1": {"alb.hour": {"usd": 0.03, "source": "Price List", "date": "2026-11-01"}}},
    }
    (cache / "prices-us-east-1.yaml").write_text(yaml.safe_dump(doc))
    book = price_book.load("us-east-1")
    assert book.get("alb.hour").usd == 0.03 and "cache" in book.source and book.date == "2026-11-01"
    assert price_book.load("us-east-1", use_cache=False).get("alb.hour").usd == 0.0225
    (cache / "prices-us-east-1.yaml").write_text("regions: [not, a, mapping")
    with pytest.raises(price_book.PricingError, match="unreadable price cache"):
        price_book.load("us-east-1")


def test_parse_price_item_documented_shape() -> None:
    item = {
        "product": {
            "productFamily": "Compute Instance",
            "attributes": {"instanceType": "g5.xlarge", "usagetype": "BoxUsage:g5.xlarge"},
        },
        "terms": {
            "OnDemand": {
                "SKU.JRTCKXETXF": {
                    "priceDimensions": {
                        "SKU.JRTCKXETXF.A": {"unit": "Hrs", "pricePerUnit": {"USD": "0.0000000000"}},
                        "SKU.JRTCKXETXF.B": {"unit": "Hrs", "pricePerUnit": {"USD": "1.0060000000"}},
                    },
                    "effectiveDate": "2026-01-01T00:00:00Z",
                }
            }
        },
        "publicationDate": "2026-01-10T00:00:00Z",
    }
    listed = price_list.parse_price_item(json.dumps(item))
    assert listed is not None
    assert (listed.usd, listed.unit, listed.published) == (1.006, "Hrs", "2026-01-10T00:00:00Z")
    assert listed.attributes["instanceType"] == "g5.xlarge"
    assert price_list.parse_price_item(json.dumps({"product": {}, "terms": {}})) is None


def test_spot_median_over_seven_days_across_azs() -> None:
    end = datetime(2026, 11, 26, tzinfo=UTC)
    start = end - timedelta(days=7)

    def rec(zone: str, usd: float, days_before_end: float, itype: str = "g5.xlarge") -> price_list.SpotRecord:
        return price_list.SpotRecord(itype, zone, usd, end - timedelta(days=days_before_end))

    records = [
        rec("a", 0.90, 30),  # superseded before the window: ignored
        rec("a", 0.30, 8),  # in effect at the window start: counts
        rec("a", 0.32, 3),
        rec("a", 0.34, 1),
        rec("b", 0.50, 20),  # superseded: ignored
        rec("b", 0.28, 10),  # in effect at the window start: counts
        rec("b", 9.99, -1),  # after the window: ignored
        rec("c", 0.40, 2, itype="g4dn.xlarge"),
    ]
    medians = price_list.spot_median(records, start, end)
    assert medians == {"g5.xlarge": pytest.approx(0.31), "g4dn.xlarge": pytest.approx(0.40)}
    assert price_list.spot_median([], start, end) == {}
