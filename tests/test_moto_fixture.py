from __future__ import annotations

from mlfargate import aws


def test_clients_reach_the_loopback_emulator(moto_reset: str) -> None:
    s3 = aws.client("s3", "us-east-1", endpoint_url=moto_reset)
    s3.create_bucket(Bucket="fixture-check")
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["fixture-check"]
    assert moto_reset.startswith("http://127.0.0.1:")
