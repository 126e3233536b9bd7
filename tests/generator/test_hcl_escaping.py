"""Strings and numbers are written for HCL's own grammar, and Terraform core reads back exactly the value.

Regression (issue #12): strings were escaped with ``json.dumps``, so a ``\\b`` or ``\\f`` in
``certificate_arn``, ``model_uri``, ``profile`` or ``alert_email`` produced an escape HCL does not
have (Terraform: "Invalid escape sequence"); ``monthly_usd: .inf`` rendered as ``inf``; and
``target.value: 1e-300`` made generate fail with "does not parse".
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from mlfargate.errors import SpecErrors
from mlfargate.generate.hcl import hcl_string, number
from mlfargate.generate.model import Options, RenderError
from mlfargate.generate.workspace import check_rendered, generate
from mlfargate.spec import rules
from mlfargate.spec.model import from_data
from mlfargate.terraform import config_check as tfcore
from mlfargate.terraform import engine as engine_mod
from mlfargate.terraform import operations as tfops

REPO = Path(__file__).resolve().parents[2]
BASE: dict[str, Any] = yaml.safe_load((REPO / "examples" / "gpu-ec2-spot-schedules.yaml").read_text())

#: Every C0 and C1 control character, DEL, the characters HCL escapes, the template sequences, and
#: characters that move text around in a terminal or an editor.
HOSTILE: list[str] = [
    *(chr(c) for c in range(0x20)),
    *(chr(c) for c in range(0x7F, 0xA0)),
    '"',
    "\\",
    "${x}",
    "%{x}",
    "$${",
    "%%{",
    "$",
    "%",
    "\u2028",
    "\u2029",
    "\u202e",
    "\ufeff",
    "\U000f0000",
]


@pytest.mark.slow
def test_hcl_strings_and_numbers_round_trip_through_terraform_core(tmp_path: Path) -> None:
    """Each value, written by the generator's serializer as an output of a provider-free root, is
    planned by real Terraform core; the plan's output values must be exactly the originals."""
    strings = {f"s{i}": text for i, text in enumerate(HOSTILE)}
    strings["all"] = "".join(HOSTILE)
    strings["trailing_backslash"] = "a\\"
    strings["template_if"] = "%{ if true }x%{ endif }"
    numbers = {
        f"n{i}": v for i, v in enumerate([2.0**-359, 2.0**359, 0.1, 1e-5, 1 / 3, 123456.789, 60.0, 1e20, 7])
    }
    text = "".join(f'output "{k}" {{\n  value = {hcl_string(v)}\n}}\n' for k, v in strings.items())
    text += "".join(f'output "{k}" {{\n  value = {number(v)}\n}}\n' for k, v in numbers.items())
    check_rendered({"main.tf": text})  # the generator's own parse check accepts it
    (tmp_path / "main.tf").write_text(text, encoding="utf-8")
    embedded = engine_mod.select("embedded")
    tfops.init(embedded, tmp_path)
    plan = json.loads(tfops.plan(embedded, tmp_path).plan_json.read_text())
    after = {name: change["after"] for name, change in plan["output_changes"].items()}
    for name, value in strings.items():
        assert after[name] == value, (name, value)
    for name, value in numbers.items():
        assert float(after[name]) == value, (name, value, after[name])


def test_numbers_are_plain_decimals_and_non_finite_ones_are_refused() -> None:
    assert number(1e-5) == "0.00001" and number(60.0) == "60" and number(1e20) == "100000000000000000000"
    assert "e" not in number(2.0**-359).lower()
    for bad in (float("inf"), float("-inf"), float("nan")):
        with pytest.raises(RenderError, match="not a finite number"):
            number(bad)


#: Where a hostile character can sit in each string field of the spec while the rest stays valid.
FIELDS: dict[str, tuple[tuple[str | int, ...], str]] = {
    "name": (("name",), "a{}b"),
    "environment": (("environment",), "a{}b"),
    "aws.region": (("aws", "region"), "us-east-{}1"),
    "aws.profile": (("aws", "profile"), "ml{}deploy"),
    "aws.account_id": (("aws", "account_id"), "12345678901{}2"),
    "network.vpc_cidr": (("network", "vpc_cidr"), "10.20.0.0/16{}"),
    "service.image": (("service", "image"), "sentiment:{}1"),
    "service.health_check_path": (("service", "health_check_path"), "/re{}ady"),
    "service.model_uri": (("service", "model_uri"), "s3://acme-models/senti{}ment/v3/"),
    "service.certificate_arn": (
        ("service", "certificate_arn"),
        "arn:aws:acm:us-east-1:123456789012:certificate/ab{}c",
    ),
    "compute.instance_types": (("compute", "instance_types", 0), "g5.x{}large"),
    "scaling.schedules.name": (("scaling", "schedules", 0, "name"), "ni{}ght"),
    "scaling.schedules.cron": (("scaling", "schedules", 0, "cron"), "cron(0 22 * * ? *{})"),
    "scaling.schedules.timezone": (("scaling", "schedules", 0, "timezone"), "America/New{}_York"),
    "budget.alert_email": (("budget", "alert_email"), "o{}ps@exam{}ple.com"),
}


def _spec_with(path: tuple[str | int, ...], value: str) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    node: Any = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return data


def _valid(data: dict[str, Any]) -> bool:
    try:
        return rules.check(from_data(data)) == []
    except SpecErrors:
        return False


@pytest.mark.slow
@pytest.mark.parametrize("field", sorted(FIELDS))
def test_every_string_field_with_every_hostile_character(field: str, tmp_path: Path) -> None:
    """Whatever hostile characters a field's rules let through are generated into a workspace that
    Terraform core parses; a field whose rules let none through has nothing to escape."""
    path, template = FIELDS[field]
    accepted = [h for h in HOSTILE if _valid(_spec_with(path, template.format(*[h] * template.count("{}"))))]
    if not accepted:
        return  # its pattern or rule refuses every one of them: nothing hostile reaches HCL
    value = template.format(*["".join(accepted)] * template.count("{}"))
    data = _spec_with(path, value)
    assert _valid(data), f"{field}: {accepted!r} are accepted one by one but not together"
    spec_file = tmp_path / "spec.yaml"
    spec_file.write_text(yaml.safe_dump(data, allow_unicode=False), encoding="utf-8")
    result = generate(spec_file, tmp_path / "ws", Options())
    assert result.written
    errors = [d for d in tfcore.parse_module(tmp_path / "ws") if d.severity == "error"]
    assert errors == [], errors


def test_the_reported_fields_accept_the_reported_characters() -> None:
    """The report's \\b and \\f in certificate_arn, model_uri, profile and alert_email validate (so the
    test above renders them), and the old json.dumps escaping would have written \\b / \\f."""
    for field in ("service.certificate_arn", "service.model_uri", "aws.profile", "budget.alert_email"):
        path, template = FIELDS[field]
        chars = [
            c for c in ("\b", "\f") if _valid(_spec_with(path, template.format(*[c] * template.count("{}"))))
        ]
        assert chars, field  # (alert_email refuses \f: it is whitespace; \b gets through)
    assert hcl_string("x\by\fz") == '"x\\u0008y\\u000cz"'
