"""The spec rules of issue #13: exposure is a choice (HTTPS unless the spec says otherwise), egress
and the model grant stay narrow, container settings never carry credentials. Each rule has a spec
that breaks it; the error names the key and what is allowed."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from mlfargate.errors import SpecError, SpecErrors
from mlfargate.spec import rules
from mlfargate.spec.model import from_data

REPO = Path(__file__).resolve().parents[2]
DEV = yaml.safe_load((REPO / "environments/dev/mlfargate.yaml").read_text())  # public, plain HTTP chosen
PROD = yaml.safe_load((REPO / "environments/prod/mlfargate.yaml").read_text())  # public HTTPS, NAT
EXISTING = yaml.safe_load((REPO / "examples/existing-vpc.yaml").read_text())

SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:sentiment/api-key-AbCdEf"
SSM_ARN = "arn:aws:ssm:us-east-1:123456789012:parameter/sentiment/hf-token"


def check(base: dict[str, Any], **service: Any) -> list[SpecError]:
    data = copy.deepcopy(base)
    for key, value in service.items():
        if value is None:
            data["service"].pop(key, None)
        else:
            data["service"][key] = value
    try:
        return rules.check(from_data(data))
    except SpecErrors as exc:
        return exc.errors


def messages(found: list[SpecError], path: str) -> str:
    return " | ".join(e.message for e in found if e.path == path)


# --------------------------------------------------------------------------------------------------
# Exposure


def test_public_without_certificate_is_refused_naming_both_ways_out() -> None:
    found = check(DEV, allow_plain_http=None, internal=None)
    assert [str(e) for e in found] == [
        "spec error: service.certificate_arn: a public (internet-facing) service needs HTTPS: set "
        "certificate_arn to an ACM certificate in us-east-1, or set service.allow_plain_http: true to serve "
        "plain HTTP on port 80 (development only); service.internal: true keeps the load balancer inside "
        "the VPC instead"
    ]


def test_plain_http_is_accepted_when_chosen_and_internal_may_use_http() -> None:
    assert check(DEV) == []  # allow_plain_http: true
    assert check(DEV, allow_plain_http=None, internal=True, ingress_cidrs=None) == []


def test_plain_http_with_a_certificate_is_a_contradiction() -> None:
    found = check(PROD, allow_plain_http=True)
    assert "has no effect with certificate_arn" in messages(found, "service.allow_plain_http")


@pytest.mark.parametrize(
    ("cidrs", "fragment"),
    [
        (["10.0.0.1/16"], "did you mean 10.0.0.0/16?"),
        (["300.0.0.0/8"], "is not an IPv4 network"),
        (["203.0.113.0/24", "203.0.113.0/24"], "listed twice"),
    ],
)
def test_ingress_cidrs_must_be_ipv4_networks(cidrs: list[str], fragment: str) -> None:
    found = check(PROD, ingress_cidrs=cidrs)
    assert fragment in " | ".join(str(e) for e in found if e.path.startswith("service.ingress_cidrs["))


def test_ingress_cidrs_shape_and_non_empty() -> None:
    assert any(e.path.startswith("service.ingress_cidrs") for e in check(PROD, ingress_cidrs=["::/0"]))
    assert any(e.path == "service.ingress_cidrs" for e in check(PROD, ingress_cidrs=[]))


@pytest.mark.parametrize(
    ("arn", "fragment"),
    [
        (
            "arn:aws:wafv2:us-east-1:123456789012:global/webacl/acl/a1b2c3d4-5678-90ab-cdef-111122223333",
            "REGIONAL",
        ),
        (
            "arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/acl/a1b2c3d4-5678-90ab-cdef-111122223333",
            "in eu-west-1",
        ),
        (
            "arn:aws:wafv2:us-east-1:999999999999:regional/webacl/acl/a1b2c3d4-5678-90ab-cdef-111122223333",
            "account",
        ),
    ],
)
def test_waf_web_acl_must_be_regional_in_the_region_and_account(arn: str, fragment: str) -> None:
    assert fragment in messages(check(PROD, waf_web_acl_arn=arn), "service.waf_web_acl_arn")


def test_a_regional_waf_web_acl_is_accepted() -> None:
    arn = "arn:aws:wafv2:us-east-1:123456789012:regional/webacl/acl/a1b2c3d4-5678-90ab-cdef-111122223333"
    assert check(PROD, waf_web_acl_arn=arn) == []


# --------------------------------------------------------------------------------------------------
# Egress and the model grant


def test_egress_cidrs_need_a_nat_gateway() -> None:
    found = check(DEV, egress_cidrs=["0.0.0.0/0"])  # dev has nat_gateways: none
    assert "applies with NAT gateways only" in messages(found, "service.egress_cidrs")
    assert check(PROD, egress_cidrs=["198.51.100.0/24"]) == []
    assert check(EXISTING) == []  # an existing VPC may narrow it too


@pytest.mark.parametrize(
    "uri",
    [
        "s3://acme-models/*",
        "s3://acme-models/sentiment/*",
        "s3://acme-models/sentiment/v?/",
        "s3://acme-models/${aws:username}/",
        "s3://acme-models//",
        "s3://acme-models///",
        "s3://acme-models//sentiment/",
        "s3://acme-models/sentiment//v3/",
        "s3://acme-models/./",
        "s3://acme-models/sentiment/../",
    ],
)
def test_model_uri_wildcards_and_bucket_only_forms_are_refused(uri: str) -> None:
    found = check(PROD, model_uri=uri)
    assert messages(found, "service.model_uri"), uri
    assert rules.model_uri_error(uri) is not None


@pytest.mark.parametrize("uri", ["s3://acme-models", "s3://acme-models/"])
def test_model_uri_without_a_key_is_refused_by_its_shape(uri: str) -> None:
    assert any(e.path == "service.model_uri" for e in check(PROD, model_uri=uri))


@pytest.mark.parametrize(
    "uri", ["s3://acme-models/sentiment/v3/", "s3://acme-models/sentiment/v3/model.onnx", "s3://a.b-c/x"]
)
def test_a_prefix_or_an_object_is_accepted(uri: str) -> None:
    assert check(PROD, model_uri=uri) == []


# --------------------------------------------------------------------------------------------------
# Container settings and secrets


@pytest.mark.parametrize(
    "name",
    [
        "API_KEY",
        "HF_TOKEN",
        "DB_PASSWORD",
        "PASSWORD",
        "CLIENT_SECRET",
        "MY_SECRET_VALUE",
        "KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "GCP_CREDENTIALS",
        "db_passwd",
        "TLS_PRIVATE_KEY_PEM",
    ],
)
def test_credential_looking_plain_variables_point_to_secrets(name: str) -> None:
    found = check(PROD, environment={name: "x"})
    text = messages(found, f"service.environment.{name}")
    assert "looks like a credential" in text and "service.secrets" in text


@pytest.mark.parametrize(
    "name", ["MAX_BATCH_SIZE", "TOKENIZER_PATH", "MAX_TOKENS", "KEY_PREFIX", "MODEL_FILE"]
)
def test_model_server_settings_pass(name: str) -> None:
    assert check(PROD, environment={name: "1"}) == []


def test_yaml_numbers_and_booleans_become_the_text_the_server_reads() -> None:
    data = copy.deepcopy(PROD)
    data["service"]["environment"] = {"MAX_BATCH_SIZE": 64, "MAX_BATCH_DELAY_MS": 2.5, "ACCESS_LOG": True}
    spec = from_data(data)
    assert spec.service.environment == {
        "MAX_BATCH_SIZE": "64",
        "MAX_BATCH_DELAY_MS": "2.5",
        "ACCESS_LOG": "true",
    }


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("PORT", "set from service.container_port"),
        ("MODEL_PATH", "set from service.model_uri"),
        ("ECS_CONTAINER_METADATA_URI", "set by ECS"),
        ("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "set by ECS"),
        ("1ST", "not a variable name"),
        ("MY-VAR", "not a variable name"),
    ],
)
def test_reserved_and_invalid_names(name: str, fragment: str) -> None:
    assert fragment in messages(check(PROD, environment={name: "x"}), f"service.environment.{name}")


def test_model_path_is_the_operators_when_there_is_no_model_uri() -> None:
    assert check(PROD, model_uri=None, environment={"MODEL_PATH": "/models/model.onnx"}) == []


def test_an_access_key_id_as_a_plain_value_is_refused() -> None:
    found = check(PROD, environment={"UPSTREAM_ID": "AKIAIOSFODNN7EXAMPLE"})
    assert "AWS access key id" in messages(found, "service.environment.UPSTREAM_ID")


@pytest.mark.parametrize(
    "arn",
    [
        SECRET_ARN,
        SECRET_ARN + ":password::",  # ECS's json-key form
        SECRET_ARN + ":password:AWSCURRENT:",
        SSM_ARN,
        "arn:aws-us-gov:ssm:us-gov-west-1:123456789012:parameter/x",
    ],
)
def test_secrets_accept_full_secret_and_parameter_arns(arn: str) -> None:
    assert check(PROD, secrets={"API_KEY": arn}) == []


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:*",
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:sentiment/*",
        "arn:aws:ssm:us-east-1:123456789012:parameter/sentiment/*",
        "sentiment/api-key",
        "arn:aws:kms:us-east-1:123456789012:key/x",
        "arn:aws:s3:::bucket/key",
    ],
)
def test_secrets_refuse_wildcards_names_and_other_services(arn: str) -> None:
    assert "not the full ARN" in messages(check(PROD, secrets={"API_KEY": arn}), "service.secrets.API_KEY")


def test_a_variable_comes_from_environment_or_secrets_not_both() -> None:
    found = check(PROD, environment={"UPSTREAM_URL": "x"}, secrets={"UPSTREAM_URL": SECRET_ARN})
    assert "also under service.secrets" in messages(found, "service.environment.UPSTREAM_URL")


def test_secrets_kms_key_needs_secrets() -> None:
    key = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    assert "applies to service.secrets only" in messages(
        check(PROD, secrets_kms_key_arn=key), "service.secrets_kms_key_arn"
    )
    assert check(PROD, secrets_kms_key_arn=key, secrets={"API_KEY": SECRET_ARN}) == []


def test_secret_resource_arn_cuts_the_json_key_suffix_only() -> None:
    assert rules.secret_resource_arn(SECRET_ARN + ":password::") == SECRET_ARN
    assert rules.secret_resource_arn(SECRET_ARN) == SECRET_ARN
    assert rules.secret_resource_arn(SSM_ARN) == SSM_ARN


def test_the_committed_specs_choose_their_exposure_explicitly() -> None:
    for path in [
        *sorted((REPO / "examples").glob("*.yaml")),
        *(REPO / "environments").glob("*/mlfargate.yaml"),
    ]:
        service = yaml.safe_load(path.read_text())["service"]
        chose = "certificate_arn" in service or "allow_plain_http" in service or service.get("internal")
        assert chose, f"{path} does not say how its endpoint is exposed"
