"""``mlfargate doctor``: which Terraform engine and version will run, and the provider mirror setup."""

from __future__ import annotations

import argparse
import os
from importlib import metadata
from pathlib import Path

from mlfargate.commands._common import Subparsers, add_engine_args, emit_json, engine_from, out


def register(sub: Subparsers) -> None:
    p = sub.add_parser(
        "doctor",
        help="show the Terraform engine, its version and the provider mirror setup",
        description="Show which Terraform engine mlfargate will run (and why), its version, the "
        "provider mirror (--plugin-dir, CLI config filesystem_mirror) and the checkov version.",
    )
    add_engine_args(p)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from mlfargate.terraform.engine import cli_config_mirrors

    engine = engine_from(args)
    version = engine.version()
    cfg = engine.cli_config or (
        Path(os.environ["TF_CLI_CONFIG_FILE"]) if os.environ.get("TF_CLI_CONFIG_FILE") else None
    )
    mirrors = cli_config_mirrors(cfg)
    data: dict[str, object] = {
        "engine": engine.kind,
        "name": engine.name,
        "path": engine.path,
        "chosen_by": engine.source,
        "version": version,
        "plugin_dir": str(engine.plugin_dir) if engine.plugin_dir else None,
        "cli_config": str(cfg) if cfg else None,
        "filesystem_mirrors": mirrors,
        "checkov": metadata.version("checkov"),
    }
    if args.json:
        emit_json(data)
        return 0
    out(f"terraform engine: {engine.describe()} (chosen by {engine.source}), version {version}")
    out(f"provider plugin dir: {data['plugin_dir'] or 'none (providers come from the registry or a mirror)'}")
    out(f"CLI config: {data['cli_config'] or 'none'}; filesystem mirrors: {', '.join(mirrors) or 'none'}")
    out(f"policy gate: checkov {data['checkov']} (in-process)")
    return 0
