"""Offline schema check for ``aws_*`` resources and data sources in Terraform files.

Terraform providers cannot be downloaded here, so ``terraform validate`` against hashicorp/aws is
impossible. The PyPI package ``cdktn-provider-aws`` ships a jsii assembly describing every resource
and data source of one hashicorp/aws release: each argument and nested block, whether it is
required, and (in its registry doc links) its exact HCL name. We extract that once into a small
cached schema (``mlfargate/data/aws_provider_schema.json.gz``) and check every ``.tf`` file with
python-hcl2 against it: unknown arguments or blocks, an argument written as a block (or the other
way round), and missing required arguments and blocks, at every nesting level, ``dynamic`` blocks
included.

What it cannot see: types of values, conflicts between arguments (``ExactlyOneOf``), and
constraints a provider checks at plan time. Framework "nested attributes" (``x = [{...}]``) are
checked by name only.
"""

from __future__ import annotations

import gzip
import io
import json
import re
import tarfile
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

from mlfargate.errors import MlfargateError
from mlfargate.files import user_cache_dir

#: The schema bundled with the package (extracted from the cdktn-provider-aws version it names).
BUNDLED_SCHEMA = Path(__file__).resolve().parents[1] / "data" / "aws_provider_schema.json.gz"
CDKTN_DIST = "cdktn-provider-aws"

_META_ARGS = {"count", "for_each", "depends_on", "provider", "lifecycle", "provisioner", "connection"}
_DYNAMIC_ARGS = {"for_each", "iterator", "labels", "content"}
_HCL2_MARKERS = {"__is_block__", "__start_line__", "__end_line__", "__comments__", "__inline_comments__"}
_DOC_LINK = re.compile(r"docs/(resources|data-sources)/(\w+)(?:#(\w+))?")


class SchemaCheckError(MlfargateError):
    """The schema check could not run (no schema available, directory missing, unparsable HCL)."""


@dataclass(frozen=True)
class SchemaIssue:
    """One problem: ``address`` is ``aws_x.name`` or ``data.aws_x.name`` plus the nested block path."""

    file: str
    line: int | None
    address: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.address}: {self.message}"


@dataclass
class SchemaReport:
    provider_version: str
    cdktn_provider_aws_version: str
    files_checked: int = 0
    blocks_checked: int = 0
    issues: list[SchemaIssue] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.issues

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["ok"] = self.ok
        return data


# --------------------------------------------------------------------------------------------------
# Schema: extraction from the jsii assembly, cache


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _fqns(type_ref: dict[str, Any]) -> list[str]:
    found: list[str] = []
    if "fqn" in type_ref:
        found.append(type_ref["fqn"])
    if "collection" in type_ref:
        found += _fqns(type_ref["collection"]["elementtype"])
    if "union" in type_ref:
        for member in type_ref["union"]["types"]:
            found += _fqns(member)
    return found


def extract_schema(assembly: dict[str, Any], provider: str, provider_version: str) -> dict[str, Any]:
    """Turn a jsii assembly of cdktn-provider-aws into our compact schema.

    Shape: ``blocks[id] = {"a": {hcl_name: required}, "b": {hcl_name: [required, block id | None]}}``,
    ``resources[type] = block id``, ``data_sources[type] = block id``.
    """
    types: dict[str, Any] = assembly["types"]
    prefix = assembly["name"] + "."
    blocks: dict[str, Any] = {}

    def block_id(fqn: str) -> str:
        return fqn[len(prefix) :] if fqn.startswith(prefix) else fqn

    def visit(fqn: str) -> str:
        key = block_id(fqn)
        if key in blocks:
            return key
        entry: dict[str, Any] = {"a": {}, "b": {}}
        blocks[key] = entry
        for prop in types[fqn].get("properties", []):
            docs = prop.get("docs", {})
            text = f"{docs.get('summary', '')} {docs.get('remarks', '')}"
            link = _DOC_LINK.search(text)
            hcl_name = link.group(3) if link and link.group(3) else _snake(prop["name"])
            required = not prop.get("optional", False)
            nested = [f for f in _fqns(prop["type"]) if f.startswith(prefix)]
            if docs.get("summary", "").endswith(" block."):
                entry["b"][hcl_name] = [required, visit(nested[0]) if nested else None]
            else:
                entry["a"][hcl_name] = required
        return key

    resources: dict[str, str] = {}
    data_sources: dict[str, str] = {}
    for spec in types.values():
        base = spec.get("base")
        if spec.get("kind") != "class" or base not in (
            "cdktn.TerraformResource",
            "cdktn.TerraformDataSource",
        ):
            continue
        link = _DOC_LINK.search(spec.get("docs", {}).get("summary", ""))
        params = spec.get("initializer", {}).get("parameters", [])
        config = [p["type"]["fqn"] for p in params if p["name"] == "config" and "fqn" in p["type"]]
        if not link or not config:
            continue
        target = resources if link.group(1) == "resources" else data_sources
        target["aws_" + link.group(2)] = visit(config[0])

    return {
        "cdktn_provider_aws_version": assembly["version"],
        "provider": provider,
        "provider_version": provider_version,
        "resources": dict(sorted(resources.items())),
        "data_sources": dict(sorted(data_sources.items())),
        "blocks": blocks,
    }


def extract_from_installed_package() -> dict[str, Any]:
    """Read the jsii tarball that ships inside the installed cdktn-provider-aws (slow: ~10 s)."""
    try:
        dist = metadata.distribution(CDKTN_DIST)
    except metadata.PackageNotFoundError as exc:
        raise SchemaCheckError(f"{CDKTN_DIST} is not installed and no cached schema matches") from exc
    tarballs = [f for f in dist.files or [] if str(f).endswith(".jsii.tgz")]
    if not tarballs:
        raise SchemaCheckError(f"{CDKTN_DIST} {dist.version} ships no .jsii.tgz assembly")
    with tarfile.open(Path(str(dist.locate_file(tarballs[0]))), "r:gz") as tar:
        member = tar.extractfile("package/.jsii")
        pkg = tar.extractfile("package/package.json")
        if member is None or pkg is None:
            raise SchemaCheckError(f"{CDKTN_DIST} {dist.version}: no package/.jsii in the assembly")
        assembly = json.load(member)
        package_json = json.load(pkg)
    provider = package_json.get("cdktn", package_json.get("cdktf", {})).get("provider", {})
    return extract_schema(
        assembly, provider.get("name", "registry.terraform.io/hashicorp/aws"), provider.get("version", "")
    )


def write_schema(schema: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = json.dumps(schema, separators=(",", ":"), sort_keys=True).encode()
    tmp = path.with_suffix(".tmp")
    with tmp.open("wb") as fh, gzip.GzipFile(fileobj=fh, mode="wb", mtime=0, compresslevel=9) as gz:
        gz.write(raw)
    tmp.replace(path)


def _read_schema(path: Path) -> dict[str, Any]:
    with gzip.open(path, "rb") as fh:
        data: dict[str, Any] = json.load(io.TextIOWrapper(fh, encoding="utf-8"))
    return data


def _installed_version() -> str | None:
    try:
        return metadata.version(CDKTN_DIST)
    except metadata.PackageNotFoundError:
        return None


def user_cache_path(version: str) -> Path:
    return user_cache_dir() / f"aws_provider_schema-{version}.json.gz"


@lru_cache(maxsize=1)
def load_schema() -> dict[str, Any]:
    """The schema: the bundled file when it matches the installed cdktn-provider-aws (or that package is
    absent), else a per-version user cache, extracted once."""
    installed = _installed_version()
    if BUNDLED_SCHEMA.exists():
        bundled = _read_schema(BUNDLED_SCHEMA)
        if installed is None or bundled["cdktn_provider_aws_version"] == installed:
            return bundled
    if installed is None:
        raise SchemaCheckError(f"no cached provider schema and {CDKTN_DIST} is not installed")
    cached = user_cache_path(installed)
    if cached.exists():
        return _read_schema(cached)
    schema = extract_from_installed_package()
    write_schema(schema, cached)
    return schema


# --------------------------------------------------------------------------------------------------
# Checking HCL


def _is_block_list(value: Any) -> bool:
    """bc-python-hcl2 writes an attribute as ``[value]`` and each block as a dict whose own attributes
    are again wrapped in lists; an object literal's values are not wrapped."""
    if not isinstance(value, list) or not value:
        return False
    return all(
        isinstance(item, dict) and all(isinstance(v, list) for k, v in item.items() if k not in _HCL2_MARKERS)
        for item in value
    )


class _FileChecker:
    def __init__(self, schema: dict[str, Any], path: Path, display: str, report: SchemaReport) -> None:
        self.schema = schema
        self.blocks: dict[str, Any] = schema["blocks"]
        self.display = display
        self.lines = path.read_text(encoding="utf-8").splitlines()
        self.report = report

    # Lines: python-hcl2 drops positions, so we find the block header and then each nested name below it.
    def _find(self, start: int | None, name: str) -> tuple[int | None, str | None]:
        """The line where ``name`` is next written at or after ``start``, and its form: "=" or "{"."""
        if start is None:
            return None, None
        pattern = re.compile(rf"^\s*{re.escape(name)}\s*([={{])")
        for number in range(start, len(self.lines) + 1):
            match = pattern.match(self.lines[number - 1])
            if match:
                return number, match.group(1)
        return start, None

    def _dynamic_line(self, start: int | None, label: str) -> int | None:
        pattern = re.compile(rf'^\s*dynamic\s+"{re.escape(label)}"')
        for number in range(start or 1, len(self.lines) + 1):
            if pattern.match(self.lines[number - 1]):
                return number
        return start

    def issue(self, line: int | None, address: str, message: str) -> None:
        self.report.issues.append(SchemaIssue(self.display, line, address, message))

    def check_top(self, kind: str, rtype: str, rname: str, body: dict[str, Any]) -> None:
        table = self.schema["resources"] if kind == "resource" else self.schema["data_sources"]
        address = f"{rtype}.{rname}" if kind == "resource" else f"data.{rtype}.{rname}"
        line = body.get("__start_line__")
        self.report.blocks_checked += 1
        if rtype not in table:
            what = "resource type" if kind == "resource" else "data source"
            self.issue(
                line, address, f"unknown {what} {rtype!r} in hashicorp/aws {self.schema['provider_version']}"
            )
            return
        self.check_body(table[rtype], body, address, line, _META_ARGS)

    def check_body(
        self, block_id: str | None, body: dict[str, Any], address: str, line: int | None, skip: set[str]
    ) -> None:
        if block_id is None:  # a block whose inner schema the assembly does not describe
            return
        spec = self.blocks[block_id]
        attrs: dict[str, bool] = spec["a"]
        nested: dict[str, list[Any]] = spec["b"]
        present: set[str] = set()
        for key, value in body.items():
            if key in _HCL2_MARKERS or key in skip:
                continue
            if key == "dynamic":
                for entry in value:
                    for label, dyn in entry.items():
                        present.add(self.check_dynamic(nested, label, dyn, address, line))
                continue
            present.add(key)
            key_line, form = self._find(line, key)
            as_block = form == "{" if form else _is_block_list(value)
            if key in nested:
                if not as_block:
                    self.issue(
                        key_line, address, f'"{key}" is a block: write `{key} {{ ... }}`, not `{key} = ...`'
                    )
                    continue
                for item in value:
                    self.check_body(nested[key][1], item, f"{address}.{key}", key_line, set())
            elif key in attrs:
                if as_block:
                    self.issue(key_line, address, f'"{key}" is an argument: write `{key} = ...`, not a block')
            else:
                what = "block" if as_block else "argument"
                self.issue(key_line, address, f'unknown {what} "{key}"{_suggest(key, attrs, nested)}')
        for name, required in attrs.items():
            if required and name not in present:
                self.issue(line, address, f'missing required argument "{name}"')
        for name, (required, _) in nested.items():
            if required and name not in present:
                self.issue(line, address, f'missing required block "{name}"')

    def check_dynamic(
        self, nested: dict[str, list[Any]], label: str, dyn: dict[str, Any], address: str, line: int | None
    ) -> str:
        dyn_line = self._dynamic_line(line, label)
        if label not in nested:
            self.issue(
                dyn_line, address, f'dynamic block "{label}": no such block{_suggest(label, {}, nested)}'
            )
            return label
        for key in dyn:
            if key not in _HCL2_MARKERS and key not in _DYNAMIC_ARGS:
                self.issue(
                    dyn_line,
                    address,
                    f'dynamic "{label}": unexpected "{key}" (allowed: for_each, iterator, labels, content)',
                )
        contents: list[dict[str, Any]] = dyn.get("content") or []
        if not _is_block_list(contents):
            self.issue(dyn_line, address, f'dynamic "{label}": missing its content block')
            return label
        for item in contents:
            self.check_body(nested[label][1], item, f"{address}.{label}", dyn_line, set())
        return label


def _suggest(name: str, attrs: dict[str, Any], nested: dict[str, Any]) -> str:
    import difflib

    close = difflib.get_close_matches(name, [*attrs, *nested], n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _parse(path: Path) -> dict[str, Any]:
    import hcl2  # bc-python-hcl2 (checkov's; python-hcl2 would overwrite the same package)

    try:
        data: dict[str, Any] = hcl2.loads(path.read_text(encoding="utf-8"))  # type: ignore[attr-defined]
    except Exception as exc:  # python-hcl2 raises lark errors of several kinds
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SchemaCheckError(f"{path}: cannot parse HCL: {first}") from exc
    return data


def tf_files(path: Path) -> list[Path]:
    """Every ``.tf`` file under ``path`` (skipping ``.terraform`` folders), sorted."""
    if path.is_file():
        return [path] if path.suffix == ".tf" else []
    return sorted(p for p in path.rglob("*.tf") if ".terraform" not in p.parts and p.is_file())


def check_directory(path: Path) -> SchemaReport:
    """Check every ``.tf`` under ``path``; module calls are not followed outside it."""
    path = Path(path)
    if not path.exists():
        raise SchemaCheckError(f"{path}: no such file or directory")
    files = tf_files(path)
    if not files:
        raise SchemaCheckError(f"{path}: no .tf files to check; give a Terraform directory or a .tf file")
    schema = load_schema()
    report = SchemaReport(
        provider_version=schema["provider_version"],
        cdktn_provider_aws_version=schema["cdktn_provider_aws_version"],
    )
    root = path if path.is_dir() else path.parent
    for file in files:
        report.files_checked += 1
        checker = _FileChecker(schema, file, str(file.relative_to(root)), report)
        data = _parse(file)
        for kind in ("resource", "data"):
            for entry in data.get(kind, []):
                for rtype, named in entry.items():
                    if not rtype.startswith("aws_"):
                        continue
                    for rname, body in named.items():
                        checker.check_top(kind, rtype, rname, body)
    return report
