"""Evaluate the Terraform expressions of our modules offline, as far as they are known before apply.

The modules are read with ``hcl2.loads`` (bc-python-hcl2, which checkov brings). It returns every
attribute as a Python value in which expressions are *template strings* (``"${var.x == null ? 1 : 0}"``);
object literals inside an expression come back in Python's repr (``{'spot': 'SPOT'}``) and ``null`` as
``None``. This module parses those strings (HCL's expression syntax plus that repr) and evaluates them in
a :class:`Scope` that resolves ``var.*``, ``local.*``, ``each.*`` and references.

What Terraform knows only at apply time (a data source, a resource's id, an output of a resource) is
:class:`Unknown`; an unknown list may still have a known length (``aws_subnet.private[*].id`` with
``count = 2``), which is what counts and prices need. Evaluation is lazy: the untaken branch of a
conditional is never evaluated, so a known condition settles ``count = var.x == null ? 1 : 0`` even when
the other branch references a data source.

Supported: literals, templates, ``var``/``local``/``each``/``count``/resource/``data`` references,
attribute and index access, splats (``[*]``, ``.*``), unary/binary/conditional operators, tuples,
objects, ``for`` expressions, and the functions in :data:`FUNCTIONS`. An unsupported construct raises
:class:`EvalError` naming it (never a silent guess).
"""

from __future__ import annotations

import base64
import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mlfargate.errors import MlfargateError


class EvalError(MlfargateError):
    """An expression could not be evaluated (syntax not supported, missing variable, wrong type)."""


@dataclass(frozen=True)
class Unknown:
    """A value known only after apply; ``length`` is its element count when that is known."""

    length: int | None = None


UNKNOWN = Unknown()

# --------------------------------------------------------------------------------------------------
# Tokens

_PUNCT = (
    "...",
    "=>",
    "==",
    "!=",
    "<=",
    ">=",
    "&&",
    "||",
    "[*]",
    ".*",
    "{",
    "}",
    "[",
    "]",
    "(",
    ")",
    ",",
    ".",
    ":",
    "?",
    "=",
    "<",
    ">",
    "!",
    "+",
    "-",
    "*",
    "/",
    "%",
)
_NUMBER = re.compile(r"\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


@dataclass(frozen=True)
class Tok:
    kind: str  # "num" | "ident" | "str" | "op" | "end"
    text: str
    value: Any = None


def _scan_string(src: str, i: int) -> tuple[list[str], int, list[bool]]:
    """Scan a quoted string starting at ``src[i]`` (its quote). Returns (parts, next index, kinds):
    literal text and the source of each ``${...}`` interpolation (kind True), in order."""
    quote = src[i]
    parts, end, kinds = _scan_template(src, i + 1, quote)
    return parts, end, kinds


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "'": "'", "\\": "\\"}


def _scan_template(src: str, i: int, quote: str | None) -> tuple[list[str], int, list[bool]]:
    """Split template text from ``src[i]`` up to the closing ``quote`` (or the end when None) into
    literal parts and interpolation sources. Escapes are decoded inside quoted strings only: hcl2
    hands top-level attribute text over undecoded."""
    parts: list[str] = []
    kinds: list[bool] = []
    text: list[str] = []
    while i < len(src):
        ch = src[i]
        if quote is not None and ch == "\\" and i + 1 < len(src):
            nxt = src[i + 1]
            if nxt == "u" and i + 5 < len(src):
                text.append(chr(int(src[i + 2 : i + 6], 16)))
                i += 6
                continue
            text.append(_ESCAPES.get(nxt, "\\" + nxt))
            i += 2
            continue
        if src.startswith("$${", i):
            text.append("${")
            i += 3
            continue
        if src.startswith("${", i):
            if text:
                parts.append("".join(text))
                kinds.append(False)
                text = []
            end = _matching_brace(src, i + 1)
            parts.append(src[i + 2 : end])
            kinds.append(True)
            i = end + 1
            continue
        if quote is not None and ch == quote:
            break
        text.append(ch)
        i += 1
    else:
        if quote is not None:
            raise EvalError(f"unterminated string in {src!r}")
    if text or not parts:
        parts.append("".join(text))
        kinds.append(False)
    return parts, i + 1, kinds


def _matching_brace(src: str, i: int) -> int:
    """Index of the ``}`` closing the ``{`` at ``src[i]``, skipping nested braces and strings."""
    depth = 0
    while i < len(src):
        ch = src[i]
        if ch in "\"'":
            _, i, _ = _scan_string(src, i)
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise EvalError(f"unbalanced braces in {src!r}")


def tokenize(src: str) -> list[Tok]:
    toks: list[Tok] = []
    i = 0
    while i < len(src):
        ch = src[i]
        if ch.isspace():
            i += 1
            continue
        if ch in "\"'":
            parts, i, kinds = _scan_string(src, i)
            toks.append(Tok("str", src, (tuple(parts), tuple(kinds))))
            continue
        m = _NUMBER.match(src, i)
        if m:
            text = m.group()
            toks.append(Tok("num", text, float(text) if any(c in text for c in ".eE") else int(text)))
            i = m.end()
            continue
        m = _IDENT.match(src, i)
        if m:
            toks.append(Tok("ident", m.group()))
            i = m.end()
            continue
        for p in _PUNCT:
            if src.startswith(p, i):
                # ".*" is a legacy splat only when not followed by a digit-less identifier start.
                toks.append(Tok("op", p))
                i += len(p)
                break
        else:
            raise EvalError(f"unexpected character {ch!r} in {src!r}")
    toks.append(Tok("end", ""))
    return toks


# --------------------------------------------------------------------------------------------------
# Parser: tokens -> a small AST of tuples

Node = tuple[Any, ...]
_BINARY = [
    ("||",),
    ("&&",),
    ("==", "!="),
    ("<", ">", "<=", ">="),
    ("+", "-"),
    ("*", "/", "%"),
]


class _Parser:
    def __init__(self, src: str) -> None:
        self.src = src
        self.toks = tokenize(src)
        self.i = 0

    def peek(self, k: int = 0) -> Tok:
        return self.toks[min(self.i + k, len(self.toks) - 1)]

    def take(self) -> Tok:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def accept(self, text: str) -> bool:
        tok = self.peek()
        if tok.kind in ("op", "ident") and tok.text == text:
            self.i += 1
            return True
        return False

    def expect(self, text: str) -> None:
        if not self.accept(text):
            raise EvalError(f"expected {text!r} at {self.peek().text!r} in {self.src!r}")

    def parse(self) -> Node:
        node = self.expr()
        if self.peek().kind != "end":
            raise EvalError(f"unexpected {self.peek().text!r} in {self.src!r}")
        return node

    def expr(self) -> Node:
        cond = self.binary(0)
        if self.accept("?"):
            yes = self.expr()
            self.expect(":")
            no = self.expr()
            return ("cond", cond, yes, no)
        return cond

    def binary(self, level: int) -> Node:
        if level == len(_BINARY):
            return self.unary()
        left = self.binary(level + 1)
        while self.peek().kind == "op" and self.peek().text in _BINARY[level]:
            op = self.take().text
            right = self.binary(level + 1)
            left = ("bin", op, left, right)
        return left

    def unary(self) -> Node:
        if self.accept("!"):
            return ("not", self.unary())
        if self.accept("-"):
            return ("neg", self.unary())
        return self.postfix(self.primary())

    def postfix(self, node: Node) -> Node:
        while True:
            if self.accept("[*]") or self.accept(".*"):
                ops: list[Node] = []
                while True:
                    if self.peek().text == "." and self.peek(1).kind == "ident":
                        self.take()
                        ops.append(("attr", self.take().text))
                    elif self.peek().text == "[" and self.peek(1).text != "*":
                        self.take()
                        ops.append(("index", self.expr()))
                        self.expect("]")
                    else:
                        break
                node = ("splat", node, tuple(ops))
            elif self.peek().text == "." and self.peek(1).kind in ("ident", "num"):
                self.take()
                name = self.take()
                node = (
                    ("getattr", node, name.text)
                    if name.kind == "ident"
                    else ("getindex", node, ("lit", name.value))
                )
            elif self.peek().text == "[":
                self.take()
                key = self.expr()
                self.expect("]")
                node = ("getindex", node, key)
            else:
                return node

    def primary(self) -> Node:
        tok = self.take()
        if tok.kind == "num":
            return ("lit", tok.value)
        if tok.kind == "str":
            parts, kinds = tok.value
            return _template(parts, kinds)
        if tok.kind == "ident":
            word = tok.text
            if word in ("true", "True"):
                return ("lit", True)
            if word in ("false", "False"):
                return ("lit", False)
            if word in ("null", "None"):
                return ("lit", None)
            if self.peek().text == "(":
                return self.call(word)
            return ("ref", word)
        if tok.text == "(":
            node = self.expr()
            self.expect(")")
            return node
        if tok.text == "[":
            if self.peek().text == "for":
                return self.for_expr("]")
            items: list[Node] = []
            while not self.accept("]"):
                items.append(self.expr())
                if not self.accept(","):
                    self.expect("]")
                    break
            return ("tuple", tuple(items))
        if tok.text == "{":
            if self.peek().text == "for":
                return self.for_expr("}")
            pairs: list[tuple[Node, Node]] = []
            while not self.accept("}"):
                key_tok = self.peek()
                if key_tok.kind == "ident" and self.peek(1).text in ("=", ":"):
                    self.take()
                    key: Node = ("lit", key_tok.text)
                else:
                    key = self.expr()
                if not (self.accept("=") or self.accept(":")):
                    raise EvalError(f"expected '=' in an object in {self.src!r}")
                pairs.append((key, self.expr()))
                self.accept(",")
            return ("object", tuple(pairs))
        raise EvalError(f"unexpected {tok.text!r} in {self.src!r}")

    def call(self, name: str) -> Node:
        self.expect("(")
        args: list[Node] = []
        expand = False
        while not self.accept(")"):
            args.append(self.expr())
            if self.accept("..."):
                expand = True
            if not self.accept(","):
                self.expect(")")
                break
        return ("call", name, tuple(args), expand)

    def for_expr(self, close: str) -> Node:
        self.expect("for")
        first = self.take().text
        second = None
        if self.accept(","):
            second = self.take().text
        self.expect("in")
        coll = self.expr()
        self.expect(":")
        key_expr = self.expr()
        value_expr: Node | None = None
        if close == "}":
            self.expect("=>")
            value_expr = self.expr()
            self.accept("...")
        cond: Node | None = None
        if self.accept("if"):
            cond = self.expr()
        self.expect(close)
        kvar, vvar = (first, second) if second is not None else (None, first)
        return ("for", close, kvar, vvar, coll, key_expr, value_expr, cond)


def _template(parts: Sequence[str], kinds: Sequence[bool]) -> Node:
    if len(parts) == 1 and kinds[0]:
        return _Parser(parts[0]).parse()  # "${x}" alone is x itself, not a string
    return (
        "tmpl",
        tuple(_Parser(p).parse() if is_expr else ("lit", p) for p, is_expr in zip(parts, kinds, strict=True)),
    )


_PARSED: dict[str, Node] = {}


def parse_template(text: str) -> Node:
    """The AST of one ``hcl2`` attribute string (a template that may be a single expression)."""
    node = _PARSED.get(text)
    if node is None:
        parts, _end, kinds = _scan_template(text, 0, None)
        node = _template(parts, kinds)
        _PARSED[text] = node
    return node


# --------------------------------------------------------------------------------------------------
# Evaluation


@dataclass
class Scope:
    """Resolves the roots of references. ``lookup(root, name)`` returns the value of ``root.name``
    (``var.x``, ``local.y``, ``aws_subnet.private``, ``data.aws_region.current`` ...)."""

    lookup: Callable[[str, str], Any]
    bindings: dict[str, Any] = field(default_factory=dict)  # each, count and for-expression variables

    def with_bindings(self, **values: Any) -> Scope:
        return Scope(self.lookup, {**self.bindings, **values})


def evaluate(value: Any, scope: Scope) -> Any:
    """Evaluate an ``hcl2`` attribute value (template strings, lists, dicts, literals)."""
    if isinstance(value, str):
        return eval_node(parse_template(value), scope)
    if isinstance(value, list):
        return [evaluate(v, scope) for v in value]
    if isinstance(value, dict):
        return {k: evaluate(v, scope) for k, v in value.items() if not k.startswith("__")}
    return value


def is_unknown(value: Any) -> bool:
    return isinstance(value, Unknown)


def eval_node(node: Node, scope: Scope) -> Any:
    kind = node[0]
    if kind == "lit":
        return node[1]
    if kind == "tmpl":
        pieces = [eval_node(n, scope) for n in node[1]]
        if any(is_unknown(p) for p in pieces):
            return UNKNOWN
        return "".join(_to_string(p) for p in pieces)
    if kind == "ref":
        return _ref(node[1], scope)
    if kind == "getattr":
        base = node[1]
        if base[0] == "ref" and base[1] not in scope.bindings:
            return scope.lookup(base[1], node[2])
        return _getattr(eval_node(base, scope), node[2])
    if kind == "getindex":
        return _getindex(eval_node(node[1], scope), eval_node(node[2], scope))
    if kind == "splat":
        return _splat(eval_node(node[1], scope), node[2], scope)
    if kind == "not":
        v = eval_node(node[1], scope)
        return v if is_unknown(v) else not _bool(v)
    if kind == "neg":
        v = eval_node(node[1], scope)
        return v if is_unknown(v) else -_num(v)
    if kind == "bin":
        return _binary(node[1], node[2], node[3], scope)
    if kind == "cond":
        c = eval_node(node[1], scope)
        if is_unknown(c):
            return UNKNOWN
        return eval_node(node[2] if _bool(c) else node[3], scope)
    if kind == "tuple":
        return [eval_node(n, scope) for n in node[1]]
    if kind == "object":
        out: dict[str, Any] = {}
        for k, v in node[1]:
            key = eval_node(k, scope)
            if is_unknown(key):
                return UNKNOWN
            out[_to_string(key)] = eval_node(v, scope)
        return out
    if kind == "call":
        return _call(node[1], node[2], node[3], scope)
    if kind == "for":
        return _for(node, scope)
    raise EvalError(f"cannot evaluate {kind}")


def _ref(name: str, scope: Scope) -> Any:
    if name in scope.bindings:
        return scope.bindings[name]
    raise EvalError(f"'{name}' needs an attribute (e.g. {name}.x)")


def _getattr(obj: Any, name: str) -> Any:
    if is_unknown(obj):
        return UNKNOWN
    if isinstance(obj, Mapping):
        if name not in obj:
            raise EvalError(f"no attribute '{name}'")
        return obj[name]
    raise EvalError(f"cannot read attribute '{name}' of {type(obj).__name__}")


def _getindex(obj: Any, key: Any) -> Any:
    if is_unknown(obj) or is_unknown(key):
        return UNKNOWN
    if isinstance(obj, Mapping):
        if _to_string(key) not in obj:
            raise EvalError(f"no key {key!r}")
        return obj[_to_string(key)]
    if isinstance(obj, list):
        index = int(_num(key))
        if not 0 <= index < len(obj):
            raise EvalError(f"index {index} out of range (length {len(obj)})")
        return obj[index]
    raise EvalError(f"cannot index {type(obj).__name__}")


def _splat(obj: Any, ops: tuple[Node, ...], scope: Scope) -> Any:
    if isinstance(obj, Unknown):
        return Unknown(obj.length)
    items = [] if obj is None else obj if isinstance(obj, list) else [obj]
    out = []
    for item in items:
        for op in ops:
            item = _getattr(item, op[1]) if op[0] == "attr" else _getindex(item, eval_node(op[1], scope))
        out.append(item)
    return out


def _binary(op: str, left_node: Node, right_node: Node, scope: Scope) -> Any:
    left = eval_node(left_node, scope)
    if op in ("&&", "||"):
        if not is_unknown(left) and _bool(left) == (op == "||"):
            return _bool(left)
        right = eval_node(right_node, scope)
        if is_unknown(left) or is_unknown(right):
            if not is_unknown(right) and _bool(right) == (op == "||"):
                return _bool(right)
            return UNKNOWN
        return _bool(right)
    right = eval_node(right_node, scope)
    if is_unknown(left) or is_unknown(right):
        return UNKNOWN
    if op == "==":
        return _equal(left, right)
    if op == "!=":
        return not _equal(left, right)
    a, b = _num(left), _num(right)
    ops: dict[str, Callable[[float, float], Any]] = {
        "<": lambda x, y: x < y,
        ">": lambda x, y: x > y,
        "<=": lambda x, y: x <= y,
        ">=": lambda x, y: x >= y,
        "+": lambda x, y: x + y,
        "-": lambda x, y: x - y,
        "*": lambda x, y: x * y,
        "/": lambda x, y: x / y,
        "%": lambda x, y: x % y,
    }
    return _normal(ops[op](a, b))


def _for(node: Node, scope: Scope) -> Any:
    _kind, close, kvar, vvar, coll_node, key_expr, value_expr, cond = node
    coll = eval_node(coll_node, scope)
    if is_unknown(coll):
        return UNKNOWN
    pairs = list(coll.items()) if isinstance(coll, Mapping) else list(enumerate(coll))
    out_list: list[Any] = []
    out_map: dict[str, Any] = {}
    for k, v in pairs:
        inner = scope.with_bindings(**({kvar: k} if kvar else {}), **{vvar: v})
        if cond is not None:
            c = eval_node(cond, inner)
            if is_unknown(c):
                return UNKNOWN
            if not _bool(c):
                continue
        if close == "]":
            out_list.append(eval_node(key_expr, inner))
        else:
            key = eval_node(key_expr, inner)
            if is_unknown(key):
                return UNKNOWN
            out_map[_to_string(key)] = eval_node(value_expr, inner)
    return out_list if close == "]" else out_map


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return float(a) == float(b)
    return bool(a == b)


def _bool(v: Any) -> bool:
    if isinstance(v, bool):
        return v
    if v in ("true", "false"):
        return bool(v == "true")
    raise EvalError(f"expected a bool, got {v!r}")


def _num(v: Any) -> float:
    if isinstance(v, bool):
        raise EvalError(f"expected a number, got {v!r}")
    if isinstance(v, int | float):
        return float(v) if isinstance(v, float) else int(v)
    if isinstance(v, str):
        try:
            return float(_normal(float(v)))
        except ValueError:
            pass
    raise EvalError(f"expected a number, got {v!r}")


def _normal(v: Any) -> Any:
    if isinstance(v, float) and v.is_integer() and not isinstance(v, bool):
        return int(v)
    return v


def _to_string(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return str(_normal(v))
    if isinstance(v, str):
        return v
    if v is None:
        raise EvalError("null in a string template")
    raise EvalError(f"cannot use {type(v).__name__} as a string")


# --------------------------------------------------------------------------------------------------
# Functions


def _length(v: Any) -> Any:
    if isinstance(v, Unknown):
        return UNKNOWN if v.length is None else v.length
    if isinstance(v, str | list | dict):
        return len(v)
    raise EvalError(f"length() of {type(v).__name__}")


def _as_list(v: Any, fn: str) -> list[Any]:
    if isinstance(v, list):
        return v
    raise EvalError(f"{fn}() needs a list, got {type(v).__name__}")


def _toset(v: Any) -> Any:
    if isinstance(v, Unknown):
        return UNKNOWN
    items = _as_list(v, "toset")
    if any(is_unknown(i) for i in items):
        return UNKNOWN
    unique: list[Any] = []
    for item in items:
        if item not in unique:
            unique.append(item)
    return sorted(unique, key=_to_string) if all(isinstance(i, str | int | float) for i in unique) else unique


def _concat(*lists: Any) -> Any:
    if any(isinstance(x, Unknown) for x in lists):
        lengths = [x.length if isinstance(x, Unknown) else len(_as_list(x, "concat")) for x in lists]
        return Unknown(None if None in lengths else sum(int(n) for n in lengths if n is not None))
    return [item for x in lists for item in _as_list(x, "concat")]


def _merge(*maps: Any) -> Any:
    if any(is_unknown(m) for m in maps):
        return UNKNOWN
    out: dict[str, Any] = {}
    for m in maps:
        if m is None:
            continue
        if not isinstance(m, Mapping):
            raise EvalError(f"merge() needs maps, got {type(m).__name__}")
        out.update(m)
    return out


def _slice(v: Any, start: Any, end: Any) -> Any:
    if is_unknown(start) or is_unknown(end):
        return UNKNOWN
    s, e = int(_num(start)), int(_num(end))
    if isinstance(v, Unknown):
        return Unknown(e - s)
    items = _as_list(v, "slice")
    if not 0 <= s <= e <= len(items):
        raise EvalError(f"slice({s}, {e}) out of range (length {len(items)})")
    return items[s:e]


def _coalesce(*values: Any) -> Any:
    for v in values:
        if is_unknown(v):
            return UNKNOWN
        if v is not None and v != "":
            return v
    raise EvalError("coalesce(): no non-null argument")


def _distinct(v: Any) -> Any:
    if isinstance(v, Unknown):
        return UNKNOWN
    out: list[Any] = []
    for item in _as_list(v, "distinct"):
        if is_unknown(item):
            return UNKNOWN
        if item not in out:
            out.append(item)
    return out


def _keys(v: Any) -> Any:
    if isinstance(v, Unknown):
        return UNKNOWN
    if not isinstance(v, Mapping):
        raise EvalError("keys() needs a map")
    return sorted(v)


def _values(v: Any) -> Any:
    if isinstance(v, Unknown):
        return UNKNOWN
    if not isinstance(v, Mapping):
        raise EvalError("values() needs a map")
    return [v[k] for k in sorted(v)]


def _lookup(m: Any, key: Any, *default: Any) -> Any:
    if is_unknown(m) or is_unknown(key):
        return UNKNOWN
    if isinstance(m, Mapping) and _to_string(key) in m:
        return m[_to_string(key)]
    if default:
        return default[0]
    raise EvalError(f"lookup(): no key {key!r}")


def _flatten(v: Any) -> Any:
    if isinstance(v, Unknown):
        return UNKNOWN
    out: list[Any] = []
    for item in _as_list(v, "flatten"):
        if isinstance(item, list):
            out.extend(_flatten(item))
        elif is_unknown(item):
            return UNKNOWN
        else:
            out.append(item)
    return out


def _strict(fn: Callable[..., Any]) -> Callable[..., Any]:
    """A function of known values: any unknown argument makes the result unknown."""

    def wrapped(*args: Any) -> Any:
        if any(is_unknown(a) for a in args):
            return UNKNOWN
        return fn(*args)

    return wrapped


def _min_max(pick: Callable[..., float]) -> Callable[..., Any]:
    def fn(*args: Any) -> Any:
        return _normal(pick(_num(a) for a in args))

    return _strict(fn)


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "length": _length,
    "toset": _toset,
    "tolist": lambda v: v,
    "tomap": lambda v: v,
    "merge": _merge,
    "concat": _concat,
    "distinct": _distinct,
    "slice": _slice,
    "coalesce": _coalesce,
    "keys": _keys,
    "values": _values,
    "lookup": _lookup,
    "flatten": _flatten,
    "nonsensitive": lambda v: v,
    "sensitive": lambda v: v,
    "min": _min_max(min),
    "max": _min_max(max),
    "compact": _strict(lambda v: [x for x in _as_list(v, "compact") if x not in (None, "")]),
    "contains": _strict(lambda coll, v: v in _as_list(coll, "contains")),
    "tostring": _strict(lambda v: None if v is None else _to_string(v)),
    "tonumber": _strict(lambda v: None if v is None else _num(v)),
    "tobool": _strict(lambda v: None if v is None else _bool(v)),
    "join": _strict(lambda sep, v: sep.join(_to_string(x) for x in _as_list(v, "join"))),
    "split": _strict(lambda sep, s: s.split(sep)),
    "trimprefix": _strict(lambda s, p: s[len(p) :] if s.startswith(p) else s),
    "trimsuffix": _strict(lambda s, p: s[: -len(p)] if p and s.endswith(p) else s),
    "startswith": _strict(lambda s, p: s.startswith(p)),
    "endswith": _strict(lambda s, p: s.endswith(p)),
    "replace": _strict(lambda s, old, new: s.replace(old, new)),
    "lower": _strict(lambda s: s.lower()),
    "upper": _strict(lambda s: s.upper()),
    "sort": _strict(lambda v: sorted(_as_list(v, "sort"), key=_to_string)),
    "range": _strict(lambda *a: list(range(*(int(_num(x)) for x in a)))),
    "element": _strict(lambda v, i: _as_list(v, "element")[int(_num(i)) % len(v)]),
    "one": _strict(lambda v: None if not v else _as_list(v, "one")[0]),
    "abs": _strict(lambda v: abs(_num(v))),
    "ceil": _strict(lambda v: math.ceil(_num(v))),
    "floor": _strict(lambda v: math.floor(_num(v))),
    "jsonencode": _strict(lambda v: json.dumps(v, separators=(",", ":"))),
    "base64encode": _strict(lambda s: base64.b64encode(_to_string(s).encode()).decode()),
}


def _call(name: str, arg_nodes: tuple[Node, ...], expand: bool, scope: Scope) -> Any:
    if name == "try":
        for arg in arg_nodes:
            try:
                return eval_node(arg, scope)
            except EvalError:
                continue
        raise EvalError("try(): every argument failed")
    if name == "can":
        try:
            value = eval_node(arg_nodes[0], scope)
        except EvalError:
            return False
        return UNKNOWN if is_unknown(value) else True
    fn = FUNCTIONS.get(name)
    if fn is None:
        raise EvalError(f"function {name}() is not supported by the offline evaluator")
    args = [eval_node(a, scope) for a in arg_nodes]
    if expand:
        last = args.pop()
        if is_unknown(last):
            return UNKNOWN
        args.extend(_as_list(last, name))
    return _normal(fn(*args))
