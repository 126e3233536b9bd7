"""What a generated workspace creates: every ``aws_*`` resource of the render plan's module calls, with
its number of instances under the spec's arguments.

The module calls and their arguments come from :func:`mlfargate.generate.wiring.module_calls` (the one
place that decides them); what each module creates under those arguments is read from its Terraform
(``modules/<module>/*.tf``): ``count`` and ``for_each`` are evaluated offline with
:mod:`mlfargate.generate.hcl_eval`, with the module's variable defaults under the plan's arguments and
module outputs followed across calls (``module.network.private_subnet_ids`` has the length of the
network module's ``aws_subnet.private``). The cost stage prices this inventory, and a test fails when
a module creates a type the cost stage has not classified.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from mlfargate.errors import MlfargateError
from mlfargate.generate import hcl_eval
from mlfargate.generate.hcl_eval import UNKNOWN, EvalError, Scope, Unknown
from mlfargate.generate.model import Conditional, Ref, Template, Value
from mlfargate.spec.model import Spec

#: The root variables as the workspace runs once deployed: an image pinned by digest (until then the
#: service runs no task: docs/image.md). The cost stage prices that state; other root variables
#: (region, profile) never decide what is created.
RUNNING: dict[str, Any] = {"image_digest": "sha256:" + "0" * 64}


def _root_lookup(root: str, name: str) -> Any:
    if root == "var" and name in RUNNING:
        return RUNNING[name]
    return UNKNOWN  # data.aws_vpc.existing.cidr_block, var.aws_profile...: known at apply time


_ROOT_SCOPE = Scope(_root_lookup)
_MODULE_REF = re.compile(r"^module\.([A-Za-z_][A-Za-z0-9_-]*)\.([A-Za-z_][A-Za-z0-9_]*)$")


class InventoryError(MlfargateError):
    """A module's Terraform could not be read or one of its counts could not be evaluated."""


@dataclass(frozen=True)
class _Files:
    """The parsed ``.tf`` files of one module directory."""

    variables: dict[str, dict[str, Any]]
    locals: dict[str, Any]
    resources: dict[tuple[str, str], dict[str, Any]]
    outputs: dict[str, Any]


def _blocks(data: dict[str, Any], kind: str) -> Iterator[tuple[str, Any]]:
    for entry in data.get(kind, []):
        for key, value in entry.items():
            if not key.startswith("__"):
                yield key, value


@cache
def _parse_dir(path: str, stamp: tuple[tuple[str, int], ...]) -> _Files:
    import hcl2  # bc-python-hcl2 (checkov's; python-hcl2 would overwrite the same package)

    variables: dict[str, dict[str, Any]] = {}
    locals_: dict[str, Any] = {}
    resources: dict[tuple[str, str], dict[str, Any]] = {}
    outputs: dict[str, Any] = {}
    for name, _mtime in stamp:
        file = Path(path) / name
        try:
            data: dict[str, Any] = hcl2.loads(file.read_text(encoding="utf-8"))  # type: ignore[attr-defined]
        except Exception as exc:  # lark raises errors of several kinds
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise InventoryError(f"{file}: cannot parse HCL: {first}") from exc
        for var_name, body in _blocks(data, "variable"):
            variables[var_name] = body
        for entry in data.get("locals", []):
            locals_.update({k: v for k, v in entry.items() if not k.startswith("__")})
        for rtype, named in _blocks(data, "resource"):
            for rname, body in named.items():
                resources[(rtype, rname)] = body
        for out_name, body in _blocks(data, "output"):
            outputs[out_name] = body
    return _Files(variables, locals_, resources, outputs)


def module_files(directory: Path) -> _Files:
    if not directory.is_dir():
        raise InventoryError(
            f"{directory}: no such module directory (the cost stage reads modules/ of an mlfargate checkout)"
        )
    stamp = tuple(sorted((p.name, p.stat().st_mtime_ns) for p in directory.glob("*.tf")))
    return _parse_dir(str(directory), stamp)


def _first(body: dict[str, Any], name: str) -> Any:
    """hcl2 wraps every attribute value in a one-element list, and gives blocks as lists of bodies."""
    value = body[name]
    return value[0] if isinstance(value, list) and value else value


class _Module:
    """One module call: its files, its arguments, and lazily evaluated locals and counts."""

    def __init__(self, inv: Inventory, call: str, module: str, inputs: dict[str, Value]) -> None:
        self.inv = inv
        self.call = call
        self.module = module
        self.dir = inv.modules_dir / module
        self.files = module_files(self.dir)
        self.inputs = inputs
        self._vars: dict[str, Any] = {}
        self._locals: dict[str, Any] = {}
        self._busy: set[str] = set()
        self._counts: dict[tuple[str, str], tuple[int | None, tuple[str, ...]]] = {}
        unknown = sorted(set(inputs) - set(self.files.variables))
        if unknown:
            raise InventoryError(f"module {module} has no variable(s) {', '.join(unknown)}")

    @property
    def scope(self) -> Scope:
        return Scope(self.lookup)

    def var(self, name: str) -> Any:
        if name not in self._vars:
            if name in self.inputs:
                self._vars[name] = self.inv.plan_value(self.inputs[name])
            elif name in self.files.variables and "default" in self.files.variables[name]:
                self._vars[name] = hcl_eval.evaluate(
                    _first(self.files.variables[name], "default"), self.scope
                )
            else:
                raise EvalError(f"module {self.module}: variable '{name}' has no value and no default")
        return self._vars[name]

    def local(self, name: str) -> Any:
        if name not in self._locals:
            if name not in self.files.locals:
                raise EvalError(f"module {self.module}: no local '{name}'")
            if name in self._busy:
                raise EvalError(f"module {self.module}: local '{name}' refers to itself")
            self._busy.add(name)
            try:
                self._locals[name] = hcl_eval.evaluate(_first(self.files.locals, name), self.scope)
            finally:
                self._busy.discard(name)
        return self._locals[name]

    def output(self, name: str) -> Any:
        if name not in self.files.outputs:
            raise EvalError(f"module {self.module} has no output '{name}'")
        return hcl_eval.evaluate(_first(self.files.outputs[name], "value"), self.scope)

    def lookup(self, root: str, name: str) -> Any:
        if root == "var":
            return self.var(name)
        if root == "local":
            return self.local(name)
        if root in ("data", "path", "terraform"):
            return UNKNOWN
        if (root, name) in self.files.resources:
            count, _keys = self.count(root, name)
            body = self.files.resources[(root, name)]
            multi = "count" in body or "for_each" in body
            return Unknown(count) if multi else _Configured(body, self.scope)
        raise EvalError(f"module {self.module}: cannot resolve {root}.{name}")

    def count(self, rtype: str, rname: str) -> tuple[int | None, tuple[str, ...]]:
        """(instances, for_each keys); instances None when Terraform knows it only at apply time."""
        key = (rtype, rname)
        if key not in self._counts:
            body = self.files.resources[key]
            if "count" in body:
                value = hcl_eval.evaluate(_first(body, "count"), self.scope)
                n = None if isinstance(value, Unknown) else int(value)
                self._counts[key] = (n, tuple(str(i) for i in range(n or 0)))
            elif "for_each" in body:
                value = hcl_eval.evaluate(_first(body, "for_each"), self.scope)
                if isinstance(value, Unknown):
                    self._counts[key] = (None, ())
                else:
                    keys = tuple(sorted(value)) if isinstance(value, dict) else tuple(str(v) for v in value)
                    self._counts[key] = (len(keys), keys)
            else:
                self._counts[key] = (1, ())
        return self._counts[key]


class _Configured(Mapping[str, Any]):
    """A single resource's attributes as Terraform knows them at plan time: an argument the
    configuration sets is its value (``aws_vpc.this.cidr_block`` is ``var.cidr``); anything else
    (``id``, ``arn``, computed attributes) is known only at apply time."""

    def __init__(self, body: dict[str, Any], scope: Scope) -> None:
        self._body, self._scope = body, scope

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str)

    def __getitem__(self, key: str) -> Any:
        if key not in self._body or key in ("count", "for_each", "lifecycle", "depends_on", "provider"):
            return UNKNOWN
        try:
            return hcl_eval.evaluate(_first(self._body, key), self._scope)
        except EvalError:
            return UNKNOWN

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


@dataclass(frozen=True)
class Resource:
    """One ``resource`` block of one module call, with its instance count under the plan's arguments."""

    call: str
    module: str
    type: str
    name: str
    count: int
    keys: tuple[str, ...]
    _mod: _Module = field(repr=False, compare=False)

    @property
    def address(self) -> str:
        return f"module.{self.call}.{self.type}.{self.name}"

    def value(self, path: str, key: str | None = None) -> Any:
        """The value of a dotted attribute path (nested blocks: the first block) for one instance
        (``key``: a for_each key or count index; default the first). KeyError when the path is absent."""
        body: Any = self._mod.files.resources[(self.type, self.name)]
        for part in path.split("."):
            if not isinstance(body, dict) or part not in body:
                raise KeyError(f"{self.address} has no {path}")
            body = _first(body, part)
        scope = self._mod.scope
        instance = key if key is not None else (self.keys[0] if self.keys else None)
        raw = self._mod.files.resources[(self.type, self.name)]
        if "for_each" in raw and instance is not None:
            for_each = hcl_eval.evaluate(_first(raw, "for_each"), scope)
            value = for_each[instance] if isinstance(for_each, dict) else instance
            scope = scope.with_bindings(each={"key": instance, "value": value})
        elif "count" in raw:
            scope = scope.with_bindings(count={"index": int(instance or 0)})
        try:
            return hcl_eval.evaluate(body, scope)
        except EvalError as exc:
            raise InventoryError(f"{self.address}.{path}: {exc}") from None

    def dynamic(self, label: str) -> list[Any]:
        """The elements a ``dynamic "<label>"`` block iterates over (one block per element)."""
        raw = self._mod.files.resources[(self.type, self.name)]
        for entry in raw.get("dynamic", []):
            if label in entry:
                try:
                    items = hcl_eval.evaluate(_first(entry[label], "for_each"), self._mod.scope)
                except EvalError as exc:
                    raise InventoryError(f"{self.address} dynamic {label}: {exc}") from None
                if isinstance(items, Unknown):
                    raise InventoryError(f"{self.address} dynamic {label}: known only at apply time")
                return list(items.values()) if isinstance(items, dict) else list(items)
        return []


@dataclass
class Inventory:
    """Every resource block of the workspace's module calls, counted under the spec's arguments."""

    modules_dir: Path
    calls: dict[str, _Module] = field(default_factory=dict)
    resources: list[Resource] = field(default_factory=list)

    def plan_value(self, value: Value) -> Any:
        """A render-plan argument as an evaluated value: ``module.X.Y`` references are followed; root
        variables take :data:`RUNNING` (the workspace as it runs), anything else is known only at apply
        time (``data.aws_vpc.existing.cidr_block``...)."""
        if isinstance(value, Ref):
            match = _MODULE_REF.match(value.expr)
            if match is None:
                return hcl_eval.eval_node(hcl_eval.parse_template("${" + value.expr + "}"), _ROOT_SCOPE)
            call, output = match.groups()
            if call not in self.calls:
                raise EvalError(f"{value.expr}: the workspace has no module '{call}'")
            return self.calls[call].output(output)
        if isinstance(value, Conditional):
            test = self.plan_value(value.test)
            if isinstance(test, Unknown):
                return UNKNOWN
            return self.plan_value(value.then if test else value.otherwise)
        if isinstance(value, Template):
            parts = [self.plan_value(p) if isinstance(p, Ref) else p for p in value.parts]
            return UNKNOWN if any(isinstance(p, Unknown) for p in parts) else "".join(map(str, parts))
        if isinstance(value, list):
            return [self.plan_value(v) for v in value]
        if isinstance(value, dict):
            return {k: self.plan_value(v) for k, v in value.items()}
        return value

    def created(self) -> list[Resource]:
        """The resource blocks with at least one instance."""
        return [r for r in self.resources if r.count > 0]

    def types(self) -> set[str]:
        """Every ``aws_*`` type the workspace creates (at least one instance)."""
        return {r.type for r in self.created()}

    def of(self, rtype: str) -> list[Resource]:
        return [r for r in self.created() if r.type == rtype]

    def count(self, rtype: str) -> int:
        return sum(r.count for r in self.of(rtype))


def build(spec: Spec, modules_dir: Path | None = None) -> Inventory:
    """The inventory of the workspace ``mlfargate generate`` writes for ``spec``."""
    from mlfargate.generate import sources, wiring

    inv = Inventory(modules_dir or sources.modules_dir())
    calls = wiring.module_calls(spec)
    for call, module, inputs, _comment in calls:
        inv.calls[call] = _Module(inv, call, module, inputs)
    for call, module, _inputs, _comment in calls:
        mod = inv.calls[call]
        for rtype, rname in mod.files.resources:
            if not rtype.startswith("aws_"):
                continue
            try:
                n, keys = mod.count(rtype, rname)
            except EvalError as exc:
                raise InventoryError(f"module.{call}.{rtype}.{rname}: count: {exc}") from None
            if n is None:
                raise InventoryError(
                    f"module.{call}.{rtype}.{rname}: its count is known only at apply time; "
                    "the cost stage cannot say how many are created"
                )
            inv.resources.append(Resource(call, module, rtype, rname, n, keys, mod))
    return inv


def module_resource_types(modules_dir: Path | None = None) -> dict[str, set[str]]:
    """Every ``aws_*`` resource type each module under ``modules_dir`` declares, whatever its inputs."""
    from mlfargate.generate import sources

    base = modules_dir or sources.modules_dir()
    out: dict[str, set[str]] = {}
    for directory in sorted(p for p in base.iterdir() if p.is_dir() and any(p.glob("*.tf"))):
        if directory.name == "examples":
            continue
        files = module_files(directory)
        out[directory.name] = {t for t, _n in files.resources if t.startswith("aws_")}
    return out
