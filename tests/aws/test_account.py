"""The account helpers the wizard uses: local profiles (files only, no boto3), STS and VPC listing
against the moto server on loopback, and each failure as one line with its kind."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from mlfargate import account

CONFIG = """
[default]
region = eu-west-1

[profile ml-sso]
sso_session = corp
sso_account_id = 111122223333
sso_role_name = Deploy
region = us-east-1

[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = us-east-1

[profile legacy-sso]
sso_start_url = https://old.awsapps.com/start
sso_region = us-east-1
sso_account_id = 111122223333
sso_role_name = Admin

[profile deployer]
role_arn = arn:aws:iam::111122223333:role/deploy
source_profile = default

[profile vault]
credential_process = /usr/local/bin/vault-creds

[services local]
s3 =
  endpoint_url = http://127.0.0.1:9000
"""

CREDENTIALS = """
[default]
aws_access_key_id = AKIAEXAMPLEEXAMPLE01
aws_secret_access_key = do-not-read-this-secret

[ci]
aws_access_key_id = AKIAEXAMPLEEXAMPLE02
aws_secret_access_key = another-secret
"""


@pytest.fixture
def aws_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    config, creds = tmp_path / "config", tmp_path / "credentials"
    config.write_text(CONFIG)
    creds.write_text(CREDENTIALS)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(creds))
    return config, creds


def test_profiles_come_from_both_files_with_their_kind(aws_files: tuple[Path, Path]) -> None:
    found = account.local_profiles()
    assert found.problems == ()
    assert [(p.name, p.kind, p.region, p.files) for p in found.profiles] == [
        ("ci", "keys", None, ("credentials",)),
        ("default", "keys", "eu-west-1", ("config", "credentials")),
        ("deployer", "role", None, ("config",)),
        ("legacy-sso", "sso", None, ("config",)),
        ("ml-sso", "sso", "us-east-1", ("config",)),
        ("vault", "process", None, ("config",)),
    ]
    # sso-session and services sections are not profiles, and no secret is kept anywhere
    assert found.get("corp") is None and found.get("local") is None
    assert "secret" not in repr(found) and "AKIA" not in repr(found)


def test_profiles_without_files_and_with_a_broken_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "absent"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "absent-too"))
    assert account.local_profiles() == account.Profiles(())
    broken = tmp_path / "config"
    broken.write_text("region = us-east-1\n[profile ok]\nregion = us-west-2\n")  # no section header first
    monkeypatch.setenv("AWS_CONFIG_FILE", str(broken))
    found = account.local_profiles()
    assert found.profiles == ()
    assert len(found.problems) == 1 and found.problems[0].startswith(f"{broken}: cannot read it")


def test_reading_profiles_never_imports_boto(aws_files: tuple[Path, Path]) -> None:
    import subprocess

    code = (
        "import sys; from mlfargate import account; account.local_profiles(); "
        "print([m for m in ('boto3', 'botocore') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.usefixtures("aws_files")
def test_caller_identity_on_the_emulator(moto_reset: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFARGATE_AWS_ENDPOINT_URL", moto_reset)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    ident = account.caller_identity("us-east-1")
    assert ident.account == "123456789012"
    assert ident.arn.startswith("arn:aws:")


def _no_credentials_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # never the link-local metadata address
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", raising=False)
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", raising=False)


def test_no_credentials_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, moto_server: str
) -> None:
    _no_credentials_env(monkeypatch, tmp_path)
    monkeypatch.setenv("MLFARGATE_AWS_ENDPOINT_URL", moto_server)
    with pytest.raises(account.AccountCheckError) as caught:
        account.caller_identity("us-east-1")
    assert caught.value.kind == "no_credentials"
    assert str(caught.value).startswith("no credentials for the default credential chain")


def test_offline_is_one_line_and_quick(monkeypatch: pytest.MonkeyPatch, moto_server: str) -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on: connection refused, like a dead network
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("MLFARGATE_AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
    with pytest.raises(account.AccountCheckError) as caught:
        account.caller_identity("us-east-1")
    assert caught.value.kind == "offline"
    assert str(caught.value).startswith("offline: cannot reach AWS to check the account")
    assert "\n" not in str(caught.value)


def test_unknown_profile(aws_files: tuple[Path, Path]) -> None:
    with pytest.raises(account.AccountCheckError) as caught:
        account.caller_identity("us-east-1", "nobody")
    assert caught.value.kind == "profile_not_found"
    assert str(caught.value).startswith("profile 'nobody' is not in ")


def test_expired_token_is_rejected_in_aws_words(monkeypatch: pytest.MonkeyPatch) -> None:
    # moto accepts any credentials; the text is STS's own for an expired session token
    # (AWS STS API reference, Common Errors: ExpiredToken, "The security token included in the request is expired").
    sts = boto3.client(
        "sts",
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
        aws_session_token="x",
    )
    stubber = Stubber(sts)
    stubber.add_client_error(
        "get_caller_identity",
        service_error_code="ExpiredToken",
        service_message="The security token included in the request is expired",
        http_status_code=403,
    )

    def stubbed(service: str, region: str, profile: str | None) -> Any:
        return sts

    monkeypatch.setattr(account, "_client", stubbed)
    with stubber, pytest.raises(account.AccountCheckError) as caught:
        account.caller_identity("us-east-1", "ml-sso")
    assert caught.value.kind == "rejected"
    assert str(caught.value) == (
        "AWS refused to check the account with profile 'ml-sso': ExpiredToken: "
        "The security token included in the request is expired"
    )


@pytest.mark.usefixtures("aws_files")
def test_vpcs_and_subnets_on_the_emulator(moto_reset: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFARGATE_AWS_ENDPOINT_URL", moto_reset)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    ec2 = boto3.client("ec2", region_name="eu-west-1", endpoint_url=moto_reset)
    vpc = ec2.create_vpc(
        CidrBlock="10.9.0.0/16",
        TagSpecifications=[{"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": "ml"}]}],
    )["Vpc"]["VpcId"]
    made = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.9.{i}.0/24", AvailabilityZone=f"eu-west-1{az}")["Subnet"][
            "SubnetId"
        ]
        for i, az in enumerate("abab")
    ]
    ec2.modify_subnet_attribute(SubnetId=made[0], MapPublicIpOnLaunch={"Value": True})
    listing = account.list_network("eu-west-1")
    mine = next(v for v in listing.vpcs if v.id == vpc)
    assert (mine.cidr, mine.name, mine.is_default) == ("10.9.0.0/16", "ml", False)
    assert listing.vpcs[0].is_default  # the default VPC is listed first
    subnets = listing.subnets_of(vpc)
    assert sorted(s.id for s in subnets) == sorted(made)
    assert [s.availability_zone for s in subnets] == ["eu-west-1a", "eu-west-1a", "eu-west-1b", "eu-west-1b"]
    assert {s.id for s in subnets if s.public_ip_on_launch} == {made[0]}
