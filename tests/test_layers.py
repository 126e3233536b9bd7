"""The layers, read from the imports (``ast``, so imports inside functions count too):

* the core (``mlfargate/`` but ``commands/`` and ``cli.py``) never imports ``textual``, ``tui``,
  ``mlfargate.commands`` or ``mlfargate.cli``: it returns data and emits events, front-ends render them;
* ``tui`` never imports ``mlfargate.commands`` or ``mlfargate.cli`` (it drives the same core);
* no command imports another command (only the core and the shared ``commands._common``);
* ``cdktf_app`` imports only the core of mlfargate (and no front-end).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FRONT_ENDS = ("textual", "tui", "mlfargate.commands", "mlfargate.cli")


def imports(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def _under(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def violations(root: Path) -> list[str]:
    """Every import that crosses a layer boundary under ``root`` (a checkout), one line each."""
    found: list[str] = []
    for path in sorted((root / "mlfargate").rglob("*.py")):
        rel = path.relative_to(root)
        front = rel.parts[1] == "commands" or rel.name == "cli.py"
        for name in imports(path):
            if not front and any(_under(name, banned) for banned in FRONT_ENDS):
                found.append(f"{rel}: the core imports {name}")
            if rel.parts[1] == "commands" and _under(name, "mlfargate.commands"):
                other = name.removeprefix("mlfargate.commands").lstrip(".").split(".")[0]
                if other and other != "_common" and other != path.stem:
                    found.append(f"{rel}: a command imports the command {name}")
    for path in sorted((root / "tui").rglob("*.py")):
        for name in imports(path):
            if _under(name, "mlfargate.commands") or _under(name, "mlfargate.cli"):
                found.append(f"{path.relative_to(root)}: tui imports {name}")
    for path in sorted((root / "cdktf_app").rglob("*.py")):
        for name in imports(path):
            if any(_under(name, banned) for banned in FRONT_ENDS):
                found.append(f"{path.relative_to(root)}: cdktf_app imports {name}")
    return found


def test_the_layers_hold() -> None:
    assert violations(REPO) == []


def test_a_planted_violation_of_each_kind_is_found(tmp_path: Path) -> None:
    for folder in ("mlfargate/cost", "mlfargate/commands", "tui", "cdktf_app"):
        (tmp_path / folder).mkdir(parents=True)
    (tmp_path / "mlfargate" / "cost" / "estimate.py").write_text(
        "def f():\n    from textual.app import App\n    return App\n"
    )
    (tmp_path / "mlfargate" / "commands" / "apply.py").write_text(
        "from mlfargate.commands._common import out\nfrom mlfargate.commands.plan import run\n"
    )
    (tmp_path / "mlfargate" / "commands" / "plan.py").write_text("from mlfargate.commands import check\n")
    (tmp_path / "tui" / "app.py").write_text("import mlfargate.commands.validate\n")
    (tmp_path / "cdktf_app" / "app.py").write_text("from mlfargate.cli import main\n")
    assert violations(tmp_path) == [
        "mlfargate/commands/apply.py: a command imports the command mlfargate.commands.plan",
        "mlfargate/commands/apply.py: a command imports the command mlfargate.commands.plan.run",
        "mlfargate/commands/plan.py: a command imports the command mlfargate.commands.check",
        "mlfargate/cost/estimate.py: the core imports textual.app",
        "mlfargate/cost/estimate.py: the core imports textual.app.App",
        "tui/app.py: tui imports mlfargate.commands.validate",
        "cdktf_app/app.py: cdktf_app imports mlfargate.cli",
        "cdktf_app/app.py: cdktf_app imports mlfargate.cli.main",
    ]
