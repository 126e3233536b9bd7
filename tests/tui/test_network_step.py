"""Step 2 through the pilot: a new VPC (CIDR rules, AZs, NAT with each choice's cost from the core's
estimate, what "none" means) and an existing VPC (typed, or listed from the emulator)."""

from __future__ import annotations

import copy
from pathlib import Path

import boto3
import pytest
from textual.widgets import RadioButton, SelectionList, Static

from tests.tui.conftest import SIZE, errors_shown, goto, make_app, settle, type_into, wizard
from tui.state import analyze, price_book_for
from tui.widgets.fields import ChoiceField


async def test_cidr_rules_and_nat_costs(tmp_path: Path) -> None:
    app = make_app(tmp_path / "new.yaml")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await goto(app, pilot, "network")
        await type_into(pilot, "#f-network-vpc_cidr", "10.0.0.0/24")
        assert errors_shown(app, "network") == [
            "spec error: network.vpc_cidr: /24 is too small: the VPC is cut into 16 blocks (public + private "
            "subnets per AZ) and each must be at least /27; use /23 or larger"
        ]
        await type_into(pilot, "#f-network-vpc_cidr", "10.0.0.1/16")
        assert errors_shown(app, "network")[0].startswith(
            "spec error: network.vpc_cidr: '10.0.0.1/16' is not a valid"
        )
        await type_into(pilot, "#f-network-vpc_cidr", "10.40.0.0/16")
        assert errors_shown(app, "network") == []
        # AZs above what the region has: the core's words
        app.screen.query_one("#azs", ChoiceField).value = 6
        await pilot.pause()
        app.state.set("aws.region", "us-west-1")  # 2 AZs
        wizard(app).refresh_all(None)
        await pilot.pause()
        assert errors_shown(app, "network") == [
            "spec error: network.availability_zones: us-west-1 has 2 AZs available; use 2..2"
        ]
        app.state.set("aws.region", "us-east-1")
        app.screen.query_one("#azs", ChoiceField).value = 3
        await pilot.pause()
        # each NAT choice's cost: the core's estimate with that choice minus the one without NAT
        book = price_book_for("us-east-1")
        floors = {}
        for choice in ("none", "single", "per_az"):
            data = copy.deepcopy(app.state.data)
            data["network"]["nat_gateways"] = choice
            est = analyze(data, lambda r: book).estimate
            assert est is not None
            floors[choice] = est.monthly_floor
        labels = {
            c: str(app.screen.query_one(f"#nat-{c}", RadioButton).label) for c in ("none", "single", "per_az")
        }
        assert labels["none"] == "none  $0.00/mo"
        # GPU hosts without NAT need three more interface endpoints (ecs, ecs-agent, ecs-telemetry) in
        # each AZ: for this GPU draft "none" costs more than one NAT gateway, and the label says so.
        single, per_az = floors["single"] - floors["none"], floors["per_az"] - floors["none"]
        assert single < 0 < per_az
        assert labels["single"] == f"single  -${-single:,.2f}/mo"
        assert labels["per_az"] == f"one per AZ  +${per_az:,.2f}/mo"
        assert per_az - single == pytest.approx(2 * (single + 3 * 3 * 0.01 * 730))  # two more NAT gateways
        await pilot.click("#nat-none")
        await pilot.pause()
        assert app.state.get("network.nat_gateways") == "none"
        note = str(app.screen.query_one("#nat-note", Static).render())
        assert "No NAT gateway" in note and "VPC endpoints" in note
        assert app.state.analysis().estimate is not None
        assert not any("NAT gateway" in line.item for line in app.state.analysis().estimate.lines)  # type: ignore[union-attr]


async def test_existing_vpc_typed_and_switching_back_restores(tmp_path: Path) -> None:
    app = make_app(tmp_path / "new.yaml")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await goto(app, pilot, "network")
        await pilot.click("#mode-existing")
        await pilot.pause()
        assert app.state.get("network") == {}
        assert errors_shown(app, "network") == [
            "spec error: network: set either vpc_cidr (a new VPC) or vpc_id with public/private subnet ids"
        ]
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert wizard(app).current == "network"  # refused
        await type_into(pilot, "#f-network-vpc_id", "vpc-0123456789abcdef0")
        await type_into(pilot, "#f-network-public_subnet_ids", "subnet-0123456789abcdef0")
        assert (
            "spec error: network.public_subnet_ids: an existing VPC needs at least 2 subnets in different AZs "
            "(ALB rule)" in errors_shown(app, "network")
        )
        await type_into(
            pilot, "#f-network-public_subnet_ids", "subnet-0123456789abcdef0, subnet-0123456789abcdef1"
        )
        await type_into(
            pilot, "#f-network-private_subnet_ids", "subnet-0123456789abcdef2 subnet-0123456789abcdef3"
        )
        assert errors_shown(app, "network") == []
        assert app.state.get("network.private_subnet_ids") == [
            "subnet-0123456789abcdef2",
            "subnet-0123456789abcdef3",
        ]
        await pilot.click("#mode-new")
        await pilot.pause()
        assert app.state.get("network") == {
            "vpc_cidr": "10.20.0.0/16",
            "availability_zones": 2,
            "nat_gateways": "single",
        }
        await pilot.click("#mode-existing")
        await pilot.pause()
        assert app.state.get("network.vpc_id") == "vpc-0123456789abcdef0"


async def test_existing_vpc_listed_from_the_emulator(
    tmp_path: Path, moto_reset: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFARGATE_AWS_ENDPOINT_URL", moto_reset)
    ec2 = boto3.client("ec2", region_name="us-east-1", endpoint_url=moto_reset)
    vpc = ec2.create_vpc(CidrBlock="10.7.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.7.{i}.0/24", AvailabilityZone=f"us-east-1{az}")["Subnet"][
            "SubnetId"
        ]
        for i, az in enumerate("abab")
    ]
    app = make_app(tmp_path / "new.yaml")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.state.set("aws.profile", None)
        await goto(app, pilot, "network")
        await pilot.click("#mode-existing")
        await pilot.pause()
        await pilot.click("#list")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "VPC(s)" in str(app.screen.query_one("#list-result", Static).render())
        app.screen.query_one("#vpc-pick", ChoiceField).value = vpc
        await pilot.pause()
        assert app.state.get("network.vpc_id") == vpc
        public = app.screen.query_one("#public-pick", SelectionList)
        private = app.screen.query_one("#private-pick", SelectionList)
        assert public.option_count == 4
        public.select(subnets[0])
        public.select(subnets[1])
        await pilot.pause()
        private.select(subnets[2])
        private.select(subnets[3])
        await pilot.pause()
        assert sorted(app.state.get("network.public_subnet_ids")) == sorted(subnets[:2])
        assert sorted(app.state.get("network.private_subnet_ids")) == sorted(subnets[2:])
        assert errors_shown(app, "network") == []
