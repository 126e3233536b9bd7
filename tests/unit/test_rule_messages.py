"""Every rule's whole verdict: for a spec that breaks it, exactly which errors come back, at which key,
in full words (the one line the operator reads: what is wrong and what is allowed), and nothing else;
and the edge a rule allows is allowed (min == max, a value of exactly 100, ...).

tests/unit/test_rules.py checks that each rule fires at the right key; this file pins the complete
message and the boundaries, which is what ``make mutation`` showed those tests leave open.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from mlfargate.errors import SpecErrors
from mlfargate.spec import rules
from mlfargate.spec.catalog import Catalog, FargateSize
from mlfargate.spec.catalog import load as load_catalog
from mlfargate.spec.model import from_data

REPO = Path(__file__).resolve().parents[2]
GPU = yaml.safe_load((REPO / "examples/gpu-ec2-spot-schedules.yaml").read_text())  # us-east-1, HTTPS, NAT
CPU = yaml.safe_load((REPO / "examples/cpu-fargate-spot.yaml").read_text())  # us-west-2, internal, no NAT
EXISTING = yaml.safe_load((REPO / "examples/existing-vpc.yaml").read_text())

SECRET = "arn:aws:secretsmanager:us-west-2:123456789012:secret:db-AbCdEf"
WAF = "arn:aws:wafv2:us-east-1:123456789012:regional/webacl/edge/0123-abcd"
OUTSIDE = "is set by ECS inside the container (the task's metadata and credentials endpoints); remove it here"
NOT_A_NAME = "is not a variable name; use letters, digits and _, not starting with a digit"
FARGATE_NO_GPU = (
    "Fargate has no GPUs; use capacity: ec2 (ECS on EC2, GPU AMI) or managed_instances for a GPU server"
)
NEW_VPC_ONLY = "applies to a new VPC only; remove it when vpc_id names an existing VPC"
URI_SEGMENT = "has an empty, '.' or '..' path segment; S3 and IAM would not agree on what it names"
KNOWN_GPU = (
    "g4dn.12xlarge, g4dn.2xlarge, g4dn.4xlarge, g4dn.xlarge, g5.12xlarge, g5.2xlarge, g5.48xlarge, g5.4xlarge, "
    "g5.xlarge, g6.12xlarge, g6.2xlarge, g6.4xlarge, g6.xlarge, g6e.12xlarge, g6e.2xlarge, g6e.xlarge, "
    "p4d.24xlarge, p5.48xlarge"
)
KNOWN_CPU = (
    "c6i.2xlarge, c6i.xlarge, c7g.xlarge, inf2.8xlarge, inf2.xlarge, m6i.2xlarge, m6i.xlarge, m7g.xlarge"
)


def env(**values: str) -> Callable[[dict[str, Any]], None]:
    return lambda d: d["service"]["environment"].update(values)


def service(**values: Any) -> Callable[[dict[str, Any]], None]:
    return lambda d: d["service"].update(values)


def compute(**values: Any) -> Callable[[dict[str, Any]], None]:
    return lambda d: d["compute"].update(values)


def network(**values: Any) -> Callable[[dict[str, Any]], None]:
    return lambda d: d["network"].update(values)


def schedules(*extra: dict[str, Any]) -> Callable[[dict[str, Any]], None]:
    def add(d: dict[str, Any]) -> None:
        for s in extra:
            d["scaling"]["schedules"].append({"cron": "cron(0 12 * * ? *)", "timezone": "UTC", **s})

    return add


def both(*changes: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    def apply(d: dict[str, Any]) -> None:
        for change in changes:
            change(d)

    return apply


CASES: list[tuple[str, dict[str, Any], Callable[[dict[str, Any]], None], list[tuple[str, str]]]] = [
    # ---- container settings
    ("env name", CPU, env(**{"1BAD": "x"}), [("service.environment.1BAD", NOT_A_NAME)]),
    (
        "env names: a bad one does not hide the next",
        CPU,
        env(**{"1BAD": "x", "DB_PASSWORD": "x"}),
        [
            ("service.environment.1BAD", NOT_A_NAME),
            (
                "service.environment.DB_PASSWORD",
                "looks like a credential; store it in AWS Secrets Manager or SSM Parameter Store and name its ARN "
                "under service.secrets (ECS injects it at start: never in the task definition's environment, "
                "tfvars, plan or logs)",
            ),
        ],
    ),
    (
        "access key id in a value",
        CPU,
        env(NOTE="AKIAABCDEFGHIJKLMNOP"),
        [
            (
                "service.environment.NOTE",
                "holds what looks like an AWS access key id; the task role gives the server its AWS credentials, "
                "and anything secret belongs under service.secrets",
            )
        ],
    ),
    (
        "PORT",
        CPU,
        env(PORT="1"),
        [("service.environment.PORT", "is set from service.container_port; remove it here")],
    ),
    (
        "MODEL_PATH",
        CPU,
        env(MODEL_PATH="1"),
        [("service.environment.MODEL_PATH", "is set from service.model_uri; remove it here")],
    ),
    ("MODEL_PATH without model_uri", CPU, both(service(model_uri=None), env(MODEL_PATH="/m")), []),
    (
        "ECS variables",
        CPU,
        env(ECS_FOO="1", AWS_CONTAINER_X="2"),
        [("service.environment.AWS_CONTAINER_X", OUTSIDE), ("service.environment.ECS_FOO", OUTSIDE)],
    ),
    (
        "env and secret",
        CPU,
        both(env(DB="1"), service(secrets={"DB": SECRET})),
        [("service.environment.DB", "is also under service.secrets; a variable comes from one of the two")],
    ),
    (
        "secret names: a bad one does not hide the next",
        CPU,
        service(secrets={"9X": SECRET, "PORT": SECRET, "ECS_X": SECRET}),
        [
            ("service.secrets.9X", NOT_A_NAME),
            ("service.secrets.ECS_X", OUTSIDE),
            ("service.secrets.PORT", "is set from service.container_port; remove it here"),
        ],
    ),
    (
        "MODEL_PATH as a secret",
        CPU,
        service(secrets={"MODEL_PATH": SECRET}),
        [("service.secrets.MODEL_PATH", "is set from service.model_uri; remove it here")],
    ),
    (
        "secret ARN",
        CPU,
        service(secrets={"DB": "arn:aws:secretsmanager:us-west-2:123456789012:secret:*"}),
        [
            (
                "service.secrets.DB",
                "'arn:aws:secretsmanager:us-west-2:123456789012:secret:*' is not the full ARN of a Secrets Manager "
                "secret (arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 characters>, optionally "
                "followed by :<json-key>:<version-stage>:<version-id>) or of an SSM parameter "
                "(arn:aws:ssm:<region>:<account>:parameter/<name>); no wildcards",
            )
        ],
    ),
    (
        "KMS key without secrets",
        CPU,
        service(secrets_kms_key_arn="arn:aws:kms:us-west-2:123456789012:key/abc"),
        [("service.secrets_kms_key_arn", "applies to service.secrets only; remove it or name the secrets")],
    ),
    # ---- exposure, egress, CIDRs
    (
        "public needs HTTPS",
        CPU,
        service(internal=False),
        [
            (
                "service.certificate_arn",
                "a public (internet-facing) service needs HTTPS: set certificate_arn to an ACM certificate in "
                "us-west-2, or set service.allow_plain_http: true to serve plain HTTP on port 80 (development "
                "only); service.internal: true keeps the load balancer inside the VPC instead",
            )
        ],
    ),
    (
        "plain HTTP with a certificate",
        GPU,
        service(allow_plain_http=True),
        [
            (
                "service.allow_plain_http",
                "has no effect with certificate_arn (the listener is HTTPS only); remove one of the two",
            )
        ],
    ),
    (
        "global web ACL",
        GPU,
        service(waf_web_acl_arn=WAF.replace("regional", "global")),
        [
            (
                "service.waf_web_acl_arn",
                "is a global web ACL; a load balancer takes a REGIONAL web ACL "
                "(arn:aws:wafv2:<region>:<account>:regional/webacl/<name>/<id>)",
            )
        ],
    ),
    ("regional web ACL", GPU, service(waf_web_acl_arn=WAF), []),
    (
        "web ACL elsewhere",
        GPU,
        service(
            waf_web_acl_arn=WAF.replace("us-east-1", "eu-west-1").replace("123456789012", "999999999999")
        ),
        [
            ("service.waf_web_acl_arn", "account 999999999999 differs from aws.account_id"),
            (
                "service.waf_web_acl_arn",
                "web ACL is in eu-west-1; a load balancer needs a regional web ACL in its own region (us-east-1)",
            ),
        ],
    ),
    (
        "certificate elsewhere",
        GPU,
        service(certificate_arn="arn:aws:acm:eu-west-1:999999999999:certificate/abc"),
        [
            ("service.certificate_arn", "account 999999999999 differs from aws.account_id"),
            (
                "service.certificate_arn",
                "certificate is in 'eu-west-1'; an ALB needs an ACM certificate in its own region (us-east-1)",
            ),
        ],
    ),
    (
        "egress without NAT",
        CPU,
        service(egress_cidrs=["10.0.0.0/8"]),
        [
            (
                "service.egress_cidrs",
                "applies with NAT gateways only: with nat_gateways: none tasks and hosts reach AWS through the "
                "VPC endpoints alone; remove it, or set network.nat_gateways: single or per_az",
            )
        ],
    ),
    (
        "egress CIDRs: host bits, then a duplicate",
        GPU,
        service(egress_cidrs=["10.0.0.1/8", "10.0.0.0/8", "10.0.0.0/8", "192.168.0.0/16"]),
        [
            (
                "service.egress_cidrs[0]",
                "'10.0.0.1/8' is not an IPv4 network (10.0.0.1/8 has host bits set); did you mean 10.0.0.0/8?",
            ),
            ("service.egress_cidrs[2]", "'10.0.0.0/8' is listed twice; each CIDR once"),
        ],
    ),
    (
        "ingress CIDRs that cannot be fixed",
        GPU,
        service(ingress_cidrs=["10.0.0.0/33", "10.0.0.0/8"]),
        [("service.ingress_cidrs[0]", "'10.0.0.0/33' is not an IPv4 network ('33' is not a valid netmask)")],
    ),
    # ---- the model's S3 location
    (
        "model URI wildcard",
        CPU,
        service(model_uri="s3://acme-models/churn/*"),
        [
            (
                "service.model_uri",
                "'s3://acme-models/churn/*' contains '*', which IAM reads as a wildcard or policy variable and "
                "would widen the task role's read grant; name one prefix ending in / or one object, without "
                "wildcards",
            )
        ],
    ),
    (
        "model URI is the bucket",
        CPU,
        service(model_uri="s3://acme-models//"),
        [
            (
                "service.model_uri",
                "'s3://acme-models//' names the whole bucket; the task role's read grant must stop at a prefix "
                "ending in / (s3://bucket/models/v3/) or one object (s3://bucket/models/v3/model.onnx)",
            )
        ],
    ),
    (
        "model URI ..",
        CPU,
        service(model_uri="s3://acme-models/a/../b/"),
        [("service.model_uri", f"'s3://acme-models/a/../b/' {URI_SEGMENT}")],
    ),
    (
        "model URI //",
        CPU,
        service(model_uri="s3://acme-models/a//X"),
        [("service.model_uri", f"'s3://acme-models/a//X' {URI_SEGMENT}")],
    ),
    ("model URI of X", CPU, service(model_uri="s3://acme-models/XX/"), []),
    ("model URI object", CPU, service(model_uri="s3://acme-models/a/b/model.onnx"), []),
    # ---- network
    (
        "region",
        CPU,
        lambda d: d["aws"].update(region="xx-nowhere-9"),
        [
            (
                "aws.region",
                "'xx-nowhere-9' is not in the catalog; known regions: ap-northeast-1, ap-northeast-2, ap-south-1, "
                "ap-southeast-1, ap-southeast-2, ca-central-1, eu-central-1, eu-north-1, eu-west-1, eu-west-2, "
                "eu-west-3, sa-east-1, us-east-1, us-east-2, us-west-1, us-west-2",
            )
        ],
    ),
    (
        "too many AZs",
        CPU,
        both(network(availability_zones=3), lambda d: d["aws"].update(region="us-west-1")),
        [("network.availability_zones", "us-west-1 has 2 AZs available; use 2..2")],
    ),
    (
        "VPC /15",
        CPU,
        network(vpc_cidr="10.0.0.0/15"),
        [("network.vpc_cidr", "/15 is not allowed; AWS VPCs are /16 to /28")],
    ),
    (
        "VPC /24",
        CPU,
        network(vpc_cidr="10.0.0.0/24"),
        [
            (
                "network.vpc_cidr",
                "/24 is too small: the VPC is cut into 16 blocks (public + private subnets per AZ) and each must be "
                "at least /27; use /23 or larger",
            )
        ],
    ),
    ("VPC /23 fits", CPU, network(vpc_cidr="10.0.0.0/23"), []),
    ("VPC /16 fits", CPU, network(vpc_cidr="10.0.0.0/16"), []),
    (
        "IPv6 VPC",
        CPU,
        network(vpc_cidr="fd00::/48"),
        [("network.vpc_cidr", "must be an IPv4 block (VPCs start from an IPv4 CIDR)")],
    ),
    (
        "VPC host bits",
        CPU,
        network(vpc_cidr="10.0.0.1/16"),
        [("network.vpc_cidr", "'10.0.0.1/16' is not a valid CIDR block (10.0.0.1/16 has host bits set)")],
    ),
    (
        "new-VPC keys with an existing VPC",
        EXISTING,
        network(vpc_cidr="10.0.0.0/16", availability_zones=2),
        [("network.availability_zones", NEW_VPC_ONLY), ("network.vpc_cidr", NEW_VPC_ONLY)],
    ),
    (
        "one subnet",
        EXISTING,
        network(public_subnet_ids=["subnet-0a1b2c3d4e5f60001"]),
        [
            (
                "network.public_subnet_ids",
                "an existing VPC needs at least 2 subnets in different AZs (ALB rule)",
            )
        ],
    ),
    (
        "a subnet twice",
        EXISTING,
        network(private_subnet_ids=["subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60001"]),
        [("network.private_subnet_ids", "lists a subnet twice; each subnet once")],
    ),
    (
        "subnet ids with a new VPC",
        CPU,
        network(public_subnet_ids=["subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60002"]),
        [("network.public_subnet_ids", "applies to an existing VPC only; set network.vpc_id or remove it")],
    ),
    (
        "no VPC at all",
        CPU,
        lambda d: d["network"].pop("vpc_cidr"),
        [("network", "set either vpc_cidr (a new VPC) or vpc_id with public/private subnet ids")],
    ),
    # ---- compute
    (
        "GPU without GPUs",
        GPU,
        compute(gpus_per_task=0),
        [("compute.gpus_per_task", "accelerator: gpu needs gpus_per_task >= 1")],
    ),
    (
        "GPUs without the GPU accelerator, on a CPU type",
        GPU,
        compute(accelerator="none", instance_types=["c6i.2xlarge"], gpus_per_task=1, cpu=1024, memory=2048),
        [("compute.gpus_per_task", "GPUs need accelerator: gpu; set gpus_per_task: 0 or remove it")],
    ),
    (
        "GPU accelerator on Fargate",
        CPU,
        compute(accelerator="gpu", gpus_per_task=0),
        [
            ("compute.capacity", FARGATE_NO_GPU),
            ("compute.gpus_per_task", "accelerator: gpu needs gpus_per_task >= 1"),
        ],
    ),
    (
        "instance types on Fargate",
        CPU,
        compute(instance_types=["c6i.xlarge"]),
        [("compute.instance_types", "Fargate picks its own hosts; remove instance_types")],
    ),
    (
        "Fargate CPU",
        CPU,
        compute(cpu=3000),
        [("compute.cpu", "3000 is not a Fargate CPU size; allowed: 256, 512, 1024, 2048, 4096, 8192, 16384")],
    ),
    (
        "Fargate memory from a list",
        CPU,
        compute(cpu=256, memory=4096),
        [("compute.memory", "4096 MiB is not valid with cpu 256 on Fargate; allowed: 512, 1024, 2048")],
    ),
    (
        "Fargate memory from a range",
        CPU,
        compute(cpu=512, memory=5000),
        [
            (
                "compute.memory",
                "5000 MiB is not valid with cpu 512 on Fargate; allowed: 1024-4096 in steps of 1024",
            )
        ],
    ),
    (
        "a type twice, an unknown one, then one without a GPU",
        GPU,
        compute(
            instance_types=["g5.xlarge", "g5.xlarge", "g99.huge", "c6i.xlarge", "inf2.xlarge", "g6.xlarge"]
        ),
        [
            ("compute.instance_types[1]", "'g5.xlarge' is listed twice"),
            ("compute.instance_types[2]", f"'g99.huge' is not in the catalog; known: {KNOWN_GPU}"),
            (
                "compute.instance_types[3]",
                "'c6i.xlarge' has no GPU; accelerator: gpu needs an NVIDIA GPU type such as g5.xlarge",
            ),
            (
                "compute.instance_types[4]",
                "'inf2.xlarge' has AWS Inferentia2 (Neuron devices, not ECS GPU resources); accelerator: gpu "
                "needs an NVIDIA GPU type such as g5.xlarge",
            ),
        ],
    ),
    (
        "an unknown CPU type lists the CPU types",
        GPU,
        compute(
            accelerator="none",
            gpus_per_task=0,
            instance_types=["c99.huge", "c7g.xlarge"],
            cpu=1024,
            memory=2048,
        ),
        [
            ("compute.instance_types[0]", f"'c99.huge' is not in the catalog; known: {KNOWN_CPU}"),
            ("compute.instance_types[1]", "'c7g.xlarge' is arm64 but compute.architecture is x86_64"),
        ],
    ),
    (
        "a task that does not fit",
        GPU,
        compute(instance_types=["g5.xlarge", "g4dn.12xlarge"], gpus_per_task=2, cpu=8192, memory=20000),
        [
            ("compute.instance_types[0]", "a task needs 2 GPUs but 'g5.xlarge' has 1"),
            (
                "compute.instance_types[0]",
                "a task needs 20000 MiB but 'g5.xlarge' registers about 15728 MiB with ECS (the agent reserves the "
                "rest); lower compute.memory or pick a larger type",
            ),
            ("compute.instance_types[0]", "a task needs 8192 CPU units but 'g5.xlarge' has 4096"),
        ],
    ),
    (
        "no instance types",
        GPU,
        compute(instance_types=[]),
        [("compute.instance_types", "capacity ec2 needs at least one instance type")],
    ),
    # ---- Spot and scaling
    (
        "on-demand base above max",
        CPU,
        lambda d: d["spot"].update(on_demand_base=7),
        [("spot.on_demand_base", "7 exceeds scaling.max_tasks (6); use 0..max_tasks")],
    ),
    ("on-demand base == max", CPU, lambda d: d["spot"].update(on_demand_base=6), []),
    (
        "min above max",
        CPU,
        lambda d: d["scaling"].update(min_tasks=7),
        [("scaling.min_tasks", "7 is above max_tasks (6); need min <= max")],
    ),
    ("min == max", CPU, lambda d: d["scaling"].update(min_tasks=6), []),
    (
        "memory target above 100",
        CPU,
        lambda d: d["scaling"].update(target={"metric": "memory", "value": 101}),
        [("scaling.target.value", "memory target is a percentage; use 1..100")],
    ),
    (
        "memory target of 100",
        CPU,
        lambda d: d["scaling"].update(target={"metric": "memory", "value": 100}),
        [],
    ),
    ("cpu target of 100", CPU, lambda d: d["scaling"].update(target={"metric": "cpu", "value": 100}), []),
    (
        "schedules at the edges",
        GPU,
        schedules(
            {"name": "pin", "min_tasks": 3, "max_tasks": 3},
            {"name": "lo", "min_tasks": 8},
            {"name": "hi", "max_tasks": 1},
        ),
        [],
    ),
    (
        "schedules that break the bounds",
        GPU,
        schedules(
            {"name": "x"},
            {"name": "y", "min_tasks": 4, "max_tasks": 3},
            {"name": "z", "min_tasks": 9},
            {"name": "w", "max_tasks": 0},
        ),
        [
            ("scaling.schedules[2]", "sets neither min_tasks nor max_tasks; set one or both"),
            ("scaling.schedules[3].min_tasks", "4 is above this schedule's max_tasks (3)"),
            ("scaling.schedules[4].min_tasks", "9 is above scaling.max_tasks (8); also set max_tasks"),
            ("scaling.schedules[5].max_tasks", "0 is below scaling.min_tasks (1); also set min_tasks"),
        ],
    ),
]


@pytest.mark.parametrize(("base", "change", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_the_whole_verdict(
    base: dict[str, Any], change: Callable[[dict[str, Any]], None], expected: list[tuple[str, str]]
) -> None:
    data = copy.deepcopy(base)
    change(data)
    found = [(e.path, e.message) for e in rules.check(from_data(data))]
    assert found == expected


def test_fargate_memory_is_a_range_only_when_evenly_stepped() -> None:
    # check() takes the catalog as a parameter: two sizes are listed, three evenly stepped are a range.
    cat = load_catalog()
    custom = Catalog(
        cat.date,
        cat.sources,
        cat.instance_types,
        {256: FargateSize(256, (512, 1024)), 512: FargateSize(512, (1024, 1536, 2048))},
        cat.region_azs,
    )
    for cpu, allowed in ((256, "512, 1024"), (512, "1024-2048 in steps of 512")):
        data = copy.deepcopy(CPU)
        data["compute"].update(cpu=cpu, memory=4000)
        found = [(e.path, e.message) for e in rules.check(from_data(data), custom)]
        assert found == [
            ("compute.memory", f"4000 MiB is not valid with cpu {cpu} on Fargate; allowed: {allowed}")
        ]


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("abc", None),
        ("a" * 63, None),
        ("my.bucket-1", None),
        ("ab", "is 2 characters; S3 bucket names have 3 to 63"),
        ("a" * 64, "is 64 characters; S3 bucket names have 3 to 63"),
        (
            "Abc",
            "may hold only lowercase letters, digits, dots and hyphens, and must start and end with a letter or digit",
        ),
        (
            "-abc",
            "may hold only lowercase letters, digits, dots and hyphens, and must start and end with a letter or digit",
        ),
        (
            "abc.",
            "may hold only lowercase letters, digits, dots and hyphens, and must start and end with a letter or digit",
        ),
        ("a..b", "must not contain two adjacent dots"),
        ("192.168.1.1", "must not be formatted as an IP address"),
        ("1.2.3.4.5", None),
        ("xn--abc", "must not start with 'xn--' (reserved by S3)"),
        ("sthree-abc", "must not start with 'sthree-' (reserved by S3)"),
        ("amzn-s3-demo-abc", "must not start with 'amzn-s3-demo-' (reserved by S3)"),
        ("abc-s3alias", "must not end with '-s3alias' (reserved by S3)"),
        ("abc--ol-s3", "must not end with '--ol-s3' (reserved by S3)"),
        ("abc.mrap", "must not end with '.mrap' (reserved by S3)"),
        ("abc--x-s3", "must not end with '--x-s3' (reserved by S3)"),
        ("abc--table-s3", "must not end with '--table-s3' (reserved by S3)"),
    ],
)
def test_bucket_names_follow_s3s_rules(name: str, problem: str | None) -> None:
    assert rules.bucket_name_error(name) == problem


def test_secret_arns_are_granted_without_ecs_json_key_suffix() -> None:
    assert rules.secret_resource_arn(f"{SECRET}:password:AWSCURRENT:") == SECRET
    assert rules.secret_resource_arn(SECRET) == SECRET
    ssm = "arn:aws:ssm:us-west-2:123456789012:parameter/app/db"
    assert rules.secret_resource_arn(ssm) == ssm


def test_validate_returns_a_valid_spec_and_raises_every_error(tmp_path: Path) -> None:
    spec = from_data(copy.deepcopy(CPU))
    assert rules.validate(spec) is spec
    # The catalog it is given is the one it checks against.
    cat = load_catalog()
    elsewhere = Catalog(cat.date, cat.sources, cat.instance_types, cat.fargate_sizes, {"eu-west-1": 3})
    with pytest.raises(SpecErrors) as unknown_region:
        rules.validate(spec, elsewhere)
    assert [e.path for e in unknown_region.value.errors] == ["aws.region"]
    bad = copy.deepcopy(CPU)
    bad["scaling"].update(min_tasks=7)
    bad["spot"].update(on_demand_base=7)
    with pytest.raises(SpecErrors) as raised:
        rules.validate(from_data(bad))
    assert raised.value.lines() == [
        "spec error: scaling.min_tasks: 7 is above max_tasks (6); need min <= max",
        "spec error: spot.on_demand_base: 7 exceeds scaling.max_tasks (6); use 0..max_tasks",
    ]
    path = tmp_path / "mlfargate.yaml"
    path.write_text(yaml.safe_dump(bad))
    with pytest.raises(SpecErrors) as loaded:
        rules.load_valid(path)
    assert len(loaded.value.errors) == 2
    path.write_text((REPO / "examples/cpu-fargate-spot.yaml").read_text())
    assert rules.load_valid(path).name == "churn"


def test_a_model_uri_without_a_key_names_the_whole_bucket() -> None:
    # The spec's pattern never lets one through, but the function answers for any string.
    whole = (
        "names the whole bucket; the task role's read grant must stop at a prefix ending in / "
        "(s3://bucket/models/v3/) or one object (s3://bucket/models/v3/model.onnx)"
    )
    assert rules.model_uri_error("s3://acme-models") == whole
    assert rules.model_uri_error("s3://acme-models/") == whole
    assert rules.model_uri_error("s3://acme-models/v3/") is None
