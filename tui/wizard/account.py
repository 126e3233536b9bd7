"""Step 1, Account: the AWS profile (from the local AWS files), the region (with its AZ count), an
optional account check through STS in a worker, and the name and environment that make the prefix."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.widgets import Button, Static

from mlfargate import account
from mlfargate.spec import catalog
from tui.messages import AccountChecked
from tui.state import Analysis
from tui.widgets.fields import ChoiceField, TextField
from tui.widgets.note import Note
from tui.wizard.base import StepBody, row

NO_PROFILE = "(none: the default credential chain)"


def profile_options(found: account.Profiles, current: str | None) -> list[tuple[str, Any]]:
    options: list[tuple[str, Any]] = [(p.name, p.name) for p in found.profiles]
    if current and found.get(current) is None:
        options.append((f"{current} (not local)", current))
    return options


def region_options() -> list[tuple[str, str]]:
    cat = catalog.load()
    return [(f"{r}  ({azs} AZs)", r) for r, azs in sorted(cat.region_azs.items())]


class AccountStep(StepBody):
    STEP = "account"
    TITLE = "Account"

    def compose_body(self) -> ComposeResult:
        self.profiles = account.local_profiles()
        current = self.state.get("aws.profile")
        yield Note("Where the service runs and what its resources are called.", classes="lead")
        yield row("Name", TextField("name", placeholder="sentiment"), hint="a-z 0-9 -, a letter first")
        yield row("Environment", TextField("environment", placeholder="prod"), hint="e.g. dev, staging, prod")
        yield Note("", id="prefix", classes="derived", markup=False)
        yield row(
            "AWS profile",
            ChoiceField(
                "aws.profile", profile_options(self.profiles, current), id="profile", prompt=NO_PROFILE
            ),
            hint_id="profile-hint",
        )
        yield row("Region", ChoiceField("aws.region", region_options(), id="region"), hint_id="region-hint")
        yield row(
            "Account id",
            TextField("aws.account_id", placeholder="123456789012 (optional)"),
            hint="optional: then no other account",
        )
        yield row(
            "Check account",
            Button("Ask AWS (STS)", id="check", compact=True),
            Button("Use this account id", id="use-account", compact=True, classes="hidden"),
            hint_id="check-result",
            hint="optional: whose credentials these are",
        )

    def load_more(self) -> None:
        self._show_derived()

    def refresh_more(self, analysis: Analysis) -> None:
        self._show_derived()
        region = self.state.get("aws.region")
        cat = catalog.load()
        hint = self.query_one("#region-hint", Static)
        if isinstance(region, str) and region in cat.region_azs:
            book = self.state.book(region)
            prices = (
                f"prices: {'bundled snapshot' if book.source.startswith('bundled') else 'refreshed'} {book.date}"
                if not isinstance(book, str)
                else "no prices for this region yet: run `mlfargate prices refresh`"
            )
            hint.update(f"{cat.region_azs[region]} Availability Zones · {prices}")
        else:
            hint.update("")

    def _show_derived(self) -> None:
        prefix = self.state.prefix
        self.query_one("#prefix", Static).update(
            Text.assemble(("resources: ", "dim"), (f"{prefix}-*", "bold"), (f", e.g. {prefix}-alb", "dim"))
        )
        name = self.state.get("aws.profile")
        hint = self.query_one("#profile-hint", Static)
        found = self.profiles.get(name) if isinstance(name, str) else None
        problems = "; ".join(self.profiles.problems)
        if not name:
            text = "environment variables, SSO cache or instance role"
        elif found is None:
            text = "not in your AWS files: fine until plan"
        else:
            text = found.describe()
        if not self.profiles.profiles:
            text += " (no local profiles: none needed here)"
        hint.update(f"{text}{' · ' + problems if problems else ''}")

    # --- the account check (STS in a worker: the UI never waits for AWS) ---------------------------

    @on(Button.Pressed, "#check")
    def _check(self) -> None:
        region = self.state.get("aws.region")
        if not isinstance(region, str):
            self._result(Text("pick a region first", style="yellow"))
            return
        profile = self.state.get("aws.profile")
        self._result(Text("asking STS…", style="dim"))
        self.check_account(region, profile if isinstance(profile, str) else None)

    @work(thread=True, exclusive=True, group="account-check", exit_on_error=False)
    def check_account(self, region: str, profile: str | None) -> None:
        try:
            identity = account.caller_identity(region, profile)
        except account.AccountCheckError as exc:
            self.post_message(AccountChecked(None, exc.kind, str(exc)))
            return
        self.post_message(AccountChecked(identity))

    def on_account_checked(self, message: AccountChecked) -> None:
        use = self.query_one("#use-account", Button)
        if message.identity is None:
            style = "yellow" if message.kind in ("offline", "no_credentials") else "red"
            self._result(Text(message.text, style=style))
            use.set_class(True, "hidden")
            return
        self.found_account = message.identity.account
        same = self.state.get("aws.account_id") == message.identity.account
        self._result(
            Text.assemble(
                ("✓ ", "green"), f"account {message.identity.account} ", (f"({message.identity.arn})", "dim")
            )
        )
        use.set_class(same, "hidden")

    @on(Button.Pressed, "#use-account")
    def _use_account(self) -> None:
        self.set_value("aws.account_id", self.found_account)
        self.load()
        self.query_one("#use-account", Button).set_class(True, "hidden")

    def _result(self, text: Text) -> None:
        self.query_one("#check-result", Static).update(text)
