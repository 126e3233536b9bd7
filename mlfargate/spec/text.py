"""The spec as text: the default file name, the commented example, and YAML parsing whose errors are
one line with line/column. No pydantic here, so a front-end can read and show a spec's text before
the model (:mod:`mlfargate.spec.model`, which re-exports these names) has loaded."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from mlfargate.errors import InputFileError

DEFAULT_FILE = "mlfargate.yaml"


def example_text() -> str:
    """The commented example spec ``mlfargate init`` writes (package data)."""
    return resources.files("mlfargate.data").joinpath("example-spec.yaml").read_text(encoding="utf-8")


def load_data(text: str) -> Any:
    """Parse a package data file (catalog, prices): libyaml's C loader when PyYAML was built with it
    (five to ten times faster, the same result), else the pure-Python one. Not for operators' files:
    their syntax errors are reported by :func:`parse_yaml`."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(text, Loader=loader)


def read_yaml(path: Path) -> Any:
    """Read a YAML file; a missing file or a syntax error is one line with line/column."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputFileError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputFileError(f"{path}: is a directory, expected a YAML file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputFileError(f"{path}: cannot read: {exc}") from None
    return parse_yaml(text, str(path))


def parse_yaml(text: str, where: str) -> Any:
    """Parse YAML text; a syntax error is one line naming ``where`` (a file, an editor) with line/column."""
    try:
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        at = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown position"
        raise InputFileError(f"{where}: invalid YAML at {at}: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise InputFileError(f"{where}: invalid YAML: {exc}") from None
