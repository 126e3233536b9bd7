"""mlfargate installed from its wheel, not run from the checkout (issue #16): build the sdist and the
wheel (the wheel from the sdist, as ``uv build`` does), install the wheel with the pinned dependencies
into a fresh virtual environment in a temporary directory, and run init / validate / cost / generate /
check from a directory outside the checkout. The modules, the catalog, the prices and the templates
ship inside the package; nothing reaches back into the checkout.

Offline: the pinned packages come from uv's cache (``make setup`` filled it); only where the cache
lacks one does uv ask the package index.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from mlfargate.generate.sources import module_names

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def _uv() -> str:
    found = Path(sys.executable).parent / "uv"
    if found.is_file():
        return str(found)
    which = shutil.which("uv")
    if which is None:
        pytest.skip("uv is not installed (make setup installs it into .venv)")
    return which


def _run(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False)


def _ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, (
        f"{result.args}: exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    )
    return result.stdout


def test_the_installed_wheel_runs_outside_the_checkout(tmp_path: Path) -> None:
    uv = _uv()
    dist = tmp_path / "dist"
    # The build backend from this environment when it has one (offline); else uv's isolated build.
    isolation = ["--no-build-isolation"] if importlib.util.find_spec("setuptools") else []
    build = [
        uv,
        "build",
        "--offline",
        "--python",
        sys.executable,
        *isolation,
        "--out-dir",
        str(dist),
        str(REPO),
    ]
    _ok(_run(build, cwd=tmp_path))
    (wheel,) = dist.glob("mlfargate-*.whl")

    shipped = set(zipfile.ZipFile(wheel).namelist())
    for module in module_names(REPO / "modules"):
        for file in (REPO / "modules" / module).glob("*.tf"):
            assert f"mlfargate/data/modules/{module}/{file.name}" in shipped
    assert not any("modules/examples" in name for name in shipped)
    for data in ("catalog.yaml", "prices.yaml", "example-spec.yaml", "aws_provider_schema.json.gz"):
        assert f"mlfargate/data/{data}" in shipped
    assert "mlfargate/generate/templates/hcl/main.tf.j2" in shipped and "tui/app.tcss" in shipped

    venv = tmp_path / "venv"
    _ok(_run([uv, "venv", "-q", "--python", sys.executable, str(venv)], cwd=tmp_path))
    install = [uv, "pip", "install", "-q", "--python", str(venv / "bin" / "python")]
    install += ["-r", str(REPO / "requirements.lock"), str(wheel)]
    offline = _run([*install, "--offline"], cwd=tmp_path)
    if offline.returncode != 0:  # a package missing from uv's cache: from the index, pinned the same
        _ok(_run(install, cwd=tmp_path))

    run = tmp_path / "elsewhere"
    run.mkdir()
    env = {
        k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "MLFARGATE_CACHE_DIR")
    }
    env.update(
        PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}", MLFARGATE_CACHE_DIR=str(tmp_path / "cache")
    )
    located = _ok(_run(["python", "-c", "import mlfargate; print(mlfargate.__file__)"], cwd=run, env=env))
    assert Path(located.strip()).is_relative_to(venv), located  # the installed package, not the checkout

    def mlfargate(*args: str) -> str:
        return _ok(_run(["mlfargate", *args], cwd=run, env=env))

    mlfargate("init")
    assert "ok:" in mlfargate("validate", "mlfargate.yaml")
    cost = json.loads(mlfargate("cost", "mlfargate.yaml", "--json"))
    assert cost and "Traceback" not in json.dumps(cost)
    mlfargate("generate", "mlfargate.yaml", "--out", "ws")
    ws = run / "ws"
    assert (ws / "modules" / "network" / "main.tf").is_file()
    assert 'source = "./modules/network"' in (ws / "main.tf").read_text()
    gate = json.loads(mlfargate("check", "ws", "--json"))
    assert gate["ok"] and gate["reports"][0]["passed"] > 100
    assert "modules/alb/main.tf" in {w["file"] for w in gate["reports"][0]["waived"]}

    # Nothing of this machine in the workspace: not the venv, not the checkout, not the temp dir.
    for file in (p for p in ws.rglob("*") if p.is_file()):
        text = file.read_text(encoding="utf-8", errors="replace")
        for path in {str(tmp_path), os.path.realpath(tmp_path), str(REPO), str(venv)}:
            assert path not in text, f"{file.relative_to(ws)} holds {path}"
