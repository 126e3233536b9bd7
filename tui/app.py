"""``mlfargate-tui``: the terminal front-end over the same core as the CLI."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from textual.app import App

from mlfargate.spec.model import DEFAULT_FILE
from tui.screens.spec_review import SpecReviewScreen


class MlfargateApp(App[None]):
    TITLE = "mlfargate"
    SUB_TITLE = "ML model servers on AWS ECS"
    CSS_PATH = "app.tcss"

    def __init__(self, spec_path: Path) -> None:
        super().__init__()
        self.spec_path = spec_path

    def on_mount(self) -> None:
        self.push_screen(SpecReviewScreen(self.spec_path))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="mlfargate-tui", description="Review a deployment spec in the terminal."
    )
    parser.add_argument("spec", nargs="?", default=DEFAULT_FILE, help=f"spec file (default {DEFAULT_FILE})")
    args = parser.parse_args(argv)
    MlfargateApp(Path(args.spec)).run()
    return 0
