"""The wizard's state: the spec draft, the file it is saved to and the workspace it generates.

Plain Python (no Textual), so it is tested without a terminal. The draft is plain data (the YAML's
dicts and lists), not a :class:`~mlfargate.spec.model.Spec`: a draft may be invalid while the operator
types, and it must still be shown, saved and reopened. Everything the wizard says about the draft
comes from the core: the shape and the AWS rules (:func:`mlfargate.spec.model.from_data`,
:func:`mlfargate.spec.rules.check`) and the cost (:func:`mlfargate.cost.estimate.estimate`). A step
shows the errors whose key path starts with one of its keys (:func:`owner`); there is no second copy
of a rule here.

The core is imported inside the functions that need it, so the first screen does not wait for
pydantic: the app warms it up right after the first paint.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from mlfargate.errors import InputFileError, MlfargateError, SpecError

if TYPE_CHECKING:
    from mlfargate.cost.estimate import Estimate
    from mlfargate.cost.price_book import PriceBook
    from mlfargate.spec.model import Spec


@dataclass(frozen=True)
class Step:
    key: str
    title: str
    #: Top-level spec keys whose errors this step shows (the review step shows every other key's).
    owns: tuple[str, ...]


STEPS: tuple[Step, ...] = (
    Step("account", "Account", ("name", "environment", "aws")),
    Step("network", "Network", ("network",)),
    Step("model", "Model & GPU sizing", ("compute", "service")),
    Step("spot", "Spot mix", ("spot", "budget")),
    Step("scaling", "Scaling", ("scaling",)),
    Step("review", "Review", ()),
    Step("generate", "Generate & check", ()),
)
STEP_KEYS: tuple[str, ...] = tuple(s.key for s in STEPS)
#: Where an error whose key no step owns is shown (unknown keys, ``version``, keys added later).
CATCH_ALL = "review"

_HEAD = re.compile(r"[^.\[]+")
_TOKEN = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def step(key: str) -> Step:
    return STEPS[STEP_KEYS.index(key)]


def owner(path: str) -> str:
    """The step that shows an error at ``path`` (``compute.instance_types[1]`` -> ``model``)."""
    match = _HEAD.match(path)
    head = match.group(0) if match else path
    return next((s.key for s in STEPS if head in s.owns), CATCH_ALL)


def parse_path(path: str) -> list[str | int]:
    """``scaling.schedules[1].cron`` -> ``["scaling", "schedules", 1, "cron"]``."""
    return [name if name else int(index) for name, index in _TOKEN.findall(path)]


def get(data: Any, path: str) -> Any:
    """The value at ``path``, or None when any part of it is missing."""
    node = data
    for part in parse_path(path):
        if isinstance(part, int):
            if not isinstance(node, list) or part >= len(node):
                return None
        elif not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def put(data: dict[str, Any], path: str, value: Any) -> None:
    """Set ``path`` to ``value``, creating the mappings on the way (list items must exist)."""
    parts = parse_path(path)
    node: Any = data
    for part, nxt in itertools.pairwise(parts):
        if isinstance(part, int):
            node = node[part]
            continue
        if not isinstance(node.get(part), dict | list):
            node[part] = [] if isinstance(nxt, int) else {}
        node = node[part]
    node[parts[-1]] = value


def delete(data: dict[str, Any], path: str) -> None:
    """Remove ``path``; mappings left empty on the way up are removed too (``budget: {}`` is not a
    budget). Missing paths are fine."""
    parts = parse_path(path)
    chain: list[Any] = [data]
    for part in parts[:-1]:
        node = chain[-1]
        try:
            chain.append(node[part])
        except (KeyError, IndexError, TypeError):
            return
    last = parts[-1]
    node = chain[-1]
    if isinstance(node, dict):
        node.pop(last, None)
    elif isinstance(node, list) and isinstance(last, int) and last < len(node):
        node.pop(last)
    for depth in range(len(parts) - 1, 0, -1):
        holder, key, value = chain[depth - 1], parts[depth - 1], chain[depth]
        if isinstance(value, dict) and not value and isinstance(holder, dict):
            holder.pop(key, None)
        else:
            break


@cache
def default_for(path: str) -> Any:
    """What the spec model takes when ``path`` is unset (None when it has no default): the core's
    default, shown in an empty field."""
    from pydantic import BaseModel

    from mlfargate.spec.model import Spec

    model: Any = Spec
    default: Any = None
    for part in parse_path(path):
        if isinstance(part, int):
            return None
        if isinstance(default, BaseModel):
            default = getattr(default, part, None)
            model = _model_in(type(default)) if isinstance(default, BaseModel) else None
            continue
        field = model.model_fields.get(part) if model is not None else None
        if field is None:
            return None
        default = None if field.is_required() else field.get_default(call_default_factory=True)
        model = _model_in(field.annotation)
    return None if isinstance(default, BaseModel | list) else default


def convert(kind: str, text: str) -> Any:
    """A field's text as the value the spec gets. Text that is not a number stays text, so the core
    reports it in its own words (``Input should be a valid integer ...``); None means "unset"."""
    text = text.strip()
    if not text:
        return None
    if kind == "int":
        return int(text) if re.fullmatch(r"[+-]?\d+", text) else text
    if kind == "number":
        if re.fullmatch(r"[+-]?\d+", text):
            return int(text)
        try:
            return float(text)
        except ValueError:
            return text
    if kind == "list":
        return [item for item in re.split(r"[\s,]+", text) if item]
    return text


def show(value: Any) -> str:
    """A spec value as a field shows it."""
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _model_in(annotation: Any) -> Any:
    """The pydantic model class inside a field's annotation (``Budget | None``, ``list[Schedule]``)."""
    from typing import get_args

    from pydantic import BaseModel

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return next((m for a in get_args(annotation) if (m := _model_in(a)) is not None), None)


def in_model_order(data: Any, model: Any = None) -> Any:
    """``data`` with every mapping's keys in the spec model's field order (keys the model does not know
    last, as they were): a key the operator cleared and typed again goes back where it belongs."""
    if model is None:
        from mlfargate.spec.model import Spec

        model = Spec
    if isinstance(data, list):
        return [in_model_order(item, model) for item in data]
    if not isinstance(data, dict):
        return data
    fields = model.model_fields
    known = [k for k in fields if k in data]
    out = {k: in_model_order(data[k], _model_in(fields[k].annotation)) for k in known}
    out.update((k, v) for k, v in data.items() if k not in fields)
    return out


def dump(data: Any) -> str:
    """The draft as YAML: keys in the spec's order, block style like the example."""
    return yaml.safe_dump(in_model_order(data), sort_keys=False, default_flow_style=False, width=110)


@dataclass(frozen=True)
class Analysis:
    """Everything the wizard shows about one revision of the draft, all from the core."""

    spec: Spec | None  # None: the draft does not have the spec's shape yet
    errors: tuple[SpecError, ...]
    estimate: Estimate | None
    #: Why there is no estimate (errors to fix, or a price the book lacks), one line.
    cost_problem: str | None
    book: PriceBook | None

    def errors_for(self, step_key: str) -> list[SpecError]:
        return [e for e in self.errors if owner(e.path) == step_key]

    def has_errors(self, step_key: str) -> bool:
        return any(owner(e.path) == step_key for e in self.errors)

    @property
    def ok(self) -> bool:
        return self.spec is not None and not self.errors

    def bad_steps(self) -> list[str]:
        return [s.title for s in STEPS if self.has_errors(s.key)]


@dataclass(frozen=True)
class Saved:
    path: Path
    errors: int


def price_book_for(region: str) -> PriceBook:
    """The price book the CLI's ``cost`` uses for ``region`` (a refreshed cache, else the snapshot)."""
    from mlfargate.cost import price_book

    return price_book.load(region)


@dataclass
class WizardState:
    spec_path: Path
    data: dict[str, Any]
    #: The text the draft came from (the file, or the example): saved as is while nothing changed, so
    #: its comments survive a save that changes nothing.
    base_text: str
    base_data: Any
    #: What the file on disk holds (None: not written yet).
    saved_text: str | None
    #: Why the file could not be read as a spec mapping (YAML syntax, not a mapping): fields are empty,
    #: and the YAML editor holds the text until it parses.
    load_problem: str | None = None
    workspace_choice: Path | None = None
    #: Sizing inputs: not spec keys, they only drive the sizing table.
    params_billion: str = "7"
    precision: str = "fp16"
    revision: int = 0
    _analysis: tuple[int, Analysis] | None = field(default=None, repr=False)
    _books: dict[str, PriceBook | str] = field(default_factory=dict, repr=False)

    # --- opening ----------------------------------------------------------------------------------

    @classmethod
    def new(cls, spec_path: Path) -> WizardState:
        """A new spec at ``spec_path``, starting from the example's values."""
        from mlfargate.spec.text import example_text, load_data

        text = example_text()
        data = load_data(text)
        return cls(spec_path, _copy(data), text, data, saved_text=None)

    @classmethod
    def open(cls, spec_path: Path) -> WizardState:
        """The spec at ``spec_path`` (a new one when the file does not exist). A file that is not YAML or
        not a mapping still opens: ``load_problem`` says why, and the YAML editor holds its text."""
        if not spec_path.exists():
            return cls.new(spec_path)
        if spec_path.is_dir():
            raise InputFileError(f"{spec_path}: is a directory, expected a YAML file")
        try:
            text = spec_path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputFileError(f"{spec_path}: cannot read: {exc}") from None
        data, problem = parse_text(text, str(spec_path))
        return cls(spec_path, _copy(data or {}), text, data, saved_text=text, load_problem=problem)

    @property
    def is_new(self) -> bool:
        return self.saved_text is None

    # --- editing ----------------------------------------------------------------------------------

    def get(self, path: str) -> Any:
        return get(self.data, path)

    def set(self, path: str, value: Any) -> None:
        """Set (or with None, remove) the value at ``path``."""
        if value is None:
            delete(self.data, path)
        else:
            put(self.data, path, value)
        self.touch()

    def set_text(self, path: str, kind: str, text: str) -> None:
        self.set(path, convert(kind, text))

    def touch(self) -> None:
        self.revision += 1

    def apply_yaml(self, text: str) -> None:
        """Replace the draft with ``text`` (the review step's YAML editor). Raises one line when it is
        not YAML or not a mapping; the draft is unchanged then."""
        data, problem = parse_text(text, "the YAML")
        if problem is not None:
            raise InputFileError(problem)
        self.data = _copy(data)
        self.base_text, self.base_data = text, data
        self.load_problem = None
        self.touch()

    # --- saving -----------------------------------------------------------------------------------

    def text(self) -> str:
        """The text a save writes."""
        if self.load_problem is not None or self.data == self.base_data:
            return self.base_text
        return dump(self.data)

    @property
    def dirty(self) -> bool:
        return self.saved_text is None or self.text() != self.saved_text

    def save(self) -> Saved:
        """Write the draft atomically (a crash leaves the old file whole). A draft with errors is saved
        too, and the result says how many: the caller tells the operator it is not valid yet."""
        from mlfargate.files import write_text_atomic

        if self.load_problem is not None:
            raise MlfargateError(
                f"{self.spec_path}: not saved: {self.load_problem}; fix the YAML in the review step first"
            )
        text = self.text()
        write_text_atomic(self.spec_path, text, overwrite=True)
        self.saved_text = text
        return Saved(self.spec_path, len(self.analysis().errors))

    # --- the workspace ----------------------------------------------------------------------------

    @property
    def prefix(self) -> str:
        name, env = self.data.get("name"), self.data.get("environment")
        if isinstance(name, str) and isinstance(env, str) and name and env:
            return f"{name}-{env}"
        return "workspace"

    @property
    def workspace(self) -> Path:
        """Where Generate writes: the operator's choice, else the spec's own directory when it is a
        generated workspace (regenerating), else ``workspaces/<name>-<environment>`` beside the spec."""
        if self.workspace_choice is not None:
            return self.workspace_choice
        from mlfargate.generate.workspace import MANIFEST

        here = self.spec_path.parent
        if (here / MANIFEST).is_file():
            return here
        return here / "workspaces" / self.prefix

    # --- what the core says -----------------------------------------------------------------------

    def book(self, region: str) -> PriceBook | str:
        """The price book for ``region``, or why there is none (one line); loaded once per region."""
        if region not in self._books:
            try:
                self._books[region] = price_book_for(region)
            except MlfargateError as exc:
                self._books[region] = str(exc)
        return self._books[region]

    def analysis(self) -> Analysis:
        if self._analysis is not None and self._analysis[0] == self.revision:
            return self._analysis[1]
        result = analyze(self.data, self.book, self.load_problem)
        self._analysis = (self.revision, result)
        return result


def analyze(data: Any, books: Any, load_problem: str | None = None) -> Analysis:
    """Shape, rules and cost of ``data``; ``books(region)`` gives a price book or why there is none."""
    from mlfargate.cost.estimate import estimate
    from mlfargate.errors import SpecErrors
    from mlfargate.spec.model import from_data
    from mlfargate.spec.rules import check

    if load_problem is not None:
        return Analysis(None, (SpecError("(top level)", load_problem),), None, load_problem, None)
    try:
        spec = from_data(data)
    except SpecErrors as exc:
        return Analysis(None, tuple(exc.errors), None, f"{len(exc.errors)} spec error(s) to fix first", None)
    errors = tuple(check(spec))
    book = books(spec.aws.region)
    if isinstance(book, str):
        return Analysis(spec, errors, None, book, None)
    if errors:
        return Analysis(spec, errors, None, f"{len(errors)} spec error(s) to fix first", book)
    try:
        est = estimate(spec, book)
    except MlfargateError as exc:
        return Analysis(spec, errors, None, str(exc), book)
    return Analysis(spec, errors, est, None, book)


def parse_text(text: str, where: str) -> tuple[dict[str, Any] | None, str | None]:
    """(mapping, None) or (None, one line saying why ``text`` is not a spec mapping)."""
    from mlfargate.spec.text import load_data, parse_yaml

    try:
        data = load_data(text)  # fast; a file that does not parse is read again for the core's message
    except yaml.YAMLError:
        try:
            data = parse_yaml(text, where)
        except InputFileError as exc:
            return None, str(exc)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        return None, f"{where}: the spec must be a mapping of keys to values, not {type(data).__name__}"
    return data, None


def _copy(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _copy(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_copy(v) for v in data]
    return data
