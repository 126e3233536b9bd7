"""The gate's replacements of checkov internals return exactly what checkov's own functions return."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from functools import cache
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from mlfargate.policy import checkov_patches

BRACKETS = [("{", "}"), ("[", "]"), ("(", ")")]


@cache
def checkovs_find_brackets_pairs() -> Callable[[str, str, str], Any]:
    """checkov's function as shipped, from a fresh copy of its module (never the gate's patched one)."""
    name = "checkov.terraform.graph_builder.variable_rendering.evaluate_terraform"
    spec = importlib.util.find_spec(name)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    function: Callable[[str, str, str], Any] = module.find_brackets_pairs
    assert function is not checkov_patches.find_brackets_pairs
    return function


@settings(deadline=None)  # the first example imports checkov
@given(
    text=st.text(alphabet=st.sampled_from(list("{}[]()ab$\"'.,: ")), max_size=80),
    pair=st.sampled_from(BRACKETS),
)
@example(text="${merge({a = [1, [2]]}, {b = {}})}", pair=("{", "}"))
@example(text="]]{x}}}{{", pair=("{", "}"))
@example(text="[[[]]]", pair=("[", "]"))
def test_find_brackets_pairs_is_checkovs(text: str, pair: tuple[str, str]) -> None:
    assert checkov_patches.find_brackets_pairs(text, *pair) == checkovs_find_brackets_pairs()(text, *pair)


@pytest.mark.parametrize("text", ["", "no brackets", "{}", "{a}", "{{a}}", "}{", "{a}{b}", "a[0][1]"])
def test_find_brackets_pairs_examples(text: str) -> None:
    for pair in BRACKETS:
        assert checkov_patches.find_brackets_pairs(text, *pair) == checkovs_find_brackets_pairs()(text, *pair)
