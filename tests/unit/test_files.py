"""mlfargate/files.py: a write either lands whole or leaves the old file as it was; caches live where the
operator says (MLFARGATE_CACHE_DIR, XDG_CACHE_HOME, ~/.cache)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from mlfargate import files
from mlfargate.errors import MlfargateError


def test_a_new_file_is_written_whole_with_its_parents(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "out.json"
    files.write_text_atomic(target, "héllo\n")
    assert target.read_bytes() == "héllo\n".encode()  # UTF-8 whatever the locale
    assert sorted(p.name for p in target.parent.iterdir()) == ["out.json"]  # no temporary file left


def test_an_existing_file_is_kept_unless_overwrite_is_asked(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(files.OutputExistsError) as refused:
        files.write_text_atomic(target, "new")
    assert str(refused.value) == f"{target}: already exists; pass --force to overwrite it"
    assert isinstance(refused.value, MlfargateError) and refused.value.exit_code == 2
    assert target.read_text() == "old"
    files.write_text_atomic(target, "new", overwrite=True)
    assert target.read_text() == "new"


def test_the_temporary_file_is_a_hidden_sibling_renamed_into_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "out.txt"
    renames: list[tuple[str, str]] = []
    real_replace = os.replace

    def spy(src: str, dst: str | Path) -> None:
        renames.append((str(src), str(dst)))
        assert Path(src).read_text() == "whole"  # complete before it takes the target's name
        real_replace(src, dst)

    monkeypatch.setattr(files.os, "replace", spy)
    files.write_text_atomic(target, "whole")
    [(src, dst)] = renames
    assert dst == str(target)
    # Same directory (a rename across filesystems is not atomic), hidden, named after the target.
    assert Path(src).parent == tmp_path and Path(src).name.startswith(".out.txt.")
    assert target.read_text() == "whole"


@pytest.mark.parametrize("failure", [OSError("disk full"), KeyboardInterrupt()])
def test_a_failed_write_leaves_the_old_file_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failure: BaseException
) -> None:
    target = tmp_path / "out.txt"
    target.write_text("old")

    def fail(src: str, dst: str | Path) -> None:
        raise failure

    monkeypatch.setattr(files.os, "replace", fail)
    # An OSError is the operator's problem, told in one line (issue 12); an interrupt stays an interrupt.
    expected = files.OutputPathError if isinstance(failure, OSError) else type(failure)
    with pytest.raises(expected) as raised:
        files.write_text_atomic(target, "new", overwrite=True)
    if isinstance(failure, OSError):
        assert str(raised.value) == f"{target}: cannot write it (disk full)"
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]


def test_the_cache_directory_follows_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MLFARGATE_CACHE_DIR", str(tmp_path / "explicit"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert files.user_cache_dir() == tmp_path / "explicit"
    monkeypatch.setenv("MLFARGATE_CACHE_DIR", "")  # empty: not set
    assert files.user_cache_dir() == tmp_path / "xdg" / "mlfargate"
    monkeypatch.delenv("MLFARGATE_CACHE_DIR")
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert files.user_cache_dir() == tmp_path / "home" / ".cache" / "mlfargate"


@pytest.fixture
def ascii_locale() -> Iterator[None]:
    """The C locale set at run time: Python's default text encoding becomes ASCII (outside UTF-8 mode)."""
    import locale

    saved = locale.setlocale(locale.LC_CTYPE)
    locale.setlocale(locale.LC_CTYPE, "C")
    try:
        yield
    finally:
        locale.setlocale(locale.LC_CTYPE, saved)


def test_text_is_written_as_utf_8_whatever_the_locale(tmp_path: Path, ascii_locale: None) -> None:
    target = tmp_path / "out.txt"
    files.write_text_atomic(target, "modèle ✓\n")
    assert target.read_bytes() == "modèle ✓\n".encode()


def test_a_directory_is_refused_by_name(tmp_path: Path) -> None:
    with pytest.raises(files.OutputPathError) as refused:
        files.write_text_atomic(tmp_path, "x", overwrite=True)  # --force cannot make a file of a directory
    assert str(refused.value) == f"{tmp_path}: is a directory; name a file to write"


@pytest.mark.parametrize(
    ("failure", "reason"),
    [
        (PermissionError(13, "Permission denied"), "Permission denied"),
        (OSError("no temporary file today"), "no temporary file today"),  # no strerror: the text itself
    ],
)
def test_a_place_that_cannot_hold_a_new_file_is_one_line_with_the_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failure: OSError, reason: str
) -> None:
    def refuse(**_: object) -> tuple[int, str]:
        raise failure

    monkeypatch.setattr(files.tempfile, "mkstemp", refuse)
    target = tmp_path / "out.txt"
    with pytest.raises(files.OutputPathError) as refused:
        files.write_text_atomic(target, "x")
    assert str(refused.value) == f"{target}: cannot write it ({reason})"
    assert not target.exists()


def test_a_temporary_file_that_vanishes_before_the_rename_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Something else (a tmp cleaner, a second process) removes the temporary file: the rename fails and
    the clean-up finds nothing to remove; the operator gets the rename's reason, not a traceback."""
    target = tmp_path / "out.txt"
    target.write_text("old")
    real_replace = os.replace

    def vanish_then_replace(src: str, dst: str | Path) -> None:
        os.unlink(src)
        real_replace(src, dst)

    monkeypatch.setattr(files.os, "replace", vanish_then_replace)
    with pytest.raises(files.OutputPathError) as refused:
        files.write_text_atomic(target, "new", overwrite=True)
    assert str(refused.value) == f"{target}: cannot write it (No such file or directory)"
    assert target.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]


def test_an_interrupt_just_after_the_rename_stays_an_interrupt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C lands after the rename: the new file is whole and the clean-up of the (renamed) temporary
    file must not turn the interrupt into a FileNotFoundError traceback."""
    target = tmp_path / "out.txt"
    real_replace = os.replace

    def replace_then_interrupt(src: str, dst: str | Path) -> None:
        real_replace(src, dst)
        raise KeyboardInterrupt

    monkeypatch.setattr(files.os, "replace", replace_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        files.write_text_atomic(target, "new")
    assert target.read_text() == "new" and sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]
