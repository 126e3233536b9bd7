"""The one place that builds boto3 clients, and that turns AWS failures into one line.

Region, profile, endpoint URL and retry mode are set here so that tests (and air-gapped teams) can
point every AWS call at a local emulator with one setting: ``MLFARGATE_AWS_ENDPOINT_URL`` (or the
standard ``AWS_ENDPOINT_URL``, which botocore honours by itself).

Retries: botocore's ``adaptive`` mode (the ``standard`` mode's retries of throttling and transient
errors with exponential backoff, plus a client-side rate limiter), 8 attempts in all. The standard
variables ``AWS_RETRY_MODE`` (``standard`` | ``adaptive``) and ``AWS_MAX_ATTEMPTS`` override them.
https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html
"""

from __future__ import annotations

import os
import re
from typing import Any

from mlfargate.errors import MlfargateError

ENDPOINT_ENV = "MLFARGATE_AWS_ENDPOINT_URL"
RETRY_MODE_ENV = "AWS_RETRY_MODE"
MAX_ATTEMPTS_ENV = "AWS_MAX_ATTEMPTS"
DEFAULT_RETRY_MODE = "adaptive"
DEFAULT_MAX_ATTEMPTS = 8
RETRY_MODES = ("standard", "adaptive")

#: Error codes that mean the request was throttled (botocore retries them; after the last attempt
#: the part of a snapshot that needed the call is marked unread).
THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "Rate exceeded",
        "SlowDown",
    }
)
#: Expired temporary credentials: the codes AWS SDKs treat as "refresh the credentials"
#: (aws/aws-sdk-go#253: ExpiredTokenException, ExpiredToken, RequestExpired).
EXPIRED_CODES = frozenset({"ExpiredToken", "ExpiredTokenException", "RequestExpired"})
#: The credentials are not valid here (revoked keys, another partition, a region the account has not enabled).
REJECTED_CODES = frozenset({"UnrecognizedClientException", "InvalidClientTokenId", "AuthFailure"})


class AwsError(MlfargateError):
    """AWS cannot be used as configured: no credentials, an expired session, an unknown profile, a
    region or endpoint that cannot be reached. One line that says what to do."""


class UnknownProfileError(AwsError):
    """``profile`` names no profile in the AWS config or credentials file."""

    def __init__(self, profile: str | None) -> None:
        self.profile = profile
        super().__init__(
            f"AWS profile {profile!r} is not in your AWS config (~/.aws/config): "
            "fix aws.profile in the spec or run `aws configure --profile NAME`"
        )


def retry_config() -> dict[str, Any]:
    """The ``retries`` setting of every client (``AWS_RETRY_MODE`` / ``AWS_MAX_ATTEMPTS`` override it)."""
    mode = os.environ.get(RETRY_MODE_ENV) or DEFAULT_RETRY_MODE
    if mode not in RETRY_MODES:
        raise AwsError(f"{RETRY_MODE_ENV}={mode!r} is not a retry mode: use {' or '.join(RETRY_MODES)}")
    text = os.environ.get(MAX_ATTEMPTS_ENV)
    attempts = DEFAULT_MAX_ATTEMPTS
    if text:
        try:
            attempts = int(text)
        except ValueError:
            attempts = 0
        if not 1 <= attempts <= 20:
            raise AwsError(f"{MAX_ATTEMPTS_ENV}={text!r} must be a whole number from 1 to 20")
    # total_max_attempts counts the first attempt too, as AWS_MAX_ATTEMPTS does (botocore's
    # max_attempts key would count retries only).
    return {"mode": mode, "total_max_attempts": attempts}


def session(region: str, profile: str | None = None) -> Any:
    """A boto3 Session (credentials resolve on the first call). Clients made from one session share its
    loaded service models: the second client costs milliseconds instead of a few hundred. Sessions are
    not thread-safe: use one per thread (clients are thread-safe)."""
    import boto3
    from botocore.exceptions import ProfileNotFound

    try:
        return boto3.Session(profile_name=profile, region_name=region)
    except ProfileNotFound:
        raise UnknownProfileError(profile) from None


def client(
    service: str,
    region: str,
    profile: str | None = None,
    endpoint_url: str | None = None,
    *,
    from_session: Any = None,
    max_attempts: int | None = None,
    connect_timeout: float | None = None,
    read_timeout: float | None = None,
) -> Any:
    """A boto3 client with botocore retries, from ``from_session`` (see :func:`session`) or a new session.
    boto3 is imported here, not at module import time. Interactive callers (a person waiting) pass
    fewer attempts (counting the first) and short timeouts: botocore's defaults (60 s each) would keep an
    offline answer waiting for minutes."""
    from botocore.config import Config

    boto_session = from_session if from_session is not None else session(region, profile)
    retries = retry_config()
    if max_attempts is not None:  # an operator waiting (the wizard): fewer attempts, short timeouts
        retries["total_max_attempts"] = max_attempts
    timeouts = {
        k: v
        for k, v in (("connect_timeout", connect_timeout), ("read_timeout", read_timeout))
        if v is not None
    }
    config = Config(retries=retries, user_agent_extra="mlfargate", **timeouts)
    url = endpoint_url or os.environ.get(ENDPOINT_ENV) or None
    return boto_session.client(service, region_name=region, endpoint_url=url, config=config)


def call_errors() -> tuple[type[Exception], ...]:
    """What a botocore call raises when AWS (or the way to it) fails: ``BotoCoreError``, ``ClientError``
    and ``ResponseParserError`` (an answer that is not the service's format, e.g. an HTML error page)."""
    from botocore.exceptions import BotoCoreError, ClientError
    from botocore.parsers import ResponseParserError

    return (BotoCoreError, ClientError, ResponseParserError)


def error_code(exc: BaseException) -> str | None:
    """The AWS error code of a ``ClientError`` (None for anything else)."""
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return None
    code = response.get("Error", {}).get("Code")
    return str(code) if code else None


def credentials_problem(exc: BaseException, region: str, profile: str | None = None) -> str | None:
    """One line for a failure that no retry or partial result can help: missing credentials, an
    expired SSO session or token, credentials AWS rejects, an endpoint that cannot be reached. None
    when ``exc`` is not one of those."""
    from botocore import exceptions as bex

    who = f"profile {profile!r}" if profile else "the default credential chain"
    login = f"aws sso login --profile {profile}" if profile else "aws sso login"
    if isinstance(exc, bex.NoCredentialsError):
        return (
            f"no AWS credentials found ({who}): set aws.profile in the spec or AWS_PROFILE, "
            "run `aws configure` or `aws sso login`, or export AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"
        )
    if isinstance(exc, bex.PartialCredentialsError):
        return f"incomplete AWS credentials ({exc}): set both the access key id and the secret key"
    if isinstance(exc, bex.UnauthorizedSSOTokenError | bex.SSOTokenLoadError) or (
        isinstance(exc, bex.TokenRetrievalError) and getattr(exc, "provider", "") == "sso"
    ):
        return f"the AWS SSO session of {who} has expired or is missing: run `{login}`"
    if isinstance(exc, bex.SSOError):
        return f"AWS SSO failed for {who} ({exc}): run `{login}`"
    if isinstance(exc, bex.ProfileNotFound):
        return f"AWS profile not found ({exc}): fix aws.profile in the spec or AWS_PROFILE"
    code = error_code(exc)
    if code in EXPIRED_CODES:
        return f"the AWS session token of {who} has expired ({code}): sign in again (`{login}`) and retry"
    if code in REJECTED_CODES:
        return (
            f"AWS rejected the credentials of {who} in {region} ({code}): the keys may be revoked or "
            f"belong to another partition, or the account has not enabled {region}"
        )
    if isinstance(exc, bex.EndpointConnectionError):
        return (
            f"cannot reach AWS in {region} ({exc}): check aws.region in the spec, the network, "
            f"and {ENDPOINT_ENV} / --endpoint-url"
        )
    return None


def explain(exc: BaseException) -> str:
    """A failed call in one line (for a part of a result that could not be read)."""
    from botocore import exceptions as bex

    code = error_code(exc)
    if code is not None:
        response: dict[str, Any] = getattr(exc, "response", {})
        message = str(response.get("Error", {}).get("Message") or "").strip()
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        attempts = response.get("ResponseMetadata", {}).get("RetryAttempts")
        after = f" after {attempts + 1} attempts" if isinstance(attempts, int) and attempts else ""
        if code in THROTTLING_CODES:
            return f"throttled by AWS ({code}){after}"
        if code.isdigit():  # no AWS error document: an HTTP status only
            return f"AWS answered HTTP {code}{after}"
        head = f"{code} (HTTP {status})" if status else code
        return f"{head}: {_one_line(message)}{after}" if message else f"{head}{after}"
    from botocore.parsers import ResponseParserError

    if isinstance(exc, ResponseParserError):
        # The body is quoted in the message: an HTML error page names its status in <title>.
        title = re.search(r"<title>([^<]+)</title>", str(exc))
        what = title.group(1) if title else _one_line(str(exc)).split(", invalid")[0]
        return f"unreadable answer (not the service's format): {_one_line(what)}"
    if isinstance(exc, bex.ReadTimeoutError | bex.ConnectTimeoutError):
        return f"timed out: {_one_line(str(exc))}"
    return _one_line(f"{type(exc).__name__}: {exc}")


def _one_line(text: str, limit: int = 300) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
