"""The deploy screen (plan, apply, destroy) against the embedded Terraform core on workspaces of
``terraform_data`` resources: the same flow as ``mlfargate plan/apply/destroy``, run in a worker.

What is proved here: the plan's progress arrives while it runs and ends in the summary by module with
the replacement and the attribute forcing it; the typed confirmation refuses a wrong or empty name
(nothing is applied) and applies on the right one; Ctrl+C asks, then stops an apply whose provisioner
sleeps, and the state left is consistent (what completed, the interrupted resource tainted) and shown;
a workspace needing the AWS provider, without providers or credentials, says what is missing and what
to do, and Esc goes back to the wizard."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import ProgressBar, Static

from mlfargate.spec.text import example_text
from mlfargate.terraform import engine as engine_mod
from mlfargate.terraform import operations
from mlfargate.terraform.operations import StateEntry
from tests.runner.conftest import SLOW
from tests.tui.conftest import SIZE, make_app, modal_shown, until
from tui.app import MlfargateApp
from tui.deploy.run import EngineOptions
from tui.deploy.screen import DeployScreen
from tui.screens.confirm import ConfirmScreen, InterruptScreen
from tui.widgets.keyed_table import KeyedTable

pytestmark = pytest.mark.slow

PREFIX = "sentiment-prod"  # the example spec's name and environment: the workspace the wizard generates
MODULE_V1 = 'resource "terraform_data" "x" {\n  triggers_replace = "v1"\n}\n'
ROOT = 'module "net" {\n  source = "./net"\n}\n\nresource "terraform_data" "root" {\n  input = 1\n}\n'
AWS_ONLY = 'terraform {\n  required_providers {\n    aws = { source = "hashicorp/aws" }\n  }\n}\n'
EMBEDDED = EngineOptions(terraform="embedded")


def workspace(spec_dir: Path, main: str, extra: dict[str, str] | None = None) -> Path:
    """The workspace the wizard would have generated for the example spec, with our configuration."""
    ws = spec_dir / "workspaces" / PREFIX
    ws.mkdir(parents=True)
    (ws / "main.tf").write_text(main)
    for rel, text in (extra or {}).items():
        (ws / rel).parent.mkdir(parents=True, exist_ok=True)
        (ws / rel).write_text(text)
    return ws


def deploy_app(spec_dir: Path, **kwargs: Any) -> MlfargateApp:
    kwargs.setdefault("engine", EMBEDDED)
    return make_app(spec_dir / "mlfargate.yaml", **kwargs)


async def open_deploy(app: MlfargateApp, pilot: Pilot[None]) -> DeployScreen:
    await until(pilot, lambda: app.wizard is not None and app.wizard.core_ready, 30)
    app.open_deploy()
    await until(pilot, lambda: isinstance(app.screen, DeployScreen) and bool(app.screen.query("#plan-table")))
    await pilot.pause()
    assert app.deploy is not None
    return app.deploy


def text(app: MlfargateApp, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


async def idle(pilot: Pilot[None], deploy: DeployScreen, seconds: float = 240) -> None:
    await until(pilot, lambda: deploy.running is None, seconds)
    await pilot.pause()


async def plan(pilot: Pilot[None], deploy: DeployScreen) -> None:
    await pilot.press("p")  # the key's handler starts the worker (a failing plan may end at once)
    await idle(pilot, deploy)


def state(ws: Path) -> list[StateEntry]:
    return operations.state_entries(engine_mod.select("embedded"), ws)


async def test_plan_shows_its_progress_then_the_summary_by_module(tmp_path: Path, moto_reset: str) -> None:
    ws = workspace(tmp_path, ROOT, {"net/main.tf": MODULE_V1})
    app = deploy_app(tmp_path, endpoint_url=moto_reset)  # apply ends on the dashboard: never real AWS
    async with app.run_test(size=SIZE) as pilot:
        deploy = await open_deploy(app, pilot)
        seen: list[str] = []
        post = deploy.post_message

        def spy(message: Any) -> bool:  # what the worker posts, in order
            event = getattr(message, "event", None)
            seen.append(type(event).__name__ + ":" + str(getattr(event, "kind", "")))
            return post(message)

        deploy.post_message = spy  # type: ignore[method-assign]
        await plan(pilot, deploy)
        # Progress arrived while it ran: init's own lines, the planned changes, the phases.
        assert "ProgressEvent:init" in seen and "ProgressEvent:planned" in seen
        phases = text(app, "#phases")
        assert "✓ terraform init" in phases and "✓ terraform plan" in phases
        assert "✓ policy gate (checkov)" in phases
        assert "plan: 2 to add, 0 to change, 0 to replace, 0 to destroy" in text(app, "#plan-totals")
        table = app.screen.query_one("#plan-table")
        rows = {
            str(table.get_row_at(i)[0]): [str(c) for c in table.get_row_at(i)[1:]]
            for i in range(table.row_count)
        }  # type: ignore[attr-defined]
        assert rows == {"(root)": ["1", "0", "0", "0"], "module.net": ["1", "0", "0", "0"]}
        assert "policy gate on the plan: ✓ pass" in text(app, "#gate-line")
        assert not app.screen.query_one("#apply").disabled

        # Apply it (right name), change the module so its resource must be replaced, plan again.
        await apply(pilot, app, deploy, PREFIX)
        (ws / "net" / "main.tf").write_text(MODULE_V1.replace("v1", "v2"))
        app.switch_mode("deploy")
        await pilot.pause()
        await plan(pilot, deploy)
        assert "0 to add, 0 to change, 1 to replace, 0 to destroy" in text(app, "#plan-totals")
        assert (
            "⚠ replace module.net.terraform_data.x because triggers_replace changed (cannot be updated in "
            "place): destroyed and created again"
        ) in text(app, "#replacements")


async def apply(pilot: Pilot[None], app: MlfargateApp, deploy: DeployScreen, name: str) -> None:
    await pilot.press("a")
    await until(pilot, modal_shown(app, ConfirmScreen), 60)
    await pilot.press(*name, "enter")
    await idle(pilot, deploy)


async def test_apply_needs_the_workspace_name_typed_exactly(tmp_path: Path, moto_reset: str) -> None:
    ws = workspace(tmp_path, 'resource "terraform_data" "a" {\n  input = "a"\n}\n')
    app = deploy_app(tmp_path, endpoint_url=moto_reset)
    async with app.run_test(size=SIZE) as pilot:
        deploy = await open_deploy(app, pilot)
        await pilot.press("a")  # no plan yet: refused
        await pilot.pause()
        assert deploy.running is None and not isinstance(app.screen, ConfirmScreen)
        await plan(pilot, deploy)
        await pilot.press("a")
        await until(pilot, modal_shown(app, ConfirmScreen), 60)
        modal = app.screen
        assert isinstance(modal, ConfirmScreen)
        for wrong in ("", PREFIX[:-1], f" {PREFIX}", PREFIX.upper()):
            field = modal.query_one("#confirm-name")
            field.value = ""  # type: ignore[attr-defined]
            if wrong:
                await pilot.press(*wrong)
            await pilot.press("enter")
            await pilot.pause()
            assert app.screen is modal, wrong  # refused in place
            assert f"{wrong!r} is not the workspace name" in text(app, "#confirm-status")
        assert not (ws / "terraform.tfstate").exists()  # nothing ran while the modal refused
        modal.query_one("#confirm-name").value = ""  # type: ignore[attr-defined]
        await pilot.press(*PREFIX, "enter")
        await idle(pilot, deploy)
        assert state(ws) == [StateEntry("terraform_data.a")]
        log = deploy.query_one("#apply-log", KeyedTable)
        assert [str(c) for c in log.given_rows["terraform_data.a"]][1:3] == ["✓ created", "terraform_data.a"]
        bar = deploy.query_one("#apply-progress", ProgressBar)
        assert (bar.progress, bar.total) == (1, 1)
        # Apply ends on the dashboard.
        await until(pilot, lambda: app.dashboard is not None and app.screen is app.dashboard)

        # Destroy, from the same screen, behind the same typed confirmation.
        app.switch_mode("deploy")
        await pilot.pause()
        await pilot.press("x")
        await until(pilot, modal_shown(app, ConfirmScreen), 120)
        modal = app.screen
        assert f"Destroy everything {PREFIX}?" in str(modal.query_one("#confirm-title", Static).render())
        assert "0 to add, 0 to change, 0 to replace, 1 to destroy" in str(
            modal.query_one("#confirm-summary", Static).render()
        )
        await pilot.press(*PREFIX[:-1], "enter")
        await pilot.pause()
        assert app.screen is modal and state(ws) == [StateEntry("terraform_data.a")]
        modal.query_one("#confirm-name").value = ""  # type: ignore[attr-defined]
        await pilot.press(*PREFIX, "enter")
        await idle(pilot, deploy)
        assert state(ws) == []
        assert "destroyed in" in text(app, "#deploy-status")
        assert str(log.given_rows["terraform_data.a"][1]) == "✓ destroyed"


async def test_cancelling_the_confirmation_changes_nothing(tmp_path: Path) -> None:
    ws = workspace(tmp_path, 'resource "terraform_data" "a" {\n  input = "a"\n}\n')
    app = deploy_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        deploy = await open_deploy(app, pilot)
        await plan(pilot, deploy)
        await pilot.press("a")
        await until(pilot, modal_shown(app, ConfirmScreen), 60)
        await pilot.press("escape")
        await idle(pilot, deploy)
        assert "not confirmed" in text(app, "#deploy-status") and "nothing was changed" in text(
            app, "#deploy-status"
        )
        assert state(ws) == []


async def test_ctrl_c_asks_then_stops_the_apply_and_shows_the_state_left(tmp_path: Path) -> None:
    ws = workspace(tmp_path, SLOW)
    app = deploy_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        deploy = await open_deploy(app, pilot)
        await plan(pilot, deploy)
        await pilot.press("a")
        await until(pilot, modal_shown(app, ConfirmScreen), 60)
        await pilot.press(*PREFIX, "enter")

        def slow_running() -> bool:
            rows = deploy.query_one("#apply-log", KeyedTable).given_rows
            return "terraform_data.slow" in rows and str(rows["terraform_data.slow"][1]) == "creating…"

        await until(pilot, slow_running, 120)
        await pilot.press("ctrl+c")
        await until(pilot, lambda: isinstance(app.screen, InterruptScreen))
        await pilot.press("escape")  # "Keep running": nothing is sent
        await pilot.pause(0.5)
        assert deploy.running == "apply" and deploy.cancel is not None and not deploy.cancel.requested
        await pilot.press("ctrl+c")
        await until(pilot, lambda: isinstance(app.screen, InterruptScreen))
        await pilot.click("#interrupt-go")
        await idle(pilot, deploy, 60)  # well before the 30 s sleep would have ended by itself
        assert "apply interrupted" in text(app, "#deploy-status")
        left = text(app, "#state-text")
        assert "✓ terraform_data.fast" in left
        assert "⚠ terraform_data.slow  tainted: it did not finish; the next apply replaces it" in left
        # The state really is what the screen says, readable and unlocked.
        assert state(ws) == [
            StateEntry("terraform_data.fast"),
            StateEntry("terraform_data.slow", tainted=True),
        ]
        assert not (ws / ".terraform.tfstate.lock.info").exists()


async def test_without_providers_or_credentials_the_screen_says_what_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    # The example spec without its profile: the default credential chain, which finds nothing.
    (tmp_path / "mlfargate.yaml").write_text(
        "\n".join(line for line in example_text().splitlines() if "profile:" not in line)
    )
    workspace(tmp_path, AWS_ONLY)
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    app = deploy_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        deploy = await open_deploy(app, pilot)
        deploy.query_one("#plugin-dir").value = str(mirror)  # type: ignore[attr-defined]
        await plan(pilot, deploy)
        problem = text(app, "#problem-text")
        assert "provider hashicorp/aws cannot be installed" in problem
        assert "Terraform said:\nError: Failed to query available provider packages" in problem
        assert "Could not retrieve the list of available versions for provider hashicorp/aws" in problem
        assert "What to do: put the providers in a mirror directory" in problem
        assert "missing: AWS credentials: no AWS credentials for the default credential chain" in problem
        assert "`aws sso login --profile NAME` for an SSO profile" in problem
        assert "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY" in problem
        assert "plan: " not in text(app, "#plan-totals") and deploy.plan_result is None
        assert app.screen.query_one("#apply").disabled
        assert "Esc: back to the wizard" in problem
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is app.wizard)


async def test_quitting_while_terraform_applies_asks_then_stops_it_before_leaving(tmp_path: Path) -> None:
    ws = workspace(tmp_path, SLOW)
    app = deploy_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        deploy = await open_deploy(app, pilot)
        await plan(pilot, deploy)
        await pilot.press("a")
        await until(pilot, modal_shown(app, ConfirmScreen), 60)
        await pilot.press(*PREFIX, "enter")
        await until(
            pilot,
            lambda: "terraform_data.slow" in deploy.query_one("#apply-log", KeyedTable).given_rows,
            120,
        )
        await pilot.press("ctrl+q")
        await until(pilot, lambda: isinstance(app.screen, InterruptScreen))
        assert "Quit while terraform apply runs?" in str(app.screen.query_one(Static).render())
        await pilot.click("#interrupt-go")
        await until(pilot, lambda: not app.is_running, 60)  # quits once Terraform has stopped
    assert deploy.running is None
    assert state(ws) == [StateEntry("terraform_data.fast"), StateEntry("terraform_data.slow", tainted=True)]
