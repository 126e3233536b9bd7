"""Every module call's arguments have the types and pass the validation rules the module declares,
evaluated by Terraform core (``tfcore.check_variable_values`` plans the module's variables.tf with
the values). Arguments that are references to other modules' outputs get a typed stand-in value,
since their real values only exist after apply."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mlfargate.generate import model as wsmodel
from mlfargate.generate import wiring
from mlfargate.spec.rules import load_valid
from mlfargate.terraform import config_check as tfcore
from tests.generator.conftest import ALL_SPECS, REPO, spec_id

pytestmark = pytest.mark.slow

#: Stand-ins for outputs whose shape matters to a validation rule.
_STAND_INS: dict[str, Any] = {
    "public_subnet_ids": ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0aaaaaaaaaaaaaaa2"],
    "private_subnet_ids": ["subnet-0bbbbbbbbbbbbbbb1", "subnet-0bbbbbbbbbbbbbbb2"],
    "cluster_capacity_provider_names": ["x-asg"],
    "capacity_provider_names": {"on_demand": "x-on-demand", "spot": "x-spot"},
    "resource_label": "app/x-alb/0123456789abcdef/targetgroup/x-tg/0123456789abcdef",
    "vpc_cidr": "10.0.0.0/16",
    "s3_prefix_list_id": "pl-63a5400a",
    "id": "pl-63a5400a",  # data.aws_prefix_list.s3.id (an existing VPC)
    "cidr_block": "10.0.0.0/16",
}


def _stand_in(expr: str) -> Any:
    output = expr.rsplit(".", 1)[-1]
    return _STAND_INS.get(output, f"stand-in-{expr.replace('.', '-')}")


def concrete(value: wsmodel.Value, pinned: bool = True) -> Any:
    """A value Terraform can check; the image pin (``image_digest`` set or still empty) takes ``pinned``."""
    if isinstance(value, wsmodel.Ref) and value.expr == 'var.image_digest != ""':
        return pinned
    if isinstance(value, wsmodel.Ref):
        return _stand_in(value.expr)
    if isinstance(value, wsmodel.Template):
        return "".join(p if isinstance(p, str) else str(_stand_in(p.expr)) for p in value.parts)
    if isinstance(value, wsmodel.Conditional):
        assert value.test.expr == 'var.image_digest == ""', value.test  # the one condition wired today
        return concrete(value.otherwise if pinned else value.then, pinned)
    if isinstance(value, list):
        return [concrete(v, pinned) for v in value]
    if isinstance(value, dict):
        return {k: concrete(v, pinned) for k, v in value.items()}
    return value


def _errors(module: str, inputs: dict[str, wsmodel.Value], pinned: bool = True) -> list[str]:
    values = {k: concrete(v, pinned) for k, v in inputs.items()}
    return [
        str(d)
        for d in tfcore.check_variable_values(REPO / "modules" / module, values)
        if d.severity == "error"
    ]


@pytest.mark.parametrize("spec_path", ALL_SPECS, ids=spec_id)
def test_module_inputs_pass_the_modules_variable_rules(spec_path: Path) -> None:
    """Both states of a first deployment: no image pinned yet (service held at 0 tasks) and pinned."""
    spec = load_valid(spec_path)
    problems = {
        (name, "pinned" if pinned else "held"): errs
        for pinned in (False, True)
        for name, module, inputs, _c in wiring.module_calls(spec)
        if (errs := _errors(module, inputs, pinned))
    }
    assert problems == {}


def test_a_wrong_value_is_caught() -> None:
    spec = load_valid(REPO / "environments/prod/mlfargate.yaml")
    calls = {name: (module, inputs) for name, module, inputs, _c in wiring.module_calls(spec)}
    module, inputs = calls["autoscaling"]
    schedules = [dict(s, schedule="cron(0 22 * * *)") for s in inputs["schedules"]]  # type: ignore[union-attr]
    assert any("six-field AWS cron" in e for e in _errors(module, {**inputs, "schedules": schedules}))  # type: ignore[dict-item]
    module, inputs = calls["ecs_service"]
    assert any("cpu" in e for e in _errors(module, {**inputs, "cpu": "lots"}))  # a type error
