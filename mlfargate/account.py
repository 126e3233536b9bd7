"""The operator's AWS account as the front-ends see it before anything is deployed: the named profiles
in the local AWS files, who the credentials belong to (STS), and the VPCs and subnets an existing-VPC
spec can name.

Profiles are read from the files themselves (``configparser``), never through boto3: listing them must
cost nothing at start-up and work on a machine with no AWS account at all. The files are the AWS CLI's:
``$AWS_CONFIG_FILE`` (default ``~/.aws/config``: ``[default]``, ``[profile NAME]``; ``[sso-session X]``
and ``[services X]`` are not profiles) and ``$AWS_SHARED_CREDENTIALS_FILE`` (default
``~/.aws/credentials``: ``[NAME]``). Only names, kinds and regions are kept; a secret value is never read
into a :class:`Profile`. Source: AWS CLI User Guide, "Configuration and credential file settings",
https://docs.aws.amazon.com/cli/latest/userguide/cli-configure-files.html (read 2026-11-27).

The calls to AWS (:func:`caller_identity`, :func:`list_network`) go through :func:`mlfargate.aws.client`
with few retries and short timeouts: they answer a person waiting in front of a screen, so "offline" or
"no credentials" must come back in seconds, as one line (:class:`AccountCheckError`).
"""

from __future__ import annotations

import configparser
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from mlfargate import aws
from mlfargate.errors import MlfargateError

ProfileKind = Literal["sso", "role", "process", "keys", "config"]
CheckKind = Literal["offline", "no_credentials", "sso_login", "rejected", "profile_not_found", "error"]

#: How a front-end's account calls retry and wait: a person is waiting for the answer.
ATTEMPTS = 2
CONNECT_TIMEOUT_S = 3.0
READ_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Profile:
    """One named profile: where it was found and how it gets credentials (never the credentials)."""

    name: str
    kind: ProfileKind
    region: str | None
    files: tuple[str, ...]  # "config", "credentials"

    def describe(self) -> str:
        words = {
            "sso": "IAM Identity Center (SSO)",
            "role": "assumes a role",
            "process": "credential process",
            "keys": "access keys",
            "config": "settings only",
        }
        region = f", region {self.region}" if self.region else ""
        return f"{words[self.kind]}{region}"


@dataclass(frozen=True)
class Profiles:
    profiles: tuple[Profile, ...]
    #: One line per file that exists but could not be read (the profiles found elsewhere still count).
    problems: tuple[str, ...] = ()

    def get(self, name: str) -> Profile | None:
        return next((p for p in self.profiles if p.name == name), None)


def config_file(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    return Path(env.get("AWS_CONFIG_FILE") or Path.home() / ".aws" / "config").expanduser()


def credentials_file(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    return Path(env.get("AWS_SHARED_CREDENTIALS_FILE") or Path.home() / ".aws" / "credentials").expanduser()


def _read(path: Path, problems: list[str]) -> configparser.RawConfigParser | None:
    parser = configparser.RawConfigParser(strict=False)
    try:
        with path.open(encoding="utf-8") as handle:
            parser.read_file(handle)
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, configparser.Error) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        problems.append(f"{path}: cannot read it as an AWS config file ({first})")
        return None
    return parser


def _kind(section: Mapping[str, str], in_credentials: bool) -> ProfileKind:
    if "sso_session" in section or "sso_start_url" in section:
        return "sso"
    if "role_arn" in section:
        return "role"
    if "credential_process" in section:
        return "process"
    if in_credentials or "aws_access_key_id" in section:
        return "keys"
    return "config"


def local_profiles(environ: Mapping[str, str] | None = None) -> Profiles:
    """Every profile named in the local AWS config and credentials files, sorted by name."""
    problems: list[str] = []
    found: dict[str, dict[str, Any]] = {}
    config = _read(config_file(environ), problems)
    if config is not None:
        for section in config.sections():
            if section == "default":
                name = "default"
            elif section.startswith("profile "):
                name = section.removeprefix("profile ").strip()
            else:
                continue  # sso-session, services: not profiles
            if not name:
                continue
            values = dict(config.items(section))
            found[name] = {"values": values, "files": ["config"], "keys": False}
    creds = _read(credentials_file(environ), problems)
    if creds is not None:
        for name in creds.sections():
            entry = found.setdefault(name, {"values": {}, "files": [], "keys": False})
            entry["files"].append("credentials")
            entry["keys"] = "aws_access_key_id" in dict(creds.items(name))
    profiles = tuple(
        Profile(
            name=name,
            kind=_kind(entry["values"], entry["keys"]),
            region=entry["values"].get("region") or None,
            files=tuple(entry["files"]),
        )
        for name, entry in sorted(found.items())
    )
    return Profiles(profiles, tuple(problems))


# --------------------------------------------------------------------------------------------------
# Calls to AWS


class AccountCheckError(MlfargateError):
    """An account call could not answer; ``kind`` says why in a word a front-end can show."""

    def __init__(self, kind: CheckKind, message: str) -> None:
        self.kind = kind
        super().__init__(message)


@dataclass(frozen=True)
class Identity:
    account: str
    arn: str


def _client(service: str, region: str, profile: str | None) -> Any:
    try:
        return aws.client(
            service,
            region,
            profile,
            max_attempts=ATTEMPTS,
            connect_timeout=CONNECT_TIMEOUT_S,
            read_timeout=READ_TIMEOUT_S,
        )
    except aws.UnknownProfileError:
        raise AccountCheckError("profile_not_found", _unknown_profile(profile)) from None


def _unknown_profile(profile: str | None) -> str:
    return (
        f"profile '{profile}' is not in {config_file()} or {credentials_file()}; pick a local profile "
        "or leave it empty"
    )


def _explain(exc: Exception, profile: str | None, what: str) -> AccountCheckError:
    """A botocore exception as one line naming what is wrong and what to do."""
    from botocore import exceptions as bx

    who = f"profile '{profile}'" if profile else "the default credential chain"
    if isinstance(exc, bx.ProfileNotFound):
        return AccountCheckError("profile_not_found", _unknown_profile(profile))
    if isinstance(exc, bx.SSOTokenLoadError | bx.UnauthorizedSSOTokenError | bx.TokenRetrievalError):
        login = f"aws sso login --profile {profile}" if profile else "aws sso login"
        return AccountCheckError("sso_login", f"{who}: the SSO session is missing or expired; run `{login}`")
    if isinstance(exc, bx.NoCredentialsError | bx.PartialCredentialsError):
        return AccountCheckError(
            "no_credentials",
            f"no credentials for {who}: nothing to check (the wizard and `mlfargate generate` need none)",
        )
    if isinstance(exc, bx.EndpointConnectionError | bx.ConnectTimeoutError | bx.ReadTimeoutError):
        return AccountCheckError("offline", f"offline: cannot reach AWS to {what} ({exc})")
    if isinstance(exc, bx.ClientError):
        error = exc.response.get("Error", {})
        code, message = error.get("Code", "Error"), error.get("Message", "")
        return AccountCheckError(
            "rejected", f"AWS refused to {what} with {who}: {code}: {message}".rstrip(": ")
        )
    if isinstance(exc, bx.BotoCoreError):
        return AccountCheckError("error", f"cannot {what} with {who}: {exc}")
    raise exc


def caller_identity(region: str, profile: str | None = None) -> Identity:
    """Who the credentials of ``profile`` (or the default chain) belong to: STS GetCallerIdentity."""
    from botocore import exceptions as bx

    try:
        answer = _client("sts", region, profile).get_caller_identity()
    except (bx.BotoCoreError, bx.ClientError) as exc:
        raise _explain(exc, profile, "check the account") from None
    return Identity(account=str(answer["Account"]), arn=str(answer["Arn"]))


@dataclass(frozen=True)
class Vpc:
    id: str
    cidr: str
    name: str
    is_default: bool


@dataclass(frozen=True)
class Subnet:
    id: str
    vpc_id: str
    availability_zone: str
    cidr: str
    name: str
    #: Whether instances launched in it get a public IP by default (a public subnet's usual mark).
    public_ip_on_launch: bool


@dataclass(frozen=True)
class NetworkListing:
    vpcs: tuple[Vpc, ...]
    subnets: tuple[Subnet, ...]

    def subnets_of(self, vpc_id: str) -> tuple[Subnet, ...]:
        return tuple(s for s in self.subnets if s.vpc_id == vpc_id)


def _name(tags: list[dict[str, str]] | None) -> str:
    return next((t.get("Value", "") for t in tags or [] if t.get("Key") == "Name"), "")


def list_network(region: str, profile: str | None = None) -> NetworkListing:
    """The region's VPCs and subnets (DescribeVpcs / DescribeSubnets, every page)."""
    from botocore import exceptions as bx

    try:
        ec2 = _client("ec2", region, profile)
        vpcs = [
            Vpc(v["VpcId"], v.get("CidrBlock", ""), _name(v.get("Tags")), bool(v.get("IsDefault")))
            for page in ec2.get_paginator("describe_vpcs").paginate()
            for v in page.get("Vpcs", [])
        ]
        subnets = [
            Subnet(
                s["SubnetId"],
                s["VpcId"],
                s.get("AvailabilityZone", ""),
                s.get("CidrBlock", ""),
                _name(s.get("Tags")),
                bool(s.get("MapPublicIpOnLaunch")),
            )
            for page in ec2.get_paginator("describe_subnets").paginate()
            for s in page.get("Subnets", [])
        ]
    except (bx.BotoCoreError, bx.ClientError) as exc:
        raise _explain(exc, profile, "list VPCs and subnets") from None
    return NetworkListing(
        tuple(sorted(vpcs, key=lambda v: (not v.is_default, v.id))),
        tuple(sorted(subnets, key=lambda s: (s.vpc_id, s.availability_zone, s.id))),
    )
