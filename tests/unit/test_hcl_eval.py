"""The offline evaluator of the modules' Terraform expressions (as hcl2 hands them over)."""

from __future__ import annotations

from typing import Any

import pytest

from mlfargate.generate.hcl_eval import UNKNOWN, EvalError, Scope, Unknown, evaluate

VARS: dict[str, Any] = {
    "name": "svc-dev",
    "nats": "single",
    "az": 3,
    "none": None,
    "list": ["b", "a", "b"],
    "pct": 70,
    "capacity": "managed_instances",
    "schedules": [{"name": "night", "min": 0}, {"name": "day", "min": 2}],
}


def lookup(root: str, name: str) -> Any:
    if root == "var":
        if name not in VARS:
            raise EvalError(f"no var {name}")
        return VARS[name]
    if root == "local":
        return {"managed": True, "azs": Unknown(3)}[name]
    if root == "data":
        return UNKNOWN
    if root == "aws_subnet":
        return Unknown(3)
    raise EvalError(f"cannot resolve {root}.{name}")


SCOPE = Scope(lookup)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("${var.none == None ? 1 : 0}", 1),  # hcl2 writes null as None
        ('${var.nats == "none" ? 0 : var.nats == "single" ? 1 : var.az}', 1),
        ("/ecs/${var.name}/exec-audit", "/ecs/svc-dev/exec-audit"),
        ("${toset(var.list)}", ["a", "b"]),
        ("${length(local.azs)}", 3),
        ("${length(aws_subnet.private[*].id)}", 3),
        ("${100 - var.pct}", 30),
        ('${var.pct > 0 && var.capacity != "fargate"}', True),
        ("${!(var.pct > 0)}", False),
        (
            "${{'fargate': 'FARGATE', 'managed_instances': 'MANAGED_INSTANCES'}[var.capacity]}",
            "MANAGED_INSTANCES",
        ),
        (
            "${local.managed ? merge({'on_demand': 'ON_DEMAND'},var.pct > 0 ? {'spot': 'SPOT'} : {}) : {}}",
            {"on_demand": "ON_DEMAND", "spot": "SPOT"},
        ),
        ("${{for s in var.schedules : s.name => s.min}}", {"night": 0, "day": 2}),
        ("${[for s in var.schedules : s.name if s.min > 0]}", ["day"]),
        ('${coalesce(var.none,"/ecs/${var.name}")}', "/ecs/svc-dev"),
        ('${try(var.missing, "fallback")}', "fallback"),
        ("${concat(['x'], var.list)}", ["x", "b", "a", "b"]),
        ("${slice(data.aws_availability_zones.available[0].names,0,var.az)}", Unknown(3)),
        ("${length(var.list) > 9 ? var.list : slice(data.x.names, 0, var.az)}", Unknown(3)),
        ("${max(1, var.az, 2)}", 3),
    ],
)
def test_expressions(text: str, expected: Any) -> None:
    assert evaluate(text, SCOPE) == expected


def test_known_condition_never_evaluates_the_untaken_branch() -> None:
    # The untaken branch references a variable that does not exist: it must not be looked at.
    assert evaluate("${var.none == None ? 1 : var.does_not_exist}", SCOPE) == 1


def test_unknowns_propagate_and_short_circuit() -> None:
    assert evaluate("${data.aws_region.current.region}", SCOPE) == UNKNOWN
    assert evaluate('${data.x.y == "a" ? 1 : 0}', SCOPE) == UNKNOWN
    assert evaluate("${false && data.x.y}", SCOPE) is False
    assert evaluate("${true || data.x.y}", SCOPE) is True
    assert evaluate("arn:${data.x.partition}:logs", SCOPE) == UNKNOWN


def test_nested_values_and_literals() -> None:
    assert evaluate([{"a": "${var.az}", "__start_line__": 1}, True, 3], SCOPE) == [{"a": 3}, True, 3]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("${cidrsubnet(var.name, 4, 1)}", r"cidrsubnet\(\) is not supported"),
        ("${var.nope}", "no var nope"),
        ("${var.list[7]}", "out of range"),
        ("${var.name ==}", "unexpected"),
    ],
)
def test_what_it_cannot_evaluate_is_an_error_not_a_guess(text: str, message: str) -> None:
    with pytest.raises(EvalError, match=message):
        evaluate(text, SCOPE)
