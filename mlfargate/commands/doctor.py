"""``mlfargate doctor``: which Terraform engine and version will run, and the provider mirror setup.

``mlfargate doctor SPEC``: the deployed service's failure patterns turned into advice with evidence
(:mod:`mlfargate.live.doctor`), plus the engine that will run. Exit 0 when nothing is wrong, 1 when
there is advice or an unrecognised failure."""

from __future__ import annotations

import argparse
import os
from importlib import metadata
from pathlib import Path

from mlfargate.commands._common import (
    Subparsers,
    add_engine_args,
    add_live_args,
    emit_json,
    engine_from,
    examples,
    live_watcher,
    out,
)


def register(sub: Subparsers) -> None:
    p = sub.add_parser(
        "doctor",
        help="show the Terraform engine and provider mirror setup; with SPEC, diagnose the deployed service",
        description="Without SPEC: show which Terraform engine mlfargate will run (and why), its version, the "
        "provider mirror (--plugin-dir, CLI config filesystem_mirror) and the checkov version. With SPEC: "
        "read the deployed service (like `mlfargate status`) and turn failure patterns into advice, each with "
        "the evidence it matched; unknown failures are shown raw. Exit 1 when there is something to fix.",
        epilog=examples("mlfargate doctor", "mlfargate doctor mine.yaml", "mlfargate doctor --json"),
    )
    p.add_argument("spec", nargs="?", help="spec file of a deployed service (omit to report the engine only)")
    add_engine_args(p)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    add_live_args(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.spec is not None:
        return run_spec(args)
    from mlfargate.errors import MlfargateError

    for flag in ("endpoint_url", "cluster", "service"):
        if getattr(args, flag) is not None:
            raise MlfargateError(
                f"--{flag.replace('_', '-')} needs SPEC: `mlfargate doctor SPEC --{flag.replace('_', '-')} ...`"
            )
    from mlfargate.terraform.engine import cli_config_mirrors

    engine = engine_from(args)
    version = engine.version()
    cfg, cfg_from = _cli_config(engine.cli_config)
    mirrors = cli_config_mirrors(cfg)
    warnings: list[str] = []
    if cfg is not None and not cfg.is_file():
        warnings.append(
            f"{cfg} (from {cfg_from}) is missing: Terraform warns about it on every command; create it or "
            f"unset {cfg_from}"
        )
    data: dict[str, object] = {
        "engine": engine.kind,
        "name": engine.name,
        "path": engine.path,
        "chosen_by": engine.source,
        "version": version,
        "plugin_dir": str(engine.plugin_dir) if engine.plugin_dir else None,
        "cli_config": str(cfg) if cfg else None,
        "cli_config_from": cfg_from,
        "cli_config_exists": cfg.is_file() if cfg else None,
        "filesystem_mirrors": mirrors,
        "checkov": metadata.version("checkov"),
        "warnings": warnings,
    }
    if args.json:
        emit_json(data)
        return 0
    out(f"terraform engine: {engine.describe()} (chosen by {engine.source}), version {version}")
    out(f"provider plugin dir: {data['plugin_dir'] or 'none (providers come from the registry or a mirror)'}")
    config = warnings[0] if warnings else str(cfg) if cfg else "none"
    out(f"CLI config: {config}; filesystem mirrors: {', '.join(mirrors) or 'none'}")
    out(f"policy gate: checkov {data['checkov']} (in-process)")
    return 0


def _cli_config(given: Path | None) -> tuple[Path | None, str | None]:
    """The CLI config Terraform will read and what names it: --cli-config, TF_CLI_CONFIG_FILE, the
    legacy TERRAFORM_CONFIG, then ~/.terraformrc; (None, None) when there is none (mlfargate then runs
    Terraform with an empty one). A file named by the environment may not exist."""
    if given is not None:
        return given, "--cli-config"
    for name in ("TF_CLI_CONFIG_FILE", "TERRAFORM_CONFIG"):
        if os.environ.get(name):
            return Path(os.environ[name]), name
    home = Path.home() / ".terraformrc"
    return (home, "~/.terraformrc") if home.is_file() else (None, None)


def run_spec(args: argparse.Namespace) -> int:
    from mlfargate.live import doctor, text
    from mlfargate.live.collect import NotDeployedError
    from mlfargate.spec.rules import load_valid
    from mlfargate.terraform.engine import EngineError

    spec = load_valid(Path(args.spec))
    engine_note = engine_problem = None
    try:
        engine = engine_from(args)
        engine_note = f"{engine.describe()} (chosen by {engine.source}), version {engine.version()}"
    except EngineError as exc:
        engine_problem = str(exc)
    watcher = live_watcher(spec, args)
    try:
        snap = watcher.refresh()
    except NotDeployedError as exc:
        diagnosis = doctor.not_deployed(spec, str(exc), exc.what, engine_note=engine_note)
    else:
        diagnosis = doctor.diagnose(snap, spec, engine_note=engine_note, engine_problem=engine_problem)
    if args.json:
        emit_json(diagnosis.to_dict())
    else:
        for line in text.doctor_lines(diagnosis):
            out(line)
    return 0 if diagnosis.healthy else 1
