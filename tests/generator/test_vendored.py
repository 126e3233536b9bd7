"""Workspaces that work on another machine (issue #16): outside the checkout a workspace calls copies
of its modules vendored into ``<workspace>/modules/<name>/``, never a path of this machine.

Regression: generated outside the checkout, module sources were absolute paths of this machine
(``source = "/home/.../modules/network"``) and the gate's findings showed ``../../../home/...`` paths.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from mlfargate.generate import workspace
from mlfargate.generate.model import Options, WorkspaceError
from mlfargate.generate.sources import module_version
from mlfargate.generate.workspace import MANIFEST, WorkspaceConflictError, generate
from mlfargate.policy import gate
from tests.generator.conftest import REPO

GPU = REPO / "examples" / "gpu-ec2-spot-schedules.yaml"  # calls gpu-capacity too
CPU = REPO / "examples" / "cpu-fargate-spot.yaml"


def machine_paths(tmp_path: Path) -> list[str]:
    """Paths of this machine a workspace must never hold: the checkout, the home directory and the
    temporary directory it was generated in (each as given and resolved)."""
    paths = {REPO, Path.home(), tmp_path}
    return sorted({str(p) for p in paths} | {os.path.realpath(p) for p in paths} - {"/"})


def leaks(directory: Path, tmp_path: Path) -> list[str]:
    found = []
    for file in sorted(p for p in directory.rglob("*") if p.is_file()):
        text = file.read_text(encoding="utf-8", errors="replace")
        found += [
            f"{file.relative_to(directory)}: {path}" for path in machine_paths(tmp_path) if path in text
        ]
    return found


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["hcl", "cdktf"])
def test_no_generated_file_holds_a_path_of_this_machine(tmp_path: Path, fmt: str) -> None:
    out = tmp_path / "ws"
    generate(GPU, out, Options(format=fmt))  # type: ignore[arg-type]
    root = out if fmt == "hcl" else next(out.glob("cdktf.out/stacks/*"))
    report = gate.scan_directory(out) if fmt == "hcl" else None
    if fmt == "cdktf":
        from mlfargate import flow

        report = flow.gate(flow.resolve_workspace(out)).reports[0]  # writes the HCL twin: grepped too
    assert report is not None and report.ok, report
    assert leaks(out, tmp_path) == []
    if fmt == "cdktf":
        sources = [m["source"] for m in json.loads((root / "cdk.tf.json").read_text())["module"].values()]
    else:
        sources = re.findall(r'^  source\s*=\s*"([^"]+)"', (out / "main.tf").read_text(), re.MULTILINE)
    prefix = "./modules/" if fmt == "hcl" else "../../../modules/"
    assert sources and all(s.startswith(prefix) for s in sources), sources
    for source in sources:
        assert (root / source).resolve().parent == (out / "modules").resolve()
    # The gate's findings and waivers name files inside the workspace.
    locations = [w.file for w in report.waived] + [f.file for f in report.failed]
    assert any("modules/alb/main.tf" in loc for loc in locations)
    within = out if fmt == "hcl" else report_root(out)
    assert all((within / loc).resolve().is_relative_to(out.resolve()) for loc in locations), locations
    assert not any(path in loc for loc in locations for path in machine_paths(tmp_path))


def report_root(out: Path) -> Path:
    """Where a CDK Terrain workspace's gate reports its files from: the HCL twin."""
    return next(out.glob("cdktf.out/hcl/*"))


def test_vendored_modules_and_their_versions_are_recorded(tmp_path: Path) -> None:
    out = tmp_path / "ws"
    generate(GPU, out)
    manifest = json.loads((out / MANIFEST).read_text())
    called = sorted(p.name for p in (out / "modules").iterdir())
    assert "gpu-capacity" in called and "examples" not in called
    assert manifest["modules"] == {m: module_version(REPO / "modules" / m) for m in called}
    assert all(manifest["modules"].values())
    for module in called:
        for file in (REPO / "modules" / module).glob("*.tf"):
            assert (out / "modules" / module / file.name).read_text() == file.read_text()
            assert f"modules/{module}/{file.name}" in manifest["files"]


def _as_an_older_release(out: Path, module: str) -> None:
    """Make the vendored copy of ``module`` what an older mlfargate wrote: another main.tf and version,
    recorded in the manifest (so it is not an operator's edit)."""
    manifest = json.loads((out / MANIFEST).read_text())
    for name, text in (
        ("main.tf", f"# module {module} as release 1.9.0 shipped it\n"),
        ("CHANGELOG.md", "# Changelog\n\n## [1.9.0] - 2026-01-01\n"),
    ):
        (out / "modules" / module / name).write_text(text)
        manifest["files"][f"modules/{module}/{name}"] = workspace.sha256(text)
    manifest["modules"][module] = "1.9.0"
    (out / MANIFEST).write_text(json.dumps(manifest))


def test_regenerating_updates_vendored_modules_and_removes_stale_ones(tmp_path: Path) -> None:
    out = tmp_path / "ws"
    generate(GPU, out)
    _as_an_older_release(out, "alb")
    result = generate(GPU, out)
    changed = {c.path for c in result.changed}
    assert changed == {"modules/alb/main.tf", "modules/alb/CHANGELOG.md"}
    assert (out / "modules/alb/main.tf").read_text() == (REPO / "modules/alb/main.tf").read_text()
    current = module_version(REPO / "modules" / "alb")
    assert json.loads((out / MANIFEST).read_text())["modules"]["alb"] == current != "1.9.0"

    # A CPU spec calls no gpu-capacity: its vendored copy goes, directory and all.
    spec = tmp_path / "spec.yaml"
    spec.write_text(CPU.read_text())
    result = generate(spec, out)
    assert {c.path for c in result.changed if c.status == "removed"} == {
        f"modules/gpu-capacity/{p.name}" for p in (REPO / "modules/gpu-capacity").iterdir() if p.is_file()
    }
    assert not (out / "modules" / "gpu-capacity").exists()
    assert "gpu-capacity" not in json.loads((out / MANIFEST).read_text())["modules"]


def test_an_edited_vendored_module_is_not_overwritten_without_force(tmp_path: Path) -> None:
    out = tmp_path / "ws"
    generate(GPU, out)
    main_tf = out / "modules" / "alb" / "main.tf"
    main_tf.write_text(main_tf.read_text() + "\n# my hand edit\n")
    _as_an_older_release(out, "network")  # a regeneration that has something to write
    with pytest.raises(
        WorkspaceConflictError, match=r"modules/alb/main\.tf changed since mlfargate generated"
    ):
        generate(GPU, out)
    assert main_tf.read_text().endswith("# my hand edit\n")
    assert generate(GPU, out, Options(force=True)).written
    assert main_tf.read_text() == (REPO / "modules/alb/main.tf").read_text()


def test_a_stray_file_in_a_vendored_module_is_refused_by_name(tmp_path: Path) -> None:
    out = tmp_path / "ws"
    generate(GPU, out)
    (out / "modules" / "alb" / "extra.tf").write_text('resource "terraform_data" "x" {}\n')
    with pytest.raises(WorkspaceError, match=r"modules/alb/extra\.tf is not written by mlfargate"):
        generate(GPU, out)


@pytest.mark.parametrize(
    "entry", ["modules/alb/../../outside.tf", "modules/../main.tf", "modules/alb/sub/x.tf", "modules/.x/y.tf"]
)
def test_a_manifest_naming_files_outside_the_vendored_modules_is_refused(tmp_path: Path, entry: str) -> None:
    out = tmp_path / "ws"
    generate(GPU, out)
    manifest = json.loads((out / MANIFEST).read_text())
    manifest["files"][entry] = "0" * 64
    (out / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(WorkspaceError, match="not a file mlfargate writes"):
        generate(GPU, out)


def test_git_sources_vendor_nothing(tmp_path: Path) -> None:
    out = tmp_path / "ws"
    generate(CPU, out, Options(modules_source="git", modules_ref="v1.0.0"))
    assert not (out / "modules").exists()
    assert "modules" not in json.loads((out / MANIFEST).read_text())
    assert "git::https://" in (out / "main.tf").read_text()
