"""Step 6 and the file handling through the pilot: the spec as YAML, every cost line the core's
estimate has, the files Generate will write with a diff against an existing workspace, the YAML
editor for keys no step edits, saving (ctrl+s) and reopening (at the review step, errors shown)."""

from __future__ import annotations

from pathlib import Path

import yaml
from textual.widgets import Button, DataTable, Static, TextArea

from mlfargate.cost import estimate as cost
from mlfargate.cost import price_book
from mlfargate.generate.workspace import generate
from mlfargate.spec.model import example_text, from_data
from tests.tui.conftest import EXAMPLES, SIZE, errors_shown, goto, make_app, settle, type_into, until, wizard
from tui.widgets.money import MoneyTable
from tui.wizard.review import ReviewStep


async def test_review_shows_yaml_every_cost_line_and_new_files(tmp_path: Path) -> None:
    app = make_app(tmp_path / "mlfargate.yaml")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await goto(app, pilot, "review")
        await pilot.pause(0.5)
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert str(app.screen.query_one("#summary", Static).render()).startswith(
            "✓ sentiment-prod in us-east-1"
        )
        spec = from_data(app.state.data)
        est = cost.estimate(spec, price_book.load("us-east-1"))
        table = app.screen.query_one("#review-cost", MoneyTable)
        items = [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
        assert items == [line.item for line in est.lines] + ["total"]  # every line, whatever they are
        total = table.get_row_at(table.row_count - 1)
        assert (
            str(total[1]) == f"${est.monthly_floor:,.2f}" and str(total[2]) == f"${est.monthly_ceiling:,.2f}"
        )
        files = app.screen.query_one("#files", DataTable)
        names = [str(files.get_row_at(i)[1]) for i in range(files.row_count)]
        assert "main.tf" in names and "mlfargate.yaml" in names
        assert all(str(files.get_row_at(i)[0]) == "+" for i in range(files.row_count))
        assert "new workspace" in str(app.screen.query_one("#files-head", Static).render())
        assert not (tmp_path / "workspaces").exists()  # check-only: nothing written


async def test_regenerating_shows_the_diff(tmp_path: Path) -> None:
    spec = tmp_path / "mlfargate.yaml"
    spec.write_text(example_text())
    generate(spec, tmp_path / "workspaces" / "sentiment-prod")
    app = make_app(spec)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert wizard(app).current == "review"
        await goto(app, pilot, "scaling")
        await type_into(pilot, "#max", "12")
        await goto(app, pilot, "review")
        await pilot.pause(0.5)
        await app.workers.wait_for_complete()
        await pilot.pause()
        files = app.screen.query_one("#files", DataTable)
        marks = {str(files.get_row_at(i)[1]): str(files.get_row_at(i)[0]) for i in range(files.row_count)}
        assert marks["terraform.tfvars"] == "~" or marks["main.tf"] == "~"
        assert marks["mlfargate.yaml"] == "~" and marks["versions.tf"] == "="
        changed = next(name for name, mark in marks.items() if mark == "~" and name != "mlfargate.yaml")
        row = list(marks).index(changed)
        files.focus()
        files.move_cursor(row=row)
        await pilot.pause()
        diff = app.screen.query_one(ReviewStep).diff_text
        assert diff.startswith(f"--- a/{changed}\n+++ b/{changed}\n")
        assert any(line.startswith("+") and "12" in line for line in diff.splitlines()[2:])
        assert "regenerating" in str(app.screen.query_one("#files-head", Static).render())


async def test_yaml_editor_reaches_keys_no_step_has(tmp_path: Path) -> None:
    app = make_app(tmp_path / "mlfargate.yaml")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await goto(app, pilot, "review")
        await pilot.click("#edit")
        await pilot.pause()
        editor = app.screen.query_one("#yaml-editor", TextArea)
        assert editor.text == example_text()
        editor.load_text(example_text() + "exposure: public\n")
        await pilot.click("#apply")
        await pilot.pause()
        # an unknown key: the core's shape error, shown in the review step (no step owns it)
        assert errors_shown(app, "review") == [
            "spec error: exposure: unknown key; see `mlfargate schema` for the allowed keys"
        ]
        assert "1 error(s) to fix before Generate" in str(app.screen.query_one("#summary", Static).render())
        await pilot.click("#edit")
        await pilot.pause()
        editor.load_text("name: [oops\n")
        await pilot.click("#apply")
        await pilot.pause()
        assert str(app.screen.query_one("#yaml-problem", Static).render()).startswith(
            "the YAML: invalid YAML at line 2, column 1"
        )
        text = (EXAMPLES / "cpu-fargate-spot.yaml").read_text()
        editor.load_text(text)
        # A click on Apply here missed about one run in six (the editor stayed open with the new text,
        # the old problem still shown: the handler never ran), most likely because the long problem
        # message above had not been laid out yet. What is tested is what Apply does: press it.
        app.screen.query_one("#apply", Button).press()
        await pilot.pause()
        # On failure, say what was there instead.
        await until(
            pilot,
            lambda: errors_shown(app, "review") == [],
            shown=lambda: (
                f"errors {errors_shown(app, 'review')}, state {app.state.text()[:40]!r}, "
                f"editor {editor.text[:40]!r}, "
                f"editor hidden {app.screen.query_one('#yaml-editing').has_class('hidden')}, "
                f"problem {str(app.screen.query_one('#yaml-problem', Static).render())!r}"
            ),
        )
        assert app.state.text() == text
        # the other steps show the new values
        await goto(app, pilot, "model")
        assert app.state.get("compute.capacity") == "fargate"
        assert app.screen.query_one("#cap-fargate").value  # type: ignore[attr-defined]


async def test_save_and_reopen(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    app = make_app(path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await type_into(pilot, "#f-name", "ranker")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert yaml.safe_load(path.read_text())["name"] == "ranker"
        assert not app.state.dirty
        # saving a spec with errors works, and says it is not valid yet
        await type_into(pilot, "#f-name", "Ranker")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert yaml.safe_load(path.read_text())["name"] == "Ranker"
        notes = [n.message for n in app._notifications]
        assert any("WITH 1 error(s): it is not a valid spec yet" in n and "fix: Account" in n for n in notes)
    reopened = make_app(path)
    async with reopened.run_test(size=SIZE) as pilot:
        await settle(reopened, pilot)
        assert wizard(reopened).current == "review"  # a saved spec opens at the review step
        assert "1 error(s) to fix before Generate: Account (1)" in str(
            reopened.screen.query_one("#summary", Static).render()
        )
        steps = reopened.screen.query_one("#steps")
        assert str(steps.get_option_at_index(0).prompt).startswith("✗ 1 Account")  # type: ignore[attr-defined]
        await goto(reopened, pilot, "account")
        assert errors_shown(reopened, "account") == [
            "spec error: name: 'Ranker' does not match ^[a-z][a-z0-9-]{0,19}$"
        ]


async def test_an_unparseable_spec_opens_in_the_editor(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("name: sentiment\n  environment: [prod\n")
    app = make_app(path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert wizard(app).current == "review"
        assert app.screen.query_one("#yaml-editor", TextArea).text == path.read_text()
        problem = str(app.screen.query_one("#yaml-problem", Static).render())
        assert problem.startswith(f"{path}: invalid YAML at line 2")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert path.read_text() == "name: sentiment\n  environment: [prod\n"  # never overwritten
        assert any("not saved" in n.message for n in app._notifications)
