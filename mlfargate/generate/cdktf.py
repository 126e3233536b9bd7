"""The CDK Terrain (``cdktn``) form of a workspace: ``cdktf.json`` and the synthesized ``cdk.tf.json``.

The app (``cdktf_app``) builds its constructs from the same workspace plan as the HCL serializer; it
runs as a child process (``python -m cdktf_app``), the same way ``cdktn synth`` runs it from
cdktf.json, which keeps cdktn and its Node.js runtime out of the CLI process.
"""

from __future__ import annotations

import importlib.util
import json
import shlex
import shutil
import subprocess
import sys
import tempfile
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
        raise WorkspaceError("--format cdktf needs CDK Terrain: pip install 'mlfargate[cdktf]' (and Node.js)")
    if shutil.which("node") is None:
        raise WorkspaceError("--format cdktf needs Node.js on PATH (CDK Terrain runs its core in Node)")
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
