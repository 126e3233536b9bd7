"""Read an HCL workspace (parsed with bc-python-hcl2) and a cdk.tf.json into one comparable shape.

The policy gate reads a CDK Terrain workspace through its HCL twin (checkov does not read
``.tf.json``): :func:`differences` of the two proves, on every gate run, that what checkov scanned is
what Terraform applies; the generator's tests prove it for every example.

Both become ``{"module": {name: {arg: value}}, "data": ..., "output": ..., "variable": ...,
"provider": ..., "required_providers": ..., "required_version": ..., "backend": ...}`` where
expressions are Terraform JSON strings (``"${module.x.y}"``), local module sources are resolved from
each file's own directory (relative to the workspace when they lie inside it, else absolute),
variable defaults are the effective values (HCL: terraform.tfvars over the declared default;
cdk.tf.json has no tfvars) and cdktn's ``"//"`` metadata is dropped. :func:`differences` lists every
mismatch.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

_MARKERS = {"__start_line__", "__end_line__"}
#: The top-level blocks the comparison reads.
_COMPARED = {"module", "data", "output", "variable", "provider", "terraform"}


def _unwrap(value: Any) -> Any:
    """bc-python-hcl2 wraps each attribute value in a one-element list."""
    if isinstance(value, list) and len(value) == 1:
        return value[0]
    return value


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items() if k not in _MARKERS and k != "//"}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def _source(source: str, base: Path, workspace: Path) -> str:
    """A local source resolved from ``base`` (the file's directory): relative to ``workspace`` when it
    lies inside it (vendored modules), else absolute; any other source as written."""
    if not source.startswith(("./", "../")):
        return source
    resolved = os.path.normpath(base / source)
    inside = os.path.relpath(resolved, workspace)
    return resolved if inside.startswith("..") else Path(inside).as_posix()


def _expression(text: str) -> str:
    """An expression without its whitespace: bc-python-hcl2 re-prints expressions (``f(a, b)`` as
    ``f(a,b)``), so the two serializations agree only up to spacing."""
    return "".join(text.split())


def _type(text: str) -> str:
    return text[2:-1] if text.startswith("${") and text.endswith("}") else text


def hcl_config(directory: Path, workspace: Path | None = None) -> dict[str, Any]:
    """The HCL workspace in ``directory`` (``workspace``: what its local sources are relative to)."""
    from hcl2.api import loads  # checkov's bc-python-hcl2

    merged: dict[str, list[Any]] = {}
    for file in sorted(directory.glob("*.tf")):
        for key, blocks in loads(file.read_text(encoding="utf-8")).items():
            merged.setdefault(key, []).extend(blocks)
    tfvars = {k: _unwrap(v) for k, v in loads((directory / "terraform.tfvars").read_text()).items()}
    config: dict[str, Any] = {"module": {}, "data": {}, "output": {}, "variable": {}}
    for block in merged.get("module", []):
        for name, body in block.items():
            args = {k: _clean(_unwrap(v)) for k, v in body.items() if k not in _MARKERS}
            args["source"] = _source(args["source"], directory, workspace or directory)
            config["module"][name] = args
    for block in merged.get("data", []):
        for dtype, named in block.items():
            for name, body in named.items():
                config["data"][f"{dtype}.{name}"] = {
                    k: _clean(_unwrap(v)) for k, v in body.items() if k not in _MARKERS
                }
    for block in merged.get("output", []):
        for name, body in block.items():
            config["output"][name] = {k: _unwrap(v) for k, v in body.items() if k not in _MARKERS}
    for block in merged.get("variable", []):
        for name, body in block.items():
            default = tfvars.get(name, _unwrap(body.get("default", [None])))
            config["variable"][name] = {
                "type": _type(_unwrap(body["type"])),
                "description": _unwrap(body["description"]),
                "default": default,
                "validation": [
                    {
                        "condition": _expression(_unwrap(v["condition"])),
                        "error_message": _unwrap(v["error_message"]),
                    }
                    for v in body.get("validation", [])
                ],
            }
    provider = _clean(merged["provider"][0]["aws"])
    config["provider"] = {k: _unwrap(v) for k, v in provider.items() if k != "default_tags"}
    config["provider"]["default_tags"] = [{"tags": _unwrap(b["tags"])} for b in provider["default_tags"]]
    terraform = _clean(merged["terraform"][0])
    config["required_version"] = _unwrap(terraform["required_version"])
    config["required_providers"] = {
        k: _unwrap(v) for k, v in _unwrap(terraform["required_providers"]).items()
    }
    backend = terraform.get("backend")
    config["backend"] = (
        {k: {a: _unwrap(v) for a, v in b.items()} for k, b in _unwrap(backend).items()} if backend else None
    )
    # What the comparison above does not read must not exist on either side (a resource, a second
    # provider, a `cloud` block...): checkov would not have scanned it in the twin.
    config["blocks"] = sorted(set(merged) - _COMPARED)
    config["providers"] = sorted(name for block in merged["provider"] for name in block)
    config["terraform"] = sorted(set(terraform) - _MARKERS)
    return config


def json_config(path: Path, workspace: Path | None = None) -> dict[str, Any]:
    """A synthesized ``cdk.tf.json`` (``workspace``: what its local sources are relative to; default
    the workspace holding ``cdktf.out/stacks/<stack>/``)."""
    if workspace is None:
        workspace = path.parents[3] if path.parents[2].name == "cdktf.out" else path.parent
    raw = _clean(json.loads(path.read_text(encoding="utf-8")))
    config: dict[str, Any] = {"module": {}, "data": {}, "output": {}, "variable": {}}
    for name, args in raw.get("module", {}).items():
        config["module"][name] = {**args, "source": _source(args["source"], path.parent, workspace)}
    for dtype, named in raw.get("data", {}).items():
        for name, body in named.items():
            config["data"][f"{dtype}.{name}"] = body
    config["output"] = raw.get("output", {})
    for name, body in raw.get("variable", {}).items():
        config["variable"][name] = {
            "type": body["type"],
            "description": body["description"],
            "default": body.get("default"),
            "validation": [
                {"condition": _expression(v["condition"]), "error_message": v["error_message"]}
                for v in body.get("validation", [])
            ],
        }
    provider = raw["provider"]["aws"][0]
    config["provider"] = provider
    terraform = raw["terraform"]
    config["required_version"] = terraform["required_version"]
    config["required_providers"] = terraform["required_providers"]
    config["backend"] = terraform.get("backend")
    config["blocks"] = sorted(set(raw) - _COMPARED)
    config["providers"] = sorted(name for name, blocks in raw["provider"].items() for _ in blocks)
    config["terraform"] = sorted(terraform)
    return config


def differences(a: Any, b: Any, path: str = "") -> list[str]:
    """Every place two parsed configurations differ, as ``path: left != right``."""
    if isinstance(a, dict) and isinstance(b, dict):
        found: list[str] = []
        for key in sorted(set(a) | set(b)):
            where = f"{path}.{key}" if path else key
            if key not in a:
                found.append(f"{where}: only in the second")
            elif key not in b:
                found.append(f"{where}: only in the first")
            else:
                found += differences(a[key], b[key], where)
        return found
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [
            d for i, (x, y) in enumerate(zip(a, b, strict=True)) for d in differences(x, y, f"{path}[{i}]")
        ]
    if a != b or type(a) is not type(b):
        return [f"{path}: {a!r} != {b!r}"]
    return []
