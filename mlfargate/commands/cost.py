"""``mlfargate cost SPEC [--json]``: monthly floor and ceiling, line by line, with the prices' source and date."""

from __future__ import annotations

import argparse
from pathlib import Path

from mlfargate.commands._common import Subparsers, emit_json, examples, out, table
from mlfargate.cost.text import amount, qty
from mlfargate.spec.model import DEFAULT_FILE


def run(args: argparse.Namespace) -> int:
    from mlfargate.cost import estimate as cost
    from mlfargate.cost import price_book
    from mlfargate.spec.rules import load_valid

    spec = load_valid(Path(args.spec))
    book = price_book.load(spec.aws.region, use_cache=not args.bundled)
    if args.mi_fee_fraction is not None:
        book = book.with_mi_fee_fraction(args.mi_fee_fraction)
    est = cost.estimate(spec, book)
    if args.json:
        emit_json(est.to_json())
        return 0
    out(
        f"{spec.prefix} in {est.region}: monthly {est.currency} {amount(est.monthly_floor)} (floor) .. "
        f"{amount(est.monthly_ceiling)} (ceiling)"
    )
    out(f"prices: {est.price_source}, dated {est.price_date}")
    out()
    rows = [
        [
            line.item,
            f"{line.unit_price:.6g}" + ("*" if line.price.estimate else ""),
            line.unit,
            qty(line.floor_quantity),
            qty(line.ceiling_quantity),
            amount(line.monthly_floor),
            amount(line.monthly_ceiling),
        ]
        for line in est.lines
    ]
    rows.append(["total", "", "", "", "", amount(est.monthly_floor), amount(est.monthly_ceiling)])
    headers = ["item", "unit price", "unit", "floor qty/mo", "ceiling qty/mo", "floor/mo", "ceiling/mo"]
    for text in table(headers, rows, right=(1, 3, 4, 5, 6)):
        out(text)
    if any(line.price.estimate for line in est.lines):
        out("* estimated price, not an observed one (see assumptions)")
    usage = sum(1 for line in est.lines if line.kind == "usage")
    if usage:
        out(f"{usage} usage line(s) at quantity 0: multiply their unit price by your volume")
    free = [r for r in est.resources if r.classification and r.classification.kind == "none"]
    if free:
        out(
            f"no charge: {len(free)} more resource type(s) the workspace creates "
            f"({', '.join(r.type.removeprefix('aws_') for r in free[:4])}, ...); --json lists each with why"
        )
    out()
    out("assumptions:")
    for item in est.assumptions:
        out(f"  - {item}")
    return 0


def register(sub: Subparsers) -> None:
    p = sub.add_parser(
        "cost",
        help="estimate the monthly cost of a spec (floor and ceiling, Spot and schedules)",
        description="Estimate the monthly cost of a spec, line by line: a floor (the minimum task count "
        "in force at each minute of the week, scheduled scale-downs included) and a ceiling (the maximum), "
        "the Spot share at Spot prices, and the assumptions made. Prices come from the bundled snapshot, "
        "or the cache `mlfargate prices refresh` writes.",
        epilog=examples("mlfargate cost mine.yaml", "mlfargate cost mine.yaml --bundled --json"),
    )
    p.add_argument("spec", nargs="?", default=DEFAULT_FILE, help=f"spec file (default {DEFAULT_FILE})")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    p.add_argument(
        "--bundled",
        action="store_true",
        help="use the bundled price snapshot even if a refreshed cache exists",
    )
    p.add_argument(
        "--mi-fee-fraction",
        type=float,
        default=None,
        metavar="F",
        help="ECS Managed Instances fee as a fraction of on-demand for types without a listed fee "
        "(assumption; default 0.12 from AWS's c6a.2xlarge example)",
    )
    p.set_defaults(handler=run)
