"""The one place that builds boto3 clients.

Region, profile, endpoint URL and retry mode are set here so that tests (and air-gapped teams) can
point every AWS call at a local emulator with one setting: ``MLFARGATE_AWS_ENDPOINT_URL`` (or the
standard ``AWS_ENDPOINT_URL``, which botocore honours by itself).
"""

from __future__ import annotations

import os
from typing import Any

ENDPOINT_ENV = "MLFARGATE_AWS_ENDPOINT_URL"


def client(
    service: str,
    region: str,
    profile: str | None = None,
    endpoint_url: str | None = None,
    *,
    max_attempts: int = 8,
    connect_timeout: float | None = None,
    read_timeout: float | None = None,
) -> Any:
    """A boto3 client with adaptive retries. boto3 is imported here, not at module import time.

    Interactive callers (a person waiting) pass fewer attempts and short timeouts; botocore's defaults
    (60 s each) would keep an offline answer waiting for minutes."""
    import boto3
    from botocore.config import Config

    session = boto3.Session(profile_name=profile, region_name=region)
    timeouts = {
        k: v
        for k, v in (("connect_timeout", connect_timeout), ("read_timeout", read_timeout))
        if v is not None
    }
    config = Config(
        retries={"mode": "adaptive", "max_attempts": max_attempts}, user_agent_extra="mlfargate", **timeouts
    )
    url = endpoint_url or os.environ.get(ENDPOINT_ENV) or None
    return session.client(service, region_name=region, endpoint_url=url, config=config)
