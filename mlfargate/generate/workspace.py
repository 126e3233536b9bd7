"""Generate a workspace directory from a spec: atomic, reviewable, and careful with operators' edits.

* An invalid spec raises before anything is written.
* Files are rendered into a temporary directory beside the target (same file system), checked
  (every ``.tf`` file parses, ``cdk.tf.json`` is JSON), and only then moved into place: a new
  workspace appears with one directory rename; an existing one gets each file replaced by a rename
  (files the generator does not own, such as ``.terraform/`` or a local state file, are left alone).
* ``.mlfargate-manifest.json`` records the SHA-256 of every generated file. When a file on disk no
  longer matches its recorded hash, the operator edited it: regenerating refuses to overwrite it
  (and says which, with the diff) unless ``force`` is set. Files the manifest does not know are
  never overwritten without ``force`` either.
* Every change comes back as a unified diff, so regenerating shows exactly what moves.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from mlfargate import __version__
from mlfargate.errors import InputFileError, MlfargateError
from mlfargate.files import write_text_atomic
from mlfargate.generate.cdktf import synth_cdktf
from mlfargate.generate.hcl import HCL_FILES, render_hcl
from mlfargate.generate.model import SPEC_COPY, Format, Options, WorkspaceError, cdktf_stack_dir
from mlfargate.generate.sources import module_source
from mlfargate.generate.wiring import plan
from mlfargate.spec.rules import load_valid

MANIFEST = ".mlfargate-manifest.json"
Status = Literal["added", "changed", "removed", "unchanged"]


class WorkspaceConflictError(MlfargateError):
    """Regenerating would overwrite files the operator edited (or files mlfargate did not write)."""

    def __init__(self, result: GenerateResult, edited: list[str]) -> None:
        self.result = result
        self.edited = edited
        super().__init__(
            f"{result.out_dir}: {', '.join(edited)} changed since mlfargate generated them; review the diff, "
            "move your change into the spec, then rerun with --force to overwrite"
        )


@dataclass(frozen=True)
class FileChange:
    path: str
    status: Status
    edited: bool  # differs from what mlfargate last wrote (or mlfargate never wrote it)
    diff: str

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "status": self.status, "edited": self.edited, "diff": self.diff}


@dataclass(frozen=True)
class GenerateResult:
    out_dir: Path
    format: Format
    changes: list[FileChange]
    written: bool
    notes: list[str] = field(default_factory=list)

    @property
    def changed(self) -> list[FileChange]:
        return [c for c in self.changes if c.status != "unchanged"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "out_dir": str(self.out_dir),
            "format": self.format,
            "written": self.written,
            "changed": [c.path for c in self.changed],
            "files": [c.to_dict() for c in self.changes],
            "notes": self.notes,
        }


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------------------------------
# Rendering


def read_spec(spec_path: Path) -> str:
    try:
        return spec_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputFileError(f"{spec_path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputFileError(f"{spec_path}: cannot read: {exc}") from None


def render_files(spec_path: Path, out_dir: Path, options: Options) -> tuple[dict[str, str], list[str]]:
    """Validate the spec and render every file of the workspace (nothing is written)."""
    spec = load_valid(spec_path)
    text = read_spec(spec_path)
    if options.format == "hcl":
        ws = plan(
            spec, module_source(options, out_dir), spec_text=text, backend_bucket=options.backend_bucket
        )
        return render_hcl(ws), ws.notes
    stack_dir = out_dir / cdktf_stack_dir(spec.prefix)
    source = module_source(options, stack_dir)
    # The same plan the app will build: bad options fail here, before starting Node.
    notes = plan(spec, source, spec_text=text, backend_bucket=options.backend_bucket).notes
    files = synth_cdktf(spec_path, out_dir, options)
    files[SPEC_COPY] = text
    return files, notes


# --------------------------------------------------------------------------------------------------
# Checks before moving into place


def check_rendered(directory: Path, files: dict[str, str]) -> None:
    """Every .tf file parses as HCL and every .json file as JSON (what reaches the target is readable)."""
    from hcl2.api import loads as hcl_loads  # checkov's bc-python-hcl2, imported when generating

    for name, text in files.items():
        try:
            if name.endswith(".tf") or name.endswith(".tfvars"):
                hcl_loads(text)
            elif name.endswith(".json"):
                json.loads(text)
        except Exception as exc:  # the parsers raise several unrelated exception types
            raise WorkspaceError(
                f"generated {name} does not parse ({type(exc).__name__}: {exc}); nothing written"
            ) from None


# --------------------------------------------------------------------------------------------------
# Generate


#: The synthesized stack of a CDK Terrain workspace (the stack is named after the spec's prefix).
_STACK_FILE = re.compile(r"cdktf\.out/stacks/[a-z0-9][a-z0-9-]{0,62}/cdk\.tf\.json")


def owned_name(name: str) -> bool:
    """Whether ``name`` is a file ``generate`` writes: the only names a manifest may list. Anything
    else (``../x``, an absolute path, a name of the operator's) would let a tampered manifest make
    regeneration delete, overwrite or print a file that is not ours."""
    return name in (*HCL_FILES, SPEC_COPY, "cdktf.json") or bool(_STACK_FILE.fullmatch(name))


def _through_symlink(out_dir: Path, name: str) -> bool:
    """Whether ``out_dir/name`` or a directory between it and ``out_dir`` is a symbolic link."""
    path = out_dir
    for part in name.split("/"):
        path = path / part
        if path.is_symlink():
            return True
    return False


def _untrusted(message: str) -> WorkspaceError:
    return WorkspaceError(f"{message}; nothing was written, removed or shown")


def read_manifest(out_dir: Path) -> dict[str, str] | None:
    """The manifest's ``{file: sha256}``, or None when there is none. Its entries are untrusted: one
    that is not a file mlfargate writes is refused (:class:`WorkspaceError`), before anything is read."""
    path = out_dir / MANIFEST
    if path.is_symlink():
        raise _untrusted(f"{path}: is a symbolic link; remove it and regenerate")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {}  # unreadable: treat every file as the operator's
    files = data.get("files") if isinstance(data, dict) else None
    if not isinstance(files, dict):
        return {}
    for name in files:
        if not owned_name(str(name)):
            shown = json.dumps(str(name))[:80]
            raise _untrusted(
                f"{path}: lists {shown}, which is not a file mlfargate writes (allowed: "
                f"{', '.join((*HCL_FILES, SPEC_COPY, 'cdktf.json'))}, "
                "cdktf.out/stacks/<stack>/cdk.tf.json); remove the entry, or the manifest, and regenerate"
            )
    return {str(k): str(v) for k, v in files.items()}


def manifest_text(files: dict[str, str], options: Options) -> str:
    data = {
        "//": "Written by `mlfargate generate`: SHA-256 of each generated file, to detect hand edits.",
        "generator": f"mlfargate {__version__}",
        "format": options.format,
        "modules_source": options.modules_source,
        "modules_ref": options.modules_ref,
        "files": {name: sha256(files[name]) for name in sorted(files)},
    }
    return json.dumps(data, indent=2) + "\n"


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (FileNotFoundError, NotADirectoryError):
        return None
    except UnicodeDecodeError:
        return ""


def _diff(name: str, old: str | None, new: str | None) -> str:
    return "".join(
        difflib.unified_diff(
            (old or "").splitlines(keepends=True),
            (new or "").splitlines(keepends=True),
            fromfile=f"a/{name}" if old is not None else "/dev/null",
            tofile=f"b/{name}" if new is not None else "/dev/null",
        )
    )


def compare(out_dir: Path, files: dict[str, str], spec_path: Path | None = None) -> list[FileChange]:
    """What regenerating ``out_dir`` with ``files`` would change, and which of those changes lose edits."""
    manifest = read_manifest(out_dir)
    known = manifest or {}
    spec_input = spec_path.resolve() if spec_path else None
    names = sorted(set(files) | set(known))
    linked = [name for name in names if _through_symlink(out_dir, name)]
    if linked:
        raise _untrusted(
            f"{out_dir}: {linked[0]} is (or lies under) a symbolic link; generate writes only plain files "
            "inside the workspace: replace the link with a regular file or remove it"
        )
    changes: list[FileChange] = []
    for name in names:
        new = files.get(name)
        old = _read(out_dir / name)
        if old is None and new is None:
            continue
        if old == new:
            changes.append(FileChange(name, "unchanged", False, ""))
            continue
        is_input = spec_input is not None and (out_dir / name).resolve() == spec_input
        edited = old is not None and not is_input and known.get(name) != sha256(old)
        status: Status = "added" if old is None else "removed" if new is None else "changed"
        changes.append(FileChange(name, status, edited, _diff(name, old, new)))
    return changes


def generate(spec_path: Path, out_dir: Path, options: Options | None = None) -> GenerateResult:
    """Render ``spec_path`` into ``out_dir`` (see the module docstring for the guarantees)."""
    options = options or Options()
    if out_dir.exists() and not out_dir.is_dir():
        raise WorkspaceError(f"{out_dir}: exists and is not a directory")
    blocker = next((p for p in out_dir.parents if p.exists()), None)
    if blocker is not None and not blocker.is_dir():
        raise WorkspaceError(f"{out_dir}: {blocker} is a file, not a directory; choose another --out")
    files, notes = render_files(spec_path, out_dir, options)
    changes = compare(out_dir, files, spec_path)
    result = GenerateResult(out_dir, options.format, changes, written=False, notes=notes)
    if options.check_only:
        return result
    if not result.changed:
        manifest = manifest_text(files, options)
        if _read(out_dir / MANIFEST) != manifest:  # same files, but no (or an old) record of them
            write_text_atomic(out_dir / MANIFEST, manifest, overwrite=True)
        return result
    edited = [c.path for c in result.changed if c.edited]
    if edited and not options.force:
        raise WorkspaceConflictError(result, edited)
    removed = [c.path for c in result.changed if c.status == "removed"]
    try:
        _write(out_dir, files, removed, options)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise WorkspaceError(
            f"{out_dir}: cannot write the workspace there ({reason}); nothing was written"
        ) from None
    return GenerateResult(out_dir, options.format, changes, written=True, notes=notes)


def _write(out_dir: Path, files: dict[str, str], removed: list[str], options: Options) -> None:
    parent = out_dir.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.mlfargate-", dir=parent))
    tmp.chmod(0o755)  # mkdtemp makes it 0700; the workspace directory it becomes is an ordinary one
    try:
        everything = {**files, MANIFEST: manifest_text(files, options)}
        for name, text in everything.items():
            path = tmp / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        check_rendered(tmp, files)
        if not out_dir.exists():
            os.rename(tmp, out_dir)  # the whole workspace appears at once
            return
        for name in [*files, MANIFEST]:  # the manifest last: it vouches for the files before it
            target = out_dir / name
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp / name, target)
        for name in removed:
            (out_dir / name).unlink(missing_ok=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
