"""``mlfargate size``: GPU types that hold a model, cheapest first, and why the others do not."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from mlfargate.commands._common import Subparsers, emit_json, examples, out, table
from mlfargate.cost.text import amount
from mlfargate.errors import MlfargateError

DEFAULT_REGION = "us-east-1"


class SizeInputError(MlfargateError):
    """A flag's value is not usable."""


def number(flag: str, text: str | None) -> float | None:
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        raise SizeInputError(f"{flag} must be a number (got {text!r})") from None
    if not math.isfinite(value) or value <= 0:
        raise SizeInputError(f"{flag} must be a positive number (got {text})")
    return value


def run(args: argparse.Namespace) -> int:
    from mlfargate.cost import price_book, sizing
    from mlfargate.spec.rules import load_valid

    if args.precision not in sizing.BYTES_PER_PARAM:
        raise SizeInputError(
            f"--precision {args.precision!r} is not known; allowed: {', '.join(sizing.BYTES_PER_PARAM)}"
        )
    params = number("--params-billion", args.params_billion)
    assert params is not None  # required by argparse
    target = number("--target-rps", args.target_rps)
    per_gpu = number("--rps-per-gpu", args.rps_per_gpu)
    if per_gpu is not None and args.measured:
        raise SizeInputError("give --rps-per-gpu or --measured, not both")
    throughput = None
    if args.measured:
        m = sizing.read_measurement(Path(args.measured))
        throughput = sizing.Throughput(
            m.rps_per_replica, target, f"measured on {m.device} ({m.path}, {m.date or 'undated'})", m.device
        )
    elif per_gpu is not None:
        throughput = sizing.Throughput(per_gpu, target, "--rps-per-gpu")
    elif target is not None:
        raise SizeInputError(
            "--target-rps needs the throughput per GPU: add --rps-per-gpu X or --measured FILE"
        )
    spec = load_valid(Path(args.spec)) if args.spec else None
    region = args.region or (spec.aws.region if spec else DEFAULT_REGION)
    book = price_book.load(region, use_cache=not args.bundled)
    result = sizing.size(params, args.precision, book, throughput=throughput, spec=spec)
    if args.json:
        emit_json(result.to_json())
        return 0
    req = result.requirement
    out(
        f"{req.params_billion:g}B parameters at {req.precision}: weights {req.weights_gib:.1f} GiB, "
        f"needs {req.required_gib:.1f} GiB of GPU memory per replica"
    )
    out(f"prices: {result.price_source}, dated {result.price_date} ({result.region})")
    out()
    headers = ["instance", "GPUs", "GPU/replica", "replicas", "on-demand/h", "Spot/h", "per replica-h"]
    right = [1, 2, 3, 4, 5, 6]
    if throughput:
        headers += ["rps", "$/1M req"] + (["instances", "on-demand/mo"] if target else [])
        right += [7, 8, 9, 10]
    rows = []
    for f in result.fits:
        row = [
            f.instance_type,
            f"{f.gpus} x {f.gpu_model.removeprefix('NVIDIA ')} {f.gpu_memory_gib}G",
            str(f.gpus_per_replica),
            str(f.replicas_per_instance),
            f"{f.on_demand_hour:.4f}",
            f"{f.spot_hour:.4f}" + ("*" if f.spot_is_estimate else ""),
            f"{f.usd_per_replica_hour:.4f}",
        ]
        if throughput:
            row += [f"{f.instance_rps:g}", f"{f.usd_per_million_requests:.3f}"]
            if target:
                row += [str(f.instances_for_target), amount(f.monthly_on_demand_for_target or 0.0)]
        rows.append(row)
    if rows:
        ranked = "cost per million requests" if throughput else "on-demand price per hour"
        out(f"fits (cheapest first by {ranked}):")
        for text in table(headers, rows, right=right):
            out(f"  {text}")
    else:
        out("no instance type in the catalog holds this model in this region")
    out()
    out("rejected:")
    for r in result.rejections:
        out(f"  {r.instance_type}: {r.reason}")
    if result.comparison:
        cmp = result.comparison
        out()
        out("the spec's choice vs the cheapest fitting alternative (monthly, USD):")
        for label, c in (("spec", cmp.spec_choice), ("alternative", cmp.alternative)):
            if c:
                out(
                    f"  {label}: {c.instance_type} ({c.gpus_per_task} GPU/task): "
                    f"{amount(c.monthly_floor)} floor .. {amount(c.monthly_ceiling)} ceiling"
                )
        if cmp.monthly_ceiling_saving is not None:
            out(f"  difference at the ceiling: {amount(cmp.monthly_ceiling_saving)} per month")
        for note in cmp.notes:
            out(f"  note: {note}")
    out()
    out("assumptions:")
    for a in result.assumptions:
        out(f"  - {a}")
    return 0


def register(sub: Subparsers) -> None:
    p = sub.add_parser(
        "size",
        help="GPU instance types that fit a model, ranked by cost, with reasons for the rest",
        description="Rank the GPU instance types whose GPUs hold a model (its weights at the given "
        "precision plus 20% for activations and KV cache, sharded over up to 8 GPUs of one instance) by "
        "cost, with the reason each other type does not fit. With a target rate and a per-GPU rate (or a "
        "measured benchmark), also how many instances it takes. Rules: docs/cost-model.md.",
        epilog=examples(
            "mlfargate size --params-billion 7 --precision fp16",
            "mlfargate size --params-billion 7 --precision fp16 --target-rps 40 --rps-per-gpu 12",
            "mlfargate size --params-billion 70 --precision int4 --spec mine.yaml --json",
        ),
    )
    p.add_argument("--params-billion", required=True, metavar="P", help="model parameters, in billions")
    p.add_argument("--precision", required=True, metavar="fp32|fp16|bf16|int8|int4", help="weight precision")
    p.add_argument(
        "--target-rps", metavar="R", help="requests per second to serve (needs throughput per GPU)"
    )
    p.add_argument("--rps-per-gpu", metavar="X", help="requests per second one GPU serves")
    p.add_argument(
        "--measured",
        metavar="FILE",
        help="take requests/s per GPU from a model-server benchmark (benchmarks/results/serve-<device>.json)",
    )
    p.add_argument("--region", help=f"AWS region (default: the spec's, else {DEFAULT_REGION})")
    p.add_argument("--spec", help="compare against this spec's instance type (monthly floor and ceiling)")
    p.add_argument(
        "--bundled", action="store_true", help="use the bundled price snapshot even if a cache exists"
    )
    p.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    p.set_defaults(handler=run)
