"""`mlfargate prices refresh` against a local Price List server and the moto EC2 emulator.

moto does not implement the Pricing API (GetProducts answers 404), so a small HTTP server on 127.0.0.1
answers GetProducts from recorded items in the documented shape (tests/aws/fixtures/pricelist), with
TERM_MATCH filtering and NextToken paging like the real API. EC2 Spot price history comes from moto:
it returns one price per Availability Zone offering (0.00001, timestamped 2006), i.e. the last price
change before the 7-day window, which DescribeSpotPriceHistory includes as the price in effect.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from mlfargate import cli
from mlfargate.cost import estimate as cost
from mlfargate.cost import price_book
from mlfargate.cost import price_list as price_list_mod
from mlfargate.spec import rules

FIXTURES = Path(__file__).parent / "fixtures" / "pricelist"
REPO = Path(__file__).resolve().parents[2]
PAGE = 2
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


class PriceListServer(ThreadingHTTPServer):
    products: list[dict[str, Any]]
    requests: list[dict[str, Any]]
    fail: bool


class Handler(BaseHTTPRequestHandler):
    server: PriceListServer

    def log_message(self, *args: object) -> None:
        return

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"{}")
        target = self.headers.get("X-Amz-Target", "")
        self.server.requests.append({"target": target, **body})
        if self.server.fail:
            self._send(400, {"__type": "InvalidParameterException", "Message": "Input validation error"})
            return
        if target != "AWSPriceListService.GetProducts":
            self._send(400, {"__type": "UnknownOperationException", "Message": target})
            return
        wanted = {f["Field"]: f["Value"] for f in body.get("Filters", [])}
        matches = [
            p
            for p in self.server.products
            if p["serviceCode"] == body["ServiceCode"]
            and all(
                p["product"]["attributes"].get(k) == v
                or (k == "productFamily" and p["product"]["productFamily"] == v)
                for k, v in wanted.items()
            )
        ]
        start = int(body.get("NextToken") or 0)
        page = matches[start : start + PAGE]
        out: dict[str, Any] = {"FormatVersion": "aws_v1", "PriceList": [json.dumps(p) for p in page]}
        if start + PAGE < len(matches):
            out["NextToken"] = str(start + PAGE)
        self._send(200, out)

    def _send(self, status: int, doc: dict[str, Any]) -> None:
        data = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def price_list() -> Iterator[PriceListServer]:
    server = PriceListServer(("127.0.0.1", 0), Handler)
    server.products = json.loads((FIXTURES / "products.json").read_text())["products"]
    server.requests = []
    server.fail = False
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def cli_env(price_list: PriceListServer, moto_reset: str, monkeypatch: pytest.MonkeyPatch) -> PriceListServer:
    """The CLI reaches the Price List server and moto through the environment, as an operator's mirror would."""
    monkeypatch.setenv(price_book.PRICING_ENDPOINT_ENV, url(price_list))
    monkeypatch.setenv("MLFARGATE_AWS_ENDPOINT_URL", moto_reset)
    return price_list


def url(server: PriceListServer) -> str:
    host, port = server.server_address[:2]
    return f"http://{host!s}:{port}"


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(price_book.CACHE_ENV, str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.mark.slow  # the first boto3 clients load their service models (~5 s)
def test_refresh_reads_price_list_and_spot_history(
    price_list: PriceListServer, moto_reset: str, cache: Path
) -> None:
    result = price_list_mod.refresh(
        "us-east-1", now=NOW, pricing_endpoint=url(price_list), ec2_endpoint=moto_reset
    )
    assert result.path == cache / "prices-us-east-1.yaml" and result.path.is_file()
    assert result.date == "2026-11-26"
    book = price_book.load("us-east-1")
    assert "cache" in book.source and str(result.path) in book.source and book.date == "2026-11-26"
    # From the Price List (values differ from the snapshot, so they can only come from the server):
    assert book.on_demand("g5.xlarge").usd == 1.0123  # not the reservation row, not eu-west-1's
    assert book.on_demand("g4dn.xlarge").usd == 0.5311
    assert "Price List" in book.on_demand("g5.xlarge").source
    assert book.get("fargate.spot.vcpu_hour").usd == 0.0121
    assert book.get("fargate.x86.gb_hour").usd == 0.004445
    # ARM Fargate Spot (listed in the fixture) must not overwrite ARM on-demand.
    assert book.get("fargate.arm.vcpu_hour").usd == 0.03238
    assert book.get("fargate.spot_arm.vcpu_hour").usd == 0.0101
    assert book.get("nat.gb").usd == 0.045 and book.get("alb.lcu_hour").usd == 0.008
    assert book.mi_fee("g5.xlarge").usd == 0.0712 and not book.mi_fee("g5.xlarge").estimate
    assert "ec2.g5.xlarge.mi_fee" in result.from_price_list
    # From moto's Spot price history: the median across AZs of the price in effect.
    spot = book.spot("g5.xlarge")
    assert spot.usd == pytest.approx(0.00001) and not spot.estimate
    assert "DescribeSpotPriceHistory" in spot.source and "median of 7 days" in spot.source
    assert "ec2.p5.48xlarge.spot" in result.from_spot_history
    # What AWS did not return keeps the snapshot and says so.
    assert "ec2.p5.48xlarge.on_demand" in result.kept_bundled and "logs.ingest_gb" in result.kept_bundled
    assert book.on_demand("p5.48xlarge").usd == 55.04
    assert book.get("logs.ingest_gb").date == price_book.bundled_date()
    # The Price List was asked for Linux, shared tenancy, no pre-installed software, used capacity; pages followed.
    ec2_calls = [r for r in price_list.requests if r["ServiceCode"] == "AmazonEC2"]
    g5 = next(
        r
        for r in ec2_calls
        if {"Field": "instanceType", "Type": "TERM_MATCH", "Value": "g5.xlarge"} in r["Filters"]
    )
    fields = {f["Field"]: f["Value"] for f in g5["Filters"]}
    assert fields == {
        "instanceType": "g5.xlarge",
        "regionCode": "us-east-1",
        "operatingSystem": "Linux",
        "tenancy": "Shared",
        "preInstalledSw": "NA",
        "capacitystatus": "Used",
    }
    assert any(r.get("NextToken") for r in price_list.requests if r["ServiceCode"] == "AmazonECS")


@pytest.mark.slow
def test_refresh_reads_the_other_billable_resources(
    price_list: PriceListServer, moto_reset: str, cache: Path
) -> None:
    """Public IPv4, interface endpoints, KMS keys, CloudWatch, EBS gp3, ECR and S3 come from the Price
    List where it lists them: the lowest paid tier (free tiers and volume tiers skipped), this region only."""
    result = price_list_mod.refresh(
        "us-east-1", now=NOW, pricing_endpoint=url(price_list), ec2_endpoint=moto_reset
    )
    book = price_book.load("us-east-1")
    expected = {
        "ipv4.hour": 0.0052,
        "vpce.hour": 0.0105,  # not eu-west-1's 0.011
        "vpce.gb": 0.0106,  # first 1 PB, not the 0.006 / 0.004 tiers
        "kms.key_month": 1.01,  # us-east-1-KMS-Keys: the region name as prefix
        "cloudwatch.alarm_month": 0.101,  # not the free first 10
        "cloudwatch.metric_month": 0.301,
        "cloudwatch.dashboard_month": 3.01,  # global product, no regionCode
        "logs.storage_gb_month": 0.0301,
        "logs.vended_gb": 0.501,
        "ebs.gp3.gb_month": 0.081,  # not gp2's 0.1
        "ecr.storage_gb_month": 0.101,
        "s3.standard_gb_month": 0.0231,  # not Glacier, not the 450 TB tier
        "fargate.ephemeral_gb_hour": 0.000111,
        "fargate.spot_arm.vcpu_hour": 0.0101,  # observed ARM Spot replaces the snapshot's estimate
    }
    for key, usd in expected.items():
        price = book.get(key)
        assert price.usd == usd, key
        assert "GetProducts" in price.source and price.date == "2026-11-26" and not price.estimate, key
        assert key in result.from_price_list, key
    # Not listed by the server: kept from the snapshot, with its own source and date.
    for key in ("kms.requests_10k", "container_insights.observations_m", "fargate.spot_arm.gb_hour"):
        assert key in result.kept_bundled and "GetProducts" not in book.get(key).source
    assert book.get("container_insights.observations_m").estimate
    kms = [r for r in price_list.requests if r["ServiceCode"] == "awskms"]
    assert kms and {"Field": "regionCode", "Type": "TERM_MATCH", "Value": "us-east-1"} in kms[0]["Filters"]
    ebs = next(r for r in price_list.requests if any(f["Field"] == "volumeApiName" for f in r["Filters"]))
    assert {f["Field"]: f["Value"] for f in ebs["Filters"]} == {
        "regionCode": "us-east-1",
        "productFamily": "Storage",
        "volumeApiName": "gp3",
    }


def test_estimate_names_the_refreshed_source(
    price_list: PriceListServer, moto_reset: str, cache: Path
) -> None:
    price_list_mod.refresh("us-east-1", now=NOW, pricing_endpoint=url(price_list), ec2_endpoint=moto_reset)
    spec = rules.load_valid(REPO / "examples" / "gpu-ec2-spot-schedules.yaml")
    est = cost.estimate(spec, price_book.load("us-east-1"))
    assert "refreshed 2026-11-26" in est.price_source and est.price_date == "2026-11-26"
    od = next(x for x in est.lines if x.item == "EC2 g5.xlarge on-demand")
    assert od.unit_price == 1.0123
    assert not any("not an observed price" in a for a in est.assumptions)
    assert any("not returned by AWS keep the bundled snapshot of 2026-01-15" in a for a in est.assumptions)
    bundled = cost.estimate(spec, price_book.load("us-east-1", use_cache=False))
    assert "bundled snapshot" in bundled.price_source


def test_cli_refresh_and_show(
    cli_env: PriceListServer, cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["prices", "refresh", "--region", "us-east-1", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (
        data["cache"] == str(cache / "prices-us-east-1.yaml")
        and "ec2.g5.xlarge.on_demand" in data["from_price_list"]
    )
    assert cli.main(["prices", "show"]) == 0
    shown = capsys.readouterr().out
    assert f"cache directory: {cache}" in shown and "us-east-1: AWS Price List API" in shown
    assert "us-west-2: bundled snapshot" in shown


def test_refresh_failure_is_one_line_and_writes_nothing(
    cli_env: PriceListServer, cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cli_env.fail = True
    assert cli.main(["prices", "refresh", "--region", "us-east-1"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "price refresh for us-east-1 failed" in err
    assert "InvalidParameterException" in err
    assert not (cache / "prices-us-east-1.yaml").exists()


def test_refresh_rejects_a_bad_region_name(cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["prices", "refresh", "--region", "Mars"]) == 2
    assert "not an AWS region name" in capsys.readouterr().err
