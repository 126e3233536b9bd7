"""The whole wizard through the pilot, from nothing to a generated, checked workspace that is byte for
byte what ``mlfargate generate`` writes from the saved spec; and Generate refusing what it must."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Checkbox, DataTable, Static

from mlfargate import cli
from tests.tui.conftest import SIZE, goto, make_app, run_generate, settle, type_into, wizard
from tui.widgets.fields import ChoiceField


def tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.slow
async def test_walk_to_a_checked_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    app = make_app(Path("mlfargate.yaml"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        # 1 Account
        await type_into(pilot, "#f-name", "walk")
        await type_into(pilot, "#f-environment", "dev")
        await pilot.press("ctrl+n")
        await pilot.pause()
        # 2 Network: no NAT (VPC endpoints)
        assert wizard(app).current == "network"
        await pilot.click("#nat-none")
        await pilot.pause()
        await pilot.press("ctrl+n")
        await pilot.pause()
        # 3 Model: a CPU server on Fargate, 1 vCPU / 2 GiB
        assert wizard(app).current == "model"
        await pilot.click("#acc-none")
        await pilot.pause()
        await pilot.click("#cap-fargate")
        await pilot.pause()
        app.screen.query_one("#cpu", ChoiceField).value = 1024
        await pilot.pause()
        app.screen.query_one("#memory", ChoiceField).value = 2048
        await pilot.pause()
        await type_into(pilot, "#f-service-certificate_arn", "")
        # Without a certificate the public endpoint is refused until plain HTTP is chosen (issue 13).
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert wizard(app).current == "model"
        app.screen.query_one("#f-service-allow_plain_http", ChoiceField).value = True
        await pilot.pause()
        await pilot.press("ctrl+n")
        await pilot.pause()
        # 4 Spot mix
        assert wizard(app).current == "spot"
        await type_into(pilot, "#f-spot-spot_percentage", "50")
        await pilot.press("ctrl+n")
        await pilot.pause()
        # 5 Scaling: business hours
        assert wizard(app).current == "scaling"
        await pilot.click("#preset-business-hours")
        await pilot.pause()
        await pilot.press("ctrl+n")
        await pilot.pause()
        # 6 Review
        assert wizard(app).current == "review"
        await app.workers.wait_for_complete()
        await pilot.press("ctrl+n")
        await pilot.pause()
        # 7 Generate & check
        assert wizard(app).current == "generate"
        await run_generate(app, pilot)
        gate = str(app.screen.query_one("#gate-head", Static).render())
        assert gate.startswith("policy gate ✓ pass: 0 failed,"), gate
        waivers = app.screen.query_one("#waivers", DataTable)
        assert waivers.row_count > 0
        assert all(":" in str(waivers.get_row_at(i)[1]) for i in range(waivers.row_count))  # file:line
        assert all(
            str(waivers.get_row_at(i)[2]) for i in range(waivers.row_count)
        )  # every waiver has a reason
        commands = str(app.screen.query_one("#continue", Static).render())
        assert "mlfargate plan workspaces/walk-dev" in commands
        assert "mlfargate apply workspaces/walk-dev" in commands
        assert "monthly cost $" in str(app.screen.query_one("#gen-cost", Static).render())
        assert not app.state.dirty
    saved = tmp_path / "mlfargate.yaml"
    spec = saved.read_text()
    assert "name: walk" in spec and "nat_gateways: none" in spec and "capacity: fargate" in spec
    assert cli.main(["validate", str(saved)]) == 0
    assert cli.main(["generate", str(saved), "--out", str(tmp_path / "cli" / "walk-dev")]) == 0
    ours, theirs = tree(tmp_path / "workspaces" / "walk-dev"), tree(tmp_path / "cli" / "walk-dev")
    assert sorted(ours) == sorted(theirs) and "main.tf" in ours
    for name in ours:
        assert ours[name] == theirs[name], name


@pytest.mark.slow
async def test_hand_edits_are_kept_until_overwriting_is_allowed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    app = make_app(Path("mlfargate.yaml"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await goto(app, pilot, "generate")
        await run_generate(app, pilot)
        main_tf = tmp_path / "workspaces" / "sentiment-prod" / "main.tf"
        main_tf.write_text(main_tf.read_text() + "# my change\n")
        await run_generate(app, pilot)
        head = str(app.screen.query_one("#gate-head", Static).render())
        assert "main.tf changed since mlfargate generated it;" in head
        assert "# my change" in main_tf.read_text()
        app.screen.query_one("#force", Checkbox).value = True
        await pilot.pause()
        await run_generate(app, pilot)
        assert "# my change" not in main_tf.read_text()
        assert str(app.screen.query_one("#gate-head", Static).render()).startswith("policy gate ✓ pass")


async def test_generate_refuses_a_spec_with_errors(tmp_path: Path) -> None:
    app = make_app(tmp_path / "mlfargate.yaml")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await type_into(pilot, "#f-name", "Bad")
        await goto(app, pilot, "generate")
        assert "error(s) to fix first, in: Account" in str(
            app.screen.query_one("#gen-status", Static).render()
        )
        await pilot.click("#generate")
        await pilot.pause()
        assert any("Generate writes valid specs only" in n.message for n in app._notifications)
        assert not (tmp_path / "mlfargate.yaml").exists() and not (tmp_path / "workspaces").exists()
