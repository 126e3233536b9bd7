"""GPU sizing: which instance types hold a model, what they cost, and why the others do not.

The rule (docs/cost-model.md): weights take ``params x bytes-per-parameter`` (fp32 4, fp16/bf16 2,
int8 1, int4 0.5); a replica needs weights x 1.2 of GPU memory (20% for activations and KV cache).
A GPU offers less than its nominal memory: ``usable = nominal x 0.92 - 0.5 GiB`` (the driver and ECC
reserve ~8%: a 16 GiB T4 shows 15110 MB to CUDA; the CUDA context and allocator take hundreds of MiB
more). A replica may be sharded over 1, 2, 4 or 8 GPUs of one instance (tensor parallel; the smallest
count whose usable memory holds it); an instance serves ``gpus // gpus_per_replica`` replicas.
With throughput, a replica serves ``gpus_per_replica x rps_per_gpu`` requests per second (the
measurement's device stands for every GPU model: an assumption the output states).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from mlfargate.cost import estimate as cost_mod
from mlfargate.cost.price_book import PriceBook
from mlfargate.errors import InputFileError, MlfargateError
from mlfargate.spec import catalog as catalog_mod
from mlfargate.spec.catalog import Catalog, InstanceType
from mlfargate.spec.model import Spec

BYTES_PER_PARAM: dict[str, float] = {"fp32": 4.0, "fp16": 2.0, "bf16": 2.0, "int8": 1.0, "int4": 0.5}
HEADROOM = 1.2
#: Share of a GPU's nominal memory the driver and ECC keep (a 16 GiB T4 shows 15110 MB, 15843721216
#: bytes, to CUDA in deviceQuery: 7.8% less), rounded up.
GPU_RESERVED_FRACTION = 0.08
#: GiB per GPU the CUDA context and the framework's allocator take before the model loads (hundreds of
#: MiB, depending on driver and framework).
CUDA_CONTEXT_GIB = 0.5
GIB = 1024**3
BENCHMARK_SCHEMA = "mlfargate.serve-benchmark/1"
RULE = (
    "usable GPU memory per replica >= weights x 1.2 (weights = parameters x bytes per parameter: fp32 4, "
    "fp16/bf16 2, int8 1, int4 0.5; 20% for activations and KV cache), where a GPU's usable memory is "
    f"{1 - GPU_RESERVED_FRACTION:g} x nominal - {CUDA_CONTEXT_GIB:g} GiB ({GPU_RESERVED_FRACTION:.0%} kept by "
    f"driver and ECC, {CUDA_CONTEXT_GIB:g} GiB for the CUDA context and allocator); a replica may span 1, 2, "
    "4 or 8 GPUs of one instance"
)

RejectionCode = Literal["no_gpu", "neuron", "gpu_memory", "not_in_region"]


class SizingError(MlfargateError):
    """Bad sizing input: unknown precision, non-positive parameters, conflicting throughput flags."""


@dataclass(frozen=True)
class Requirement:
    params_billion: float
    precision: str
    weights_gib: float
    required_gib: float


@dataclass(frozen=True)
class Throughput:
    rps_per_gpu: float
    target_rps: float | None
    source: str
    #: The device the measurement ran on, when it came from a benchmark file.
    device: str | None = None


@dataclass(frozen=True)
class Fit:
    instance_type: str
    gpu_model: str
    gpus: int
    gpu_memory_gib: int
    gpus_per_replica: int
    replicas_per_instance: int
    on_demand_hour: float
    spot_hour: float
    spot_is_estimate: bool
    instance_rps: float | None = None
    usd_per_million_requests: float | None = None
    instances_for_target: int | None = None
    monthly_on_demand_for_target: float | None = None

    @property
    def usd_per_replica_hour(self) -> float:
        return self.on_demand_hour / self.replicas_per_instance


@dataclass(frozen=True)
class Rejection:
    instance_type: str
    code: RejectionCode
    reason: str


@dataclass(frozen=True)
class Choice:
    instance_type: str
    gpus_per_task: int
    monthly_floor: float
    monthly_ceiling: float


@dataclass(frozen=True)
class Comparison:
    spec_choice: Choice | None
    alternative: Choice | None
    notes: tuple[str, ...]

    @property
    def monthly_ceiling_saving(self) -> float | None:
        if self.spec_choice and self.alternative:
            return self.spec_choice.monthly_ceiling - self.alternative.monthly_ceiling
        return None


@dataclass(frozen=True)
class Sizing:
    requirement: Requirement
    region: str
    price_source: str
    price_date: str
    fits: tuple[Fit, ...]
    rejections: tuple[Rejection, ...]
    throughput: Throughput | None
    comparison: Comparison | None = None
    assumptions: tuple[str, ...] = field(default_factory=tuple)

    def to_json(self) -> dict[str, Any]:
        def fit(f: Fit) -> dict[str, Any]:
            return {
                "instance_type": f.instance_type,
                "gpu_model": f.gpu_model,
                "gpus": f.gpus,
                "gpu_memory_gib": f.gpu_memory_gib,
                "gpus_per_replica": f.gpus_per_replica,
                "replicas_per_instance": f.replicas_per_instance,
                "on_demand_hour": f.on_demand_hour,
                "spot_hour": f.spot_hour,
                "spot_is_estimate": f.spot_is_estimate,
                "usd_per_replica_hour": round(f.usd_per_replica_hour, 6),
                "instance_rps": f.instance_rps,
                "usd_per_million_requests": _r(f.usd_per_million_requests),
                "instances_for_target": f.instances_for_target,
                "monthly_on_demand_for_target": _r(f.monthly_on_demand_for_target),
            }

        def choice(c: Choice | None) -> dict[str, Any] | None:
            return (
                None
                if c is None
                else {
                    "instance_type": c.instance_type,
                    "gpus_per_task": c.gpus_per_task,
                    "monthly_floor": round(c.monthly_floor, 6),
                    "monthly_ceiling": round(c.monthly_ceiling, 6),
                }
            )

        req = self.requirement
        return {
            "currency": "USD",
            "region": self.region,
            "price_source": self.price_source,
            "price_date": self.price_date,
            "rule": RULE,
            "model": {
                "params_billion": req.params_billion,
                "precision": req.precision,
                "weights_gib": round(req.weights_gib, 3),
                "required_gib_per_replica": round(req.required_gib, 3),
            },
            "throughput": None
            if self.throughput is None
            else {
                "rps_per_gpu": self.throughput.rps_per_gpu,
                "target_rps": self.throughput.target_rps,
                "source": self.throughput.source,
            },
            "ranked_by": "usd_per_million_requests" if self.throughput else "on_demand_hour",
            "recommendations": [fit(f) for f in self.fits],
            "rejections": [
                {"instance_type": r.instance_type, "code": r.code, "reason": r.reason}
                for r in self.rejections
            ],
            "comparison": None
            if self.comparison is None
            else {
                "spec_choice": choice(self.comparison.spec_choice),
                "cheapest_alternative": choice(self.comparison.alternative),
                "monthly_ceiling_saving": _r(self.comparison.monthly_ceiling_saving),
                "notes": list(self.comparison.notes),
            },
            "assumptions": list(self.assumptions),
        }


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


def is_gpu_device(device: str) -> bool:
    """Whether a benchmark's device is a GPU: the model server names CUDA devices ``cuda:<GPU name>``."""
    name = device.lower()
    return "gpu" in name or name.startswith("cuda")


def requirement(params_billion: float, precision: str) -> Requirement:
    if precision not in BYTES_PER_PARAM:
        raise SizingError(f"precision '{precision}' is not known; allowed: {', '.join(BYTES_PER_PARAM)}")
    if not params_billion > 0 or not math.isfinite(params_billion):
        raise SizingError(f"--params-billion must be a positive number (got {params_billion})")
    weights = params_billion * 1e9 * BYTES_PER_PARAM[precision] / GIB
    return Requirement(params_billion, precision, weights, weights * HEADROOM)


def usable_gib(nominal_gib: float) -> float:
    """GPU memory a model can use of a GPU with ``nominal_gib``: what the driver and ECC leave, less the
    CUDA context and allocator."""
    return nominal_gib * (1 - GPU_RESERVED_FRACTION) - CUDA_CONTEXT_GIB


def gpus_per_replica(itype: InstanceType, required_gib: float) -> int | None:
    acc = itype.accelerator
    if acc is None:
        return None
    g = 1
    while g <= acc.count:
        if g * usable_gib(acc.memory_gib) >= required_gib:
            return g
        g *= 2
    return None


@dataclass(frozen=True)
class Measurement:
    device: str
    rps_per_replica: float
    date: str
    path: Path


def read_measurement(path: Path) -> Measurement:
    """Read ``benchmarks/results/serve-<device>.json`` (schema mlfargate.serve-benchmark/1)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputFileError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputFileError(f"{path}: cannot read: {exc}") from None
    except json.JSONDecodeError as exc:
        raise InputFileError(f"{path}: not JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}") from None
    if not isinstance(data, dict) or data.get("schema") != BENCHMARK_SCHEMA:
        got = data.get("schema") if isinstance(data, dict) else type(data).__name__
        raise InputFileError(
            f"{path}: schema is {got!r}; expected a model-server benchmark with schema {BENCHMARK_SCHEMA!r}"
        )
    rps = data.get("measured_rps_per_replica")
    if isinstance(rps, bool) or not isinstance(rps, int | float) or not rps > 0 or not math.isfinite(rps):
        raise InputFileError(f"{path}: measured_rps_per_replica must be a positive number (got {rps!r})")
    return Measurement(
        device=str(data.get("device", "unknown")),
        rps_per_replica=float(rps),
        date=str(data.get("date", "")),
        path=path,
    )


def size(
    params_billion: float,
    precision: str,
    book: PriceBook,
    *,
    throughput: Throughput | None = None,
    spec: Spec | None = None,
    cat: Catalog | None = None,
) -> Sizing:
    cat = cat or catalog_mod.load()
    req = requirement(params_billion, precision)
    if throughput is not None:
        if not throughput.rps_per_gpu > 0:
            raise SizingError(f"requests per second per GPU must be positive (got {throughput.rps_per_gpu})")
        if throughput.target_rps is not None and not throughput.target_rps > 0:
            raise SizingError(f"--target-rps must be positive (got {throughput.target_rps})")
    fits: list[Fit] = []
    rejections: list[Rejection] = []
    for name in sorted(cat.instance_types):
        itype = cat.instance_types[name]
        verdict = _judge(itype, req, book)
        if isinstance(verdict, Rejection):
            rejections.append(verdict)
        else:
            fits.append(_with_throughput(verdict, throughput))
    if throughput is not None:
        fits.sort(key=lambda f: (f.usd_per_million_requests or math.inf, f.on_demand_hour, f.instance_type))
    else:
        fits.sort(key=lambda f: (f.on_demand_hour, f.instance_type))
    assumptions = [RULE + "."]
    if throughput is not None:
        assumptions.append(
            f"A replica on g GPUs serves g x {throughput.rps_per_gpu:g} requests/s ({throughput.source}); every GPU "
            "model is assumed as fast as the measured one: re-measure on the type you pick."
        )
    if throughput is not None and throughput.device is not None and not is_gpu_device(throughput.device):
        assumptions.append(
            f"The measurement ran on '{throughput.device}', not a GPU: GPU throughput will differ; "
            "run the model-server benchmark on the GPU type before relying on the ranking's numbers."
        )
    if any(f.spot_is_estimate for f in fits):
        assumptions.append(
            "Spot prices marked as estimates are not observed prices; run `mlfargate prices refresh`."
        )
    comparison = _compare(spec, fits, book, cat) if spec is not None else None
    return Sizing(
        requirement=req,
        region=book.region,
        price_source=book.source,
        price_date=book.date,
        fits=tuple(fits),
        rejections=tuple(rejections),
        throughput=throughput,
        comparison=comparison,
        assumptions=tuple(assumptions),
    )


def _judge(itype: InstanceType, req: Requirement, book: PriceBook) -> Fit | Rejection:
    acc = itype.accelerator
    if acc is None:
        return Rejection(itype.name, "no_gpu", "no GPUs")
    if acc.kind != "nvidia":
        return Rejection(
            itype.name,
            "neuron",
            f"{acc.model} is a Neuron device, not an ECS GPU; needs a Neuron-compiled model",
        )
    g = gpus_per_replica(itype, req.required_gib)
    if g is None:
        return Rejection(
            itype.name,
            "gpu_memory",
            f"too little GPU memory: needs {req.required_gib:.1f} GiB per replica, "
            f"has {acc.count} x {acc.memory_gib} GiB ({usable_gib(acc.memory_gib):.1f} GiB usable each after "
            f"{GPU_RESERVED_FRACTION:.0%} driver/ECC reservation and {CUDA_CONTEXT_GIB:g} GiB CUDA context)",
        )
    key = f"ec2.{itype.name}.on_demand"
    if not book.has(key):
        return Rejection(
            itype.name, "not_in_region", f"not in region {book.region} (no price in {book.source})"
        )
    spot = book.spot(itype.name) if book.has(f"ec2.{itype.name}.spot") else book.on_demand(itype.name)
    return Fit(
        instance_type=itype.name,
        gpu_model=acc.model,
        gpus=acc.count,
        gpu_memory_gib=acc.memory_gib,
        gpus_per_replica=g,
        replicas_per_instance=acc.count // g,
        on_demand_hour=book.on_demand(itype.name).usd,
        spot_hour=spot.usd,
        spot_is_estimate=spot.estimate,
    )


def _with_throughput(fit: Fit, tp: Throughput | None) -> Fit:
    if tp is None:
        return fit
    rps = fit.replicas_per_instance * fit.gpus_per_replica * tp.rps_per_gpu
    per_million = fit.on_demand_hour / (rps * 3600) * 1e6
    n = math.ceil(tp.target_rps / rps) if tp.target_rps is not None else None
    monthly = n * fit.on_demand_hour * cost_mod.HOURS_PER_MONTH if n is not None else None
    return replace(
        fit,
        instance_rps=rps,
        usd_per_million_requests=per_million,
        instances_for_target=n,
        monthly_on_demand_for_target=monthly,
    )


def _priced(spec: Spec, instance_type: str, gpus: int, book: PriceBook, cat: Catalog) -> Choice:
    variant = spec.model_copy(
        update={
            "compute": spec.compute.model_copy(
                update={"instance_types": [instance_type], "gpus_per_task": gpus}
            )
        }
    )
    est = cost_mod.estimate(variant, book, cat)
    return Choice(instance_type, gpus, est.monthly_floor, est.monthly_ceiling)


def _compare(spec: Spec, fits: list[Fit], book: PriceBook, cat: Catalog) -> Comparison:
    c = spec.compute
    notes: list[str] = []
    if c.capacity == "fargate" or not c.instance_types:
        notes.append("the spec runs on Fargate, which has no GPUs: it cannot serve a GPU model")
        est = cost_mod.estimate(spec, book, cat)
        mine: Choice | None = Choice("fargate (CPU only)", 0, est.monthly_floor, est.monthly_ceiling)
        chosen = None
    else:
        chosen = c.instance_types[0]
        if chosen not in {f.instance_type for f in fits}:
            notes.append(f"the spec's {chosen} does not fit this model (see rejections); priced as written")
        mine = _priced(spec, chosen, c.gpus, book, cat)
    alternatives: list[Choice] = []
    for f in fits:
        if f.instance_type == chosen:
            continue
        itype = cat.instance_types[f.instance_type]
        if itype.tasks_per_instance(c.cpu, c.memory, f.gpus_per_replica) < 1:
            notes.append(
                f"{f.instance_type} skipped: the spec's task ({c.cpu} CPU units, {c.memory} MiB) does not fit on it"
            )
            continue
        if c.capacity == "fargate":
            variant_spec = spec.model_copy(
                update={"compute": c.model_copy(update={"capacity": "ec2", "accelerator": "gpu"})}
            )
        else:
            variant_spec = spec
        alternatives.append(_priced(variant_spec, f.instance_type, f.gpus_per_replica, book, cat))
    best = min(
        alternatives, key=lambda a: (a.monthly_ceiling, a.monthly_floor, a.instance_type), default=None
    )
    notes.append(
        "both priced with the spec's scaling, schedules, Spot mix and network; one task = one replica"
    )
    return Comparison(spec_choice=mine, alternative=best, notes=tuple(notes))
