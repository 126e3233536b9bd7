"""`generate` writes a workspace all-or-nothing, only where a workspace belongs, and nothing that
runs at synth (issue #13, section 1).

* A fault injected at every file-system call of a regeneration (each write, fsync, mkdir, link,
  rename, unlink) leaves the workspace exactly as it was, with no stage left, and the message says so
  truthfully. Before the staged swap, an ENOSPC on the third file said "nothing was written" after two
  files had been replaced.
* A generate killed (SIGKILL, a real child process) between two renames leaves a stage; the next
  generate restores the workspace from it and then regenerates, so no half-old, half-new workspace
  survives. Before, the kill left new main.tf/versions.tf beside the old terraform.tfvars for good.
* ``--out /``, the home directory itself and the checkout's own source folders are refused; a stray
  ``*.tf`` (or auto-loaded tfvars) in the output directory is refused unless ``--force``, by name.
* cdktf.json's ``app`` (run through a shell by cdktn) quotes every argument.
* Each workspace has a .gitignore that keeps plans, state and downloads out of git, and the lock
  file in.
"""

from __future__ import annotations

import errno
import json
import os
import shlex
import shutil
import signal
import stat
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from mlfargate.generate import cdktf, workspace
from mlfargate.generate.model import GITIGNORE, Options, WorkspaceError
from mlfargate.generate.workspace import MANIFEST, STAGE, generate, render_files
from tests.generator.conftest import REPO

DEV = REPO / "environments/dev/mlfargate.yaml"


def _snapshot(directory: Path) -> dict[str, bytes | str]:
    """Every entry under ``directory``: file bytes, and directories (so a leftover empty one shows)."""
    found: dict[str, bytes | str] = {}
    for path in sorted(directory.rglob("*")):
        rel = str(path.relative_to(directory))
        found[rel] = path.read_bytes() if path.is_file() else "<dir>"
    return found


def _specs(tmp_path: Path) -> tuple[Path, str, str]:
    """A spec file and two versions of it whose workspaces differ in several files."""
    old = DEV.read_text()
    # image set: variables.tf, terraform.tfvars and main.tf change; max_tasks: main.tf again.
    new = old.replace("max_tasks: 3", "max_tasks: 5").replace(
        "  container_port: 8080\n",
        "  container_port: 8080\n  image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/sentiment:1.0.0\n",
    )
    tmp_path.mkdir(parents=True, exist_ok=True)
    spec = tmp_path / "spec.yaml"
    spec.write_text(old)
    return spec, old, new


def _old_workspace(tmp_path: Path) -> tuple[Path, Path, str]:
    """A generated workspace that also holds a cdktf.json from an earlier --format cdktf generation
    (listed in the manifest), so regenerating as HCL replaces, adds nothing and removes one file."""
    spec, _, new = _specs(tmp_path)
    out = tmp_path / "ws"
    generate(spec, out)
    (out / "cdktf.json").write_text('{"app": "python -m cdktf_app"}\n')
    manifest = json.loads((out / MANIFEST).read_text())
    manifest["files"]["cdktf.json"] = workspace.sha256((out / "cdktf.json").read_text())
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    (out / "terraform.tfstate").write_text('{"version": 4}\n')  # not ours: never touched
    spec.write_text(new)
    return spec, out, new


# --------------------------------------------------------------------------------------------------
# Fault injection: every file-system call of a regeneration, one at a time


_CALLS = ("open", "write", "fsync", "mkdir", "link", "replace", "rename", "unlink")


def _fd_path(fd: int) -> str:
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return ""


@contextmanager
def _faults(root: Path, fail_at: set[int] | Callable[[int], bool]) -> Iterator[list[str]]:
    """Count the os-level calls that touch ``root`` and raise ENOSPC (writes) or EIO at the chosen ones."""
    seen: list[str] = []
    real = {name: getattr(os, name) for name in _CALLS}
    prefix = str(root)

    def wrap(name: str) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            first = args[0] if args else ""
            where = _fd_path(first) if name in ("write", "fsync") and isinstance(first, int) else str(first)
            touches = where.startswith(prefix) or any(str(a).startswith(prefix) for a in args[1:2])
            if touches:
                seen.append(f"{name} {where}")
                n = len(seen)
                if (n in fail_at) if isinstance(fail_at, set) else fail_at(n):
                    code = errno.ENOSPC if name in ("write", "fsync", "open", "mkdir", "link") else errno.EIO
                    raise OSError(code, os.strerror(code), where)
            return real[name](*args, **kwargs)

        return call

    try:
        for name in _CALLS:
            setattr(os, name, wrap(name))
        yield seen
    finally:
        for name, fn in real.items():
            setattr(os, name, fn)


def _count_calls(tmp_path: Path) -> list[str]:
    base = tmp_path / "count"
    base.mkdir()
    spec, out, _ = _old_workspace(base)
    with _faults(out, set()) as seen:
        assert generate(spec, out).written
    return seen


def test_a_fault_at_any_write_or_rename_leaves_the_workspace_as_it_was(tmp_path: Path) -> None:
    calls = _count_calls(tmp_path)
    kinds = {c.split()[0] for c in calls}
    assert {"write", "fsync", "link", "replace", "unlink", "mkdir"} <= kinds, calls
    installs = [i for i, c in enumerate(calls, 1) if c.startswith("replace") and f"/{STAGE}/new/" in c]
    assert len(installs) >= 4, calls  # the files renamed into place one by one, after the journal's
    # The new spec names an image: the ecr module is no longer called, and its vendored copy (the
    # workspace is outside the checkout) is removed in the same swap, last.
    removed = [(i, c) for i, c in enumerate(calls, 1) if c.startswith("unlink") and f"/{STAGE}/" not in c]
    assert [c.rsplit("/ws/", 1)[1] for _, c in removed][:2] == ["cdktf.json", "modules/ecr/CHANGELOG.md"]
    swapped = max(i for i, _ in removed)
    reference = _fresh(tmp_path, _specs(tmp_path / "count")[2])
    for n in range(1, len(calls) + 1):
        case = tmp_path / f"n{n}"
        case.mkdir()
        spec, out, _ = _old_workspace(case)
        before = _snapshot(case)
        message = None
        with _faults(out, {n}):
            try:
                generate(spec, out)
            except WorkspaceError as error:
                message = str(error)
        where = f"fault at call {n} ({calls[n - 1]}): {message}"
        kind = calls[n - 1].split()[0]
        code = errno.ENOSPC if kind in ("write", "fsync", "open", "mkdir", "link") else errno.EIO
        assert message is None or f"({os.strerror(code)})" in message, where  # the OS's reason, said
        if n <= swapped:  # staging, commit or swap: all or nothing
            assert message is not None, where
            assert _snapshot(case) == before, where
            assert "nothing was written" in message or "rolled back, the workspace is as it was" in message
            assert "\n" not in message and not (out / STAGE).exists(), where
        else:  # dropping the stage after a complete swap: the workspace is the new one
            got = _snapshot(out)
            assert {k: got[k] for k in reference} == reference, where
            assert message is None or "wrote the workspace" in message, where
        # the next run, without the fault, leaves exactly the new workspace and no stage
        generate(spec, out)
        got = _snapshot(out)
        assert {k: got[k] for k in reference} == reference and not (out / STAGE).exists(), where
        shutil.rmtree(case)


def test_a_failed_roll_back_is_said_and_the_next_generate_restores(tmp_path: Path) -> None:
    calls = _count_calls(tmp_path)
    # Fail the second file's rename into the workspace, and every later call: the roll back fails too.
    renames = [i for i, c in enumerate(calls, 1) if c.startswith("replace") and f"/{STAGE}/new/" in c]
    first_failing = renames[1]
    spec, out, _ = _old_workspace(tmp_path / "case")
    before = _snapshot(out)
    with _faults(out, lambda n: n >= first_failing), pytest.raises(WorkspaceError) as caught:
        generate(spec, out)
    assert "could not roll back" in str(caught.value) and "nothing was written" not in str(caught.value)
    # Both reasons: why the swap stopped, and why putting the old files back failed too.
    assert (
        "cannot write the workspace there (Input/output error) and could not roll back (Input/output error)"
        in str(caught.value)
    )
    assert "run `mlfargate generate` again" in str(caught.value)
    assert (out / STAGE / "journal.json").is_file()
    # A fresh process would find the stage; recover() alone puts the old workspace back exactly.
    assert workspace.recover(out) is not None
    assert _snapshot(out) == before


def test_a_regeneration_flushes_what_it_stages_and_a_new_workspace_flushes_nothing(tmp_path: Path) -> None:
    """Replacing files: every staged file, the journal and the stage directory reach the disk before the
    swap (a power loss after the commit point must find them). A new workspace has nothing to protect."""
    spec, out, _ = _old_workspace(tmp_path / "old")
    with _faults(out, set()) as seen:
        result = generate(spec, out)
    flushed = {c.split(" ", 1)[1] for c in seen if c.startswith("fsync ")}
    staged = {p.split(f"/{STAGE}/new/", 1)[1] for p in flushed if f"/{STAGE}/new/" in p}
    installed = {c.path for c in result.changed if c.status != "removed"}
    assert result.written and "main.tf" in installed and staged == installed | {MANIFEST}
    assert {str(out / STAGE / "journal.json.tmp"), str(out / STAGE)} <= flushed
    fresh_spec, _, _ = _specs(tmp_path / "new")
    with _faults(tmp_path / "new" / "ws", set()) as seen:
        assert generate(fresh_spec, tmp_path / "new" / "ws").written
    assert [c for c in seen if c.startswith("fsync ")] == []
    assert any(c.startswith("write ") for c in seen)  # the calls were seen: there were just no fsyncs


def _fresh(tmp_path: Path, spec_text: str) -> dict[str, bytes | str]:
    """What a clean generate writes for ``spec_text`` (module sources are absolute paths here and in
    every workspace under tmp_path, so the files compare equal)."""
    spec = tmp_path / "reference.yaml"
    spec.write_text(spec_text)
    out = tmp_path / "reference"
    generate(spec, out)
    return _snapshot(out)


# --------------------------------------------------------------------------------------------------
# A real kill between renames


_KILLER = textwrap.dedent(
    """
    import os, signal, sys
    spec, out, when, nth = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    stage = os.path.join(out, {stage!r})
    count = 0
    real_replace, real_write = os.replace, os.write

    def replace(src, dst, *args, **kwargs):
        global count
        real_replace(src, dst, *args, **kwargs)
        # a rename of a staged file into the workspace: die right after the nth one
        if when == "swap" and str(src).startswith(stage + "/new/"):
            count += 1
            if count == nth:
                os.kill(os.getpid(), signal.SIGKILL)

    def write(fd, data):
        global count
        if when == "stage":
            count += 1
            if count == nth:
                os.kill(os.getpid(), signal.SIGKILL)
        return real_write(fd, data)

    os.replace, os.write = replace, write
    from mlfargate.cli import main
    sys.exit(main(["generate", spec, "--out", out]))
    """
).format(stage=STAGE)


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, cwd=cwd, timeout=120, check=False
    )


@pytest.mark.parametrize("nth", [1, 2, 3])
def test_killed_between_renames_the_next_generate_restores_then_regenerates(tmp_path: Path, nth: int) -> None:
    spec, out, new = _old_workspace(tmp_path / "case")
    before = _snapshot(out)
    killer = tmp_path / "killer.py"
    killer.write_text(_KILLER)
    killed = _run(str(killer), str(spec), str(out), "swap", str(nth), cwd=REPO)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert (out / STAGE / "journal.json").is_file()
    now = _snapshot(out)
    swapped = [n for n in before if n in now and now[n] != before[n] and f"{STAGE}/" not in n]
    assert len(swapped) == nth, swapped  # killed with nth files new, the rest still old: a mixed workspace

    finished = _run("-m", "mlfargate.cli", "generate", str(spec), "--out", str(out), cwd=REPO)
    assert finished.returncode == 0, finished.stderr
    assert "note: restored" in finished.stderr and "interrupted" in finished.stderr
    assert not (out / STAGE).exists()
    reference = _fresh(tmp_path, new)
    got = _snapshot(out)
    assert {k: got[k] for k in reference} == reference  # exactly what a clean generate writes
    assert got["terraform.tfstate"] == before["terraform.tfstate"] and "cdktf.json" not in got


def test_killed_while_staging_nothing_had_changed(tmp_path: Path) -> None:
    spec, out, _ = _old_workspace(tmp_path / "case")
    before = _snapshot(out)
    killer = tmp_path / "killer.py"
    killer.write_text(_KILLER)
    killed = _run(str(killer), str(spec), str(out), "stage", "2", cwd=REPO)
    assert killed.returncode == -signal.SIGKILL
    assert (out / STAGE).is_dir() and not (out / STAGE / "journal.json").exists()
    assert {k: v for k, v in _snapshot(out).items() if not k.startswith(STAGE)} == before
    note = workspace.recover(out)
    assert note is not None and "had not changed the workspace" in note
    assert _snapshot(out) == before


def test_check_refuses_an_interrupted_workspace_and_changes_nothing(tmp_path: Path) -> None:
    spec, out, _ = _old_workspace(tmp_path / "case")
    killer = tmp_path / "killer.py"
    killer.write_text(_KILLER)
    assert _run(str(killer), str(spec), str(out), "swap", "1", cwd=REPO).returncode == -signal.SIGKILL
    after_kill = _snapshot(out)
    checked = _run("-m", "mlfargate.cli", "generate", str(spec), "--out", str(out), "--check", cwd=REPO)
    assert checked.returncode == 2 and checked.stderr.count("\n") == 1
    assert "interrupted" in checked.stderr and "without --check" in checked.stderr
    assert _snapshot(out) == after_kill


@pytest.mark.parametrize("command", [("plan",), ("check",), ("apply", "--yes"), ("destroy", "--yes")])
def test_a_workspace_left_mid_swap_is_never_planned_checked_or_applied(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    """Killed after one file was renamed into place: the workspace is half new, half old. Deploying that
    mixture would deploy neither spec: each deploy command refuses it in one line, changes nothing."""
    spec, out, _ = _old_workspace(tmp_path / "case")
    killer = tmp_path / "killer.py"
    killer.write_text(_KILLER)
    assert _run(str(killer), str(spec), str(out), "swap", "1", cwd=REPO).returncode == -signal.SIGKILL
    after_kill = _snapshot(out)
    refused = _run("-m", "mlfargate.cli", command[0], str(out), *command[1:], cwd=tmp_path)
    assert (refused.returncode, refused.stdout) == (2, ""), refused.stderr
    assert refused.stderr == (
        f"error: {out}: an interrupted `mlfargate generate` left {STAGE}/, so some files may be new and "
        "some old; run the same `mlfargate generate` again (it restores the workspace first), then retry\n"
    )
    assert _snapshot(out) == after_kill  # no .terraform/, no saved plan, the stage kept for the restore


def test_a_tampered_journal_is_refused_and_nothing_outside_changes(tmp_path: Path) -> None:
    spec, out, _ = _old_workspace(tmp_path / "case")
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    stage = out / STAGE
    (stage / "old").mkdir(parents=True)
    (stage / "journal.json").write_text(
        json.dumps({"install": {"../../victim.txt": "0" * 64}, "remove": [], "existed": ["../../victim.txt"]})
    )
    before = _snapshot(tmp_path)
    with pytest.raises(WorkspaceError, match="not a file mlfargate writes"):
        generate(spec, out)
    assert _snapshot(tmp_path) == before and victim.read_text() == "keep me\n"


def test_a_second_generate_waits_for_the_first(tmp_path: Path) -> None:
    import fcntl

    spec, out, _ = _old_workspace(tmp_path / "case")
    fd = os.open(out, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        with pytest.raises(WorkspaceError, match="another `mlfargate generate` is writing"):
            generate(spec, out)
    finally:
        os.close(fd)
    assert generate(spec, out).written


def test_a_new_workspace_that_fails_leaves_no_directory(tmp_path: Path) -> None:
    spec, _, _ = _specs(tmp_path)
    out = tmp_path / "a" / "b" / "ws"
    with _faults(tmp_path / "a", {3}), pytest.raises(WorkspaceError, match="nothing was written"):
        generate(spec, out)
    assert not (tmp_path / "a").exists()


# --------------------------------------------------------------------------------------------------
# Where a workspace may be written


def test_filesystem_root_is_refused(tmp_path: Path) -> None:
    # --check: before the fix the same command read / as a workspace (and without --check wrote 8 files)
    spec, _, _ = _specs(tmp_path)
    result = _run("-m", "mlfargate.cli", "generate", str(spec), "--out", "/", "--check", cwd=tmp_path)
    assert result.returncode == 2, result.stdout
    assert result.stderr.startswith("error: /: is the filesystem root") and result.stderr.count("\n") == 1
    assert workspace.target_problem(Path("/")) is not None
    # In-process too: "/" has no parent to look for a file in the way; the target check still answers.
    with pytest.raises(WorkspaceError) as refused:
        generate(spec, Path("/"), Options(check_only=True))
    assert str(refused.value).startswith(
        "/: is the filesystem root; write the workspace into its own directory"
    )
    assert workspace.target_problem(Path("/tmp/..")) is not None


def test_home_directory_itself_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    spec, _, _ = _specs(tmp_path)
    with pytest.raises(WorkspaceError, match="is your home directory itself"):
        generate(spec, home)
    assert list(home.iterdir()) == []
    assert generate(spec, home / "deployments" / "dev").written  # a directory under it is fine


@pytest.mark.parametrize(
    "target", ["modules", "modules/ecr", "mlfargate", "tui", "service", "cdktf_app", "tests/x"]
)
def test_checkout_source_folders_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, target: str
) -> None:
    fake = tmp_path / "checkout"
    for folder in ("modules/ecr", "mlfargate", "tui", "service", "cdktf_app", "tests"):
        (fake / folder).mkdir(parents=True)
    (fake / "modules/ecr/main.tf").write_text("# a module's own source\n")
    monkeypatch.setattr(workspace, "checkout_root", lambda: fake)
    spec, _, _ = _specs(tmp_path)
    before = _snapshot(fake)
    with pytest.raises(WorkspaceError, match=r"checkout's \w+/ folder"):
        generate(spec, fake / target, Options(force=True))
    assert _snapshot(fake) == before
    for refused in (fake, fake / "environments"):
        with pytest.raises(WorkspaceError):
            generate(spec, refused)
    assert generate(spec, fake / "environments" / "dev").written


def test_the_real_checkout_refuses_its_module_library(tmp_path: Path) -> None:
    spec, _, _ = _specs(tmp_path)
    for target in ("modules", "modules/ecr", "mlfargate", "tests/generator"):
        result = _run("-m", "mlfargate.cli", "generate", str(spec), "--out", target, "--check", cwd=REPO)
        assert result.returncode == 2 and "mlfargate's own sources" in result.stderr, (target, result)


def test_a_stray_terraform_file_is_refused_by_name_unless_forced(tmp_path: Path) -> None:
    spec, _, _ = _specs(tmp_path)
    out = tmp_path / "ws"
    generate(spec, out)
    (out / "backdoor.tf").write_text('resource "terraform_data" "x" {}\n')
    (out / "extra.auto.tfvars").write_text('aws_region = "eu-west-1"\n')
    (out / "notes.md").write_text("not Terraform\n")
    spec.write_text(spec.read_text().replace("max_tasks: 3", "max_tasks: 4"))
    before = _snapshot(out)
    for check_only in (False, True):
        with pytest.raises(WorkspaceError) as caught:
            generate(spec, out, Options(check_only=check_only))
        assert "backdoor.tf, extra.auto.tfvars are not written by mlfargate" in str(caught.value)
        assert "--force" in str(caught.value) and "notes.md" not in str(caught.value)
        assert _snapshot(out) == before
    assert generate(spec, out, Options(force=True)).written
    assert (out / "backdoor.tf").exists()  # --force keeps it, knowingly


def test_a_stray_file_in_a_new_directory_is_refused_too(tmp_path: Path) -> None:
    spec, _, _ = _specs(tmp_path)
    out = tmp_path / "ws"
    out.mkdir()
    (out / "override.tf").write_text("")
    with pytest.raises(WorkspaceError, match=r"override\.tf is not written by mlfargate"):
        generate(spec, out)
    assert [p.name for p in out.iterdir()] == ["override.tf"]


# --------------------------------------------------------------------------------------------------
# cdktf.json's app command through a real shell


def test_cdktf_app_command_quotes_every_argument(tmp_path: Path) -> None:
    hostile = "https://example.com/x.git; touch PWNED; echo $(touch PWNED2) `touch PWNED3` 'q\" &"
    options = Options(
        format="cdktf", modules_source="git", modules_ref="v1.0.0", modules_repo=hostile, backend_bucket="b-1"
    )
    app = json.loads(cdktf.cdktf_json(options))["app"]
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "python"  # what cdktn's shell finds as `python`: records its arguments
    fake.write_text('#!/bin/sh\nfor a in "$@"; do printf "%s\\0" "$a"; done > argv\n')
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    # cdktn runs "app" with a shell (spawn with shell: true, terraform-cdk's synth-stack.ts)
    subprocess.run(["/bin/sh", "-c", app], cwd=tmp_path, env={"PATH": f"{bin_dir}:/usr/bin:/bin"}, check=True)
    argv = (tmp_path / "argv").read_bytes().split(b"\0")[:-1]
    assert [a.decode() for a in argv] == ["-m", "cdktf_app", *cdktf.cdktf_app_args(options)]
    assert "--modules-repo" in app and hostile in shlex.split(app)
    assert not list(tmp_path.glob("PWNED*"))


# --------------------------------------------------------------------------------------------------
# .gitignore


def test_workspace_gitignore_keeps_plans_state_and_downloads_out_and_the_lock_file_in(tmp_path: Path) -> None:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    repo = tmp_path / "repo"
    spec, _, _ = _specs(tmp_path)
    out = repo / "environments" / "dev"
    result = generate(spec, out)
    assert GITIGNORE in {c.path for c in result.changes}
    for name in (
        ".mlfargate/tfplan",
        ".mlfargate/plan.json",
        ".terraform/providers/registry.terraform.io/hashicorp/aws/x",
        ".terraform/modules/modules.json",
        "terraform.tfstate",
        "terraform.tfstate.backup",
        ".terraform.lock.hcl",
        "cdktf.out/stacks/x/cdk.tf.json",
        "cdktf.out/stacks/x/.terraform.lock.hcl",
    ):
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_text("x\n")
    git = ["git", "-c", "init.defaultBranch=main", "-C", str(repo)]
    subprocess.run([*git, "init", "-q"], check=True)
    status = subprocess.run(
        [*git, "status", "--porcelain", "--untracked-files=all"], capture_output=True, text=True, check=True
    ).stdout
    untracked = sorted(line[3:] for line in status.splitlines())
    expected = sorted(
        f"environments/dev/{name}"
        for name in [
            *render_files(spec, out, Options())[0],
            MANIFEST,
            ".terraform.lock.hcl",
            "cdktf.out/stacks/x/.terraform.lock.hcl",
        ]
    )
    assert untracked == expected


def test_committed_environments_ignore_their_plans() -> None:
    for name in ("dev", "prod"):
        text = (REPO / "environments" / name / GITIGNORE).read_text()
        assert text == workspace.GITIGNORE_TEXT


def test_a_tampered_manifest_is_refused_before_a_leftover_stage_is_restored(tmp_path: Path) -> None:
    """Recovery writes files; a tampered manifest must stop generate before that, so that its
    "nothing was written, removed or shown" stays true."""
    spec, out, _ = _old_workspace(tmp_path / "case")
    killer = tmp_path / "killer.py"
    killer.write_text(_KILLER)
    assert _run(str(killer), str(spec), str(out), "swap", "2", cwd=REPO).returncode == -signal.SIGKILL
    manifest = json.loads((out / MANIFEST).read_text())
    manifest["files"]["../victim.txt"] = "0" * 64
    (out / MANIFEST).write_text(json.dumps(manifest))
    before = _snapshot(tmp_path)
    with pytest.raises(WorkspaceError, match="nothing was written, removed or shown"):
        generate(spec, out)
    assert _snapshot(tmp_path) == before
