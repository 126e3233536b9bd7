"""Generating into a directory: atomic, diffs on regeneration, refuses to lose operators' edits."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import pytest

from mlfargate.cli import main
from mlfargate.errors import SpecErrors
from mlfargate.generate import hcl, sources, workspace
from mlfargate.generate import model as wsmodel
from mlfargate.generate.workspace import MANIFEST, Options, WorkspaceConflictError, WorkspaceError, generate
from tests.generator.conftest import REPO

DEV = REPO / "environments/dev/mlfargate.yaml"


def _spec(tmp_path: Path, text: str | None = None) -> Path:
    path = tmp_path / "spec.yaml"
    path.write_text(text if text is not None else DEV.read_text())
    return path


def test_new_workspace_with_manifest(tmp_path: Path) -> None:
    out = tmp_path / "ws"
    result = generate(_spec(tmp_path), out)
    assert result.written
    names = {p.name for p in out.iterdir()}
    # Outside the checkout: the modules the workspace calls are vendored into modules/.
    assert names == {*hcl.HCL_FILES, wsmodel.SPEC_COPY, wsmodel.GITIGNORE, MANIFEST, "modules"}
    manifest = json.loads((out / MANIFEST).read_text())
    vendored = {n for n in manifest["files"] if n.startswith("modules/")}
    assert set(manifest["files"]) - vendored == {*hcl.HCL_FILES, wsmodel.SPEC_COPY, wsmodel.GITIGNORE}
    assert {n.split("/")[1] for n in vendored} == set(manifest["modules"])
    assert manifest["files"]["main.tf"] == workspace.sha256((out / "main.tf").read_text())
    assert not list(tmp_path.glob(".ws.mlfargate-*")) and not (out / workspace.STAGE).exists()


def test_regenerate_unchanged_is_a_no_op(tmp_path: Path) -> None:
    spec, out = _spec(tmp_path), tmp_path / "ws"
    generate(spec, out)
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    result = generate(spec, out)
    assert not result.changed and not result.written
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == before


def test_regenerate_shows_a_unified_diff(tmp_path: Path) -> None:
    spec, out = _spec(tmp_path), tmp_path / "ws"
    generate(spec, out)
    spec.write_text(DEV.read_text().replace("max_tasks: 3", "max_tasks: 5"))
    result = generate(spec, out)
    changed = {c.path: c for c in result.changed}
    assert set(changed) == {"main.tf", wsmodel.SPEC_COPY}
    diff = changed["main.tf"].diff
    assert diff.startswith("--- a/main.tf\n+++ b/main.tf\n")
    assert "-  max_capacity  = 3\n" in diff and "+  max_capacity  = 5\n" in diff
    assert "= 5" in (out / "main.tf").read_text()


def test_refuses_to_overwrite_an_edited_file_unless_forced(tmp_path: Path) -> None:
    spec, out = _spec(tmp_path), tmp_path / "ws"
    generate(spec, out)
    edited = (out / "main.tf").read_text() + "\n# my hand edit\n"
    (out / "main.tf").write_text(edited)
    spec.write_text(DEV.read_text().replace("max_tasks: 3", "max_tasks: 5"))
    with pytest.raises(WorkspaceConflictError) as info:
        generate(spec, out)
    assert info.value.edited == ["main.tf"]
    # One file is "it", several are "them".
    assert f"{out}: main.tf changed since mlfargate generated it; review the diff" in str(info.value)
    assert "-# my hand edit" in {c.path: c for c in info.value.result.changes}["main.tf"].diff
    assert (out / "main.tf").read_text() == edited  # nothing was written
    result = generate(spec, out, Options(force=True))
    assert result.written and "# my hand edit" not in (out / "main.tf").read_text()
    # The manifest now vouches for the new files: the next run is clean again.
    assert not generate(spec, out).changed


def test_several_edited_files_are_them(tmp_path: Path) -> None:
    spec, out = _spec(tmp_path), tmp_path / "ws"
    generate(spec, out)
    for name in ("main.tf", "variables.tf"):
        (out / name).write_text((out / name).read_text() + "\n# my hand edit\n")
    spec.write_text(DEV.read_text().replace("max_tasks: 3", "max_tasks: 5"))
    with pytest.raises(WorkspaceConflictError) as info:
        generate(spec, out)
    assert "main.tf, variables.tf changed since mlfargate generated them;" in str(info.value)


def test_refuses_files_it_did_not_write(tmp_path: Path) -> None:
    out = tmp_path / "ws"
    out.mkdir()
    (out / "main.tf").write_text('module "mine" {\n  source = "./x"\n}\n')
    (out / "terraform.tfstate").write_text("{}")
    with pytest.raises(WorkspaceConflictError):
        generate(_spec(tmp_path), out)
    assert not (out / MANIFEST).exists()
    generate(_spec(tmp_path), out, Options(force=True))
    assert (out / "terraform.tfstate").read_text() == "{}"  # files it does not own are left alone


def test_invalid_spec_writes_nothing(tmp_path: Path) -> None:
    bad = _spec(
        tmp_path, DEV.read_text().replace("capacity: fargate", "capacity: fargate\n  gpus_per_task: 1")
    )
    with pytest.raises(SpecErrors):
        generate(bad, tmp_path / "ws")
    assert not (tmp_path / "ws").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["spec.yaml"]


def test_a_rendering_that_does_not_parse_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec, out = _spec(tmp_path), tmp_path / "ws"
    generate(spec, out)
    before = {p.name: p.read_text() for p in out.iterdir() if p.is_file()}
    real = hcl.render_hcl

    def broken(ws: wsmodel.WorkspacePlan) -> dict[str, str]:
        files = real(ws)
        files["main.tf"] = files["main.tf"].replace('module "network" {', 'module "network" {{', 1)
        return files

    monkeypatch.setattr(workspace, "render_hcl", broken)
    spec.write_text(DEV.read_text().replace("max_tasks: 3", "max_tasks: 5"))
    with pytest.raises(WorkspaceError, match=r"main\.tf does not parse"):
        generate(spec, out)
    assert {p.name: p.read_text() for p in out.iterdir() if p.is_file()} == before
    assert not list(tmp_path.glob(".ws.mlfargate-*"))


def test_spec_copy_is_the_input_when_regenerating_in_place(tmp_path: Path) -> None:
    out = tmp_path / "ws"
    generate(_spec(tmp_path), out)
    copy = out / wsmodel.SPEC_COPY
    copy.write_text(copy.read_text().replace("max_tasks: 3", "max_tasks: 4"))  # edit the spec in place
    result = generate(copy, out)  # not a conflict: the copy is the input
    assert result.written and "= 4" in (out / "main.tf").read_text()


def test_check_only_writes_nothing(tmp_path: Path) -> None:
    spec, out = _spec(tmp_path), tmp_path / "ws"
    generate(spec, out)
    spec.write_text(DEV.read_text().replace("max_tasks: 3", "max_tasks: 5"))
    result = generate(spec, out, Options(check_only=True))
    assert result.changed and not result.written
    assert "= 3" in (out / "main.tf").read_text()


def test_out_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "ws").write_text("")
    with pytest.raises(WorkspaceError, match="not a directory"):
        generate(_spec(tmp_path), tmp_path / "ws")


def test_a_parent_that_is_a_file_is_named(tmp_path: Path) -> None:
    blocker = tmp_path / "envs"
    blocker.write_text("")
    out = blocker / "prod" / "ws"
    with pytest.raises(WorkspaceError) as refused:
        generate(_spec(tmp_path), out)
    assert str(refused.value) == f"{out}: {blocker} is a file, not a directory; choose another --out"


def test_every_file_is_reported_with_its_status_and_generated_size(tmp_path: Path) -> None:
    spec, out = _spec(tmp_path), tmp_path / "ws"
    generate(spec, out)
    # A file an earlier --format cdktf generation wrote (recorded in the manifest) is removed now.
    (out / "cdktf.json").write_text('{"app": "x"}\n')
    manifest = json.loads((out / MANIFEST).read_text())
    manifest["files"]["cdktf.json"] = workspace.sha256('{"app": "x"}\n')
    (out / MANIFEST).write_text(json.dumps(manifest))
    changes = {c.path: c for c in generate(spec, out, Options(check_only=True)).changes}
    removed = changes.pop("cdktf.json")
    assert (removed.status, removed.edited, removed.size) == ("removed", False, 0)
    assert removed.diff == '--- a/cdktf.json\n+++ /dev/null\n@@ -1 +0,0 @@\n-{"app": "x"}\n'
    # The rest is unchanged: no diff, not edited, and the size of each file as generated.
    for name, change in changes.items():
        size = len((out / name).read_bytes())
        assert change == workspace.FileChange(name, "unchanged", False, "", size), name


def test_a_manifest_entry_for_a_file_gone_from_disk_is_skipped_not_the_end_of_the_comparison(
    tmp_path: Path,
) -> None:
    """The manifest lists cdktf.json (an earlier --format cdktf generation) but the operator deleted it:
    nothing to compare there, and every file after it (sorted) is still compared and written."""
    spec, out = _spec(tmp_path), tmp_path / "ws"
    generate(spec, out)
    manifest = json.loads((out / MANIFEST).read_text())
    manifest["files"]["cdktf.json"] = workspace.sha256("{}")
    (out / MANIFEST).write_text(json.dumps(manifest))
    spec.write_text(DEV.read_text().replace("max_tasks: 3", "max_tasks: 5"))
    result = generate(spec, out)
    assert "cdktf.json" not in {c.path for c in result.changes}
    assert {c.path for c in result.changed} == {"main.tf", wsmodel.SPEC_COPY}
    assert "= 5" in (out / "main.tf").read_text()
    assert "cdktf.json" not in json.loads((out / MANIFEST).read_text())["files"]


@pytest.mark.parametrize("damage", ["missing", "old"])
def test_a_missing_or_old_manifest_is_rewritten_and_no_file_is_touched(tmp_path: Path, damage: str) -> None:
    spec, out = _spec(tmp_path), tmp_path / "ws"
    generate(spec, out)
    manifest = (out / MANIFEST).read_text()
    if damage == "missing":
        (out / MANIFEST).unlink()
    else:  # written by an older mlfargate: same files, another generator line
        (out / MANIFEST).write_text(
            manifest.replace('"generator": "mlfargate ', '"generator": "mlfargate 0.0.1-')
        )
    files_before = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file() and p.name != MANIFEST}
    result = generate(spec, out)
    assert not result.changed and not result.written
    assert (result.format, result.notes) == ("hcl", [])
    assert (out / MANIFEST).read_text() == manifest
    assert {p: p.stat().st_mtime_ns for p in files_before} == files_before


def test_check_refuses_a_workspace_left_mid_swap_in_process(tmp_path: Path) -> None:
    spec, out = _spec(tmp_path), tmp_path / "ws"
    generate(spec, out)
    (out / workspace.STAGE).mkdir()
    (out / workspace.STAGE / "journal.json").write_text(workspace._Journal({}, [], []).text())
    with pytest.raises(WorkspaceError) as refused:
        generate(spec, out, Options(check_only=True))
    assert str(refused.value) == (
        f"{out}: an interrupted `mlfargate generate` left {workspace.STAGE}/; run `mlfargate generate` "
        "without --check to restore the workspace, then check again"
    )
    assert (out / workspace.STAGE / "journal.json").is_file()  # --check changes nothing


def test_a_stage_that_cannot_be_removed_after_the_swap_does_not_fail_generate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every file is in place and the journal is gone, but the stage directory will not go (a file
    system that says busy): generate succeeded; the next one clears the leftover and says so."""
    import os

    spec, out = _spec(tmp_path), tmp_path / "ws"
    generate(spec, out)
    spec.write_text(DEV.read_text().replace("max_tasks: 3", "max_tasks: 5"))
    real_rmdir = os.rmdir

    def busy(path: str | Path, *, dir_fd: int | None = None) -> None:
        if Path(path).name == workspace.STAGE:
            raise OSError(16, "Device or resource busy", str(path))
        real_rmdir(path, dir_fd=dir_fd)

    monkeypatch.setattr(os, "rmdir", busy)
    result = generate(spec, out)
    assert result.written and "= 5" in (out / "main.tf").read_text()
    assert (out / workspace.STAGE).is_dir() and not (out / workspace.STAGE / "journal.json").exists()
    monkeypatch.setattr(os, "rmdir", real_rmdir)
    again = generate(spec, out)
    assert not again.changed and not (out / workspace.STAGE).exists()
    assert again.notes == [
        f"removed {workspace.STAGE}/ left by an interrupted generate (it had not changed the workspace)"
    ]


# --------------------------------------------------------------------------------------------------
# CLI


def test_cli_generate_and_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec, out = _spec(tmp_path), tmp_path / "ws"
    assert main(["generate", str(spec), "--out", str(out)]) == 0
    captured = capsys.readouterr()
    vendored = len(list(out.glob("modules/*/*")))  # outside the checkout: the modules are copied in
    # A new workspace: its files with their sizes, not a diff of every line of them.
    lines = captured.out.splitlines()
    assert lines[0] == "new files:" and lines[-1] == f"{out}: wrote hcl workspace ({8 + vendored} added)"
    listed = {line.split()[0]: line.split()[1] for line in lines[1:-1]}
    written = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert set(listed) == {p for p in written if not p.startswith(".mlf")}
    assert listed["main.tf"] == f"{(out / 'main.tf').stat().st_size:,}"
    assert all(line.endswith(" bytes") for line in lines[1:-1])
    assert "+++" not in captured.out and len(lines) == 10 + vendored
    assert captured.err == ""  # vendored copies: no "works on this machine only" warning any more
    # --check on an up-to-date workspace says so, exit 0; nothing else on stdout.
    assert main(["generate", str(spec), "--out", str(out), "--check"]) == 0
    assert capsys.readouterr().out == f"{out}: up to date ({8 + vendored} files)\n"
    # A regeneration shows the diff of what changes.
    spec.write_text(DEV.read_text().replace("max_tasks: 3", "max_tasks: 5"))
    assert main(["generate", str(spec), "--out", str(out), "--check", "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["written"] is False and "main.tf" in data["changed"]
    assert {f["path"]: f["bytes"] for f in data["files"]}["main.tf"] == len(
        (out / "main.tf").read_bytes()
    )  # the size of the file as it would be written (the same length here: 3 -> 5)
    assert main(["generate", str(spec), "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert "--- a/main.tf\n+++ b/main.tf\n" in captured.out and "new files:" not in captured.out
    assert captured.out.endswith(f"{out}: wrote hcl workspace (2 changed)\n")


def test_cli_diff_shows_a_new_workspace_as_a_diff(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec, out = _spec(tmp_path), tmp_path / "ws"
    assert main(["generate", str(spec), "--out", str(out), "--check", "--diff"]) == 1
    captured = capsys.readouterr().out
    assert "--- /dev/null\n+++ b/main.tf\n" in captured and "would write:" not in captured
    assert not out.exists()
    assert main(["generate", str(spec), "--out", str(out), "--check"]) == 1
    captured = capsys.readouterr().out
    assert captured.startswith("would write:\n  .gitignore ") and "+++" not in captured
    listed = captured.splitlines()[1:-1]  # outside the checkout: 8 files and the vendored module copies
    assert len([f for f in listed if not f.split()[0].startswith("modules/")]) == 8
    assert captured.endswith(f"out of date ({len(listed)} added); run mlfargate generate to update it\n")
    assert main(["generate", str(spec), "--out", str(out), "--diff"]) == 0
    assert "+++ b/variables.tf" in capsys.readouterr().out


def test_cli_conflict_prints_the_diff_and_one_error_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec, out = _spec(tmp_path), tmp_path / "ws"
    assert main(["generate", str(spec), "--out", str(out)]) == 0
    (out / "outputs.tf").write_text("# mine\n")
    capsys.readouterr()
    assert main(["generate", str(spec), "--out", str(out)]) == 2
    captured = capsys.readouterr()
    assert "+++ b/outputs.tf" in captured.out
    assert captured.err.splitlines()[0].startswith("error: ") and "--force" in captured.err
    assert "Traceback" not in captured.err


def test_cli_git_needs_a_ref(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "ws"
    assert main(["generate", str(_spec(tmp_path)), "--out", str(out), "--modules-source", "git"]) == 2
    assert "needs --modules-ref" in capsys.readouterr().err
    assert not out.exists()
    assert (
        main(
            [
                "generate",
                str(_spec(tmp_path)),
                "--out",
                str(out),
                "--modules-source",
                "git",
                "--modules-ref",
                "v1.0.0",
            ]
        )
        == 0
    )
    main_tf = (out / "main.tf").read_text()
    assert f'source = "git::{sources.DEFAULT_MODULES_REPO}//modules/network?ref=v1.0.0"' in main_tf
    assert "#checkov:skip=CKV_TF_1:pinned to the release tag v1.0.0" in main_tf
    assert "mlfargate generate mlfargate.yaml --out . --modules-source git --modules-ref v1.0.0" in main_tf


def test_cli_ref_without_git_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["generate", str(_spec(tmp_path)), "--out", str(tmp_path / "ws"), "--modules-ref", "v1"]) == 2
    assert "--modules-source git only" in capsys.readouterr().err


def test_cli_invalid_spec(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = _spec(tmp_path, DEV.read_text().replace("cpu: 2048", "cpu: 3000"))
    assert main(["generate", str(bad), "--out", str(tmp_path / "ws")]) == 2
    assert "spec error: compute.cpu" in capsys.readouterr().err
    assert not (tmp_path / "ws").exists()


def test_generated_workspace_inside_repo_uses_relative_sources(tmp_path: Path) -> None:
    # (the checkout's source folders, tests/ included, are refused: environments/ is where workspaces go)
    out = REPO / "environments" / f".pytest-{tmp_path.name}"
    try:
        generate(DEV, out)
        assert 'source = "../../modules/network"' in (out / "main.tf").read_text()
    finally:
        shutil.rmtree(out, ignore_errors=True)


def test_cdktf_without_cdktn_is_one_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda n, *a: None if n == "cdktn" else real(n, *a))
    with pytest.raises(WorkspaceError, match=r"pip install 'mlfargate\[cdktf\]'"):
        generate(_spec(tmp_path), tmp_path / "ws", Options(format="cdktf"))
    assert not (tmp_path / "ws").exists()
