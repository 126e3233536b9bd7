"""Build the CDK Terrain stack from :func:`mlfargate.generate.wiring.plan` and synthesize it.

No provider bindings are needed: modules are ``TerraformHclModule`` constructs (local module asset
copies disabled, so sources stay the same paths the HCL workspace uses), outputs are
``TerraformOutput``, variables ``TerraformVariable``, the provider and ``required_providers`` are
raw overrides on the stack, and the state backend is cdktn's ``S3Backend``.

References between modules are real construct references (``interpolation_for_output``), so cdktn
sees the dependency graph; they synthesize to the same ``${module.x.y}`` expressions the HCL holds.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cdktn import (
    App,
    S3Backend,
    TerraformDataSource,
    TerraformHclModule,
    TerraformOutput,
    TerraformStack,
    TerraformVariable,
    TerraformVariableValidationConfig,
    Token,
)

from mlfargate.errors import MlfargateError
from mlfargate.generate import hcl, sources, wiring
from mlfargate.generate import model as wsmodel
from mlfargate.generate.model import CDKTF_OUT, CDKTF_TARGET_VERSIONS
from mlfargate.spec.rules import load_valid

_MODULE_REF = re.compile(r"^module\.([A-Za-z_][A-Za-z0-9_-]*)\.([A-Za-z_][A-Za-z0-9_]*)$")
_VAR_REF = re.compile(r"^var\.([A-Za-z_][A-Za-z0-9_]*)$")
_PLAIN_REF = re.compile(r"^[A-Za-z0-9_.\[\]-]+$")
_DATA_REF = re.compile(r"^data\.([a-z0-9_]+)\.([A-Za-z_][A-Za-z0-9_-]*)\.([A-Za-z_][A-Za-z0-9_]*)$")


class _Refs:
    """Turns :class:`mlfargate.generate.model.Ref` values into cdktn tokens of the constructs they name."""

    def __init__(self) -> None:
        self.modules: dict[str, TerraformHclModule] = {}
        self.variables: dict[str, TerraformVariable] = {}
        self.data: dict[tuple[str, str], TerraformDataSource] = {}

    def value(self, value: wsmodel.Value) -> Any:
        if isinstance(value, wsmodel.Ref):
            return self.ref(value.expr)
        if isinstance(value, wsmodel.Template):
            # Tokens inside a Python string resolve to the same "${...}" template the HCL quotes.
            return "".join(
                hcl.json_value(p) if isinstance(p, str) else Token.as_string(self.ref(p.expr))
                for p in value.parts
            )
        if isinstance(value, wsmodel.Conditional):
            # An expression of variables and module outputs: Terraform reads its references itself.
            return hcl.json_value(value)
        if isinstance(value, list):
            return [self.value(v) for v in value]
        if isinstance(value, dict):
            return {k: self.value(v) for k, v in value.items()}
        return hcl.json_value(value)

    def ref(self, expr: str) -> Any:
        if match := _MODULE_REF.match(expr):
            return self.modules[match[1]].interpolation_for_output(match[2])
        if match := _VAR_REF.match(expr):
            return self.variables[match[1]].string_value
        if match := _DATA_REF.match(expr):
            return self.data[(match[1], match[2])].get_string_attribute(match[3])
        if not _PLAIN_REF.match(expr):
            # An expression (`var.image_digest != ""`), not a reference: Terraform reads its references.
            return "${" + expr + "}"
        raise ValueError(f"no construct for the expression {expr!r}")


def build_stack(app: App, ws: wsmodel.WorkspacePlan) -> TerraformStack:
    stack = TerraformStack(app, ws.spec.prefix)
    refs = _Refs()
    for var in ws.variables:
        # cdk.tf.json has no terraform.tfvars: the spec's value becomes the variable's default.
        value = ws.tfvars.get(var.name)
        null = Token.null_value() if var.nullable_default else None
        default = refs.value(value) if value is not None else null
        validation = [
            # Terraform JSON: an expression is a string holding one interpolation.
            TerraformVariableValidationConfig(condition="${" + condition + "}", error_message=message)
            for condition, message in var.validations
        ]
        refs.variables[var.name] = TerraformVariable(
            stack,
            var.name,
            type=var.type,
            description=var.description,
            default=default,
            validation=validation or None,
        )
    for data in ws.data_sources:
        # No provider bindings: a generic data source with its arguments as overrides.
        source = TerraformDataSource(stack, data.name, terraform_resource_type=data.type)
        for key, value in data.inputs.items():
            source.add_override(key, refs.value(value))
        refs.data[(data.type, data.name)] = source
    for call in ws.modules:
        refs.modules[call.name] = TerraformHclModule(
            stack, call.name, source=call.source, skip_asset_creation_from_local_modules=True
        )
    # Arguments after every module exists: ecs_cluster refers to gpu_capacity, declared after it.
    for call in ws.modules:
        for key, value in call.inputs.items():
            refs.modules[call.name].set(key, refs.value(value))
    for out in ws.outputs:
        TerraformOutput(stack, out.name, value=refs.value(out.value), description=out.description)
    stack.add_override("terraform.required_version", ws.required_version)
    stack.add_override(
        "terraform.required_providers",
        {"aws": {"source": ws.aws_provider_source, "version": ws.aws_provider_version}},
    )
    provider = {k: refs.value(v) for k, v in ws.provider.items()}
    stack.add_override("provider", {"aws": [{**provider, "default_tags": [{"tags": ws.default_tags}]}]})
    if not ws.backend.bucket:
        # Like the HCL workspace: no backend block, so Terraform keeps terraform.tfstate beside the
        # config (cdktn would otherwise add a local backend with an absolute path of this machine).
        stack.add_override("terraform.backend", None)
    else:
        S3Backend(
            stack,
            bucket=ws.backend.bucket,
            key=ws.backend.key,
            region=ws.backend.region,
            encrypt=ws.backend.encrypt,
            use_lockfile=ws.backend.use_lockfile,
        )
    return stack


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m cdktf_app", description=__doc__)
    p.add_argument("--spec", default=wsmodel.SPEC_COPY, help="spec file (default mlfargate.yaml)")
    p.add_argument("--workspace", default=".", help="the workspace directory holding cdktf.json")
    p.add_argument("--outdir", help="synth output (default: $CDKTF_OUTDIR or <workspace>/cdktf.out)")
    p.add_argument("--modules-source", choices=("local", "git"), default="local")
    p.add_argument("--modules-ref")
    p.add_argument("--modules-repo")
    p.add_argument("--backend-bucket")
    return p.parse_args(argv)


def synth(args: argparse.Namespace) -> Path:
    workspace = Path(args.workspace)
    spec_path = Path(args.spec)
    if not spec_path.is_absolute() and not spec_path.exists():
        spec_path = workspace / spec_path
    spec = load_valid(spec_path)
    # Module paths are relative to where Terraform reads cdk.tf.json: <workspace>/cdktf.out/stacks/<stack>.
    options = wsmodel.Options(
        modules_source=args.modules_source, modules_ref=args.modules_ref, modules_repo=args.modules_repo
    )
    source = sources.module_source(options, workspace, workspace / wsmodel.cdktf_stack_dir(spec.prefix))
    ws = wiring.plan(
        spec, source, spec_text=spec_path.read_text(encoding="utf-8"), backend_bucket=args.backend_bucket
    )
    outdir = args.outdir or os.environ.get("CDKTF_OUTDIR") or str(workspace / CDKTF_OUT)
    app = App(outdir=outdir, context={"targetVersions": CDKTF_TARGET_VERSIONS})
    build_stack(app, ws)
    app.synth()
    return Path(outdir) / "stacks" / spec.prefix / "cdk.tf.json"


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        synth(args)
    except MlfargateError as error:
        for line in error.lines():
            print(line, file=sys.stderr)
        return error.exit_code
    return 0
