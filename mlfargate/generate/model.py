"""The plan of a Terraform root workspace as data: module calls with their arguments, variables,
outputs, provider and backend settings. :func:`mlfargate.generate.wiring.plan` builds it from a spec;
the HCL serializer (:mod:`mlfargate.generate.hcl`) and the CDK Terrain app (``cdktf_app``) read it.
The provider and backend settings both serializers write are defined here, once."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from mlfargate.errors import MlfargateError
from mlfargate.spec.model import DEFAULT_FILE, Spec

#: Terraform CLI versions the workspace accepts: 1.10 brings the S3 backend's native lock file
#: (``use_lockfile``; https://developer.hashicorp.com/terraform/language/backend/s3 — "S3 native state
#: locking requires terraform >=1.10.0", as CDK Terrain's own validation says) and matches modules/.
REQUIRED_VERSION = ">= 1.10"
#: hashicorp/aws pin, the same as every module's versions.tf (6.28.0: Managed Instances
#: ``capacity_option_type``; major 7 is an explicit opt-in).
AWS_PROVIDER_VERSION = ">= 6.28.0, < 7.0.0"
AWS_PROVIDER_SOURCE = "hashicorp/aws"
#: Name of the spec copy written into every workspace.
SPEC_COPY = DEFAULT_FILE
#: Every workspace's own .gitignore (plans, state, downloads stay out of git; the lock file stays in).
GITIGNORE = ".gitignore"
GENERATED_BY = "mlfargate"
#: Where the CDK Terrain app writes its synthesized stack, relative to the workspace (cdktn's layout).
CDKTF_OUT = "cdktf.out"
#: cdktn refuses features its target Terraform versions lack; the workspace needs 1.10 (S3 lock file).
CDKTF_TARGET_VERSIONS = {"terraform": ">=1.10.0"}
Format = Literal["hcl", "cdktf"]


def cdktf_stack_dir(prefix: str) -> str:
    """Where the CDK Terrain app writes the stack of a spec with this prefix, relative to the workspace
    (cdktn's layout): Terraform runs there, so local module paths are relative to it."""
    return f"{CDKTF_OUT}/stacks/{prefix}"


class RenderError(MlfargateError):
    """The workspace cannot be rendered with the options given (e.g. no modules/ for local sources)."""


class WorkspaceError(MlfargateError):
    """The workspace cannot be generated (output is not a directory, CDKTF synth failed, check failed)."""


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
        return "".join(template_escape(p) if isinstance(p, str) else "${" + p.expr + "}" for p in self.parts)


@dataclass(frozen=True)
class Conditional:
    """``test ? then : otherwise`` (Terraform's conditional expression) with one-line scalar branches:
    bare in HCL, ``"${...}"`` in JSON. ``test`` is an expression such as ``var.image_digest == ""``."""

    test: Ref
    then: bool | int | float | str | Ref | Template
    otherwise: bool | int | float | str | Ref | Template


#: A module argument: literals, references, templates, conditionals, and lists / objects of them.
Value = None | bool | int | float | str | Ref | Template | Conditional | list["Value"] | dict[str, "Value"]


@dataclass(frozen=True)
class ModuleSource:
    """How module blocks name their source: a local path prefix or a pinned git repository."""

    kind: Literal["local", "git"]
    base: str  # local: relative path from the Terraform root to the modules; git: repo URL
    ref: str | None = None
    #: local: the modules are copies vendored into the workspace (``<workspace>/modules/<name>``), not
    #: the checkout's own ``modules/``.
    vendored: bool = False

    def waivers(self) -> tuple[tuple[str, str], ...]:
        """checkov's module-source checks (CKV_TF_1: commit hash, CKV_TF_2: version tag) and why the
        one this source cannot meet is waived."""
        if self.kind == "local":
            reason = (
                "module vendored into this workspace by mlfargate (its version in .mlfargate-manifest.json), "
                "reviewed in the same commit as the workspace"
                if self.vendored
                else "local module of this repository, reviewed and versioned in the same commit as the workspace"
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
    validations: tuple[tuple[str, str], ...] = ()  # (condition expression, error message)


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
    encrypt: bool = True
    use_lockfile: bool = True  # S3's native lock file (Terraform >= 1.10): no DynamoDB table


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
    aws_provider_source: str = AWS_PROVIDER_SOURCE
    aws_provider_version: str = AWS_PROVIDER_VERSION
    notes: list[str] = field(default_factory=list)

    def wiring(self) -> set[Wire]:
        """Every module output that feeds a module input, by module directory (``network.vpc_id`` ->
        ``alb.vpc_id``): the wiring modules/README.md tabulates and modules/examples/ mirror."""
        module_of = {call.name: call.module for call in self.modules}
        wires: set[Wire] = set()

        def walk(value: Value, target: str, argument: str) -> None:
            if isinstance(value, Ref):
                for call, output in _MODULE_REF.findall(value.expr):
                    wires.add(Wire(module_of[call], output, target, argument))
            elif isinstance(value, Template):
                for part in value.parts:
                    walk(part, target, argument)
            elif isinstance(value, Conditional):
                for branch in (value.test, value.then, value.otherwise):
                    walk(branch, target, argument)
            elif isinstance(value, list):
                for item in value:
                    walk(item, target, argument)
            elif isinstance(value, dict):
                for item in value.values():
                    walk(item, target, argument)

        for call in self.modules:
            for argument, value in call.inputs.items():
                walk(value, call.module, argument)
        return wires


#: ``module.<call>.<output>`` inside an expression.
_MODULE_REF = re.compile(r"module\.([A-Za-z_][A-Za-z0-9_-]*)\.([A-Za-z_][A-Za-z0-9_]*)")


@dataclass(frozen=True, order=True)
class Wire:
    """One module output feeding one module input (modules named by their directory under modules/)."""

    source: str
    output: str
    target: str
    input: str


def template_escape(text: str) -> str:
    """Literal ``${`` / ``%{`` would start a template sequence in HCL and in Terraform JSON strings."""
    return text.replace("${", "$${").replace("%{", "%%{")


@dataclass(frozen=True)
class Options:
    """How to generate a workspace (the `generate` command's options)."""

    format: Format = "hcl"
    modules_source: Literal["local", "git"] = "local"
    modules_ref: str | None = None
    modules_repo: str | None = None  # None: MLFARGATE_MODULES_REPO or the documented default
    backend_bucket: str | None = None
    force: bool = False
    check_only: bool = False  # compute the diff, write nothing
