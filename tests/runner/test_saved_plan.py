"""The saved plan and its fingerprint (mlfargate/terraform/state.py), without running Terraform: which
files the fingerprint covers, when a saved plan counts as current, and what discarding it removes.

``apply`` trusts a saved plan only while the fingerprint recorded beside it matches the configuration;
a fingerprint that misses a file Terraform reads would let a plan made from other code be applied.
tests/runner/test_runner.py runs the same checks through a real ``terraform plan``; here the plan
files are opaque bytes (state.py never reads ``tfplan``), written the way ``operations.plan`` writes
its meta file, so every rule is checked in milliseconds.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from mlfargate.terraform import state


def ws_with(tmp_path: Path, files: dict[str, str], name: str = "svc") -> Path:
    ws = tmp_path / name
    for rel, text in files.items():
        (ws / rel).parent.mkdir(parents=True, exist_ok=True)
        (ws / rel).write_text(text)
    ws.mkdir(exist_ok=True)
    return ws


def save_plan(ws: Path, *, destroy: bool = False, created: float = 1700000000.5) -> None:
    """What ``operations.plan`` leaves: the plan file, its JSON, and the meta file written last."""
    plan_file, plan_json, meta = state.saved_plan_paths(ws)
    plan_file.parent.mkdir(exist_ok=True)
    plan_file.write_bytes(b"PK\x03\x04 opaque")
    plan_json.write_text("{}")
    meta.write_text(
        json.dumps({"fingerprint": state.fingerprint(ws), "destroy": destroy, "created": created})
    )


def install_modules(ws: Path, modules: list[dict[str, object]], data_dir: str = ".terraform") -> None:
    manifest = ws / data_dir / "modules" / "modules.json"
    manifest.parent.mkdir(parents=True, exist_ok=True)
    manifest.write_text(json.dumps({"Modules": modules}))


# ---------------------------------------------------------------- the fingerprint


@pytest.mark.parametrize(
    "rel",
    [
        "main.tf",
        "stack.tf.json",
        "prod.tfvars",
        "prod.tfvars.json",
        "nested/dir/extra.tf",
        ".terraform.lock.hcl",
    ],
)
def test_every_configuration_file_is_in_the_fingerprint(tmp_path: Path, rel: str) -> None:
    # Nested directories too: local modules (./modules/x) live there, before and after init.
    ws = ws_with(tmp_path, {"main.tf": "# a\n", rel: "# v1\n"})
    before = state.fingerprint(ws)
    (ws / rel).write_text("# v2\n")
    assert state.fingerprint(ws) != before, f"editing {rel} must invalidate the saved plan"


def test_a_new_or_removed_configuration_file_changes_the_fingerprint(tmp_path: Path) -> None:
    ws = ws_with(tmp_path, {"main.tf": "# a\n"})
    before = state.fingerprint(ws)
    (ws / "more.tf").write_text("")  # even an empty file: Terraform reads it
    added = state.fingerprint(ws)
    assert added != before
    (ws / "more.tf").unlink()
    assert state.fingerprint(ws) == before


def test_renaming_a_file_changes_the_fingerprint(tmp_path: Path) -> None:
    ws = ws_with(tmp_path, {"main.tf": "# a\n", "b.tf": "# b\n"})
    before = state.fingerprint(ws)
    (ws / "b.tf").rename(ws / "c.tf")
    assert state.fingerprint(ws) != before


def test_moving_content_between_files_changes_the_fingerprint(tmp_path: Path) -> None:
    # "ab" + "" and "a" + "b" must not hash alike: names and contents are delimited.
    one = ws_with(tmp_path, {"a.tf": "xy", "b.tf": ""}, "one")
    two = ws_with(tmp_path, {"a.tf": "x", "b.tf": "y"}, "two")
    assert state.fingerprint(one) != state.fingerprint(two)


def test_files_terraform_ignores_do_not_change_the_fingerprint(tmp_path: Path) -> None:
    ws = ws_with(tmp_path, {"main.tf": "# a\n"})
    before = state.fingerprint(ws)
    (ws / "README.md").write_text("notes")
    (ws / "main.tf.bak").write_text("old")
    (ws / ".hidden.tf").write_text("# editor swap")
    (ws / ".terraform" / "providers").mkdir(parents=True)
    (ws / ".terraform" / "providers" / "x.tf").write_text("# not ours")
    save_plan(ws)  # the saved plan itself lives in .mlfargate/
    assert state.fingerprint(ws) == before


def test_the_fingerprint_does_not_depend_on_where_the_workspace_is(tmp_path: Path) -> None:
    a = ws_with(tmp_path, {"main.tf": "# a\n", "sub/x.tf": "# x\n"}, "a")
    b = ws_with(tmp_path / "elsewhere", {"main.tf": "# a\n", "sub/x.tf": "# x\n"}, "b")
    assert state.fingerprint(a) == state.fingerprint(b)
    assert len(state.fingerprint(a)) == 64 and int(state.fingerprint(a), 16) >= 0  # sha256 hex


def test_local_module_files_are_in_the_fingerprint_remote_ones_are_not(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    (shared / "deeper").mkdir(parents=True)
    (shared / "main.tf").write_text("# module v1\n")
    (shared / "deeper" / "x.tf").write_text("# a nested module's own call installs it separately\n")
    ws = ws_with(tmp_path, {"main.tf": 'module "m" { source = "../shared" }\n'})
    remote = ws / ".terraform" / "modules" / "r"
    remote.mkdir(parents=True)
    (remote / "main.tf").write_text("# remote v1\n")
    install_modules(
        ws,
        [
            {"Key": "", "Dir": "."},
            {"Key": "m", "Dir": "../shared"},
            {"Key": "r", "Dir": ".terraform/modules/r"},
        ],
    )
    before = state.fingerprint(ws)
    (remote / "main.tf").write_text("# remote v2: pinned by its source, not by the fingerprint\n")
    (shared / "deeper" / "x.tf").write_text("# changed\n")
    assert state.fingerprint(ws) == before
    (shared / "main.tf").write_text("# module v2\n")
    assert state.fingerprint(ws) != before


# ---------------------------------------------------------------- installed modules


def test_installed_modules_are_keyed_by_call_path(tmp_path: Path) -> None:
    ws = ws_with(tmp_path, {"main.tf": ""})
    for d in ("a", "b"):
        (ws / ".terraform" / "modules" / d).mkdir(parents=True)
    install_modules(
        ws,
        [
            {"Key": "", "Source": "", "Dir": "."},  # the root: no key
            {"Key": "net", "Source": "git::/x", "Dir": ".terraform/modules/a"},
            {"Key": "net.sub", "Source": "git::/x", "Dir": ".terraform/modules/b"},
            {"Key": "gone", "Dir": ".terraform/modules/missing"},  # not on disk: skipped
            {"Key": "nodir"},
            "not a module",
        ],
    )
    assert state.installed_modules(ws) == {
        "net": (ws / ".terraform" / "modules" / "a").resolve(),
        "net.sub": (ws / ".terraform" / "modules" / "b").resolve(),
    }


@pytest.mark.parametrize(
    "manifest",
    [
        None,
        "{not json",
        '{"Modules": {"a": 1}}',
        '{"Modules": 5}',
        '{"Modules": null}',
        "[1, 2]",
        '{"Other": []}',
    ],
)
def test_no_or_unreadable_modules_json_means_no_modules(tmp_path: Path, manifest: str | None) -> None:
    ws = ws_with(tmp_path, {"main.tf": ""})
    if manifest is not None:
        path = ws / ".terraform" / "modules" / "modules.json"
        path.parent.mkdir(parents=True)
        path.write_text(manifest)
    assert state.installed_modules(ws) == {}


def test_tf_data_dir_is_honoured_relative_to_the_workspace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = ws_with(tmp_path, {"main.tf": ""})
    (ws / "tfdata" / "modules" / "a").mkdir(parents=True)
    install_modules(ws, [{"Key": "net", "Dir": "tfdata/modules/a"}], data_dir="tfdata")
    monkeypatch.delenv("TF_DATA_DIR", raising=False)
    assert state.terraform_data_dir(ws) == (ws / ".terraform").resolve()
    assert state.installed_modules(ws) == {}
    monkeypatch.setenv("TF_DATA_DIR", "tfdata")
    assert state.terraform_data_dir(ws) == (ws / "tfdata").resolve()
    assert state.installed_modules(ws) == {"net": (ws / "tfdata" / "modules" / "a").resolve()}
    monkeypatch.setenv("TF_DATA_DIR", "")  # empty: Terraform's default
    assert state.terraform_data_dir(ws) == (ws / ".terraform").resolve()


# ---------------------------------------------------------------- the saved plan


def test_a_current_saved_plan_is_loaded_with_absolute_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = ws_with(tmp_path, {"main.tf": "# a\n"})
    save_plan(ws, destroy=True, created=1700000000.5)
    monkeypatch.chdir(tmp_path)
    saved = state.load_saved_plan(Path("svc"))  # relative: Terraform runs with -chdir, so it must resolve
    assert saved.workspace == ws.resolve() and saved.workspace.is_absolute()
    assert saved.plan_file == ws.resolve() / ".mlfargate" / "tfplan"
    assert saved.plan_json == ws.resolve() / ".mlfargate" / "plan.json"
    assert saved.fingerprint == state.fingerprint(ws)
    assert saved.destroy is True and saved.created == 1700000000.5
    save_plan(ws)
    assert state.load_saved_plan(ws).destroy is False


def test_a_meta_file_without_destroy_is_refused(tmp_path: Path) -> None:
    """A metadata file that does not say whether it is a destroy plan is unusable (issue 12: its shape is
    validated; a missing key is never read as "apply")."""
    ws = ws_with(tmp_path, {"main.tf": "# a\n"})
    save_plan(ws)
    meta = state.saved_plan_paths(ws)[2]
    meta.write_text(json.dumps({"fingerprint": state.fingerprint(ws), "created": 5}))
    with pytest.raises(state.PlanRequiredError) as refused:
        state.load_saved_plan(ws)
    assert str(refused.value) == (
        f"saved plan is unusable: plan.meta.json has no 'destroy'; run `mlfargate plan {ws.resolve()}` again"
    )


@pytest.mark.parametrize("missing", [0, 1, 2])
def test_a_plan_missing_any_of_its_three_files_is_no_plan(tmp_path: Path, missing: int) -> None:
    ws = ws_with(tmp_path, {"main.tf": "# a\n"})
    save_plan(ws)
    state.saved_plan_paths(ws)[missing].unlink()
    with pytest.raises(state.PlanRequiredError) as refused:
        state.load_saved_plan(ws)
    assert str(refused.value) == f"{ws.resolve()}: no saved plan; run `mlfargate plan {ws.resolve()}` first"
    assert refused.value.exit_code == 2


def test_an_unreadable_meta_file_asks_for_a_new_plan(tmp_path: Path) -> None:
    ws = ws_with(tmp_path, {"main.tf": "# a\n"})
    save_plan(ws)
    meta = state.saved_plan_paths(ws)[2]
    meta.write_text("{half written")
    with pytest.raises(state.PlanRequiredError) as refused:
        state.load_saved_plan(ws)
    assert str(refused.value) == (
        "saved plan is unusable: plan.meta.json is not JSON (Expecting property name enclosed in double quotes "
        f"at line 1); run `mlfargate plan {ws.resolve()}` again"
    )


def test_a_plan_made_from_other_configuration_is_refused(tmp_path: Path) -> None:
    ws = ws_with(tmp_path, {"main.tf": "# a\n"})
    save_plan(ws)
    (ws / "main.tf").write_text("# b\n")
    with pytest.raises(state.PlanRequiredError) as refused:
        state.load_saved_plan(ws)
    assert str(refused.value) == (
        f"{ws.resolve()}: the configuration changed since the saved plan; run `mlfargate plan {ws.resolve()}` again"
    )
    (ws / "main.tf").write_text("# a\n")  # back as planned: current again
    assert state.load_saved_plan(ws).fingerprint == state.fingerprint(ws)


def test_discarding_removes_the_plan_and_its_directory(tmp_path: Path) -> None:
    ws = ws_with(tmp_path, {"main.tf": "# a\n"})
    save_plan(ws)
    state.discard_saved_plan(ws)
    assert not (ws / state.STATE_DIR).exists() and (ws / "main.tf").is_file()
    state.discard_saved_plan(ws)  # nothing there: no error


def test_discarding_keeps_what_is_not_the_plan(tmp_path: Path) -> None:
    ws = ws_with(tmp_path, {"main.tf": "# a\n"})
    save_plan(ws)
    keep = ws / state.STATE_DIR / "notes.txt"
    keep.write_text("the operator's")
    state.discard_saved_plan(ws)
    assert keep.read_text() == "the operator's"
    assert not any(p.exists() for p in state.saved_plan_paths(ws))


def test_paths_stay_inside_the_workspace_state_dir(tmp_path: Path) -> None:
    ws = tmp_path / "svc"
    assert state.saved_plan_paths(ws) == (
        ws / ".mlfargate" / "tfplan",
        ws / ".mlfargate" / "plan.json",
        ws / ".mlfargate" / "plan.meta.json",
    )
    assert os.path.commonpath([str(p) for p in state.saved_plan_paths(ws)]) == str(ws / ".mlfargate")
