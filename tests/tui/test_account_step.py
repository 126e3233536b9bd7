"""Step 1 through the pilot: fields validated as typed with the core's messages, Next refused while
the step has errors, profiles from the local AWS files, and the STS check in a worker (emulator,
offline, no credentials)."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Button, Static

from tests.tui.conftest import SIZE, errors_shown, make_app, settle, type_into, wizard
from tui.widgets.fields import ChoiceField, TextField


async def test_invalid_name_is_shown_and_next_is_refused(tmp_path: Path) -> None:
    app = make_app(tmp_path / "new.yaml")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert wizard(app).current == "account"
        await type_into(pilot, "#f-name", "Bad_Name")
        assert app.state.get("name") == "Bad_Name"
        assert errors_shown(app, "account") == [
            "spec error: name: 'Bad_Name' does not match ^[a-z][a-z0-9-]{0,19}$"
        ]
        name_field = app.screen.query_one("#f-name", TextField)
        assert name_field.has_class("-spec-error")
        await pilot.press("ctrl+n")  # Next
        await pilot.pause()
        assert wizard(app).current == "account"  # refused
        assert "1 error(s) in this step" in str(app.screen.query_one("#nav-status", Static).render())
        await type_into(pilot, "#f-name", "fraud-detector")
        assert errors_shown(app, "account") == []
        assert not name_field.has_class("-spec-error")
        assert "fraud-detector-prod-" in str(app.screen.query_one("#prefix", Static).render())
        await pilot.click("#next")
        await pilot.pause()
        assert wizard(app).current == "network"


async def test_a_name_too_long_for_the_load_balancer(tmp_path: Path) -> None:
    app = make_app(tmp_path / "new.yaml")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await type_into(pilot, "#f-name", "abcdefghijklmnopqrst")
        await type_into(pilot, "#f-environment", "production-1")
        assert errors_shown(app, "account") == [
            "spec error: name: 'abcdefghijklmnopqrst-production-1-alb' is 37 characters; ALB and target group "
            "names allow 32, so name and environment together may have at most 27 characters"
        ]


async def test_back_keeps_values_and_the_step_list_marks_errors(tmp_path: Path) -> None:
    app = make_app(tmp_path / "new.yaml")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await type_into(pilot, "#f-name", "churn")
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert wizard(app).current == "network"
        await type_into(pilot, "#f-network-vpc_cidr", "10.0.0.0/26")
        assert errors_shown(app, "network")[0].startswith("spec error: network.vpc_cidr: /26 is too small")
        await pilot.press("alt+left")  # Back
        await pilot.pause()
        assert wizard(app).current == "account"
        assert app.screen.query_one("#f-name", TextField).value == "churn"
        steps = app.screen.query_one("#steps")
        prompts = [str(steps.get_option_at_index(i).prompt) for i in range(7)]  # type: ignore[attr-defined]
        assert prompts[0].startswith("▸ 1 Account") and prompts[1].startswith("✗ 2 Network")
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert app.screen.query_one("#f-network-vpc_cidr", TextField).value == "10.0.0.0/26"


def write_aws_files(home: Path) -> None:
    (home / "aws-config").write_text(
        "[default]\nregion = eu-west-1\n\n[profile ml-sso]\nsso_session = corp\nregion = us-east-1\n\n"
        "[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\n"
    )
    (home / "aws-credentials").write_text(
        "[ci]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = x\n"
    )


async def test_profiles_are_the_local_ones(tmp_path: Path, isolated: Path) -> None:
    write_aws_files(isolated)
    app = make_app(tmp_path / "new.yaml")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        profile = app.screen.query_one("#profile", ChoiceField)
        # the local ones, and the example's own, which is not local: kept, and said so
        assert profile.choices == [
            ("ci", "ci"),
            ("default", "default"),
            ("ml-sso", "ml-sso"),
            ("ml-deploy (not local)", "ml-deploy"),
        ]
        assert profile.value == "ml-deploy"
        assert "not in your AWS files" in str(app.screen.query_one("#profile-hint", Static).render())
        profile.value = "ml-sso"
        await pilot.pause()
        assert app.state.get("aws.profile") == "ml-sso"
        assert "IAM Identity Center (SSO), region us-east-1" in str(
            app.screen.query_one("#profile-hint", Static).render()
        )
        profile.clear()
        await pilot.pause()
        assert app.state.get("aws.profile") is None  # unset: the default credential chain


async def test_account_check_on_the_emulator(
    tmp_path: Path, moto_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFARGATE_AWS_ENDPOINT_URL", moto_server)
    app = make_app(tmp_path / "new.yaml")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.screen.query_one("#profile", ChoiceField).clear()
        await type_into(pilot, "#f-aws-account_id", "")
        await pilot.click("#check")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert str(app.screen.query_one("#check-result", Static).render()).startswith(
            "✓ account 123456789012"
        )
        use = app.screen.query_one("#use-account", Button)
        assert not use.has_class("hidden")
        await pilot.click("#use-account")
        await pilot.pause()
        assert app.state.get("aws.account_id") == "123456789012"


async def test_account_check_offline_and_without_credentials(
    tmp_path: Path, moto_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("MLFARGATE_AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
    app = make_app(tmp_path / "new.yaml")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.screen.query_one("#profile", ChoiceField).clear()
        await pilot.pause()
        await pilot.click("#check")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert str(app.screen.query_one("#check-result", Static).render()).startswith(
            "offline: cannot reach AWS to check the account"
        )
        for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
            monkeypatch.delenv(key, raising=False)
        await pilot.click("#check")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert str(app.screen.query_one("#check-result", Static).render()).startswith(
            "no credentials for the default credential chain"
        )
        assert app.return_code is None  # still running: nothing here needs an account
