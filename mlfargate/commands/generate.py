"""``mlfargate generate SPEC --out DIR``: a Terraform workspace (HCL, or a CDK Terrain app) from a spec.

A new workspace is listed file by file with sizes (``--diff`` shows its content as a diff); regenerating
shows a unified diff of every changed file and refuses to overwrite files the operator edited unless
``--force``; ``--check`` only reports (exit 1 when the workspace is out of date). A
regeneration is all or nothing, and one interrupted earlier is restored first (a ``note:`` says so).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from mlfargate.commands._common import Subparsers, emit_json, err, examples, out
from mlfargate.generate.model import Options, WorkspaceError
from mlfargate.generate.sources import DEFAULT_MODULES_REPO, MODULES_REPO_ENV
from mlfargate.generate.workspace import GenerateResult, WorkspaceConflictError, generate
from mlfargate.spec.model import DEFAULT_FILE


def _print_diffs(result: GenerateResult) -> None:
    for change in result.changed:
        if change.diff:
            out(change.diff.rstrip("\n"))


def _print_new_files(result: GenerateResult) -> None:
    """A new workspace: its files with their sizes (the diff of a file that did not exist is the whole
    file: hundreds of ``+`` lines before the line that matters)."""
    sizes = [f"{c.size:,} bytes" for c in result.changed]
    path_width = max(len(c.path) for c in result.changed)
    size_width = max(len(size) for size in sizes)
    out("new files:" if result.written else "would write:")
    for change, size in zip(result.changed, sizes, strict=True):
        out(f"  {change.path.ljust(path_width)}  {size.rjust(size_width)}")


def _print_changes(result: GenerateResult, diff: bool) -> None:
    """What generate changed (or would): the diff on regeneration or with --diff, else for a new
    workspace the list of its files."""
    if result.new and not diff:
        _print_new_files(result)
    else:
        _print_diffs(result)


def _summary(result: GenerateResult, check: bool) -> str:
    changed = result.changed
    if not changed:
        return f"{result.out_dir}: up to date ({len(result.changes)} files)"
    counts = {s: sum(1 for c in changed if c.status == s) for s in ("added", "changed", "removed")}
    what = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    if check:
        return f"{result.out_dir}: out of date ({what}); run mlfargate generate to update it"
    return f"{result.out_dir}: wrote {result.format} workspace ({what})"


def run(args: argparse.Namespace) -> int:
    options = Options(
        format=args.format,
        modules_source=args.modules_source,
        modules_ref=args.modules_ref,
        modules_repo=args.modules_repo,
        backend_bucket=args.backend_bucket,
        force=args.force,
        check_only=args.check,
    )
    if not args.out.strip():
        raise WorkspaceError("--out is empty; name the workspace directory to write, e.g. environments/prod")
    try:
        result = generate(Path(args.spec), Path(args.out), options)
    except WorkspaceConflictError as conflict:
        if args.json:
            emit_json({**conflict.result.to_dict(), "error": str(conflict), "edited": conflict.edited})
        else:
            _print_diffs(conflict.result)
        raise
    if args.json:
        emit_json(result.to_dict())
    else:
        _print_changes(result, args.diff)
        out(_summary(result, args.check))
        for note in result.notes:
            err(f"note: {note}")
    return 1 if args.check and result.changed else 0


def register(sub: Subparsers) -> None:
    p = sub.add_parser(
        "generate",
        help="write a Terraform workspace (HCL or CDK Terrain) that wires modules/ from a spec",
        description="Render a Terraform root workspace from a spec: versions/providers/main/variables/"
        "outputs/terraform.tfvars and a copy of the spec (--format hcl), or a CDK Terrain app and its "
        "synthesized cdk.tf.json (--format cdktf).",
        epilog=examples(
            "mlfargate generate mine.yaml --out environments/mine",
            "mlfargate generate mine.yaml --out environments/mine --diff",
            "mlfargate generate mine.yaml --out environments/mine --check",
            "mlfargate generate mine.yaml --out build/cdk --format cdktf",
        ),
    )
    p.add_argument("spec", nargs="?", default=DEFAULT_FILE, help=f"spec file (default {DEFAULT_FILE})")
    p.add_argument("--out", required=True, help="workspace directory, e.g. environments/prod")
    p.add_argument("--format", choices=("hcl", "cdktf"), default="hcl", help="output format (default hcl)")
    p.add_argument(
        "--modules-source",
        choices=("local", "git"),
        default="local",
        help="local: relative paths to this checkout's modules/ (default); git: a pinned git source",
    )
    p.add_argument("--modules-ref", help="tag or commit for --modules-source git ({module} = module name)")
    p.add_argument(
        "--modules-repo",
        help=f"git URL of the modules repository (default ${MODULES_REPO_ENV} or {DEFAULT_MODULES_REPO})",
    )
    p.add_argument("--backend-bucket", help="S3 bucket for the state (without it the backend is commented)")
    p.add_argument(
        "--force",
        action="store_true",
        help="overwrite files edited since they were generated; keep *.tf files mlfargate did not write",
    )
    p.add_argument("--check", action="store_true", help="write nothing; exit 1 when the workspace differs")
    p.add_argument(
        "--diff",
        action="store_true",
        help="show the diff of a new workspace's files too (a regeneration always shows its diff)",
    )
    p.add_argument("--json", action="store_true", help="print a JSON object (with the diffs)")
    p.set_defaults(handler=run)
