"""Build hook (the project's metadata lives in pyproject.toml): the wheel carries mlfargate's Terraform
modules inside the package, at ``mlfargate/data/modules/<name>/`` (each module's ``.tf`` files,
README.md and CHANGELOG.md, which holds its version), so an installed mlfargate generates, vendors and
checks workspaces without a checkout (``mlfargate.generate.sources.modules_dir``). A checkout (and an
editable install, which runs from it) uses ``modules/`` itself. MANIFEST.in puts ``modules/`` in the
sdist, so a wheel built from the sdist carries them too."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
#: The files of a module that ship (the same pattern mlfargate vendors into workspaces).
MODULE_FILE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*\.(tf|md)")


class BuildPyWithModules(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # runs from the checkout, which has modules/
        source = HERE / "modules"
        target = Path(self.build_lib) / "mlfargate" / "data" / "modules"
        shutil.rmtree(target, ignore_errors=True)
        modules = [d for d in sorted(source.iterdir()) if d.is_dir() and any(d.glob("*.tf"))]
        if not modules:
            raise SystemExit(f"{source}: no Terraform modules to bundle into the wheel")
        for module in modules:
            for file in sorted(module.iterdir()):
                if file.is_file() and MODULE_FILE.fullmatch(file.name):
                    (target / module.name).mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(file, target / module.name / file.name)


setup(cmdclass={"build_py": BuildPyWithModules})
