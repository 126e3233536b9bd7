"""Module READMEs carry generated Inputs/Outputs tables that cannot drift from the .tf files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.terraform.conftest import MODULE_NAMES, MODULES, REPO, replace_in

SCRIPT = REPO / "scripts" / "module_docs.py"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, check=False)


def test_readmes_are_current() -> None:
    result = _run("--check")
    assert result.returncode == 0, result.stderr


def test_every_module_has_its_files_and_an_example_call() -> None:
    for name in MODULE_NAMES:
        folder = MODULES / name
        for file in ("main.tf", "variables.tf", "outputs.tf", "versions.tf", "README.md", "CHANGELOG.md"):
            assert (folder / file).is_file(), f"{name}/{file}"
        readme = (folder / "README.md").read_text()
        assert "## Inputs" in readme and "## Outputs" in readme
        assert f"//modules/{name}?ref=modules/{name}/v" in readme
        assert "`name`" in readme and "`tags`" in readme


def test_check_fails_on_drift_and_rewrite_fixes_it(modules_copy: Path) -> None:
    replace_in(
        modules_copy / "ecr" / "variables.tf",
        "Lifecycle policy: number of tagged images to keep.",
        "How many tagged images stay.",
    )
    stale = _run("--check", "--modules", str(modules_copy))
    assert stale.returncode == 1 and "ecr/README.md" in stale.stderr
    assert _run("--modules", str(modules_copy)).returncode == 0
    assert "How many tagged images stay." in (modules_copy / "ecr" / "README.md").read_text()
    assert _run("--check", "--modules", str(modules_copy)).returncode == 0


def test_the_readme_pins_the_newest_release_of_the_changelog(modules_copy: Path) -> None:
    changelog = modules_copy / "ecr" / "CHANGELOG.md"
    changelog.write_text(
        changelog.read_text().replace(
            "## [1.0.0]", "## [1.1.0] - 2026-11-27\n### Added\n- Something.\n\n## [1.0.0]", 1
        )
    )
    stale = _run("--check", "--modules", str(modules_copy))
    assert stale.returncode == 1 and "ecr/README.md" in stale.stderr
    assert _run("--modules", str(modules_copy)).returncode == 0
    assert "?ref=modules/ecr/v1.1.0" in (modules_copy / "ecr" / "README.md").read_text()
