"""Property: whatever the spec file holds, `validate` and `generate` answer with exit 0 or 2, never a
traceback; every stderr line of a failure starts with ``spec error:`` or ``error:`` and is one
printable line of bounded length; a spec that validates generates, and Terraform core parses it.

Two sources of input (issue #12): arbitrary YAML documents (raw bytes and text, token soup, and any
structure YAML can dump), and arbitrary values at every key of each valid example spec (the keys the
examples use and every other key the schema has). The examples that found bugs are kept as explicit
``@example`` cases. The CLI runs in-process (``cli.main``): a traceback is an exception escaping it.

Example counts are moderate so the suite stays within minutes; CI runs them derandomized (the "ci"
Hypothesis profile, tests/conftest.py). For a long bug hunt: PROPERTY_EXAMPLES=2000.
"""

from __future__ import annotations

import copy
import io
import math
import os
import tempfile
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from mlfargate import cli
from mlfargate.errors import LINE_LIMIT
from mlfargate.spec.model import json_schema
from mlfargate.terraform import config_check as tfcore

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = {p.stem: yaml.safe_load(p.read_text()) for p in sorted((REPO / "examples").glob("*.yaml"))}
EXAMPLES_COUNT = int(os.environ.get("PROPERTY_EXAMPLES", "0"))
SETTINGS = settings(
    max_examples=EXAMPLES_COUNT or 100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

Path_ = tuple[str | int, ...]


# --------------------------------------------------------------------------------------------------
# Running the CLI and the property


def run(*argv: str) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = cli.main(list(argv))
    return code, err.getvalue()


def check_lines(code: int, stderr: str) -> None:
    assert code in (0, 2), (code, stderr[-2000:])
    lines = stderr.splitlines()
    for line in lines:
        assert len(line) <= LINE_LIMIT, line[:200]
        assert line.isprintable(), line[:200]
        allowed = ("spec error: ", "error: ") if code else ("note: ",)
        assert line.startswith(allowed), line[:200]
    if code:
        assert lines, "a failure says why"


def validate_and_generate(spec_bytes: bytes) -> None:
    with tempfile.TemporaryDirectory(prefix="mlfargate-prop-") as tmp:
        spec = Path(tmp) / "spec.yaml"
        spec.write_bytes(spec_bytes)
        valid, stderr = run("validate", str(spec))
        check_lines(valid, stderr)
        ws = Path(tmp) / "ws"
        generated, stderr = run("generate", str(spec), "--out", str(ws))
        check_lines(generated, stderr)
        event(f"validate exit {valid}, generate exit {generated}")
        if valid == 0:
            assert generated == 0, f"validates but does not generate: {stderr}"
        if generated == 0:
            errors = [d for d in tfcore.parse_module(ws) if d.severity == "error"]
            assert errors == [], errors
        else:
            assert not ws.exists(), "a failed generate wrote nothing"


# --------------------------------------------------------------------------------------------------
# Values


#: Text that broke something once, or is built to: controls, template sequences, YAML-special words.
NASTY_TEXT = [
    "\b", "\f", "\x00", "\x1b[31m", "\n", "\r\n", "\t", "\u2028", "\u202e", '"', "\\", "${x}", "%{x}",
    "$${", "%%{", "x" * 5000, "posix/UTC", "right/UTC", "localtime", "Factory", "cron(0\t7 ? * MON *)",
    "cron(0 7 ? * MON *)", "s3://a..b/x", "s3://acme-models/k\bx", "1e-300", ".inf", "~", "null", "yes",
    "arn:aws:acm:us-east-1:123456789012:certificate/a\fb", "o\bps@example.com", "UTC", "Etc/GMT+9",
]  # fmt: skip

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, 1e-300, 2.0**-360, 2.0**-359, 2.0**359, 1e300, 0.01, 1e9, 100.5]),
    st.text(st.characters(exclude_categories=["Cs"]), max_size=40),
    st.sampled_from(NASTY_TEXT),
)
values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.text(st.characters(exclude_categories=["Cs"]), max_size=8), children, max_size=3)
    ),
    max_leaves=6,
)


def _schema_paths() -> set[Path_]:
    """Every key path the schema allows (a list's items at index 0)."""
    schema = json_schema()
    defs = schema["$defs"]
    found: set[Path_] = set()

    def walk(node: dict[str, Any], path: Path_, depth: int) -> None:
        if depth > 6:
            return
        if "$ref" in node:
            walk(defs[node["$ref"].rsplit("/", 1)[-1]], path, depth + 1)
            return
        for option in node.get("anyOf", []):
            walk(option, path, depth + 1)
        if "items" in node:
            walk(node["items"], (*path, 0), depth + 1)
        for key, sub in node.get("properties", {}).items():
            found.add((*path, key))
            walk(sub, (*path, key), depth + 1)

    walk(schema, (), 0)
    return found


def _data_paths(data: Any, path: Path_ = ()) -> set[Path_]:
    found: set[Path_] = set()
    items = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else []
    for key, sub in items:
        found.add((*path, key))
        found |= _data_paths(sub, (*path, key))
    return found


PATHS = sorted(_schema_paths().union(*(_data_paths(d) for d in EXAMPLES.values())), key=str)

# Values that often keep the spec valid, so that generate and Terraform core see hostile text too.
_text = st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=30)
_no_space = st.text(
    st.characters(exclude_categories=["Cs", "Zs", "Zl", "Zp", "Cc"], exclude_characters="@"),
    min_size=1,
    max_size=12,
)
PLAUSIBLE: list[tuple[Path_, st.SearchStrategy[Any]]] = [
    (("aws", "profile"), _text | st.sampled_from(NASTY_TEXT)),
    (("service", "model_uri"), _text.map(lambda t: f"s3://acme-models/{t}")),
    (
        ("service", "certificate_arn"),
        _text.map(lambda t: f"arn:aws:acm:us-east-1:123456789012:certificate/{t}"),
    ),
    (
        ("budget", "alert_email"),
        st.tuples(_no_space, _no_space, _no_space).map(lambda p: f"{p[0]}@{p[1]}.{p[2]}"),
    ),
    (("budget", "monthly_usd"), st.floats(min_value=0.01, max_value=1e9)),
    (("scaling", "target", "value"), st.floats(min_value=2.0**-359, max_value=100)),
    (("service", "container_port"), st.integers(1, 65535)),
    (
        ("service", "environment"),
        st.dictionaries(st.from_regex(r"[A-Z][A-Z0-9_]{0,10}", fullmatch=True), _text, max_size=2),
    ),
]
mutation = st.one_of(
    st.tuples(st.sampled_from(PATHS), values),  # anything, anywhere
    *(st.tuples(st.just(path), strategy) for path, strategy in PLAUSIBLE),
)


def mutated(base: str, mutations: list[tuple[Path_, Any]]) -> bytes:
    data = copy.deepcopy(EXAMPLES[base])
    for path, value in mutations:
        node: Any = data
        for key in path[:-1]:
            if isinstance(node, dict):
                node = node.setdefault(key, {})
            elif isinstance(node, list) and isinstance(key, int) and key < len(node):
                node = node[key]
            else:
                node = None
                break
        settable = isinstance(node, dict) or (
            isinstance(node, list) and isinstance(path[-1], int) and path[-1] < len(node)
        )
        if settable:
            node[path[-1]] = value  # type: ignore[index]
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False).encode("utf-8")


# --------------------------------------------------------------------------------------------------
# The properties


@SETTINGS
@given(
    base=st.sampled_from(sorted(EXAMPLES)),
    mutations=st.lists(mutation, min_size=1, max_size=3),
)
# Found bugs (issue #12 and while fixing it), kept as explicit cases:
@example(
    "gpu-ec2-spot-schedules",
    [(("service", "certificate_arn"), "arn:aws:acm:us-east-1:123456789012:certificate/a\bb")],
)
@example("gpu-ec2-spot-schedules", [(("service", "model_uri"), "s3://acme-models/a\fb/")])
@example("gpu-ec2-spot-schedules", [(("aws", "profile"), "ml\bdeploy\f")])
@example("gpu-ec2-spot-schedules", [(("budget", "alert_email"), "o\bps@example.com")])
@example("gpu-ec2-spot-schedules", [(("aws", "profile"), "$${not-a-template}")])
@example("gpu-ec2-spot-schedules", [(("aws", "profile"), "%{ if true }x%{ endif }")])
@example("gpu-ec2-spot-schedules", [(("budget", "monthly_usd"), math.inf)])
@example("cpu-fargate-spot", [(("scaling", "target", "value"), 1e-300)])
@example("cpu-fargate-spot", [(("scaling", "target", "value"), math.nan)])
@example("gpu-ec2-spot-schedules", [(("scaling", "schedules", 0, "cron"), "cron(0\t22 * * ? *)")])
@example("gpu-ec2-spot-schedules", [(("scaling", "schedules", 0, "cron"), "cron(0 22 * * ? *)\n")])
@example("gpu-ec2-spot-schedules", [(("scaling", "schedules", 0, "timezone"), "posix/America/New_York")])
@example("gpu-ec2-spot-schedules", [(("scaling", "schedules", 0, "timezone"), "right/UTC")])
@example("gpu-ec2-spot-schedules", [(("scaling", "schedules", 0, "timezone"), "localtime")])
@example("gpu-ec2-spot-schedules", [(("scaling", "schedules", 0, "timezone"), "Factory")])
@example("cpu-fargate-spot", [(("service", "model_uri"), "s3://a..b/model/")])
@example("cpu-fargate-spot", [(("name",), "x" * 5_000_000)])
@example("cpu-fargate-spot", [(("name",), "evil\n\x1b[31mspec error: forged")])
@example("cpu-fargate-spot", [(("compute", "cpu"), 10**30)])
@example("cpu-fargate-spot", [(("aws", "r\negion\x1b[2J"), "x")])
def test_any_value_at_any_key_of_a_valid_spec(base: str, mutations: list[tuple[Path_, Any]]) -> None:
    validate_and_generate(mutated(base, mutations))


YAML_TOKENS = [
    "[", "]", "{", "}", ":", ": ", "- ", ",", "&a ", "*a", "!!int ", "!!float ", "!!binary ", "!!set ",
    "!!omap ", "!!python/object:os.system ", "<<: ", "\n", "  ", "? ", "|\n", ">\n", '"', "'", "%YAML 1.1\n",
    "---\n", "...\n", "# c\n", "name", "version: 1\n", "1e400", ".inf", ".nan", "0x", "0b", "0o7", "2024-13-45",
    "9" * 50, "~", "\t", "\x00", "\ufeff", "é", "\\", "aws:\n  region: us-east-1\n",
]  # fmt: skip
documents = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=300).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.lists(st.sampled_from(YAML_TOKENS), max_size=40).map(lambda ts: "".join(ts).encode()),
    values.map(lambda v: yaml.safe_dump(v, allow_unicode=True).encode("utf-8")),
)


@SETTINGS
@given(document=documents)
@example(b"name: " + b"[" * 10_000 + b"]" * 10_000)
@example(b"version: 1\nname: " + b"9" * 5000 + b"\n")
@example(b"version: 1\nname: a\nname: b\n")
@example(b"version: 1\nname: !!float abc\n")
@example(b"version: 1\nname: 2024-13-45\n")
@example(b"version: 1\nname: !!binary '#'\n")
@example(b"\xff\xfe\x00")
@example(b"- a\n- b\n")
@example(b"")
@example(b"---\n---\n")
@example(b"a: &a [*a]\n")
@example(b"!!float")  # found by this test: IndexError in PyYAML's float constructor
@example(b"!!int")  # IndexError
@example(b"a: !!bool x\n")  # KeyError
@example(b"a: !!timestamp x\n")  # AttributeError
@example(b"a: !!map x\n")  # ValueError, raised by the generator that fills the mapping
@example(b"a: !!set [1]\n")  # TypeError, in the duplicate-key check
def test_any_yaml_document(document: bytes) -> None:
    validate_and_generate(document)
