"""Real Terraform core on workspaces of built-in ``terraform_data`` resources (no provider download)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from mlfargate.terraform import engine as engine_mod
from mlfargate.terraform.engine import Engine

FAST = """
resource "terraform_data" "a" {
  input = "a"
}

resource "terraform_data" "b" {
  input = terraform_data.a.output
}
"""

SLOW = """
resource "terraform_data" "fast" {
  input = "fast"
}

resource "terraform_data" "slow" {
  input = terraform_data.fast.output
  provisioner "local-exec" {
    command = "sleep 30"
  }
}
"""

#: Both engines are always parameters: without a terraform/tofu binary on PATH the binary runs show up
#: as skipped (with the reason) instead of vanishing from the report.
ENGINES = ["embedded", "binary"]


@pytest.fixture
def embedded() -> Engine:
    return engine_mod.select("embedded")


@pytest.fixture(params=ENGINES)
def any_engine(request: pytest.FixtureRequest) -> Engine:
    if request.param == "embedded":
        return engine_mod.select("embedded")
    binary = shutil.which("terraform") or shutil.which("tofu")
    if binary is None:
        pytest.skip("no terraform or tofu binary on PATH: the binary engine is not tested here")
    return engine_mod.select(binary)


@pytest.fixture
def make_ws(tmp_path: Path) -> Callable[..., Path]:
    def make(text: str = FAST, name: str = "svc-test", extra: dict[str, str] | None = None) -> Path:
        ws = tmp_path / name
        ws.mkdir()
        (ws / "main.tf").write_text(text)
        for rel, content in (extra or {}).items():
            (ws / rel).parent.mkdir(parents=True, exist_ok=True)
            (ws / rel).write_text(content)
        return ws

    return make
