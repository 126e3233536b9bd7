"""Loading, validating and dumping a spec round-trips; file errors are one line with a position."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from mlfargate.errors import InputFileError, SpecErrors
from mlfargate.spec import rules
from mlfargate.spec.model import dump, example_text, from_data, json_schema, load, to_data

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((REPO / "examples").glob("*.yaml"))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_examples_round_trip(path: Path) -> None:
    spec = load(path)
    again = from_data(yaml.safe_load(dump(spec)))
    assert again == spec
    assert to_data(again) == to_data(spec)


def test_issue_example_is_the_init_template_and_valid(tmp_path: Path) -> None:
    target = tmp_path / "mlfargate.yaml"
    target.write_text(example_text())
    spec = rules.load_valid(target)
    assert spec.compute.capacity == "ec2" and spec.compute.gpus == 1
    assert [s.name for s in spec.scaling.schedules] == ["night", "workday"]


def _model_default(path: list[str]) -> object:
    from pydantic import BaseModel

    from mlfargate.spec.model import Spec

    model: type[BaseModel] = Spec
    for key in path[:-1]:
        annotation = model.model_fields[key].annotation
        assert isinstance(annotation, type) and issubclass(annotation, BaseModel), path
        model = annotation
    return model.model_fields[path[-1]].get_default()


def test_the_init_example_agrees_with_the_defaults() -> None:
    """Regression (#16): the example set health_check_path: /health while the default (and the model
    server's readiness) is /ready, so a first deployment routed traffic before the model loaded. Every
    line whose comment says "(default)" holds the model's default; /ready is the check."""
    import re

    text = example_text()
    claimed: list[list[str]] = []
    stack: list[tuple[int, str]] = []
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].rstrip()
        match = re.match(r"^( *)([a-z_]+):(.*)$", line)
        if not match:
            continue
        indent, key, value = len(match[1]), match[2], match[3].strip()
        while stack and stack[-1][0] >= indent:
            stack.pop()
        stack.append((indent, key))
        if "(default)" in raw and value:
            claimed.append([k for _, k in stack])
    assert ["service", "health_check_path"] in claimed and ["service", "container_port"] in claimed
    spec = yaml.safe_load(text)
    for path in claimed:
        value: object = spec
        for key in path:
            assert isinstance(value, dict)
            value = value[key]
        assert value == _model_default(path), path
    assert spec["service"]["health_check_path"] == "/ready"
    assert "image" not in spec["service"], (
        "the first deployment pushes to the repository the workspace creates"
    )


def test_defaults_are_filled_but_not_dumped_when_unset() -> None:
    spec = load(REPO / "examples/cpu-fargate-spot.yaml")
    assert spec.service.health_check_path == "/ready"
    assert spec.compute.gpus == 0
    assert "gpus_per_task" not in to_data(spec)["compute"]


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match=r"nope\.yaml: no such file"):
        load(tmp_path / "nope.yaml")


def test_malformed_yaml_names_line_and_column(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nname: sentiment\naws: {region: us-east-1\n")
    with pytest.raises(InputFileError) as info:
        load(bad)
    assert "line 4, column 1" in str(info.value)
    assert "\n" not in str(info.value)


def test_non_mapping_document(tmp_path: Path) -> None:
    bad = tmp_path / "list.yaml"
    bad.write_text("- a\n- b\n")
    with pytest.raises(SpecErrors) as info:
        load(bad)
    assert info.value.lines() == ["spec error: (top level): the spec must be a mapping of keys to values"]


def test_shape_errors_have_key_paths() -> None:
    data: dict[str, Any] = yaml.safe_load((REPO / "examples/gpu-ec2-spot-schedules.yaml").read_text())
    data["compute"]["instance_types"] = ["g5.xlarge", 7]
    data["aws"]["account_id"] = "12345"
    data["scaling"]["schedules"][1]["min_tasks"] = -1
    with pytest.raises(SpecErrors) as info:
        from_data(data)
    paths = {e.path for e in info.value.errors}
    assert {"compute.instance_types[1]", "aws.account_id", "scaling.schedules[1].min_tasks"} <= paths


def test_json_schema_is_generated_from_the_model() -> None:
    schema = json_schema()
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) == {"name", "environment", "aws", "network", "compute"}
    compute = schema["$defs"]["Compute"]["properties"]
    assert compute["capacity"]["enum"] == ["fargate", "ec2", "managed_instances"]


names = st.from_regex(r"[a-z][a-z0-9-]{0,9}", fullmatch=True)
schedules = st.lists(
    st.fixed_dictionaries(
        {
            "name": st.from_regex(r"[a-z][a-z0-9]{0,8}", fullmatch=True),
            "cron": st.builds(
                lambda m, h, d: f"cron({m} {h} ? * {d} *)",
                st.integers(0, 59),
                st.integers(0, 23),
                st.sampled_from(["MON", "MON-FRI", "SAT,SUN", "*"]),
            ),
            "timezone": st.sampled_from(["UTC", "America/New_York", "Europe/Dublin", "Asia/Tokyo"]),
        },
        optional={"min_tasks": st.integers(0, 4), "max_tasks": st.integers(4, 20)},
    ),
    max_size=3,
    unique_by=lambda s: s["name"],
)


@settings(max_examples=60, deadline=None)
@given(
    name=names,
    env=st.from_regex(r"[a-z][a-z0-9]{0,5}", fullmatch=True),
    cpu_mem=st.sampled_from([(256, 512), (1024, 2048), (2048, 16384), (4096, 30720), (16384, 122880)]),
    spot=st.integers(0, 100),
    base=st.integers(0, 3),
    bounds=st.tuples(st.integers(0, 4), st.integers(4, 20)),
    sched=schedules,
)
def test_generated_valid_fargate_specs_round_trip(
    name: str,
    env: str,
    cpu_mem: tuple[int, int],
    spot: int,
    base: int,
    bounds: tuple[int, int],
    sched: list[dict[str, Any]],
) -> None:
    sched = [s for s in sched if "min_tasks" in s or "max_tasks" in s]
    data = {
        "version": 1,
        "name": name,
        "environment": env,
        "aws": {"region": "us-east-1"},
        "network": {"vpc_cidr": "10.0.0.0/16", "availability_zones": 2},
        "service": {"allow_plain_http": True},  # no certificate: plain HTTP is an explicit choice
        "compute": {"capacity": "fargate", "cpu": cpu_mem[0], "memory": cpu_mem[1]},
        "spot": {"on_demand_base": base, "spot_percentage": spot},
        "scaling": {"min_tasks": bounds[0], "max_tasks": bounds[1], "schedules": sched},
    }
    spec = from_data(data)
    assert rules.check(spec) == []
    assert from_data(yaml.safe_load(dump(spec))) == spec
