"""Step 2, Network: a new VPC (CIDR, AZ count, NAT with each choice's monthly cost and what "none"
means) or an existing VPC and its subnets (listed from the account when credentials allow, typed
otherwise)."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, RadioButton, RadioSet, SelectionList, Static

from mlfargate import account
from mlfargate.cost.text import money_change
from tui.messages import NetworkListed
from tui.state import Analysis, WizardState, analyze
from tui.widgets.fields import ChoiceField, TextField
from tui.widgets.note import Note
from tui.wizard.base import StepBody, row

NAT_CHOICES = ("none", "single", "per_az")
NAT_WORDS = {"none": "none", "single": "single", "per_az": "one per AZ"}
NONE_MEANS = (
    "No NAT gateway: the private subnets have no route to the internet. Tasks reach S3, ECR, CloudWatch "
    "Logs, Secrets Manager and SSM through the VPC endpoints the network module always creates; "
    "anything else on the internet (a model hub, a package index) is unreachable. Interface endpoints "
    "are billed per hour and AZ (not in this estimate)."
)
NEW_DEFAULTS: dict[str, Any] = {"vpc_cidr": "10.0.0.0/16", "availability_zones": 2, "nat_gateways": "single"}


def nat_costs(state: WizardState) -> dict[str, float] | None:
    """Each NAT choice's monthly cost: the core's estimate of the draft with that choice, minus the
    estimate with none (None when the draft cannot be priced)."""
    floors: dict[str, float] = {}
    for choice in NAT_CHOICES:
        data = {**state.data, "network": {**state.data.get("network", {}), "nat_gateways": choice}}
        result = analyze(data, state.book)
        if result.estimate is None:
            return None
        floors[choice] = result.estimate.monthly_floor
    return {c: floors[c] - floors["none"] for c in NAT_CHOICES}


class NetworkStep(StepBody):
    STEP = "network"
    TITLE = "Network"

    def __init__(self, state: WizardState) -> None:
        super().__init__(state)
        #: The other mode's settings, kept while the operator looks at this one.
        self.stash: dict[str, dict[str, Any]] = {}
        self.listing: account.NetworkListing | None = None
        self.mode = "new"

    def compose_body(self) -> ComposeResult:
        yield Note("The VPC the load balancer and the tasks live in.", classes="lead")
        with Horizontal(classes="row"):
            yield Note("VPC", classes="row-label")
            with RadioSet(id="mode", compact=True):
                yield RadioButton("New VPC", id="mode-new")
                yield RadioButton("Existing VPC", id="mode-existing")
        with Vertical(id="new-vpc"):
            yield row(
                "VPC CIDR",
                TextField("network.vpc_cidr", placeholder="10.0.0.0/16"),
                hint="/16 to /23: cut into 16 blocks, a public and a private subnet per AZ",
            )
            yield row(
                "AZs",
                ChoiceField("network.availability_zones", [(str(n), n) for n in range(2, 7)], id="azs"),
                hint_id="az-hint",
            )
            with Horizontal(classes="row"):
                yield Note("NAT gateways", classes="row-label")
                with RadioSet(id="nat", compact=True):
                    for choice in NAT_CHOICES:
                        yield RadioButton(NAT_WORDS[choice], id=f"nat-{choice}")
            yield Note("", id="nat-note", classes="hint", markup=False)
        with Vertical(id="existing-vpc"):
            yield row("VPC id", TextField("network.vpc_id", placeholder="vpc-0123456789abcdef0"))
            yield row(
                "Public subnets",
                TextField("network.public_subnet_ids", kind="list", placeholder="subnet-…, subnet-…"),
                hint="2+ in different AZs (the load balancer)",
            )
            yield row(
                "Private subnets",
                TextField("network.private_subnet_ids", kind="list", placeholder="subnet-…, subnet-…"),
                hint="2+ (the tasks and GPU hosts)",
            )
            yield row(
                "From the account",
                Button("List VPCs and subnets", id="list", compact=True),
                hint_id="list-result",
                hint="optional: needs credentials; typing the ids works offline",
            )
            with Vertical(id="listed", classes="hidden"):
                yield row("VPC", ChoiceField("@vpc", [], id="vpc-pick"))
                yield Note("Public subnets (space to toggle)", classes="hint")
                yield SelectionList[str](id="public-pick", compact=True)
                yield Note("Private subnets", classes="hint")
                yield SelectionList[str](id="private-pick", compact=True)

    # --- values -----------------------------------------------------------------------------------

    def _mode_of_draft(self) -> str:
        net = self.state.get("network")
        if isinstance(net, dict):
            if any(k in net for k in ("vpc_id", "public_subnet_ids", "private_subnet_ids")):
                return "existing"
            if any(k in net for k in ("vpc_cidr", "availability_zones", "nat_gateways")):
                return "new"
        return self.mode

    def load_more(self) -> None:
        mode = self.mode = self._mode_of_draft()
        with self.prevent(RadioSet.Changed):
            self.query_one(f"#mode-{mode}", RadioButton).value = True
            nat = self.state.get("network.nat_gateways") or "single"
            if nat in NAT_CHOICES:
                self.query_one(f"#nat-{nat}", RadioButton).value = True
        self.query_one("#new-vpc").display = mode == "new"
        self.query_one("#existing-vpc").display = mode == "existing"
        self._fill_listing()

    @on(RadioSet.Changed, "#mode")
    def _mode(self, event: RadioSet.Changed) -> None:
        event.stop()
        want = "existing" if event.pressed.id == "mode-existing" else "new"
        have = self.mode
        if want == have:
            return
        self.stash[have] = dict(self.state.data.get("network") or {})
        restored = self.stash.get(want) or (dict(NEW_DEFAULTS) if want == "new" else {})
        self.mode = want
        self.state.set("network", restored)
        self.load()
        self.changed()

    @on(RadioSet.Changed, "#nat")
    def _nat(self, event: RadioSet.Changed) -> None:
        event.stop()
        choice = (event.pressed.id or "nat-single").removeprefix("nat-")
        self.set_value("network.nat_gateways", choice)

    def refresh_more(self, analysis: Analysis) -> None:
        region = self.state.get("aws.region")
        from mlfargate.spec import catalog

        azs = catalog.load().region_azs.get(region) if isinstance(region, str) else None
        self.query_one("#az-hint", Static).update(
            f"{region} has {azs} AZs; an ALB needs 2" if azs else "an ALB needs 2 AZs"
        )
        costs = nat_costs(self.state) if analysis.estimate is not None else None
        for choice in NAT_CHOICES:
            label = Text(NAT_WORDS[choice])
            if costs is not None:
                label.append(f"  {money_change(costs[choice])}/mo", style="dim")
            button = self.query_one(f"#nat-{choice}", RadioButton)
            if str(button.label) != label.plain:
                button.label = label
        nat = self.state.get("network.nat_gateways") or "single"
        note = (
            NONE_MEANS
            if nat == "none"
            else "Private subnets reach the internet through NAT (data processed is billed per GB)."
        )
        if costs is None:
            note += " NAT costs show once the spec is valid."
        self.query_one("#nat-note", Static).update(note)

    # --- listing from the account (a worker: never blocks) ------------------------------------------

    @on(Button.Pressed, "#list")
    def _list(self) -> None:
        region = self.state.get("aws.region")
        if not isinstance(region, str):
            self.query_one("#list-result", Static).update("pick a region in step 1 first")
            return
        profile = self.state.get("aws.profile")
        self.query_one("#list-result", Static).update("asking EC2…")
        self.list_network(region, profile if isinstance(profile, str) else None)

    @work(thread=True, exclusive=True, group="network-list", exit_on_error=False)
    def list_network(self, region: str, profile: str | None) -> None:
        try:
            listing = account.list_network(region, profile)
        except account.AccountCheckError as exc:
            self.post_message(NetworkListed(None, exc.kind, str(exc)))
            return
        self.post_message(NetworkListed(listing))

    def on_network_listed(self, message: NetworkListed) -> None:
        result = self.query_one("#list-result", Static)
        if message.listing is None:
            style = "yellow" if message.kind in ("offline", "no_credentials") else "red"
            result.update(Text(f"{message.text}; type the ids instead", style=style))
            return
        self.listing = message.listing
        result.update(f"{len(message.listing.vpcs)} VPC(s), {len(message.listing.subnets)} subnet(s)")
        self.query_one("#listed").set_class(False, "hidden")
        self._fill_listing()

    def _fill_listing(self) -> None:
        if self.listing is None:
            return
        vpc_id = self.state.get("network.vpc_id")
        options = [
            (f"{v.id}  {v.cidr}  {v.name}{' (default)' if v.is_default else ''}", v.id)
            for v in self.listing.vpcs
        ]
        self.query_one("#vpc-pick", ChoiceField).choose(vpc_id, options)
        subnets = self.listing.subnets_of(vpc_id) if isinstance(vpc_id, str) else ()
        for key, pick_id in (("public_subnet_ids", "#public-pick"), ("private_subnet_ids", "#private-pick")):
            chosen = self.state.get(f"network.{key}") or []
            pick = self.query_one(pick_id, SelectionList)
            with self.prevent(SelectionList.SelectedChanged):
                pick.clear_options()
                pick.add_options(
                    [
                        (
                            f"{s.id}  {s.availability_zone}  {s.cidr}  {s.name}"
                            + ("  public IP on launch" if s.public_ip_on_launch else ""),
                            s.id,
                            s.id in chosen,
                        )
                        for s in subnets
                    ]
                )

    def other_choice(self, field: ChoiceField, value: Any) -> None:
        if field.path == "@vpc" and isinstance(value, str):
            self.state.set("network.vpc_id", value)
            self.load()
            self.changed()

    @on(SelectionList.SelectedChanged)
    def _subnets(self, event: SelectionList.SelectedChanged[str]) -> None:
        event.stop()
        key = "public_subnet_ids" if event.selection_list.id == "public-pick" else "private_subnet_ids"
        chosen = list(event.selection_list.selected)
        self.state.set(f"network.{key}", chosen or None)
        self.load_fields()
        self.changed()
