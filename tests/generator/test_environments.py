"""environments/ never drifts from the generator: regenerating each one from the spec beside it
changes nothing (same options as documented in docs/generator.md)."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from mlfargate.generate.workspace import MANIFEST, Options, generate
from tests.generator.conftest import ENVIRONMENTS

#: How each committed environment is generated (docs/generator.md lists the same commands).
OPTIONS = {"dev": Options(), "prod": Options()}


@pytest.mark.parametrize("name", sorted(ENVIRONMENTS))
def test_environment_matches_the_generator(name: str) -> None:
    directory = ENVIRONMENTS[name]
    options = dataclasses.replace(OPTIONS[name], check_only=True)
    result = generate(directory / "mlfargate.yaml", directory, options)
    drift = "\n".join(c.diff or f"{c.path}: {c.status}" for c in result.changed)
    assert not result.changed, (
        f"environments/{name} differs from the generator; run "
        f"`mlfargate generate environments/{name}/mlfargate.yaml --out environments/{name}`:\n{drift}"
    )
    assert (directory / MANIFEST).is_file()


def test_drift_is_detected(tmp_path: Path) -> None:
    env = tmp_path / "environments" / "dev"
    shutil.copytree(ENVIRONMENTS["dev"], env)
    (env / "variables.tf").write_text((env / "variables.tf").read_text() + "\n# drift\n")
    result = generate(env / "mlfargate.yaml", env, Options(check_only=True))
    changed = {c.path: c for c in result.changed}
    # (main.tf changes too: outside the repo its module sources become absolute paths.)
    assert "variables.tf" in changed and "-# drift" in changed["variables.tf"].diff
    assert changed["variables.tf"].edited
