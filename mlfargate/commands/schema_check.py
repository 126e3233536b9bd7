"""``mlfargate schema-check DIR``: check aws_* resources and data sources in every .tf under DIR
against the hashicorp/aws schema bundled from cdktn-provider-aws (offline)."""

from __future__ import annotations

import argparse
from pathlib import Path

from mlfargate.commands._common import Subparsers, emit_json, examples, out


def register(sub: Subparsers) -> None:
    parser = sub.add_parser(
        "schema-check",
        help="check aws_* arguments and blocks in .tf files against the hashicorp/aws schema (offline)",
        description="Check every aws_* resource and data source in the .tf files under DIR against the "
        "hashicorp/aws provider schema bundled with mlfargate: unknown arguments and blocks, missing "
        "required ones. Offline: no provider download. Exit 1 when there is a problem.",
        epilog=examples(
            "mlfargate schema-check modules/alb", "mlfargate schema-check environments/prod --json"
        ),
    )
    parser.add_argument("directory", type=Path, metavar="DIR", help="directory (or .tf file) to check")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from mlfargate.policy.provider_schema import check_directory

    report = check_directory(args.directory)
    if args.json:
        emit_json(report.to_dict())
    else:
        for issue in report.issues:
            out(str(issue))
        verdict = "ok" if report.ok else f"{len(report.issues)} issue(s)"
        out(
            f"schema-check: {verdict}: {report.files_checked} file(s), {report.blocks_checked} aws block(s) "
            f"against hashicorp/aws {report.provider_version} (cdktn-provider-aws {report.cdktn_provider_aws_version})"
        )
    return 0 if report.ok else 1
