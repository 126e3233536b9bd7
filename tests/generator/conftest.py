"""Specs every generator check runs on: each example and both committed environments."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((REPO / "examples").glob("*.yaml"))
ENVIRONMENTS = {name: REPO / "environments" / name for name in ("dev", "prod")}
ALL_SPECS = [*EXAMPLES, *(d / "mlfargate.yaml" for d in ENVIRONMENTS.values())]


def spec_id(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}" if path.name == "mlfargate.yaml" else path.stem
