"""Serializing a workspace plan: values as HCL (``terraform fmt``-canonical text) and as Terraform
JSON syntax (what cdk.tf.json holds), and the HCL workspace's files through the jinja2 templates in
``templates/hcl/``."""

from __future__ import annotations

import math
import re
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING

from mlfargate import __version__
from mlfargate.generate.model import (
    SPEC_COPY,
    Conditional,
    Ref,
    RenderError,
    Template,
    Value,
    WorkspacePlan,
    template_escape,
)

if TYPE_CHECKING:
    import jinja2

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_INDENT = "  "


#: HCL's escapes in a quoted template (hcl/hclsyntax spec, "Template Literals"): these, ``\uNNNN`` and
#: ``\UNNNNNNNN``. JSON's ``\b``, ``\f`` and ``\/`` are not among them: Terraform rejects a string
#: written with ``json.dumps``'s escapes ("Invalid escape sequence").
_HCL_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _hcl_char(char: str) -> str:
    if char in _HCL_ESCAPES:
        return _HCL_ESCAPES[char]
    if char.isprintable():
        return char
    code = ord(char)  # control characters, line separators, bidi controls: never raw in a .tf file
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def hcl_quote(template: str) -> str:
    """``template`` as a quoted HCL template, its ``${...}`` / ``%{...}`` sequences kept as written."""
    return '"' + "".join(_hcl_char(c) for c in template) + '"'


def hcl_string(text: str) -> str:
    r"""``text`` as a quoted HCL string that Terraform reads back as exactly ``text``: every character
    escaped for HCL's own string grammar, ``${`` written ``$${`` and ``%{`` written ``%%{``. After
    another ``$`` (a literal ``$${``) the ``$`` of ``${`` is written ``\u0024`` instead (an escaped
    ``$`` never starts an interpolation): ``$$${`` is what Terraform means, but checkov's HCL parser
    cannot read it."""
    out: list[str] = []
    for i, char in enumerate(text):
        opens = text[i + 1 : i + 2] == "{"
        if char == "$" and opens:
            out.append("\\u0024" if i and text[i - 1] == "$" else "$$")
        elif char == "%" and opens:
            out.append("%%")
        else:
            out.append(_hcl_char(char))
    return '"' + "".join(out) + '"'


def number(value: int | float) -> str:
    """A number as an HCL literal: plain decimal digits (``0.00001``, never ``1e-05``), which every
    HCL reader takes; a non-finite float has no literal and is refused."""
    if isinstance(value, float):
        if not math.isfinite(value):
            raise RenderError(f"{value} is not a finite number; HCL has no literal for it")
        if value.is_integer():
            return str(int(value))
        return format(Decimal(repr(value)), "f")
    return str(value)


def _is_scalar(value: Value) -> bool:
    return not isinstance(value, list | dict)


def hcl_value(value: Value, depth: int = 0) -> str:
    """One value as HCL; nested lines are indented for a value at block depth ``depth``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return number(value)
    if isinstance(value, str):
        return hcl_string(value)
    if isinstance(value, Ref):
        return value.expr
    if isinstance(value, Template):
        return hcl_quote(value.text())
    if isinstance(value, Conditional):
        return f"{value.test.expr} ? {hcl_value(value.then)} : {hcl_value(value.otherwise)}"
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
    return name if _IDENT.match(name) else hcl_string(name)


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
    if isinstance(value, Conditional):
        return "${" + hcl_value(value) + "}"
    if isinstance(value, str):
        return template_escape(value)
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
        loader=jinja2.PackageLoader("mlfargate.generate", "templates/hcl"),
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
