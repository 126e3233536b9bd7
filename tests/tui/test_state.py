"""The wizard state without a terminal: the draft as plain data, its key paths, what the core says
about it per step, saving (atomic, comments kept while nothing changed) and reopening."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from mlfargate.cost import estimate as cost
from mlfargate.cost import price_book
from mlfargate.errors import InputFileError, MlfargateError
from mlfargate.spec import rules
from mlfargate.spec.model import example_text, from_data
from tests.tui.conftest import EXAMPLES
from tui import state as st
from tui.state import WizardState


def test_paths_get_put_delete() -> None:
    data: dict[str, object] = {"scaling": {"schedules": [{"name": "a"}]}}
    assert st.parse_path("scaling.schedules[0].cron") == ["scaling", "schedules", 0, "cron"]
    st.put(data, "scaling.schedules[0].cron", "cron(0 7 ? * MON-FRI *)")
    st.put(data, "budget.monthly_usd", 10)
    assert st.get(data, "scaling.schedules[0].cron") == "cron(0 7 ? * MON-FRI *)"
    assert st.get(data, "scaling.schedules[3].cron") is None and st.get(data, "nope.x") is None
    st.delete(data, "budget.monthly_usd")
    assert "budget" not in data  # an emptied section goes too: `budget: {}` is not a budget
    st.delete(data, "scaling.schedules[0].name")
    assert data == {"scaling": {"schedules": [{"cron": "cron(0 7 ? * MON-FRI *)"}]}}
    st.delete(data, "not.there[2]")


def test_convert_keeps_what_is_not_a_number_for_the_core_to_name() -> None:
    assert st.convert("int", " 42 ") == 42
    assert st.convert("int", "4x") == "4x"
    assert st.convert("number", "60") == 60 and st.convert("number", "0.5") == 0.5
    assert st.convert("list", "subnet-a, subnet-b subnet-c") == ["subnet-a", "subnet-b", "subnet-c"]
    assert st.convert("text", "  ") is None
    assert st.show(["a", "b"]) == "a, b" and st.show(60.0) == "60" and st.show(None) == ""


def test_every_error_belongs_to_one_step_by_its_key() -> None:
    assert st.owner("compute.instance_types[1]") == "model"
    assert st.owner("service.certificate_arn") == "model"
    assert st.owner("scaling.schedules[0].cron") == "scaling"
    assert st.owner("name") == "account" and st.owner("aws.region") == "account"
    assert st.owner("network") == "network"
    assert st.owner("budget.alert_email") == "spot"
    # keys no step edits (and keys later versions add) land in the review step
    assert st.owner("(top level)") == "review" and st.owner("version") == "review"
    assert st.owner("exposure.public") == "review"


def test_a_new_spec_starts_from_the_example(tmp_path: Path) -> None:
    state = WizardState.open(tmp_path / "mlfargate.yaml")
    assert state.is_new and state.dirty
    assert state.data == yaml.safe_load(example_text())
    assert state.text() == example_text()  # comments and all, while nothing changed
    analysis = state.analysis()
    assert analysis.ok and analysis.errors == ()
    # the estimate is the CLI's, to the cent
    spec = from_data(state.data)
    expected = cost.estimate(spec, price_book.load(spec.aws.region))
    assert analysis.estimate is not None
    assert analysis.estimate.monthly_floor == expected.monthly_floor
    assert analysis.estimate.monthly_ceiling == expected.monthly_ceiling


def test_errors_are_the_cores_filtered_per_step(tmp_path: Path) -> None:
    state = WizardState.open(tmp_path / "x.yaml")
    state.set_text("network.vpc_cidr", "text", "10.0.0.0/26")
    state.set_text("scaling.min_tasks", "int", "9")
    analysis = state.analysis()
    expected = rules.check(from_data(state.data))
    assert list(analysis.errors) == expected  # the same results, not a copy of the rules
    assert [e.path for e in analysis.errors_for("network")] == ["network.vpc_cidr"]
    assert [e.path for e in analysis.errors_for("scaling")] == ["scaling.min_tasks"]
    assert analysis.errors_for("account") == []
    assert analysis.estimate is None and analysis.cost_problem == "2 spec error(s) to fix first"
    assert analysis.bad_steps() == ["Network", "Scaling"]


def test_a_shape_error_is_reported_like_validate(tmp_path: Path) -> None:
    state = WizardState.open(tmp_path / "x.yaml")
    state.set_text("spot.spot_percentage", "int", "150")
    state.set_text("name", "text", "")
    paths = {e.path: e.message for e in state.analysis().errors}
    assert set(paths) == {"name", "spot.spot_percentage"}
    assert paths["name"] == "required key is missing"
    assert "out of range; allowed: a whole number from 0 to 100" in paths["spot.spot_percentage"]


def test_save_is_atomic_and_says_how_many_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "spec.yaml"
    state = WizardState.open(target)
    saved = state.save()
    assert saved.errors == 0 and target.read_text() == example_text() and not state.dirty
    state.set_text("scaling.max_tasks", "int", "0")
    assert state.dirty
    before = target.read_text()

    def broken_replace(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(MlfargateError, match="cannot write it \\(No space left on device\\)"):
        state.save()
    assert target.read_text() == before  # the old file is whole
    assert [p.name for p in tmp_path.iterdir()] == ["spec.yaml"]  # no temp file left behind
    monkeypatch.undo()
    saved = state.save()
    assert saved.errors >= 1  # saved anyway, and the caller is told it is not valid yet
    reopened = WizardState.open(target)
    assert reopened.data == state.data and not reopened.is_new and not reopened.dirty


def test_an_unparseable_file_opens_and_is_never_overwritten(tmp_path: Path) -> None:
    target = tmp_path / "spec.yaml"
    target.write_text("name: [unclosed\n")
    state = WizardState.open(target)
    assert state.load_problem is not None and "invalid YAML at line" in state.load_problem
    assert [e.path for e in state.analysis().errors] == ["(top level)"]
    with pytest.raises(MlfargateError, match="not saved"):
        state.save()
    assert target.read_text() == "name: [unclosed\n"
    with pytest.raises(InputFileError, match="the YAML: invalid YAML"):
        state.apply_yaml("a: [")
    state.apply_yaml(example_text())
    assert state.load_problem is None and state.analysis().ok
    state.save()
    assert target.read_text() == example_text()


def test_a_directory_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="is a directory"):
        WizardState.open(tmp_path)


def test_workspace_default_and_regenerating_in_place(tmp_path: Path) -> None:
    state = WizardState.open(tmp_path / "mlfargate.yaml")
    assert state.workspace == tmp_path / "workspaces" / "sentiment-prod"
    state.set_text("environment", "text", "dev")
    assert state.workspace == tmp_path / "workspaces" / "sentiment-dev"
    (tmp_path / ".mlfargate-manifest.json").write_text("{}")
    assert state.workspace == tmp_path  # the spec is a workspace's copy: regenerate it in place
    state.workspace_choice = tmp_path / "elsewhere"
    assert state.workspace == tmp_path / "elsewhere"


def test_defaults_come_from_the_model() -> None:
    assert st.default_for("compute.architecture") == "x86_64"
    assert st.default_for("service.container_port") == 8080
    assert st.default_for("scaling.target.metric") == "cpu"
    assert st.default_for("name") is None and st.default_for("scaling.schedules[0].timezone") is None


def test_apply_yaml_replaces_the_draft_and_keeps_its_text(tmp_path: Path) -> None:
    state = WizardState.open(tmp_path / "x.yaml")
    text = (EXAMPLES / "cpu-fargate-spot.yaml").read_text()
    state.apply_yaml(text)
    assert state.text() == text and state.analysis().ok
    before = state.revision
    state.set_text("spot.spot_percentage", "int", "10")
    assert state.revision > before
    assert "# " not in state.text()  # a changed draft is dumped as data
    assert yaml.safe_load(state.text())["spot"]["spot_percentage"] == 10


def test_a_cleared_and_retyped_key_is_saved_in_its_place(tmp_path: Path) -> None:
    state = WizardState.open(tmp_path / "x.yaml")
    state.set_text("name", "text", "")  # the operator clears the field ...
    state.set_text("name", "text", "churn")  # ... and types again: the key is re-added last
    assert list(state.data)[-1] == "name"
    text = state.text()
    assert text.splitlines()[:2] == ["version: 1", "name: churn"]  # saved where the spec has it
    assert "aws:\n  region: us-east-1\n" in text  # block style, like the example
    assert yaml.safe_load(text) == state.data
