"""A tampered ``.mlfargate-manifest.json`` must never make ``generate`` touch or print anything outside
the workspace (issue #13): the manifest is untrusted input.

Before the fix, an entry ``"../victim.txt": <sha>`` made a regeneration delete the victim (``2 removed``),
``--force`` deleted it when the hash did not match, and ``--check`` printed its content as a diff.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mlfargate.generate import workspace
from mlfargate.generate.workspace import MANIFEST, Options, WorkspaceError, generate
from tests.generator.conftest import REPO

DEV = REPO / "environments/dev/mlfargate.yaml"
SECRET = "aws_secret_access_key = DO-NOT-LEAK\n"


def _setup(tmp_path: Path) -> tuple[Path, Path, Path]:
    spec = tmp_path / "spec.yaml"
    spec.write_text(DEV.read_text())
    out = tmp_path / "ws"
    generate(spec, out)
    victim = tmp_path / "victim.txt"
    victim.write_text(SECRET)
    return spec, out, victim


def _tamper(out: Path, entries: dict[str, str]) -> None:
    data = json.loads((out / MANIFEST).read_text())
    data["files"].update(entries)
    (out / MANIFEST).write_text(json.dumps(data))


def _snapshot(directory: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()
    }


def _hostile_entries(tmp_path: Path, victim: Path) -> list[str]:
    return [
        "../victim.txt",
        str(victim),  # absolute
        "sub/../../victim.txt",
        "./../victim.txt",
        "..\\victim.txt",
        "link/victim.txt",  # through a symlink inside the workspace
        "notes.txt",  # a relative name mlfargate never writes
        "",
        ".",
    ]


@pytest.mark.parametrize("mode", ["regenerate", "force", "check"])
def test_hostile_manifest_entries_are_refused_and_nothing_outside_changes(tmp_path: Path, mode: str) -> None:
    spec, out, victim = _setup(tmp_path)
    (out / "link").symlink_to(tmp_path, target_is_directory=True)
    spec.write_text(DEV.read_text().replace("max_tasks: 3", "max_tasks: 5"))  # a real change to write
    for entry in _hostile_entries(tmp_path, victim):
        _tamper(out, {entry: workspace.sha256(SECRET)})
        before_out = _snapshot(out)
        before_all = _snapshot(tmp_path)
        options = Options(force=mode == "force", check_only=mode == "check")
        with pytest.raises(WorkspaceError) as caught:
            generate(spec, out, options)
        message = str(caught.value)
        assert "\n" not in message and MANIFEST in message, message
        assert "DO-NOT-LEAK" not in message
        assert victim.read_text() == SECRET, entry
        assert _snapshot(out) == before_out, entry  # nothing written into the workspace either
        assert _snapshot(tmp_path) == before_all, entry
        # restore the manifest for the next entry
        data = json.loads((out / MANIFEST).read_text())
        del data["files"][entry]
        (out / MANIFEST).write_text(json.dumps(data))


def test_cli_check_with_a_tampered_manifest_prints_nothing_of_the_victim(tmp_path: Path) -> None:
    spec, out, victim = _setup(tmp_path)
    _tamper(out, {"../victim.txt": "0" * 64})
    proc = subprocess.run(
        [sys.executable, "-m", "mlfargate.cli", "generate", str(spec), "--out", str(out), "--check"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "DO-NOT-LEAK" not in proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("error: ")
    assert victim.read_text() == SECRET


def test_a_legitimate_manifest_still_regenerates(tmp_path: Path) -> None:
    spec, out, victim = _setup(tmp_path)
    spec.write_text(DEV.read_text().replace("max_tasks: 3", "max_tasks: 5"))
    result = generate(spec, out)
    assert result.written and victim.read_text() == SECRET


@pytest.mark.parametrize("mode", ["regenerate", "force", "check"])
def test_a_generated_file_replaced_by_a_symlink_is_neither_read_nor_followed(
    tmp_path: Path, mode: str
) -> None:
    spec, out, victim = _setup(tmp_path)
    (out / "main.tf").unlink()
    (out / "main.tf").symlink_to(victim)
    spec.write_text(DEV.read_text().replace("max_tasks: 3", "max_tasks: 5"))
    before = _snapshot(tmp_path)
    with pytest.raises(WorkspaceError) as caught:
        generate(spec, out, Options(force=mode == "force", check_only=mode == "check"))
    assert str(caught.value) == (
        f"{out}: main.tf is (or lies under) a symbolic link; generate writes only plain files inside the "
        "workspace: replace the link with a regular file or remove it; nothing was written, removed or shown"
    )
    assert _snapshot(tmp_path) == before and (out / "main.tf").is_symlink()


def test_a_refused_entry_is_quoted_cut_to_80_characters_and_the_allowed_names_are_listed(
    tmp_path: Path,
) -> None:
    spec, out, _ = _setup(tmp_path)
    entry = "../" + "x" * 200
    _tamper(out, {entry: "0" * 64})
    with pytest.raises(WorkspaceError) as caught:
        generate(spec, out)
    shown = json.dumps(entry)[:80]  # '"../xxx...': the quote counts, the rest is cut
    assert str(caught.value) == (
        f"{out / MANIFEST}: lists {shown}, which is not a file mlfargate writes (allowed: versions.tf, "
        "providers.tf, main.tf, variables.tf, outputs.tf, terraform.tfvars, mlfargate.yaml, .gitignore, "
        "cdktf.json, cdktf.out/stacks/<stack>/cdk.tf.json, modules/<module>/<file>); remove the entry, or "
        "the manifest, and regenerate; nothing was written, removed or shown"
    )


def test_a_manifest_that_is_a_symbolic_link_is_refused_by_name(tmp_path: Path) -> None:
    spec, out, victim = _setup(tmp_path)
    (out / MANIFEST).unlink()
    (out / MANIFEST).symlink_to(victim)
    with pytest.raises(WorkspaceError) as caught:
        generate(spec, out)
    assert str(caught.value) == (
        f"{out / MANIFEST}: is a symbolic link; remove it and regenerate; nothing was written, removed or shown"
    )
    assert victim.read_text() == SECRET


@pytest.mark.parametrize("text", ["[]", '["main.tf"]', '"files"', "3", "null", '{"files": ["main.tf"]}', "{"])
def test_a_manifest_that_is_not_a_record_of_files_vouches_for_nothing(tmp_path: Path, text: str) -> None:
    """Valid JSON of the wrong shape (or no JSON at all) is read as "no file is known to be ours": a
    regeneration then treats every file as the operator's (a conflict), never a traceback."""
    spec, out, _ = _setup(tmp_path)
    (out / MANIFEST).write_text(text)
    assert workspace.read_manifest(out) == {}
    spec.write_text(DEV.read_text().replace("max_tasks: 3", "max_tasks: 5"))
    with pytest.raises(workspace.WorkspaceConflictError) as caught:
        generate(spec, out)
    assert caught.value.edited == ["main.tf", "mlfargate.yaml"]


def test_a_manifest_is_read_as_utf_8_whatever_the_locale(tmp_path: Path) -> None:
    """A non-ASCII entry is read (as UTF-8) and refused for what it names; under an ASCII locale a
    locale-dependent read would fail to decode and quietly trust nothing instead."""
    import locale

    _, out, _ = _setup(tmp_path)
    data = json.loads((out / MANIFEST).read_text())
    data["files"]["é.tf"] = "0" * 64
    (out / MANIFEST).write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    saved = locale.setlocale(locale.LC_CTYPE)
    locale.setlocale(locale.LC_CTYPE, "C")  # Python's default text encoding is now ASCII
    try:
        with pytest.raises(WorkspaceError) as caught:
            workspace.read_manifest(out)
    finally:
        locale.setlocale(locale.LC_CTYPE, saved)
    assert 'lists "\\u00e9.tf", which is not a file mlfargate writes' in str(caught.value)
