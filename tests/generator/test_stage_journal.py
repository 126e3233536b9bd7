"""The regeneration's commit record, piece by piece (mlfargate/generate/workspace.py): which names a
manifest or journal may hold, the journal read back as untrusted input, the roll-back it drives, the
recovery of an interrupted generate, and the backup of a replaced file.

tests/generator/test_generate_safety.py kills generate at every write and rename and checks the
workspace end to end; these tests lay a stage out by hand (in the format ``swap`` writes, through
``_Journal.text``) to check each rule directly and fast, including the hostile cases an interrupted run
never produces on its own.
"""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest

from mlfargate.generate import workspace as ws
from mlfargate.generate.model import WorkspaceError

STAGE = ws.STAGE
SUFFIX = "; nothing was written, removed or shown"


def lay_stage(
    out: Path,
    journal: ws._Journal | str | None,
    new: dict[str, str] | None = None,
    old: dict[str, str] | None = None,
) -> Path:
    stage = out / STAGE
    for sub, files in (("new", new or {}), ("old", old or {})):
        for name, text in files.items():
            (stage / sub / name).parent.mkdir(parents=True, exist_ok=True)
            (stage / sub / name).write_text(text)
    stage.mkdir(parents=True, exist_ok=True)
    if journal is not None:
        (stage / "journal.json").write_text(journal if isinstance(journal, str) else journal.text())
    return stage


# ---------------------------------------------------------------- names a manifest or journal may hold


@pytest.mark.parametrize(
    ("name", "owned"),
    [
        ("main.tf", True),
        ("terraform.tfvars", True),
        ("mlfargate.yaml", True),
        (".gitignore", True),
        ("cdktf.json", True),
        ("cdktf.out/stacks/churn-dev/cdk.tf.json", True),
        ("cdktf.out/stacks/Churn/cdk.tf.json", False),
        ("cdktf.out/stacks/../../x/cdk.tf.json", False),
        ("cdktf.out/stacks/a/b/cdk.tf.json", False),
        ("modules/network/main.tf", True),
        ("modules/network/CHANGELOG.md", True),
        ("modules/network/..", False),
        ("modules/network/.", False),
        ("modules/../main.tf", False),
        ("modules/network/../../x", False),
        ("modules/network/sub/main.tf", False),
        ("modules/network/.hidden", False),
        ("modules//main.tf", False),
        ("../main.tf", False),
        ("/etc/passwd", False),
        ("notes.md", False),
        (ws.MANIFEST, False),
    ],
)
def test_only_names_generate_writes_are_owned(name: str, owned: bool) -> None:
    assert ws.owned_name(name) is owned


def test_a_name_through_a_symbolic_link_is_seen_at_any_depth(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "cdktf.out").mkdir()
    (tmp_path / "cdktf.out" / "stacks").symlink_to(tmp_path / "real")
    assert ws._through_symlink(tmp_path, "cdktf.out/stacks/x/cdk.tf.json")
    (tmp_path / "main.tf").symlink_to(tmp_path / "real")
    assert ws._through_symlink(tmp_path, "main.tf")
    assert not ws._through_symlink(tmp_path, "variables.tf")


# ---------------------------------------------------------------- the journal, read back


def test_a_journal_reads_back_as_written(tmp_path: Path) -> None:
    journal = ws._Journal({"main.tf": "a" * 64, ws.MANIFEST: "b" * 64}, ["outputs.tf"], ["main.tf"])
    lay_stage(tmp_path, journal)
    assert ws._Journal.read(tmp_path) == journal
    assert ws.staged_journal(tmp_path) == journal
    assert json.loads(journal.text())["install"] == {"main.tf": "a" * 64, ws.MANIFEST: "b" * 64}


def test_a_journal_left_behind_explains_itself_to_whoever_finds_it() -> None:
    """An operator who finds .mlfargate-stage/ reads the journal: one key per line, and a note saying
    what it is."""
    text = ws._Journal({"main.tf": "a" * 64}, ["cdktf.json"], ["main.tf", "cdktf.json"]).text()
    assert text == (
        "{\n"
        '  "//": "An mlfargate generate in progress: the next generate restores the files listed here.",\n'
        '  "install": {\n'
        f'    "main.tf": "{"a" * 64}"\n'
        "  },\n"
        '  "remove": [\n'
        '    "cdktf.json"\n'
        "  ],\n"
        '  "existed": [\n'
        '    "main.tf",\n'
        '    "cdktf.json"\n'
        "  ]\n"
        "}\n"
    )


def test_no_journal_means_no_commit_point(tmp_path: Path) -> None:
    assert ws.staged_journal(tmp_path) is None
    lay_stage(tmp_path, None, new={"main.tf": "x"})
    assert ws.staged_journal(tmp_path) is None


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("{half", "JSONDecodeError"),
        ('{"install": {}}', "KeyError"),
        ('{"install": [], "remove": [], "existed": []}', "AttributeError"),
    ],
)
def test_an_unreadable_journal_is_refused_saying_why(tmp_path: Path, text: str, why: str) -> None:
    lay_stage(tmp_path, text)
    with pytest.raises(WorkspaceError) as refused:
        ws._Journal.read(tmp_path)
    assert str(refused.value) == (
        f"{tmp_path / STAGE / 'journal.json'}: unreadable journal of an interrupted generate ({why}); inspect "
        f"{STAGE}/ (old/ holds the previous files) and remove it by hand"
    )


def test_a_symbolic_link_for_the_stage_or_its_journal_is_refused(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "journal.json").write_text(ws._Journal({}, [], []).text())
    out = tmp_path / "out"
    out.mkdir()
    (out / STAGE).symlink_to(elsewhere)
    expected = f"{out / STAGE}: is (or holds) a symbolic link; inspect it and remove it by hand{SUFFIX}"
    with pytest.raises(WorkspaceError) as refused:
        ws._Journal.read(out)
    assert str(refused.value) == expected
    (out / STAGE).unlink()
    (out / STAGE).mkdir()
    (out / STAGE / "journal.json").symlink_to(elsewhere / "journal.json")
    with pytest.raises(WorkspaceError) as refused:
        ws.staged_journal(out)
    assert str(refused.value) == expected


def test_a_journal_naming_a_file_that_is_not_ours_is_refused(tmp_path: Path) -> None:
    name = "../" + "x" * 100
    lay_stage(tmp_path, ws._Journal({}, [name], []))
    with pytest.raises(WorkspaceError) as refused:
        ws._Journal.read(tmp_path)
    shown = json.dumps(name)[:80]
    assert str(refused.value) == (
        f"{tmp_path / STAGE / 'journal.json'}: lists {shown}, which is not a file mlfargate writes; inspect "
        f"{STAGE}/ and remove it by hand{SUFFIX}"
    )


@pytest.mark.parametrize("where", ["new", "old"])
def test_a_staged_copy_that_is_a_symbolic_link_is_refused(tmp_path: Path, where: str) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("the operator's")
    out = tmp_path / "out"
    stage = lay_stage(out, ws._Journal({"main.tf": "0" * 64}, [], ["main.tf"]))
    (stage / where).mkdir()
    (stage / where / "main.tf").symlink_to(victim)
    with pytest.raises(WorkspaceError) as refused:
        ws.recover(out)
    assert str(refused.value) == (
        f"{stage / where / 'main.tf'}: is a symbolic link; inspect {STAGE}/ and remove it by hand{SUFFIX}"
    )
    assert victim.read_text() == "the operator's"


# ---------------------------------------------------------------- roll-back and recovery


def test_roll_back_restores_replaced_files_and_removes_only_new_files_of_ours(tmp_path: Path) -> None:
    new_main, new_stack = "new main\n", "{}\n"
    stack = "cdktf.out/stacks/svc-dev/cdk.tf.json"
    journal = ws._Journal(
        {"main.tf": ws.sha256(new_main), stack: ws.sha256(new_stack), "outputs.tf": ws.sha256("new out\n")},
        ["variables.tf"],
        ["main.tf", "variables.tf"],
    )
    stage = lay_stage(tmp_path, journal, old={"main.tf": "old main\n", "variables.tf": "old vars\n"})
    (tmp_path / "main.tf").write_text(new_main)  # swapped in before the kill
    (tmp_path / stack).parent.mkdir(parents=True)
    (tmp_path / stack).write_text(new_stack)  # new, ours: goes
    (tmp_path / "outputs.tf").write_text("edited by the operator since\n")  # not what we staged: stays
    count = ws._roll_back(tmp_path, journal)
    assert count == 3
    assert (tmp_path / "main.tf").read_text() == "old main\n"
    assert (tmp_path / "variables.tf").read_text() == "old vars\n"
    assert not (tmp_path / stack).exists() and not (tmp_path / "cdktf.out").exists()  # empty dirs pruned
    assert (tmp_path / "outputs.tf").read_text() == "edited by the operator since\n"
    assert not stage.exists()
    # Idempotent: a second (interrupted, then rerun) recovery finds nothing more to do.
    lay_stage(tmp_path, journal)
    assert ws._roll_back(tmp_path, journal) == 0
    assert (tmp_path / "main.tf").read_text() == "old main\n"


def test_roll_back_never_removes_a_symbolic_link_or_an_empty_file_it_did_not_write(tmp_path: Path) -> None:
    target = tmp_path / "target.tf"
    target.write_text("x")
    journal = ws._Journal({"main.tf": ws.sha256("x"), "outputs.tf": ws.sha256("y")}, [], [])
    lay_stage(tmp_path, journal)
    (tmp_path / "main.tf").symlink_to(target)  # same content as staged, but a link: not ours
    (tmp_path / "outputs.tf").write_text("")  # empty: not the staged "y"
    assert ws._roll_back(tmp_path, journal) == 0
    assert (tmp_path / "main.tf").is_symlink() and (tmp_path / "outputs.tf").exists()
    # An empty staged file that is still there is ours: removed.
    journal = ws._Journal({"outputs.tf": ws.sha256("")}, [], [])
    lay_stage(tmp_path, journal)
    assert ws._roll_back(tmp_path, journal) == 1 and not (tmp_path / "outputs.tf").exists()


def test_recover_without_a_stage_does_nothing(tmp_path: Path) -> None:
    assert ws.recover(tmp_path) is None


def test_recover_removes_a_stage_that_never_reached_its_commit_point(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text("untouched")
    lay_stage(tmp_path, None, new={"main.tf": "staged"})
    assert ws.recover(tmp_path) == (
        f"removed {STAGE}/ left by an interrupted generate (it had not changed the workspace)"
    )
    assert not (tmp_path / STAGE).exists() and (tmp_path / "main.tf").read_text() == "untouched"


def test_recover_refuses_a_stage_that_is_not_a_directory(tmp_path: Path) -> None:
    (tmp_path / STAGE).write_text("a file")
    with pytest.raises(WorkspaceError) as refused:
        ws.recover(tmp_path)
    assert str(refused.value) == (
        f"{tmp_path / STAGE}: is not a directory mlfargate made; inspect it and remove it by hand{SUFFIX}"
    )
    assert (tmp_path / STAGE).read_text() == "a file"


def test_recover_says_how_many_files_it_restored(tmp_path: Path) -> None:
    journal = ws._Journal({"main.tf": ws.sha256("new")}, [], ["main.tf"])
    lay_stage(tmp_path, journal, old={"main.tf": "old"})
    (tmp_path / "main.tf").write_text("new")
    assert ws.recover(tmp_path) == (
        f"restored 1 file(s) from {STAGE}/: an earlier generate was interrupted while swapping files; "
        "the workspace was put back as it was before it, then regenerated"
    )
    assert (tmp_path / "main.tf").read_text() == "old" and not (tmp_path / STAGE).exists()


def test_recover_that_cannot_restore_says_where_the_old_files_are(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    journal = ws._Journal({"main.tf": ws.sha256("new")}, [], ["main.tf"])
    lay_stage(tmp_path, journal, old={"main.tf": "old"})

    def refuse(src: object, dst: object) -> None:
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(ws.os, "replace", refuse)
    with pytest.raises(WorkspaceError) as failed:
        ws.recover(tmp_path)
    assert str(failed.value) == (
        f"{tmp_path}: cannot restore the workspace from {STAGE}/ left by an interrupted generate "
        f"(Permission denied); fix that and rerun, or restore it by hand from {STAGE}/old/"
    )
    assert (tmp_path / STAGE / "old" / "main.tf").read_text() == "old"  # nothing lost


# ---------------------------------------------------------------- backups of replaced files


def test_a_backup_is_a_hard_link_where_the_file_system_allows(tmp_path: Path) -> None:
    src = tmp_path / "main.tf"
    src.write_text("v1")
    backup = tmp_path / STAGE / "old" / "main.tf"
    ws._backup(src, backup)
    assert backup.read_text() == "v1" and os.stat(backup).st_ino == os.stat(src).st_ino


@pytest.mark.parametrize("code", [errno.EPERM, errno.EXDEV, errno.EMLINK, errno.ENOTSUP])
def test_a_backup_is_a_copy_where_links_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int
) -> None:
    src = tmp_path / "main.tf"
    src.write_text("v1")
    os.utime(src, (1_600_000_000, 1_600_000_000))

    def no_links(a: object, b: object) -> None:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(ws.os, "link", no_links)
    backup = tmp_path / "old" / "main.tf"
    ws._backup(src, backup)
    assert backup.read_text() == "v1" and os.stat(backup).st_ino != os.stat(src).st_ino
    assert os.stat(backup).st_mtime == 1_600_000_000  # copy2: metadata kept
    src.write_text("v2")
    assert backup.read_text() == "v1"  # a copy, not the same file


def test_a_backup_that_fails_otherwise_raises(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = tmp_path / "main.tf"
    src.write_text("v1")

    def broken(a: object, b: object) -> None:
        raise OSError(errno.EIO, "I/O error")

    monkeypatch.setattr(ws.os, "link", broken)
    with pytest.raises(OSError, match="I/O error"):
        ws._backup(src, tmp_path / "old" / "main.tf")


# ---------------------------------------------------------------- the manifest and the staged writes


def test_the_manifest_records_every_file_and_how_it_was_generated() -> None:
    from mlfargate import __version__
    from mlfargate.generate.model import Options

    text = ws.manifest_text(
        {"main.tf": "m", ".gitignore": "g"},
        Options(format="cdktf", modules_source="git", modules_ref="v1.2.0"),
    )
    assert text.endswith("}\n")
    assert json.loads(text) == {
        "//": "Written by `mlfargate generate`: SHA-256 of each generated file, to detect hand edits.",
        "generator": f"mlfargate {__version__}",
        "format": "cdktf",
        "modules_source": "git",
        "modules_ref": "v1.2.0",
        "files": {".gitignore": ws.sha256("g"), "main.tf": ws.sha256("m")},
    }
    assert list(json.loads(text)["files"]) == [".gitignore", "main.tf"]  # sorted: a stable diff
    # Committed with the workspace: one file per line, so a regeneration's diff names the files it moved.
    assert (
        f'\n  "files": {{\n    ".gitignore": "{ws.sha256("g")}",\n    "main.tf": "{ws.sha256("m")}"\n  }}\n}}\n'
        in text
    )
    assert text.startswith('{\n  "//": "Written by `mlfargate generate`')


@pytest.mark.parametrize(
    ("count", "durable", "synced"), [(1, True, 1), (2, True, 2), (3, True, 3), (1, False, 0), (3, False, 0)]
)
def test_staged_files_are_flushed_to_disk_only_when_they_replace_something(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, count: int, durable: bool, synced: int
) -> None:
    flushed: list[str] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        flushed.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    monkeypatch.setattr(ws.os, "fsync", fsync)
    files = [(tmp_path / f"f{i}.tf", f"ü {i}\n") for i in range(count)]
    ws._write_files(files, durable=durable)
    # Each file once, all of them when durable (one fsync each, run together), none otherwise.
    assert sorted(flushed) == sorted(str(p) for p, _ in files)[:synced] and len(flushed) == synced
    for path, text in files:
        assert path.read_bytes() == text.encode("utf-8")
        assert os.stat(path).st_mode & 0o777 == 0o644 & ~_umask()


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def test_a_staged_file_is_never_written_over_an_existing_one(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text("there")
    with pytest.raises(FileExistsError):
        ws._write_files([(tmp_path / "new.tf", "n"), (tmp_path / "main.tf", "x")], durable=False)
    assert (tmp_path / "main.tf").read_text() == "there"


def test_a_journal_is_read_as_utf_8_whatever_the_locale(tmp_path: Path) -> None:
    import locale

    lay_stage(tmp_path, ws._Journal({}, ["é.tf"], []).text().replace("\\u00e9", "é"))
    saved = locale.setlocale(locale.LC_CTYPE)
    locale.setlocale(locale.LC_CTYPE, "C")  # Python's default text encoding is now ASCII
    try:
        with pytest.raises(WorkspaceError) as refused:
            ws._Journal.read(tmp_path)
    finally:
        locale.setlocale(locale.LC_CTYPE, saved)
    # Read (as UTF-8), then refused for what it names, not "unreadable".
    assert 'lists "\\u00e9.tf", which is not a file mlfargate writes' in str(refused.value)
