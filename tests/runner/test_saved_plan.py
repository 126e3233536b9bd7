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


# ---------------------------------------------------------------- a damaged saved plan, in-process
# (tests/runner/test_state_files.py drives the CLI on the same damage; these pin each message where
# `make mutation` sees them.)

FP = "0" * 64


def _damaged(tmp_path: Path, meta: object | bytes, plan_json: object | bytes = None) -> Path:
    ws = ws_with(tmp_path, {"main.tf": 'resource "terraform_data" "a" {}\n'})
    save_plan(ws)
    _, json_file, meta_file = state.saved_plan_paths(ws)
    if meta is not None:
        meta_file.write_bytes(meta if isinstance(meta, bytes) else json.dumps(meta).encode())
    if plan_json is not None:
        json_file.write_bytes(plan_json if isinstance(plan_json, bytes) else json.dumps(plan_json).encode())
    return ws


def _good(ws: Path, **meta: object) -> dict[str, object]:
    return {"fingerprint": state.fingerprint(ws), "destroy": False, "created": 1.5, **meta}


@pytest.mark.parametrize(
    ("meta", "why"),
    [
        ([], "plan.meta.json holds a list, not an object"),
        ("x", "plan.meta.json holds a string, not an object"),
        (3, "plan.meta.json holds a number, not an object"),
        (2.5, "plan.meta.json holds a number, not an object"),
        (True, "plan.meta.json holds a boolean, not an object"),
        (b"null", "plan.meta.json holds null, not an object"),
        ({"destroy": False, "created": 1}, "plan.meta.json has no 'fingerprint'"),
        ({"fingerprint": FP, "created": 1}, "plan.meta.json has no 'destroy'"),
        ({"fingerprint": FP, "destroy": False}, "plan.meta.json has no 'created'"),
        (
            {"fingerprint": "abc", "destroy": False, "created": 1},
            "plan.meta.json 'fingerprint' is \"abc\", not a SHA-256 hex digest",
        ),
        (
            {"fingerprint": "A" * 64, "destroy": False, "created": 1},
            f"plan.meta.json 'fingerprint' is \"{'A' * 64}\", not a SHA-256 hex digest",
        ),
        (
            {"fingerprint": 5, "destroy": False, "created": 1},
            "plan.meta.json 'fingerprint' is 5, not a SHA-256 hex digest",
        ),
        (
            {"fingerprint": FP, "destroy": "false", "created": 1},
            "plan.meta.json 'destroy' is \"false\", not true or false",
        ),
        ({"fingerprint": FP, "destroy": 0, "created": 1}, "plan.meta.json 'destroy' is 0, not true or false"),
        (
            {"fingerprint": FP, "destroy": "é", "created": 1},
            "plan.meta.json 'destroy' is \"\\u00e9\", not true or false",
        ),
        (
            {"fingerprint": FP, "destroy": "x" * 200, "created": 1},
            f"plan.meta.json 'destroy' is \"{'x' * 78}…, not true or false",
        ),
        (
            {"fingerprint": FP, "destroy": "x" * 78, "created": 1},
            f"plan.meta.json 'destroy' is \"{'x' * 78}\", not true or false",  # 80 characters: shown whole
        ),
        (
            {"fingerprint": FP, "destroy": False, "created": True},
            "plan.meta.json 'created' is true, not a time in seconds",
        ),
        (
            {"fingerprint": FP, "destroy": False, "created": "1"},
            "plan.meta.json 'created' is \"1\", not a time in seconds",
        ),
        (
            b'{"fingerprint": "' + FP.encode() + b'", "destroy": false, "created": NaN}',
            "plan.meta.json 'created' is NaN, not a time in seconds",
        ),
        (b"\xff\xfe", "plan.meta.json is not UTF-8 text"),
        (b"{", "plan.meta.json is not JSON (Expecting property name enclosed in double quotes at line 1)"),
        (b"{}\n\n[", "plan.meta.json is not JSON (Extra data at line 3)"),
        (b"[" * 100_000, "plan.meta.json is nested too deeply"),
        (
            b"["
            + b"9" * 5000
            + b"]",  # a ValueError of Python's own (the int-size limit), not a JSONDecodeError
            "plan.meta.json is not JSON (Exceeds the limit (4300 digits) for integer string conversion: value "
            "has 5000 digits; use sys.set_int_max_str_digits() to increase the limit)",
        ),
        (
            {"fingerprint": FP, "destroy": "x" * 79, "created": 1},
            f"plan.meta.json 'destroy' is \"{'x' * 78}…, not true or false",  # 81 characters: cut to 80
        ),
    ],
)
def test_a_damaged_meta_file_is_one_line_saying_what_is_wrong(tmp_path: Path, meta: object, why: str) -> None:
    ws = _damaged(tmp_path, meta)
    with pytest.raises(state.PlanRequiredError) as refused:
        state.load_saved_plan(ws)
    assert str(refused.value) == f"saved plan is unusable: {why}; run `mlfargate plan {ws}` again"


@pytest.mark.parametrize(
    ("shown", "why"),
    [
        ([], "plan.json holds a list, not Terraform's plan object"),
        ({"resource_changes": {}}, "plan.json resource_changes are not Terraform's change objects"),
        ({"resource_changes": [1]}, "plan.json resource_changes are not Terraform's change objects"),
        (b"{", "plan.json is not JSON (Expecting property name enclosed in double quotes at line 1)"),
    ],
)
def test_a_damaged_plan_json_is_one_line_saying_what_is_wrong(
    tmp_path: Path, shown: object, why: str
) -> None:
    ws = _damaged(tmp_path, None, shown)
    with pytest.raises(state.PlanRequiredError) as refused:
        state.load_saved_plan(ws)
    assert str(refused.value) == f"saved plan is unusable: {why}; run `mlfargate plan {ws}` again"


def test_a_whole_saved_plan_loads_with_its_values(tmp_path: Path) -> None:
    ws = _damaged(tmp_path, None, {"resource_changes": [{"address": "terraform_data.a"}]})
    _, _, meta_file = state.saved_plan_paths(ws)
    meta_file.write_text(json.dumps(_good(ws, destroy=True, created=7)))
    saved = state.load_saved_plan(ws)
    assert (saved.destroy, saved.created, saved.fingerprint) == (True, 7.0, state.fingerprint(ws))
    assert isinstance(saved.created, float)
    (ws / "main.tf").write_text('resource "terraform_data" "b" {}\n')
    with pytest.raises(state.PlanRequiredError) as stale:
        state.load_saved_plan(ws)
    assert str(stale.value) == (
        f"{ws}: the configuration changed since the saved plan; run `mlfargate plan {ws}` again"
    )


def _unreadable(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """Reading a file called ``name`` fails as a file without read permission does (root reads any)."""
    real = Path.read_bytes

    def refuse(path: Path) -> bytes:
        if path.name == name:
            raise PermissionError(13, "Permission denied")
        return real(path)

    monkeypatch.setattr(Path, "read_bytes", refuse)


def test_an_unreadable_meta_file_says_why(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = _damaged(tmp_path, None)
    _unreadable(monkeypatch, state.PLAN_META)
    with pytest.raises(state.PlanRequiredError) as refused:
        state.load_saved_plan(ws)
    assert str(refused.value) == (
        f"saved plan is unusable: cannot read plan.meta.json (Permission denied); run `mlfargate plan {ws}` again"
    )


def test_state_files_that_cannot_be_written_or_removed_say_where_and_why(tmp_path: Path) -> None:
    """Real file-system refusals (a directory where a file goes, a file where the directory goes)."""
    ws = ws_with(tmp_path, {"main.tf": ""})
    (ws / state.STATE_DIR).write_text("")  # a file where .mlfargate/ goes
    with pytest.raises(state.StateWriteError) as refused:
        state.make_state_dir(ws)
    assert str(refused.value) == (
        f"{ws}: cannot create {state.STATE_DIR}/ for the saved plan (File exists); make the workspace "
        "writable and run `mlfargate plan` again"
    )
    (ws / state.STATE_DIR).unlink()
    state.make_state_dir(ws)
    state.make_state_dir(ws)  # already there: fine
    plan_file, _, _ = state.saved_plan_paths(ws)
    plan_file.mkdir()  # a directory where the plan file goes
    with pytest.raises(state.StateWriteError) as refused:
        state.write_state_file(plan_file, "x")
    assert str(refused.value) == (
        f"{plan_file.parent}: cannot write the saved plan's {plan_file.name} (Is a directory); make "
        f"{state.STATE_DIR}/ writable and run `mlfargate plan` again"
    )
    with pytest.raises(state.StateWriteError) as refused:
        state.discard_saved_plan(ws)
    assert str(refused.value).startswith(
        f"{plan_file.parent}: cannot remove the saved plan's {plan_file.name} (Is a directory); make "
        f"{state.STATE_DIR}/ writable, or remove it, and run `mlfargate plan` again"
    )
    plan_file.rmdir()
    state.write_state_file(plan_file, "x")
    assert plan_file.read_text(encoding="utf-8") == "x"
    (ws / state.STATE_DIR / "notes.txt").write_text("mine")
    state.discard_saved_plan(ws)  # the plan goes; .mlfargate/ stays: it holds something not ours
    assert sorted(p.name for p in (ws / state.STATE_DIR).iterdir()) == ["notes.txt"]
    (ws / state.STATE_DIR / "notes.txt").unlink()
    state.discard_saved_plan(ws)
    assert not (ws / state.STATE_DIR).exists()


def test_a_cdk_terrain_stacks_fingerprint_covers_its_spec_copy_and_cdktf_json(tmp_path: Path) -> None:
    root = tmp_path / "svc-cdk"
    stack = root / "cdktf.out" / "stacks" / "svc"
    stack.mkdir(parents=True)
    (stack / "cdk.tf.json").write_text("{}")
    base = state.fingerprint(stack)
    (root / "cdktf.json").write_text("{}")
    with_app = state.fingerprint(stack)
    (root / "mlfargate.yaml").write_text("name: a\n")
    with_spec = state.fingerprint(stack)
    (root / "mlfargate.yaml").write_text("name: b\n")
    assert len({base, with_app, with_spec, state.fingerprint(stack)}) == 4
    # Only a stack under cdktf.out/stacks/ has those inputs: a directory merely named like one does not.
    other = tmp_path / "x" / "stacks" / "svc"
    other.mkdir(parents=True)
    (other / "cdk.tf.json").write_text("{}")
    (tmp_path / "mlfargate.yaml").write_text("name: a\n")
    before = state.fingerprint(other)
    (tmp_path / "mlfargate.yaml").write_text("name: c\n")
    (tmp_path / "x" / "mlfargate.yaml").write_text("name: c\n")
    assert state.fingerprint(other) == before


def test_an_unreadable_configuration_file_is_named_with_the_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = ws_with(tmp_path, {"main.tf": ""})
    _unreadable(monkeypatch, "main.tf")
    with pytest.raises(state.ConfigReadError) as refused:
        state.fingerprint(ws)
    assert str(refused.value) == (
        f"{ws / 'main.tf'}: cannot read it (Permission denied); Terraform and the saved plan's fingerprint "
        "read every configuration file: make it readable"
    )


def test_state_files_are_written_as_utf_8_whatever_the_locale(tmp_path: Path) -> None:
    import locale

    target = tmp_path / "plan.meta.json"
    saved = locale.setlocale(locale.LC_CTYPE)
    locale.setlocale(locale.LC_CTYPE, "C")  # Python's default text encoding is now ASCII
    try:
        state.write_state_file(target, '{"note": "é"}')
    finally:
        locale.setlocale(locale.LC_CTYPE, saved)
    assert target.read_bytes() == '{"note": "é"}'.encode()
