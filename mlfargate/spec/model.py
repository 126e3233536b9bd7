"""The deployment spec: the one thing every part of mlfargate reads.

A YAML file (``mlfargate.yaml`` by default). Unknown keys are errors; optional keys may be added,
never renamed. This module holds the shape (pydantic) and load/dump; the AWS rules that need the
catalog live in :mod:`mlfargate.spec.rules`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mlfargate.errors import SpecError, SpecErrors
from mlfargate.spec.text import DEFAULT_FILE as DEFAULT_FILE
from mlfargate.spec.text import example_text as example_text
from mlfargate.spec.text import parse_yaml as parse_yaml
from mlfargate.spec.text import read_yaml as read_yaml

Count = Annotated[int, Field(ge=0, le=1000)]


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


class Target(_Model):
    metric: Literal["cpu", "memory", "requests_per_target"]
    value: Annotated[float, Field(gt=0)]


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
    monthly_usd: Annotated[float, Field(gt=0)]
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


def _key_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def _message(err: Any) -> str:
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if kind == "extra_forbidden":
        return "unknown key; see `mlfargate schema` for the allowed keys"
    if kind == "missing":
        return "required key is missing"
    if kind == "string_pattern_mismatch":
        return f"{err['input']!r} does not match {ctx.get('pattern')}"
    if kind == "literal_error":
        return f"{err['input']!r} is not allowed; expected {ctx.get('expected')}"
    text: str = err["msg"]
    return (
        f"{text} (got {err['input']!r})"
        if "input" in err and not isinstance(err["input"], dict | list)
        else text
    )


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
