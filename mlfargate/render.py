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
from typing import Literal

import jinja2

from mlfargate import __version__
from mlfargate.errors import MlfargateError
from mlfargate.spec import DEFAULT_FILE, Spec

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


#: A module argument: literals, references, and lists / objects of them.
Value = None | bool | int | float | str | Ref | list["Value"] | dict[str, "Value"]


@dataclass(frozen=True)
class ModuleSource:
    """How module blocks name their source: a local path prefix or a pinned git repository."""

    kind: Literal["local", "git"]
    base: str  # local: path to the modules/ directory (relative to the workspace, or absolute); git: repo URL
    ref: str | None = None

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


@dataclass(frozen=True)
class Variable:
    name: str
    type: str  # an HCL type expression
    description: str
    nullable_default: bool = False  # default = null


@dataclass(frozen=True)
class Output:
    name: str
    value: Ref
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
    modules = [
        ModuleCall(name, module, source.for_module(module), inputs, comment)
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
        variables=list(VARIABLES),
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

#: Root variables: only what differs between the operator's machine and CI (the provider's profile).
VARIABLES: tuple[Variable, ...] = (
    Variable("aws_region", "string", "AWS region of every resource (from the spec's aws.region)."),
    Variable(
        "aws_profile",
        "string",
        "Named AWS CLI profile; null uses the default credential chain (environment, SSO, instance role).",
        nullable_default=True,
    ),
)

ModuleCallSpec = tuple[str, str, dict[str, Value], str]


def tfvars(spec: Spec) -> dict[str, Value]:
    values: dict[str, Value] = {"aws_region": spec.aws.region}
    if spec.aws.profile:
        values["aws_profile"] = spec.aws.profile
    return values


def _m(name: str) -> str:
    return f"module.{name}"


def module_calls(spec: Spec) -> list[ModuleCallSpec]:
    """Every module call of the workspace, in dependency order, with its arguments."""
    calls: list[ModuleCallSpec] = []
    calls.extend(_network(spec))
    return calls


def _network(spec: Spec) -> list[ModuleCallSpec]:
    net = spec.network
    if not net.creates_vpc:
        return []
    inputs: dict[str, Value] = {
        "name": spec.prefix,
        "cidr": net.vpc_cidr,
        "az_count": net.az_count,
        "nat_gateways": net.nat,
    }
    return [("network", "network", inputs, f"VPC {net.vpc_cidr}: {net.az_count} AZs, NAT {net.nat}")]


def outputs(spec: Spec) -> list[Output]:
    return []
