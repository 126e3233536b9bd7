"""``mlfargate prices refresh [--region R]`` and ``mlfargate prices show``: the price book and its cache."""

from __future__ import annotations

import argparse

from mlfargate.commands._common import Subparsers, emit_json, examples, out

DEFAULT_REGION = "us-east-1"


def refresh(args: argparse.Namespace) -> int:
    from mlfargate.cost import price_book, price_list

    result = price_list.refresh(args.region, profile=args.profile)
    data = {
        "region": result.region,
        "cache": str(result.path),
        "date": result.date,
        "from_price_list": result.from_price_list,
        "from_spot_history": result.from_spot_history,
        "kept_bundled": result.kept_bundled,
    }
    if args.json:
        emit_json(data)
        return 0
    out(f"wrote {result.path} ({result.region}, {result.date})")
    out(f"  {len(result.from_price_list)} price(s) from the AWS Price List API")
    out(
        f"  {len(result.from_spot_history)} Spot price(s): median of 7 days of EC2 Spot price history across AZs"
    )
    if result.kept_bundled:
        out(
            f"  {len(result.kept_bundled)} price(s) not returned by AWS keep the bundled snapshot "
            f"({price_book.bundled_date()}): {', '.join(result.kept_bundled)}"
        )
    return 0


def show(args: argparse.Namespace) -> int:
    from mlfargate.cost import price_book

    regions = [args.region] if args.region else sorted({*price_book.bundled_regions(), *_cached_regions()})
    rows = []
    for region in regions:
        path = price_book.cache_path(region)
        book = price_book.load(region) if path.is_file() or region in price_book.bundled_regions() else None
        rows.append(
            {
                "region": region,
                "cache": str(path),
                "cached": path.is_file(),
                "in_use": None if book is None else book.source,
                "date": None if book is None else book.date,
            }
        )
    data = {
        "cache_dir": str(price_book.cache_dir()),
        "bundled_date": price_book.bundled_date(),
        "regions": rows,
    }
    if args.json:
        emit_json(data)
        return 0
    out(f"cache directory: {data['cache_dir']} (set {price_book.CACHE_ENV} to move it)")
    out(f"bundled snapshot: {price_book.BUNDLED_FILE}, dated {data['bundled_date']}")
    for row in rows:
        out(
            f"  {row['region']}: {row['in_use'] or 'no prices'}"
            + (f", dated {row['date']}" if row["date"] else "")
        )
    return 0


def _cached_regions() -> list[str]:
    from mlfargate.cost import price_book

    folder = price_book.cache_dir()
    if not folder.is_dir():
        return []
    return [p.stem.removeprefix("prices-") for p in folder.glob("prices-*.yaml")]


def register(sub: Subparsers) -> None:
    p = sub.add_parser(
        "prices",
        help="refresh the local price cache from AWS, or show where prices come from",
        description="Prices for `cost` and `size` come from a snapshot bundled with mlfargate, or from a "
        "cache in your user cache directory that `prices refresh` fills from the AWS Price List API and "
        "the EC2 Spot price history. `prices show` says which one each region uses.",
        epilog=examples("mlfargate prices show", "mlfargate prices refresh --region eu-west-1"),
    )
    verbs = p.add_subparsers(dest="prices_command", metavar="ACTION")
    r = verbs.add_parser(
        "refresh",
        help="read the AWS Price List API and EC2 Spot price history into the cache",
        description="Read on-demand prices (AWS Price List API) and recent Spot prices (EC2 Spot price "
        "history) for one region into the local cache; `cost` and `size` use it from then on (--bundled "
        "ignores it). Needs AWS credentials allowed to call both (pricing:GetProducts, "
        "ec2:DescribeSpotPriceHistory); prices AWS does not return keep the bundled snapshot's.",
        epilog=examples(
            "mlfargate prices refresh --region us-east-1",
            "mlfargate prices refresh --region eu-west-1 --profile billing --json",
        ),
    )
    r.add_argument("--region", default=DEFAULT_REGION, help=f"AWS region to price (default {DEFAULT_REGION})")
    r.add_argument("--profile", default=None, help="named AWS CLI profile")
    r.add_argument("--json", action="store_true", help="print a JSON object")
    r.set_defaults(handler=refresh)
    s = verbs.add_parser(
        "show",
        help="where the cache lives and which price book each region uses",
        description="Show where the price cache lives, and for each region whether `cost` and `size` "
        "use the bundled snapshot or a refreshed cache, and its date.",
        epilog=examples("mlfargate prices show", "mlfargate prices show --region eu-west-1 --json"),
    )
    s.add_argument("--region", default=None, help="one region (default: every bundled or cached region)")
    s.add_argument("--json", action="store_true", help="print a JSON object")
    s.set_defaults(handler=show)
