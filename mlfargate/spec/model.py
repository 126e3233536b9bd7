"""The deployment spec: the one thing every part of mlfargate reads.

A YAML file (``mlfargate.yaml`` by default). Unknown keys are errors; optional keys may be added,
never renamed. This module holds the shape (pydantic) and load/dump; the AWS rules that need the
catalog live in :mod:`mlfargate.spec.rules`.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from mlfargate.errors import SpecError, SpecErrors, shown
from mlfargate.spec.text import DEFAULT_FILE as DEFAULT_FILE
from mlfargate.spec.text import example_text as example_text
from mlfargate.spec.text import parse_yaml as parse_yaml
from mlfargate.spec.text import read_yaml as read_yaml

Count = Annotated[int, Field(ge=0, le=1000)]
#: An IPv4 CIDR block (shape only; :mod:`mlfargate.spec.rules` checks it is a real network).
Ipv4Cidr = Annotated[
    str, Field(pattern=r"^\d{1,3}(\.\d{1,3}){3}/\d{1,2}$", description="IPv4 CIDR, e.g. 203.0.113.0/24")
]


def _plain_text(value: Any) -> Any:
    """YAML gives ``MAX_BATCH_SIZE: 64`` as a number and ``ACCESS_LOG: true`` as a bool: container
    environment values are strings, so write them the way the model server reads them."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value


#: A container environment value: a string (numbers and booleans are written as text).
EnvValue = Annotated[str, BeforeValidator(_plain_text)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Aws(_Model):
    region: Annotated[
        str, Field(pattern=r"^[a-z]{2}(-gov)?-[a-z]+-\d$", description="AWS region, e.g. us-east-1")
    ]
    profile: Annotated[
        str | None, Field(min_length=1, description="Named AWS CLI profile (never credentials)")
    ] = None
    account_id: Annotated[
        str | None, Field(pattern=r"^\d{12}$", description="12-digit account id, quoted")
    ] = None


class Network(_Model):
    """Either a new VPC (vpc_cidr, availability_zones, nat_gateways) or an existing one (vpc_id + subnets)."""

    vpc_cidr: Annotated[str | None, Field(description="CIDR of a new VPC, /16 to /24")] = None
    availability_zones: Annotated[int | None, Field(ge=2, le=6, description="AZs for a new VPC (2..6)")] = (
        None
    )
    nat_gateways: Annotated[
        Literal["none", "single", "per_az"] | None, Field(description="NAT for a new VPC; default single")
    ] = None
    vpc_id: Annotated[str | None, Field(pattern=r"^vpc-[0-9a-f]{8,17}$")] = None
    public_subnet_ids: list[Annotated[str, Field(pattern=r"^subnet-[0-9a-f]{8,17}$")]] | None = None
    private_subnet_ids: list[Annotated[str, Field(pattern=r"^subnet-[0-9a-f]{8,17}$")]] | None = None

    @property
    def creates_vpc(self) -> bool:
        return self.vpc_id is None

    @property
    def az_count(self) -> int:
        if self.creates_vpc:
            return self.availability_zones or 2
        return len(self.private_subnet_ids or [])

    @property
    def nat(self) -> Literal["none", "single", "per_az"]:
        return self.nat_gateways or ("single" if self.creates_vpc else "none")


class Service(_Model):
    image: Annotated[
        str | None,
        Field(
            pattern=r"^[a-z0-9][a-z0-9._/:@-]*$",
            description="Container image; default: the ECR repository the workspace creates",
        ),
    ] = None
    container_port: Annotated[int, Field(ge=1, le=65535)] = 8080
    health_check_path: Annotated[str, Field(pattern=r"^/[A-Za-z0-9._~/-]*$")] = "/ready"
    model_uri: Annotated[
        str | None,
        Field(
            pattern=r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/.+$",
            description="s3://bucket/prefix/ (every object under it) or s3://bucket/key (one object)",
        ),
    ] = None
    certificate_arn: Annotated[
        str | None, Field(pattern=r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/.+$")
    ] = None
    # Exposure (issue 13): who can reach the load balancer, and over what.
    internal: Annotated[
        bool,
        Field(
            description="true: an internal load balancer in the private subnets, reachable from inside the VPC "
            "only; false (default): internet-facing in the public subnets"
        ),
    ] = False
    ingress_cidrs: Annotated[
        list[Ipv4Cidr] | None,
        Field(
            min_length=1,
            description="IPv4 CIDRs allowed to reach the listener; default 0.0.0.0/0 when public, the VPC CIDR "
            "when internal",
        ),
    ] = None
    allow_plain_http: Annotated[
        bool,
        Field(
            description="Serve plain HTTP (port 80) without certificate_arn; a public service needs this explicit "
            "choice (development only)"
        ),
    ] = False
    waf_web_acl_arn: Annotated[
        str | None,
        Field(
            pattern=r"^arn:aws[a-z-]*:wafv2:[a-z0-9-]+:\d{12}:[a-z]+/webacl/[A-Za-z0-9_-]+/[A-Za-z0-9-]+$",
            description="A regional AWS WAF web ACL to associate with the load balancer",
        ),
    ] = None
    egress_cidrs: Annotated[
        list[Ipv4Cidr] | None,
        Field(
            min_length=1,
            description="With NAT (or an existing VPC): where tasks and GPU hosts may open HTTPS (443) "
            "connections beyond the VPC and the S3 gateway endpoint; default 0.0.0.0/0",
        ),
    ] = None
    # Container settings (issue 13): plain variables, and secrets injected by ECS from their ARNs.
    environment: Annotated[
        dict[str, EnvValue],
        Field(
            description="Plain environment variables of the model server (MAX_BATCH_SIZE, MODEL_FILE, ...); "
            "never credentials: those go in secrets"
        ),
    ] = Field(default_factory=dict)
    secrets: Annotated[
        dict[str, str],
        Field(
            description="Variable name -> ARN of a Secrets Manager secret or SSM parameter; ECS injects the "
            "value at start (the task definition's secrets), so it is never in the workspace, tfvars or plan"
        ),
    ] = Field(default_factory=dict)
    secrets_kms_key_arn: Annotated[
        str | None,
        Field(
            pattern=r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9-]+$",
            description="Customer managed KMS key that encrypts those secrets (kms:Decrypt for the execution "
            "role); not needed for the AWS managed keys",
        ),
    ] = None


class Compute(_Model):
    accelerator: Literal["gpu", "none"] = "none"
    capacity: Literal["fargate", "ec2", "managed_instances"] = "fargate"
    instance_types: list[str] = Field(default_factory=list)
    gpus_per_task: Annotated[int | None, Field(ge=0, le=8, description="Default 1 with a GPU, else 0")] = None
    cpu: Annotated[int, Field(ge=128, le=196608, description="Task CPU units (1024 = 1 vCPU)")]
    memory: Annotated[int, Field(ge=128, description="Task memory, MiB")]
    architecture: Literal["x86_64", "arm64"] = "x86_64"

    @property
    def gpus(self) -> int:
        if self.gpus_per_task is not None:
            return self.gpus_per_task
        return 1 if self.accelerator == "gpu" else 0


class Spot(_Model):
    on_demand_base: Count = 0
    spot_percentage: Annotated[int, Field(ge=0, le=100)] = 0


#: Application Auto Scaling's TargetValue "won't accept values that are either too small or too
#: large": its API reference says -2^360..2^360, the DynamoDB API reference for the same field
#: 8.515920e-109..1.174271e+108 (2^-359..2^359). Positive values inside both: 2^-359..2^359. Sources:
#: docs.aws.amazon.com/autoscaling/application/APIReference/API_TargetTrackingScalingPolicyConfiguration.html,
#: docs.aws.amazon.com/amazondynamodb/latest/APIReference/
#: API_AutoScalingTargetTrackingScalingPolicyConfigurationDescription.html (both read 2026-11-29)
TARGET_VALUE_MIN = 2.0**-359
TARGET_VALUE_MAX = 2.0**359
#: mlfargate's bounds for budget.monthly_usd: AWS Budgets documents no numeric limit (the amount is a
#: decimal string, pattern `([0-9]*\.)?[0-9]+`, API_budgets_Spend); a cent is the smallest currency
#: amount, and more than a billion a month for one model server is a typo.
BUDGET_MIN_USD = 0.01
BUDGET_MAX_USD = 1_000_000_000


class Target(_Model):
    metric: Literal["cpu", "memory", "requests_per_target"]
    value: Annotated[
        float,
        Field(
            ge=TARGET_VALUE_MIN,
            le=TARGET_VALUE_MAX,
            allow_inf_nan=False,
            description="Percent for cpu/memory, requests per target per minute for requests_per_target "
            "(Application Auto Scaling accepts 2^-359..2^359)",
        ),
    ]


class Schedule(_Model):
    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{0,31}$")]
    cron: str
    timezone: str = "UTC"
    min_tasks: Count | None = None
    max_tasks: Count | None = None


class Scaling(_Model):
    min_tasks: Count = 1
    max_tasks: Annotated[int, Field(ge=1, le=1000)] = 2
    target: Target = Target(metric="cpu", value=60)
    schedules: list[Schedule] = Field(default_factory=list)


class Budget(_Model):
    monthly_usd: Annotated[float, Field(ge=BUDGET_MIN_USD, le=BUDGET_MAX_USD, allow_inf_nan=False)]
    alert_email: Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]


class Spec(_Model):
    """An operator's deployment: one model server, one environment."""

    version: Literal[1] = 1
    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{0,19}$", description="Service name")]
    environment: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{0,11}$")]
    aws: Aws
    network: Network
    service: Service = Service()
    compute: Compute
    spot: Spot = Spot()
    scaling: Scaling = Scaling()
    budget: Budget | None = None

    @property
    def prefix(self) -> str:
        """The name every resource starts with."""
        return f"{self.name}-{self.environment}"

    def summary(self) -> str:
        """One line: where and how the service runs (``mlfargate validate`` and the TUI show it)."""
        c = self.compute
        where = {"fargate": "Fargate", "ec2": "ECS on EC2", "managed_instances": "ECS Managed Instances"}[
            c.capacity
        ]
        hw = (
            f"{c.gpus} GPU/task on {', '.join(c.instance_types)}"
            if c.gpus
            else f"{c.cpu} CPU units/{c.memory} MiB"
        )
        spot = f"{self.spot.spot_percentage}% Spot above {self.spot.on_demand_base} on-demand"
        sched = f", {len(self.scaling.schedules)} schedule(s)" if self.scaling.schedules else ""
        return (
            f"{self.prefix} in {self.aws.region}: {where}, {hw}, {spot}, "
            f"{self.scaling.min_tasks}..{self.scaling.max_tasks} tasks{sched}"
        )


def json_schema() -> dict[str, Any]:
    schema = Spec.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "mlfargate deployment spec"
    return schema


_PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]{1,64}")


def _key_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            # A key the operator wrote (an unknown one) is echoed quoted when it is not a plain name.
            key = str(part) if _PLAIN_KEY.fullmatch(str(part)) else shown(str(part))
            out += f".{key}" if out else key
    return out or "(top level)"


_RANGE_KINDS = ("greater_than", "greater_than_equal", "less_than", "less_than_equal", "finite_number")


def _message(err: Any) -> str:
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if kind == "extra_forbidden":
        return "unknown key; see `mlfargate schema` for the allowed keys"
    if kind == "missing":
        return "required key is missing"
    if kind == "string_pattern_mismatch":
        return f"{shown(err['input'])} does not match {ctx.get('pattern')}"
    if kind == "literal_error":
        return f"{shown(err['input'])} is not allowed; expected {ctx.get('expected')}"
    allowed = _named_range(err["loc"]) if kind in _RANGE_KINDS else None
    if allowed:
        return f"{shown(err['input'])} is out of range; allowed: {allowed}"
    text: str = err["msg"]
    return (
        f"{text} (got {shown(err['input'])})"
        if "input" in err and not isinstance(err["input"], dict | list)
        else text
    )


@cache
def _schema() -> dict[str, Any]:
    return Spec.model_json_schema()


def _number_schema(loc: tuple[int | str, ...]) -> dict[str, Any] | None:
    """The JSON Schema of the number at ``loc`` (through $ref, optional anyOf and list items)."""
    schema = _schema()
    defs = schema.get("$defs", {})

    def resolve(node: dict[str, Any]) -> dict[str, Any]:
        for _ in range(8):
            if "$ref" in node:
                node = defs.get(str(node["$ref"]).rsplit("/", 1)[-1], {})
            elif "anyOf" in node:
                node = next((n for n in node["anyOf"] if n.get("type") != "null"), {})
            else:
                break
        return node

    node: dict[str, Any] = schema
    for part in loc:
        node = resolve(node)
        node = node.get("items", {}) if isinstance(part, int) else node.get("properties", {}).get(part, {})
    node = resolve(node)
    return node if node.get("type") in ("integer", "number") else None


def _bound(value: float) -> str:
    return (
        f"{value:g}"
        if (isinstance(value, float) and not float(value).is_integer()) or abs(value) >= 1e16
        else f"{int(value)}"
    )


def _named_range(loc: tuple[int | str, ...]) -> str | None:
    """The allowed range of the number at ``loc``, in words (``1..65535``, ``above 0``), from the schema."""
    node = _number_schema(loc)
    if node is None:
        return None
    kind = "a whole number" if node["type"] == "integer" else "a finite number"
    lo, hi = node.get("minimum"), node.get("maximum")
    above, below = node.get("exclusiveMinimum"), node.get("exclusiveMaximum")
    if lo is not None and hi is not None:
        return f"{kind} from {_bound(lo)} to {_bound(hi)}"
    parts = [
        *([f"at least {_bound(lo)}"] if lo is not None else []),
        *([f"above {_bound(above)}"] if above is not None else []),
        *([f"at most {_bound(hi)}"] if hi is not None else []),
        *([f"below {_bound(below)}"] if below is not None else []),
    ]
    return f"{kind} {' and '.join(parts)}" if parts else None


def from_data(data: Any) -> Spec:
    """Build a spec from parsed YAML/JSON data, raising :class:`SpecErrors` with every shape error."""
    if not isinstance(data, dict):
        raise SpecErrors([SpecError("(top level)", "the spec must be a mapping of keys to values")])
    try:
        return Spec.model_validate(data)
    except ValidationError as exc:
        raise SpecErrors([SpecError(_key_path(e["loc"]), _message(e)) for e in exc.errors()]) from None


def load(path: Path) -> Spec:
    """Load and shape-check a spec file (AWS rules are applied by :func:`mlfargate.spec.rules.validate`)."""
    return from_data(read_yaml(path))


def to_data(spec: Spec) -> dict[str, Any]:
    """The spec as plain data, without unset optional keys (round-trips through :func:`from_data`)."""
    data: dict[str, Any] = json.loads(spec.model_dump_json(exclude_none=True))
    return data


def dump(spec: Spec) -> str:
    return yaml.safe_dump(to_data(spec), sort_keys=False, default_flow_style=None, width=110)
