"""Spec -> Terraform root workspace: the one place that decides what a workspace contains.

:func:`plan` turns a valid spec into a :class:`WorkspacePlan`: the module calls (which modules, with
which arguments), variables, outputs, provider and backend settings. It is the single source of
every module argument; two serializers read it:

* :func:`render_hcl` writes the HCL workspace through the jinja2 templates in ``templates/hcl/``
  (the values are written by :func:`hcl_value`, which produces ``terraform fmt``-canonical text);
* ``cdktf_app`` (CDK Terrain) builds ``TerraformHclModule`` constructs from the same plan, with
  :func:`json_value` for the values, and synthesizes ``cdk.tf.json``.

Pure: no file system access except reading the templates; no AWS, no Terraform.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from mlfargate import __version__
from mlfargate.errors import MlfargateError
from mlfargate.rules import bucket_name_error
from mlfargate.spec import DEFAULT_FILE, Spec

if TYPE_CHECKING:
    import jinja2

#: Terraform CLI versions the workspace accepts: 1.10 brings the S3 backend's native lock file
#: (``use_lockfile``; https://developer.hashicorp.com/terraform/language/backend/s3 — "S3 native state
#: locking requires terraform >=1.10.0", as CDK Terrain's own validation says) and matches modules/.
REQUIRED_VERSION = ">= 1.10"
#: hashicorp/aws pin, the same as every module's versions.tf (6.28.0: Managed Instances
#: ``capacity_option_type``; major 7 is an explicit opt-in).
AWS_PROVIDER_VERSION = ">= 6.28.0, < 7.0.0"
#: Where ``--modules-source git`` points unless MLFARGATE_MODULES_REPO says otherwise.
DEFAULT_MODULES_REPO = "https://github.com/mlfargate/mlfargate.git"
MODULES_REPO_ENV = "MLFARGATE_MODULES_REPO"
#: Name of the spec copy written into every workspace.
SPEC_COPY = DEFAULT_FILE
GENERATED_BY = "mlfargate"


class RenderError(MlfargateError):
    """The workspace cannot be rendered with the options given (e.g. no modules/ for local sources)."""


@dataclass(frozen=True)
class Ref:
    """A Terraform expression such as ``module.network.vpc_id``: bare in HCL, ``"${...}"`` in JSON."""

    expr: str


@dataclass(frozen=True)
class Template:
    """A string with references in it, e.g. ``"${module.ecr.repository_url}:${var.image_tag}"``."""

    parts: tuple[str | Ref, ...]

    def text(self) -> str:
        """The template as Terraform writes it in HCL quotes and in JSON strings alike."""
        return "".join(_template_escape(p) if isinstance(p, str) else "${" + p.expr + "}" for p in self.parts)


#: A module argument: literals, references, templates, and lists / objects of them.
Value = None | bool | int | float | str | Ref | Template | list["Value"] | dict[str, "Value"]


@dataclass(frozen=True)
class ModuleSource:
    """How module blocks name their source: a local path prefix or a pinned git repository."""

    kind: Literal["local", "git"]
    base: str  # local: path to the modules/ directory (relative to the workspace, or absolute); git: repo URL
    ref: str | None = None

    def waivers(self) -> tuple[tuple[str, str], ...]:
        """checkov's module-source checks (CKV_TF_1: commit hash, CKV_TF_2: version tag) and why the
        one this source cannot meet is waived."""
        if self.kind == "local":
            reason = (
                "local module of this repository, reviewed and versioned in the same commit as the workspace"
            )
            return (("CKV_TF_1", reason), ("CKV_TF_2", reason))
        if self.ref and re.fullmatch(r"[0-9a-f]{40}", self.ref):
            return (("CKV_TF_2", "pinned to a commit hash (CKV_TF_1), stricter than a version tag"),)
        return (("CKV_TF_1", f"pinned to the release tag {self.ref} of the modules repository"),)

    def for_module(self, module: str) -> str:
        if self.kind == "local":
            return f"{self.base.rstrip('/')}/{module}"
        assert self.ref is not None
        return f"git::{self.base}//modules/{module}?ref={self.ref.replace('{module}', module)}"

    @property
    def is_absolute(self) -> bool:
        return self.kind == "local" and os.path.isabs(self.base)


@dataclass(frozen=True)
class ModuleCall:
    name: str  # the block label: module "<name>"
    module: str  # directory under modules/
    source: str
    inputs: dict[str, Value]
    comment: str
    waivers: tuple[tuple[str, str], ...] = ()  # (checkov check id, reason), written inside the block


@dataclass(frozen=True)
class DataSource:
    """A read-only lookup in main.tf, used only where no module can serve (an existing VPC's CIDR)."""

    type: str
    name: str
    inputs: dict[str, Value]
    comment: str


@dataclass(frozen=True)
class Variable:
    name: str
    type: str  # an HCL type expression
    description: str
    nullable_default: bool = False  # default = null


@dataclass(frozen=True)
class Output:
    name: str
    value: Ref | Template
    description: str


@dataclass(frozen=True)
class Backend:
    """S3 state; ``bucket`` None renders the block commented out (local state until one is configured)."""

    bucket: str | None
    key: str
    region: str


@dataclass(frozen=True)
class WorkspacePlan:
    spec: Spec
    spec_text: str
    source: ModuleSource
    modules: list[ModuleCall]
    data_sources: list[DataSource]
    variables: list[Variable]
    outputs: list[Output]
    tfvars: dict[str, Value]
    backend: Backend
    provider: dict[str, Value]
    default_tags: dict[str, str]
    regenerate: str  # the command that regenerates this workspace from its spec copy
    required_version: str = REQUIRED_VERSION
    aws_provider_version: str = AWS_PROVIDER_VERSION
    notes: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------------------------------
# Module sources


def repo_root() -> Path:
    """The checkout this package runs from (modules/ lives beside mlfargate/)."""
    return Path(__file__).resolve().parent.parent


def modules_dir() -> Path:
    return repo_root() / "modules"


def modules_repo() -> str:
    return os.environ.get(MODULES_REPO_ENV) or DEFAULT_MODULES_REPO


_GIT_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/{}-]*$")


def git_source(ref: str | None, repo: str | None = None) -> ModuleSource:
    if not ref:
        raise RenderError(
            "--modules-source git needs --modules-ref REF (a tag or commit to pin, e.g. v1.0.0); "
            "an unpinned module source would change under a reviewed workspace"
        )
    if not _GIT_REF.match(ref) or ".." in ref:
        raise RenderError(f"--modules-ref {ref!r} is not a git tag, branch or commit name")
    return ModuleSource("git", repo or modules_repo(), ref)


def local_source(out_dir: Path, modules: Path | None = None) -> ModuleSource:
    """Relative path from ``out_dir`` to modules/ when both are in the same checkout; else absolute.

    An absolute path only works on this machine: the plan carries a note saying so, and
    ``--modules-source git`` is the way to a workspace that works elsewhere.
    """
    modules = (modules or modules_dir()).resolve()
    if not modules.is_dir():
        raise RenderError(
            f"local module sources need the modules/ directory of an mlfargate checkout ({modules} is "
            "missing); use --modules-source git --modules-ref REF"
        )
    out = out_dir.resolve()
    root = modules.parent
    if out == root or root in out.parents:
        return ModuleSource("local", Path(os.path.relpath(modules, out)).as_posix())
    return ModuleSource("local", modules.as_posix())


# --------------------------------------------------------------------------------------------------
# The plan: every module argument is decided here and only here.


def plan(
    spec: Spec, source: ModuleSource, *, spec_text: str, backend_bucket: str | None = None
) -> WorkspacePlan:
    if backend_bucket is not None:
        problem = bucket_name_error(backend_bucket)
        if problem:
            raise RenderError(f"--backend-bucket {backend_bucket!r} {problem}")
    modules = [
        ModuleCall(name, module, source.for_module(module), inputs, comment, source.waivers())
        for name, module, inputs, comment in module_calls(spec)
    ]
    notes = []
    if source.is_absolute:
        notes.append(
            f"module sources are absolute paths into {source.base}: this workspace works on this machine "
            "only; use --modules-source git --modules-ref REF for one you can commit elsewhere"
        )
    return WorkspacePlan(
        spec=spec,
        spec_text=spec_text,
        source=source,
        modules=modules,
        data_sources=data_sources(spec),
        variables=variables(spec),
        outputs=outputs(spec),
        tfvars=tfvars(spec),
        backend=Backend(backend_bucket, f"mlfargate/{spec.prefix}/terraform.tfstate", spec.aws.region),
        provider={"region": Ref("var.aws_region"), "profile": Ref("var.aws_profile")},
        default_tags=default_tags(spec),
        regenerate=regenerate_command(source),
        notes=notes,
    )


def default_tags(spec: Spec) -> dict[str, str]:
    return {"app": spec.name, "environment": spec.environment, "managed-by": GENERATED_BY}


def regenerate_command(source: ModuleSource) -> str:
    cmd = f"mlfargate generate {SPEC_COPY} --out ."
    if source.kind == "git":
        cmd += f" --modules-source git --modules-ref {source.ref}"
    return cmd


# --------------------------------------------------------------------------------------------------
# Values: HCL (terraform fmt canonical) and JSON (Terraform JSON syntax / cdk.tf.json)

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_INDENT = "  "


def _template_escape(text: str) -> str:
    """Literal ``${`` / ``%{`` would start a template sequence in HCL and in Terraform JSON strings."""
    return text.replace("${", "$${").replace("%{", "%%{")


def hcl_string(text: str) -> str:
    return json.dumps(_template_escape(text), ensure_ascii=False)


def _number(value: int | float) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return repr(value)


def _is_scalar(value: Value) -> bool:
    return not isinstance(value, list | dict)


def hcl_value(value: Value, depth: int = 0) -> str:
    """One value as HCL; nested lines are indented for a value at block depth ``depth``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return _number(value)
    if isinstance(value, str):
        return hcl_string(value)
    if isinstance(value, Ref):
        return value.expr
    if isinstance(value, Template):
        return json.dumps(value.text(), ensure_ascii=False)
    if isinstance(value, list):
        if all(_is_scalar(v) for v in value):
            return "[" + ", ".join(hcl_value(v, depth) for v in value) + "]"
        inner = _INDENT * (depth + 1)
        items = "".join(f"{inner}{hcl_value(v, depth + 1)},\n" for v in value)
        return f"[\n{items}{_INDENT * depth}]"
    if not value:
        return "{}"
    return "{\n" + hcl_body(value, depth + 1) + f"{_INDENT * depth}}}"


def _key(name: str) -> str:
    return name if _IDENT.match(name) else json.dumps(name)


def hcl_body(attrs: dict[str, Value], depth: int) -> str:
    """``key = value`` lines at ``depth``, with the equals signs of consecutive one-line values aligned
    the way ``terraform fmt`` aligns them (a multi-line value ends the aligned run)."""
    lines: list[str] = []
    run: list[tuple[str, str]] = []
    pad = _INDENT * depth

    def flush() -> None:
        width = max((len(k) for k, _ in run), default=0)
        lines.extend(f"{pad}{k.ljust(width)} = {v}" for k, v in run)
        run.clear()

    for name, value in attrs.items():
        text = hcl_value(value, depth)
        if "\n" in text:
            flush()
            lines.append(f"{pad}{_key(name)} = {text}")
        else:
            run.append((_key(name), text))
    flush()
    return "".join(line + "\n" for line in lines)


def json_value(value: Value) -> object:
    """One value as Terraform JSON syntax (what cdk.tf.json holds)."""
    if isinstance(value, Ref):
        return "${" + value.expr + "}"
    if isinstance(value, Template):
        return value.text()
    if isinstance(value, str):
        return _template_escape(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [json_value(v) for v in value]
    if isinstance(value, dict):
        return {k: json_value(v) for k, v in value.items()}
    return value


# --------------------------------------------------------------------------------------------------
# HCL rendering

#: Files of an HCL workspace, in the order they are written and listed.
HCL_FILES = ("versions.tf", "providers.tf", "main.tf", "variables.tf", "outputs.tf", "terraform.tfvars")


@cache
def _environment() -> jinja2.Environment:
    import jinja2  # imported on first render, so `mlfargate --help` does not pay for it

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("mlfargate", "templates/hcl"),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )
    env.filters["hcl"] = hcl_value
    env.filters["hcl_body"] = hcl_body
    env.filters["hcl_string"] = hcl_string
    return env


def render_hcl(workspace: WorkspacePlan) -> dict[str, str]:
    """File name -> text for the HCL workspace, including the spec copy."""
    env = _environment()
    context = {"ws": workspace, "spec": workspace.spec, "version": __version__}
    files = {name: env.get_template(f"{name}.j2").render(context) for name in HCL_FILES}
    files[SPEC_COPY] = workspace.spec_text
    return files


# --------------------------------------------------------------------------------------------------
# Wiring: spec -> module calls. Mirrors modules/examples/ and the wiring section of modules/README.md.

#: Root variables: what may differ between runs without changing the spec.
VARIABLES: tuple[Variable, ...] = (
    Variable("aws_region", "string", "AWS region of every resource (from the spec's aws.region)."),
    Variable(
        "aws_profile",
        "string",
        "Named AWS CLI profile; null uses the default credential chain (environment, SSO, instance role).",
        nullable_default=True,
    ),
)
#: Extra root variable when the workspace creates the ECR repository (spec without service.image).
IMAGE_TAG = Variable(
    "image_tag",
    "string",
    "Tag of the image pushed to the ECR repository this workspace creates (tags are immutable).",
)
#: terraform.tfvars value of image_tag until the operator sets the tag they pushed.
DEFAULT_IMAGE_TAG = "v1"
#: GPU model servers load large weights before /ready answers: the ALB health checks wait this long
#: (the modules' GPU examples use the same; the module default of 300 s suits CPU servers).
GPU_HEALTH_CHECK_GRACE_S = 600
#: Where the task logs go: the ecs-service module names its log group /ecs/<name>.
LOG_GROUP_PREFIX = "/ecs/"
#: An image in a private ECR repository: <account>.dkr.ecr.<region>.amazonaws.com/<repo>[:tag|@digest].
_ECR_IMAGE = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/(?P<repo>[^:@]+)"
)

ModuleCallSpec = tuple[str, str, dict[str, Value], str]


def variables(spec: Spec) -> list[Variable]:
    return [*VARIABLES, IMAGE_TAG] if spec.service.image is None else list(VARIABLES)


def tfvars(spec: Spec) -> dict[str, Value]:
    values: dict[str, Value] = {"aws_region": spec.aws.region}
    if spec.aws.profile:
        values["aws_profile"] = spec.aws.profile
    if spec.service.image is None:
        values["image_tag"] = DEFAULT_IMAGE_TAG
    return values


def _out(module: str, output: str) -> Ref:
    return Ref(f"module.{module}.{output}")


def _compact(values: dict[str, Value]) -> dict[str, Value]:
    """Leave out unset optional arguments: the module's default applies (the same in HCL and JSON)."""
    return {k: v for k, v in values.items() if v is not None}


class _Net:
    """Where the network comes from: the network module, or the existing VPC the spec names."""

    def __init__(self, spec: Spec) -> None:
        net = spec.network
        self.creates = net.creates_vpc
        if self.creates:
            self.vpc_id: Value = _out("network", "vpc_id")
            self.vpc_cidr: Value = _out("network", "vpc_cidr")
            self.public: Value = _out("network", "public_subnet_ids")
            self.private: Value = _out("network", "private_subnet_ids")
        else:
            self.vpc_id = net.vpc_id
            self.vpc_cidr = Ref("data.aws_vpc.existing.cidr_block")
            self.public = list(net.public_subnet_ids or [])
            self.private = list(net.private_subnet_ids or [])


def data_sources(spec: Spec) -> list[DataSource]:
    if spec.network.creates_vpc:
        return []
    return [
        DataSource(
            "aws_vpc",
            "existing",
            {"id": spec.network.vpc_id},
            "The existing VPC's CIDR (the ALB may only send traffic there); no module looks it up.",
        )
    ]


def ecr_repository_arns(spec: Spec) -> Value:
    """What the execution role may pull: the repository this workspace creates, or the ECR repository
    named by service.image (none for a public registry image)."""
    image = spec.service.image
    if image is None:
        return [_out("ecr", "repository_arn")]
    match = _ECR_IMAGE.match(image)
    if not match:
        return []
    partition = "aws-cn" if ".amazonaws.com.cn/" in image else "aws"
    return [f"arn:{partition}:ecr:{match['region']}:{match['account']}:repository/{match['repo']}"]


def module_calls(spec: Spec) -> list[ModuleCallSpec]:
    """Every module call of the workspace, in dependency order, with its arguments."""
    net = _Net(spec)
    calls: list[ModuleCallSpec] = []
    if net.creates:
        calls.append(_network(spec))
    if spec.service.image is None:
        calls.append(("ecr", "ecr", {"name": spec.prefix}, "Image repository (immutable tags, scan on push)"))
    calls.append(_iam(spec))
    calls.append(_alb(spec, net))
    calls.append(_cluster(spec))
    if spec.compute.capacity != "fargate":
        calls.append(_gpu_capacity(spec, net))
    calls.append(_service(spec, net))
    calls.append(_autoscaling(spec))
    calls.append(_observability(spec))
    return calls


def _network(spec: Spec) -> ModuleCallSpec:
    net = spec.network
    inputs: dict[str, Value] = {
        "name": spec.prefix,
        "cidr": net.vpc_cidr,
        "az_count": net.az_count,
        "nat_gateways": net.nat,
    }
    nat = {"none": "no NAT (VPC endpoints)", "single": "one NAT gateway", "per_az": "a NAT gateway per AZ"}
    return ("network", "network", inputs, f"VPC {net.vpc_cidr} across {net.az_count} AZs, {nat[net.nat]}")


def _iam(spec: Spec) -> ModuleCallSpec:
    inputs = _compact(
        {
            "name": spec.prefix,
            "capacity": spec.compute.capacity,
            "model_s3_uri": spec.service.model_uri,
            "ecr_repository_arns": ecr_repository_arns(spec),
            "log_group_name": LOG_GROUP_PREFIX + spec.prefix,
        }
    )
    return ("iam", "iam", inputs, "Task, execution and (GPU) host roles, least privilege")


def _alb(spec: Spec, net: _Net) -> ModuleCallSpec:
    https = spec.service.certificate_arn is not None
    inputs = _compact(
        {
            "name": spec.prefix,
            "vpc_id": net.vpc_id,
            "vpc_cidr": net.vpc_cidr,
            "subnet_ids": net.public,
            "container_port": spec.service.container_port,
            "health_check_path": spec.service.health_check_path,
            "certificate_arn": spec.service.certificate_arn,
        }
    )
    return ("alb", "alb", inputs, "Application Load Balancer, " + ("HTTPS" if https else "HTTP only"))


def _cluster(spec: Spec) -> ModuleCallSpec:
    inputs: dict[str, Value] = {"name": spec.prefix}
    if spec.compute.capacity == "ec2":
        inputs["capacity_provider_names"] = _out("gpu_capacity", "cluster_capacity_provider_names")
    return ("ecs_cluster", "ecs-cluster", inputs, "ECS cluster (Container Insights, exec audit log)")


def _gpu_capacity(spec: Spec, net: _Net) -> ModuleCallSpec:
    from mlfargate import catalog

    c = spec.compute
    cat = catalog.load()
    types = [t for t in (cat.instance(n) for n in c.instance_types) if t is not None]
    # Any listed type may be launched (Spot pools): size the group for the one that holds the fewest tasks.
    per_instance = max(1, min(t.tasks_per_instance(c.cpu, c.memory, c.gpus) for t in types))
    inputs: dict[str, Value] = {
        "name": spec.prefix,
        # The provider's default_tags do not reach launch-template tag specifications or the Auto
        # Scaling group's propagated tags: the hosts (the largest cost) get the same tags explicitly.
        "tags": dict(default_tags(spec)),
        "capacity": c.capacity,
        "cluster_name": _out("ecs_cluster", "cluster_name"),
        "cluster_arn": _out("ecs_cluster", "cluster_arn"),
        "vpc_id": net.vpc_id,
        "subnet_ids": net.private,
        "instance_types": list(c.instance_types),
        "gpus_per_instance": min(t.nvidia_gpus for t in types),
        "instance_profile_arn": _out("iam", "instance_profile_arn"),
        "spot_percentage": spec.spot.spot_percentage,  # Managed Instances: > 0 adds the SPOT provider
    }
    if c.capacity == "ec2":
        inputs["on_demand_base"] = spec.spot.on_demand_base  # EC2: on-demand hosts before Spot
    if c.capacity == "managed_instances":
        inputs["infrastructure_role_arn"] = _out("iam", "infrastructure_role_arn")
        inputs["instance_requirements"] = {
            "vcpu_min": min(t.vcpu for t in types),
            "memory_mib_min": min(t.memory_gib for t in types) * 1024,
        }
    else:
        inputs["max_size"] = -(-spec.scaling.max_tasks // per_instance)  # hosts for max_tasks
    where = "ECS Managed Instances" if c.capacity == "managed_instances" else "EC2 Auto Scaling group"
    spot = f"{spec.spot.spot_percentage}% Spot above {spec.spot.on_demand_base} on-demand"
    return (
        "gpu_capacity",
        "gpu-capacity",
        inputs,
        f"GPU hosts: {where} of {', '.join(c.instance_types)}; {spot}",
    )


def _image(spec: Spec) -> Value:
    if spec.service.image is not None:
        return spec.service.image
    return Template((_out("ecr", "repository_url"), ":", Ref("var.image_tag")))


def _service(spec: Spec, net: _Net) -> ModuleCallSpec:
    c = spec.compute
    environment: dict[str, Value] = {"PORT": str(spec.service.container_port)}
    uri = spec.service.model_uri
    if uri:
        # The model server loads one object (s3://bucket/key) or downloads a whole prefix
        # (s3://bucket/prefix/) and loads the single model file in it (MODEL_FILE picks among several).
        environment["MODEL_PATH"] = uri
    inputs: dict[str, Value] = {
        "name": spec.prefix,
        "capacity": c.capacity,
        "cpu": c.cpu,
        "memory": c.memory,
        "gpus_per_task": c.gpus,
        "image": _image(spec),
        "container_port": spec.service.container_port,
        "environment": environment,
        "cluster_arn": _out("ecs_cluster", "cluster_arn"),
        "vpc_id": net.vpc_id,
        "subnet_ids": net.private,
        "alb_security_group_id": _out("alb", "security_group_id"),
        "target_group_arn": _out("alb", "target_group_arn"),
        "execution_role_arn": _out("iam", "execution_role_arn"),
        "task_role_arn": _out("iam", "task_role_arn"),
        "log_kms_key_arn": _out("ecs_cluster", "logs_kms_key_arn"),
        "spot_percentage": spec.spot.spot_percentage,  # also raises stopTimeout for Spot interruptions
        "desired_count": spec.scaling.min_tasks,
    }
    if c.capacity != "ec2":
        # Fargate and Managed Instances place the on-demand base in tasks; EC2 keeps it in the
        # Auto Scaling group (gpu-capacity.on_demand_base, in hosts). modules/README.md "Wiring".
        inputs["on_demand_base"] = spec.spot.on_demand_base
    if c.gpus:
        inputs["health_check_grace_period_seconds"] = GPU_HEALTH_CHECK_GRACE_S
    if c.capacity != "fargate":
        inputs["capacity_providers"] = _out("gpu_capacity", "capacity_provider_names")
    if c.architecture == "arm64":
        inputs["cpu_architecture"] = "ARM64"
    hw = f"{c.gpus} GPU, " if c.gpus else ""
    return (
        "ecs_service",
        "ecs-service",
        inputs,
        f"The model server: {hw}{c.cpu} CPU units, {c.memory} MiB per task",
    )


def _autoscaling(spec: Spec) -> ModuleCallSpec:
    s = spec.scaling
    inputs: dict[str, Value] = {
        "name": spec.prefix,
        "cluster_name": _out("ecs_cluster", "cluster_name"),
        "service_name": _out("ecs_service", "service_name"),
        "min_capacity": s.min_tasks,
        "max_capacity": s.max_tasks,
        "target_metric": s.target.metric,
        "target_value": s.target.value,
    }
    if s.target.metric == "requests_per_target":
        inputs["alb_resource_label"] = _out("alb", "resource_label")
    if s.schedules:
        inputs["schedules"] = [
            _compact(
                {
                    "name": sched.name,
                    "schedule": sched.cron,
                    "timezone": sched.timezone,
                    "min_capacity": sched.min_tasks,
                    "max_capacity": sched.max_tasks,
                }
            )
            for sched in s.schedules
        ]
    names = f", schedules: {', '.join(x.name for x in s.schedules)}" if s.schedules else ""
    return (
        "autoscaling",
        "autoscaling",
        inputs,
        f"{s.min_tasks}..{s.max_tasks} tasks, target {s.target.metric} {_number(s.target.value)}{names}",
    )


def _observability(spec: Spec) -> ModuleCallSpec:
    inputs: dict[str, Value] = {
        "name": spec.prefix,
        "cluster_name": _out("ecs_cluster", "cluster_name"),
        "service_name": _out("ecs_service", "service_name"),
        "alb_arn_suffix": _out("alb", "alb_arn_suffix"),
        "target_group_arn_suffix": _out("alb", "target_group_arn_suffix"),
        "capacity": spec.compute.capacity,
    }
    if spec.budget is not None:
        inputs["alarm_emails"] = [spec.budget.alert_email]
        inputs["budget"] = {"monthly_usd": spec.budget.monthly_usd, "alert_email": spec.budget.alert_email}
        # AWS Budgets ORs the values of a tag filter, so one filter cannot select app AND environment:
        # the budget counts every environment of the app in this account (activate `app` as a cost
        # allocation tag).
        inputs["budget_cost_filter_tag"] = f"app={spec.name}"
    budget = f", budget {_number(spec.budget.monthly_usd)} USD/month" if spec.budget else ""
    return ("observability", "observability", inputs, f"Dashboard and alarms{budget}")


def outputs(spec: Spec) -> list[Output]:
    scheme = "https" if spec.service.certificate_arn else "http"
    return [
        Output(
            "endpoint_url",
            Template((f"{scheme}://", _out("alb", "dns_name"))),
            "URL of the model server (the load balancer).",
        ),
        Output("cluster_name", _out("ecs_cluster", "cluster_name"), "ECS cluster."),
        Output("service_name", _out("ecs_service", "service_name"), "ECS service."),
        Output("log_group_name", _out("ecs_service", "log_group_name"), "CloudWatch log group of the tasks."),
        Output(
            "dashboard_url",
            Template(
                (
                    f"https://{spec.aws.region}.console.aws.amazon.com/cloudwatch/home?region={spec.aws.region}"
                    "#dashboards/dashboard/",
                    _out("observability", "dashboard_name"),
                )
            ),
            "CloudWatch dashboard of the service.",
        ),
    ]
