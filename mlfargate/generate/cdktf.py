"""The CDK Terrain (``cdktn``) form of a workspace: ``cdktf.json`` and the synthesized ``cdk.tf.json``.

The app (``cdktf_app``) builds its constructs from the same workspace plan as the HCL serializer; it
runs as a child process (``python -m cdktf_app``), the same way ``cdktn synth`` runs it from
cdktf.json, which keeps cdktn and its Node.js runtime out of the CLI process.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import shlex
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from mlfargate.generate.model import (
    CDKTF_OUT,
    CDKTF_TARGET_VERSIONS,
    SPEC_COPY,
    Options,
    WorkspaceError,
    cdktf_stack_dir,
)
from mlfargate.generate.sources import repo_root


def cdktf_app_args(options: Options) -> list[str]:
    """Arguments of ``python -m cdktf_app`` that reproduce ``options`` (also written into cdktf.json)."""
    args = ["--spec", SPEC_COPY]
    if options.modules_source == "git":
        args += ["--modules-source", "git", "--modules-ref", str(options.modules_ref)]
        if options.modules_repo:
            args += ["--modules-repo", options.modules_repo]
    if options.backend_bucket:
        args += ["--backend-bucket", options.backend_bucket]
    return args


def cdktf_json(options: Options) -> str:
    config = {
        "language": "python",
        # cdktn runs "app" through a shell (spawn with shell: true: terraform-cdk's
        # packages/@cdktf/cli-core/src/lib/synth-stack.ts, kept by cdktn): every argument is quoted,
        # so a --modules-repo such as "x; touch y" stays one argument, not a second command at synth.
        "app": shlex.join(["python", "-m", "cdktf_app", *cdktf_app_args(options)]),
        "output": CDKTF_OUT,
        "sendCrashReports": "false",
        "terraformProviders": [],
        "terraformModules": [],
        "targetVersions": CDKTF_TARGET_VERSIONS,
        "context": {},
    }
    return json.dumps(config, indent=2) + "\n"


def synth_cdktf(spec_path: Path, out_dir: Path, options: Options) -> dict[str, str]:
    """Run the CDK Terrain app (``python -m cdktf_app``) in a child process and collect its output.

    A child process keeps cdktn (and its Node.js runtime) out of the CLI process, and is the same
    way ``cdktn synth`` runs the app from cdktf.json.
    """
    if importlib.util.find_spec("cdktn") is None:
        raise WorkspaceError(
            "a CDK Terrain workspace (--format cdktf) needs CDK Terrain to synthesize: "
            "pip install 'mlfargate[cdktf]' (and Node.js)"
        )
    if shutil.which("node") is None:
        raise WorkspaceError(
            "a CDK Terrain workspace (--format cdktf) needs Node.js on PATH to synthesize "
            "(CDK Terrain runs its core in Node)"
        )
    with tempfile.TemporaryDirectory(prefix="mlfargate-synth-") as tmp:
        cmd = [
            sys.executable,
            "-m",
            "cdktf_app",
            *cdktf_app_args(options),
            "--workspace",
            str(out_dir.resolve()),
            "--outdir",
            tmp,
        ]
        cmd[cmd.index("--spec") + 1] = str(spec_path.resolve())
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=repo_root(), check=False, timeout=300)
        if proc.returncode != 0:
            last = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
            raise WorkspaceError(f"CDK Terrain synth failed (exit {proc.returncode}): {last}")
        stacks = sorted(Path(tmp, "stacks").glob("*/cdk.tf.json"))
        if len(stacks) != 1:
            raise WorkspaceError(f"CDK Terrain synth wrote {len(stacks)} stacks; expected exactly one")
        stack = stacks[0]
        rel = f"{cdktf_stack_dir(stack.parent.name)}/cdk.tf.json"
        return {"cdktf.json": cdktf_json(options), rel: stack.read_text(encoding="utf-8")}


# --------------------------------------------------------------------------------------------------
# A CDK Terrain workspace after `generate`: where Terraform runs, synth when needed, the HCL twin

#: Inputs of the synth a CDK Terrain workspace records after ``plan``/``check`` synthesized its stack
#: (``generate`` records them in the manifest): ``cdktf.out/`` is build output, like cdktn's own.
SYNTH_RECORD = f"{CDKTF_OUT}/.mlfargate-synth.json"
#: Where the gate renders a stack's HCL twin: ``cdktf.out/hcl/<stack>``, the same depth as
#: ``cdktf.out/stacks/<stack>``, so relative module sources are the same text in both.
TWIN_DIR = f"{CDKTF_OUT}/hcl"
_MANIFEST = ".mlfargate-manifest.json"  # workspace.MANIFEST (workspace.py imports this module)


@dataclass(frozen=True)
class CdktfWorkspace:
    """A CDK Terrain workspace: ``root`` holds cdktf.json (and mlfargate's spec copy); Terraform runs
    in ``stack_dir`` (``cdktf.out/stacks/<stack>``), which may not be synthesized yet."""

    root: Path
    stack_dir: Path

    @property
    def stack_file(self) -> Path:
        return self.stack_dir / "cdk.tf.json"

    @property
    def spec(self) -> Path:
        return self.root / SPEC_COPY

    @property
    def twin_dir(self) -> Path:
        return self.root / TWIN_DIR / self.stack_dir.name

    def rel(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()


def is_cdktf_workspace(directory: Path) -> bool:
    """A directory holding cdktf.json and no ``.tf``/``.tf.json`` file of its own (Terraform would
    read those: then it is a Terraform root, whatever else is there)."""
    return (
        (directory / "cdktf.json").is_file()
        and not any(directory.glob("*.tf"))
        and not any(directory.glob("*.tf.json"))
    )


def find_workspace(directory: Path) -> CdktfWorkspace | None:
    """The CDK Terrain workspace ``directory`` is (or whose synthesized stack directory it is), or
    None for a plain Terraform root. The stack is named after the spec copy's prefix; without a spec
    copy, the one stack under ``cdktf.out/stacks``."""
    directory = directory.resolve()
    if directory.parent.name == "stacks" and directory.parents[1].name == CDKTF_OUT:
        root = directory.parents[2]
        if is_cdktf_workspace(root):
            return CdktfWorkspace(root, directory)
        return None
    if not is_cdktf_workspace(directory):
        return None
    stacks = directory / CDKTF_OUT / "stacks"
    if (directory / SPEC_COPY).is_file():
        from mlfargate.spec.rules import load_valid

        return CdktfWorkspace(directory, stacks / load_valid(directory / SPEC_COPY).prefix)
    found = sorted(p.parent for p in stacks.glob("*/cdk.tf.json"))
    if len(found) != 1:
        raise WorkspaceError(
            f"{directory}: a CDK Terrain workspace (cdktf.json) with {len(found)} synthesized stacks under "
            f"{CDKTF_OUT}/stacks and no {SPEC_COPY} to say which one to use; give the stack directory"
        )
    return CdktfWorkspace(directory, found[0])


def app_options(ws: CdktfWorkspace) -> Options:
    """The generate options cdktf.json's ``app`` was written with. Only mlfargate's own app
    (``python -m cdktf_app ...``) is synthesized; nothing from the file is ever run as a command."""
    path = ws.root / "cdktf.json"
    try:
        app = json.loads(path.read_text(encoding="utf-8"))["app"]
        argv = shlex.split(app)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise WorkspaceError(
            f'{path}: no readable "app" ({type(exc).__name__}); regenerate the workspace'
        ) from None
    if argv[:3] != ["python", "-m", "cdktf_app"]:
        raise WorkspaceError(
            f'{path}: "app" is not mlfargate\'s (`python -m cdktf_app ...`); synthesize it yourself '
            "(cdktn synth) and give the stack directory"
        )
    flags: dict[str, str] = {}
    rest = argv[3:]
    known = ("--spec", "--modules-source", "--modules-ref", "--modules-repo", "--backend-bucket")
    while rest:
        flag, *rest = rest
        if flag not in known or not rest:
            raise WorkspaceError(f'{path}: "app" has {flag!r}, which mlfargate does not write; regenerate it')
        flags[flag], *rest = rest
    if flags.get("--spec", SPEC_COPY) != SPEC_COPY:
        raise WorkspaceError(
            f'{path}: "app" reads {flags["--spec"]!r}, not the spec copy {SPEC_COPY}; regenerate it'
        )
    source = flags.get("--modules-source", "local")
    if source not in ("local", "git"):
        raise WorkspaceError(f'{path}: "app" has --modules-source {source!r}; regenerate it')
    return Options(
        format="cdktf",
        modules_source="git" if source == "git" else "local",
        modules_ref=flags.get("--modules-ref"),
        modules_repo=flags.get("--modules-repo"),
        backend_bucket=flags.get("--backend-bucket"),
    )


def _sha(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def _current(ws: CdktfWorkspace) -> dict[str, str | None]:
    names = [SPEC_COPY, "cdktf.json", ws.rel(ws.stack_file)]
    return {name: _sha(ws.root / name) for name in names}


def _recorded(path: Path) -> dict[str, object]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    files = data.get("files") if isinstance(data, dict) else None
    return files if isinstance(files, dict) else {}


def synth_reason(ws: CdktfWorkspace) -> str | None:
    """Why the stack must be synthesized before Terraform or the gate reads it, or None when it is
    current: its cdk.tf.json, the spec copy and cdktf.json are what ``generate`` (the manifest) or
    the last synth (:data:`SYNTH_RECORD`) recorded. A stack with no spec copy beside it is used as
    it is (there is nothing to synthesize it from)."""
    if not ws.spec.is_file():
        if not ws.stack_file.is_file():
            raise WorkspaceError(
                f"{ws.root}: no {ws.rel(ws.stack_file)} and no {SPEC_COPY} to synthesize it from; "
                "regenerate the workspace with `mlfargate generate SPEC --out DIR --format cdktf`"
            )
        return None
    if not ws.stack_file.is_file():
        return f"{ws.rel(ws.stack_file)} is missing (cdktf.out/ is build output, not committed)"
    current = _current(ws)
    for record in (ws.root / SYNTH_RECORD, ws.root / _MANIFEST):
        recorded = _recorded(record)
        if all(recorded.get(name) == sha for name, sha in current.items()):
            return None
    return f"{SPEC_COPY}, cdktf.json or {ws.rel(ws.stack_file)} changed since the stack was synthesized"


def synth_workspace(ws: CdktfWorkspace) -> Path:
    """Synthesize the stack from the spec copy as cdktf.json's app does (``python -m cdktf_app``),
    write it (atomically) and record its inputs; the stack file."""
    from mlfargate.files import write_text_atomic

    files = synth_cdktf(ws.spec, ws.root, app_options(ws))
    name = next(n for n in files if n.endswith("/cdk.tf.json"))
    if ws.root / name != ws.stack_file:
        raise WorkspaceError(f"CDK Terrain synth wrote {name}, expected {ws.rel(ws.stack_file)}")
    write_text_atomic(ws.stack_file, files[name], overwrite=True)
    record = {
        "//": "Written by mlfargate after it synthesized the stack: the SHA-256 of its inputs and output.",
        "files": _current(ws),
    }
    write_text_atomic(ws.root / SYNTH_RECORD, json.dumps(record, indent=2) + "\n", overwrite=True)
    return ws.stack_file


@dataclass(frozen=True)
class Twin:
    """The HCL twin of a stack: the directory checkov scans, and every place it differs from the
    stack (empty: identical, what was scanned is what Terraform applies)."""

    directory: Path
    differences: list[str]


def hcl_twin(ws: CdktfWorkspace) -> Twin | None:
    """Render the spec copy as the HCL workspace of the same options into ``cdktf.out/hcl/<stack>``
    and compare it with the stack; None when there is no spec copy to render it from."""
    if not ws.spec.is_file():
        return None
    from mlfargate.generate.equivalence import differences, hcl_config, json_config
    from mlfargate.generate.hcl import render_hcl
    from mlfargate.generate.sources import module_source
    from mlfargate.generate.wiring import plan
    from mlfargate.spec.rules import load_valid

    options = app_options(ws)
    source = module_source(options, ws.root, ws.twin_dir)
    text = ws.spec.read_text(encoding="utf-8")
    files = render_hcl(
        plan(load_valid(ws.spec), source, spec_text=text, backend_bucket=options.backend_bucket)
    )
    shutil.rmtree(ws.twin_dir, ignore_errors=True)
    ws.twin_dir.mkdir(parents=True)
    for name, body in files.items():
        (ws.twin_dir / name).write_text(body, encoding="utf-8")
    try:
        found = differences(hcl_config(ws.twin_dir, ws.root), json_config(ws.stack_file, ws.root))
    except (OSError, ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
        found = [f"(cannot read it as a stack mlfargate writes: {type(exc).__name__}: {exc})"]
    return Twin(ws.twin_dir, found)
