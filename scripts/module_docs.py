"""Generate the Inputs/Outputs tables of each module README from its .tf files, and the wiring table of
modules/README.md from the generator's own plan.

The tables live between ``<!-- BEGIN_TF_DOCS -->`` and ``<!-- END_TF_DOCS -->`` in
``modules/<module>/README.md``; the README's pinned ``?ref=modules/<module>/vX.Y.Z`` follows the newest
release in the module's CHANGELOG.md. The wiring table (between ``<!-- BEGIN_WIRING -->`` and
``<!-- END_WIRING -->`` in modules/README.md) lists every module output that feeds a module input in the
workspaces ``mlfargate generate`` writes for the specs of modules/examples/ (each example's
``mlfargate.yaml``). ``--check`` rewrites nothing and exits 1 when a README is stale (the test suite runs
it, so READMEs cannot drift from the code).

    python scripts/module_docs.py            # rewrite the tables
    python scripts/module_docs.py --check    # fail on drift
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

import hcl2  # bc-python-hcl2 (comes with checkov)

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the checkout's mlfargate, run as a script

from mlfargate.generate.sources import module_version

BEGIN = "<!-- BEGIN_TF_DOCS -->"
END = "<!-- END_TF_DOCS -->"
BEGIN_WIRING = "<!-- BEGIN_WIRING -->"
END_WIRING = "<!-- END_WIRING -->"
REPO = Path(__file__).resolve().parent.parent
MODULES = REPO / "modules"


def _unwrap(value: Any) -> Any:
    if isinstance(value, list) and len(value) == 1:
        return value[0]
    return value


def _expr(value: Any) -> str:
    value = _unwrap(value)
    if isinstance(value, str):
        if value.startswith("${") and value.endswith("}"):
            return value[2:-1]
        return json.dumps(value)
    return json.dumps(value, separators=(", ", " = ") if isinstance(value, dict) else (", ", ": "))


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _blocks(module: Path, kind: str) -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []
    for file in sorted(module.glob("*.tf")):
        for block in hcl2.loads(file.read_text(encoding="utf-8")).get(kind, []):
            found += list(block.items())
    return found


def render(module: Path) -> str:
    lines = ["## Inputs", "", "| Name | Description | Type | Default | Required |", "|---|---|---|---|:---:|"]
    for name, body in _blocks(module, "variable"):
        required = "default" not in body
        default = "n/a" if required else f"`{_cell(_expr(body['default']))}`"
        type_ = _cell(_expr(body.get("type", "any")))
        description = _cell(str(_unwrap(body.get("description", ""))))
        lines.append(f"| `{name}` | {description} | `{type_}` | {default} | {'yes' if required else 'no'} |")
    lines += ["", "## Outputs", "", "| Name | Description |", "|---|---|"]
    for name, body in _blocks(module, "output"):
        lines.append(f"| `{name}` | {_cell(str(_unwrap(body.get('description', ''))))} |")
    return "\n".join(lines)


def update(readme: Path, table: str, version: str | None = None, begin: str = BEGIN, end: str = END) -> str:
    text = readme.read_text(encoding="utf-8")
    if begin not in text or end not in text:
        raise SystemExit(f"{readme}: missing {begin} / {end} markers")
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    if version:
        pin = re.compile(rf"(\?ref=modules/{re.escape(readme.parent.name)}/v)\d+\.\d+\.\d+")
        head = pin.sub(rf"\g<1>{version}", head)
    return f"{head}{begin}\n{table}\n{end}{tail}"


def wiring_table(examples: Path) -> str:
    """Module output -> module input, for the workspaces generated from each example's spec."""
    from mlfargate.generate.sources import local_source
    from mlfargate.generate.wiring import plan
    from mlfargate.spec.rules import load_valid

    uses = {}
    for spec in sorted(examples.glob("*/mlfargate.yaml")):
        workspace = plan(load_valid(spec), local_source(spec.parent), spec_text="")
        uses[spec.parent.name] = workspace.wiring()
    names = list(uses)
    lines = [
        "| output | feeds input | " + " | ".join(f"`{n}`" for n in names) + " |",
        "|---|---|" + ":---:|" * len(names),
    ]
    for wire in sorted(set().union(*uses.values())):
        marks = " | ".join("yes" if wire in uses[n] else "" for n in names)
        lines.append(f"| `{wire.source}.{wire.output}` | `{wire.target}.{wire.input}` | {marks} |")
    return "\n".join(lines)


def module_paths(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if p.is_dir() and (p / "variables.tf").exists())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a README is out of date")
    parser.add_argument("--modules", type=Path, default=MODULES, help="modules root (default: modules/)")
    args = parser.parse_args(argv)
    stale = []
    for module in module_paths(args.modules):
        readme = module / "README.md"
        if not readme.exists():
            print(f"{readme}: missing", file=sys.stderr)
            stale.append(readme)
            continue
        wanted = update(readme, render(module), module_version(module))
        if wanted != readme.read_text(encoding="utf-8"):
            stale.append(readme)
            if not args.check:
                readme.write_text(wanted, encoding="utf-8")
    index = args.modules / "README.md"
    if index.exists() and (args.modules / "examples").is_dir():
        wanted = update(index, wiring_table(args.modules / "examples"), begin=BEGIN_WIRING, end=END_WIRING)
        if wanted != index.read_text(encoding="utf-8"):
            stale.append(index)
            if not args.check:
                index.write_text(wanted, encoding="utf-8")
    if args.check and stale:
        for readme in stale:
            print(
                f"{readme}: a generated table (inputs/outputs, wiring) or the pinned release is out of date; "
                "run python scripts/module_docs.py",
                file=sys.stderr,
            )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
