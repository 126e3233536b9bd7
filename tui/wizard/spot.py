"""Step 4, Spot mix: the on-demand base and the Spot share above it, with the monthly floor and
ceiling from the core's estimate as they change, the interruption trade-off of the chosen capacity,
and an optional budget alert."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Static

from mlfargate.cost.text import money
from tui.state import Analysis
from tui.widgets.fields import TextField
from tui.widgets.money import MoneyTable
from tui.widgets.note import Note
from tui.wizard.base import StepBody, row

#: What a Spot interruption means per capacity (sources: AWS Fargate capacity providers, "Fargate Spot"
#: two-minute warning, https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-capacity-providers.html;
#: EC2 Auto Scaling Capacity Rebalancing, https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-capacity-rebalancing.html;
#: ECS Spot Instance draining, https://docs.aws.amazon.com/AmazonECS/latest/developerguide/spot-instance-draining-linux-container.html;
#: read 2026-11-27). The gpu-capacity module turns capacity_rebalance on for the Auto Scaling group.
TRADE_OFF = {
    "fargate": (
        "Fargate Spot: AWS may stop a Spot task with a 2-minute warning (SIGTERM); the service starts a "
        "replacement, and the on-demand base keeps serving meanwhile."
    ),
    "ec2": (
        "EC2 Spot: a Spot instance gets a 2-minute interruption notice; capacity rebalancing launches a "
        "replacement when EC2 signals a raised risk, often before the notice. Every task on it moves."
    ),
    "managed_instances": (
        "Managed Instances on Spot: EC2's 2-minute interruption notice; ECS drains the instance and "
        "places its tasks on other capacity. Every task on it moves."
    ),
}
UNITS = {"fargate": "tasks", "ec2": "instances", "managed_instances": "instances"}


def spot_bar(percentage: object, width: int = 20) -> Text:
    pct = percentage if isinstance(percentage, int) and 0 <= percentage <= 100 else 0
    spot = round(width * pct / 100)
    return Text.assemble(
        ("█" * (width - spot), "blue"), ("█" * spot, "yellow"), f"  {100 - pct}% on-demand · {pct}% Spot"
    )


class SpotStep(StepBody):
    STEP = "spot"
    TITLE = "Spot mix"

    def compose_body(self) -> ComposeResult:
        yield Note("How much of the capacity runs on cheaper, interruptible Spot.", classes="lead")
        yield row(
            "On-demand base",
            TextField("spot.on_demand_base", kind="int", placeholder="0"),
            hint_id="base-hint",
        )
        yield row(
            "Spot share",
            TextField("spot.spot_percentage", kind="int", placeholder="0"),
            hint="% above the base, 0..100",
        )
        yield Note("", id="spot-bar", markup=False)
        yield Note("", id="trade-off", classes="hint", markup=False)
        yield Note("", id="totals", classes="totals", markup=False)
        yield MoneyTable(id="spot-cost", compact=True)
        yield Note("Budget alert (optional: both or neither)", classes="section")
        yield row("Monthly USD", TextField("budget.monthly_usd", kind="number", placeholder="2500"))
        yield row("Alert email", TextField("budget.alert_email", placeholder="ops@example.com"))

    def refresh_more(self, analysis: Analysis) -> None:
        capacity = self.state.get("compute.capacity")
        kind = capacity if isinstance(capacity, str) and capacity in TRADE_OFF else "fargate"
        self.query_one("#base-hint", Static).update(
            f"{UNITS[kind]} always on-demand (ECS on EC2 and Managed Instances count instances)"
        )
        self.query_one("#spot-bar", Static).update(spot_bar(self.state.get("spot.spot_percentage")))
        self.query_one("#trade-off", Static).update(TRADE_OFF[kind])
        est = analysis.estimate
        totals = self.query_one("#totals", Static)
        if est is None:
            totals.update(Text(f"monthly cost: {analysis.cost_problem}", style="dim"))
        else:
            totals.update(
                Text.assemble(
                    "monthly ",
                    ("floor ", "dim"),
                    (money(est.monthly_floor), "bold"),
                    ("  ·  ceiling ", "dim"),
                    (money(est.monthly_ceiling), "bold"),
                    (f"   ({est.currency}, prices {est.price_date})", "dim"),
                )
            )
        self.query_one(MoneyTable).show(est)
