"""The AWS rules behind the spec: everything AWS would reject later, said now.

:func:`check` returns every violation as a :class:`~mlfargate.errors.SpecError` (key path +
message), never just the first. Facts come from :mod:`mlfargate.spec.catalog` and
../shared/aws-facts.md (sources in the catalog data file).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from mlfargate.errors import SpecError, SpecErrors
from mlfargate.spec import catalog as catalog_mod
from mlfargate.spec import cron
from mlfargate.spec.catalog import Catalog
from mlfargate.spec.model import Spec, load

#: ALB and target group names are at most 32 characters (ELBv2 CreateLoadBalancer/CreateTargetGroup).
ELB_NAME_MAX = 32
#: The longest suffix a module adds to the deployment prefix for an ELB name ("-alb"; target group "-tg").
ELB_NAME_SUFFIX = "-alb"
#: Smallest subnet we carve: /27 (an ALB needs at least 8 free addresses per subnet; AWS minimum is /28).
SMALLEST_SUBNET_PREFIX = 27
#: The largest VPC AWS allows is a /16.
VPC_LARGEST_PREFIX = 16
#: The network module's subnet layout: the VPC is cut into 16 equal blocks (`cidrsubnet(cidr, 4, i)`),
#: public subnets at blocks 0..5 and private at 8..13, whatever the AZ count (modules/network/main.tf).
SUBNET_NEWBITS = 4


#: S3 general purpose bucket naming rules (AWS S3 User Guide, "General purpose bucket naming rules",
#: docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html, read 2026-11-26).
_BUCKET_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_BUCKET_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


def bucket_name_error(name: str) -> str | None:
    """Why S3 would refuse ``name`` as a general purpose bucket name, or None when it is valid."""
    if not 3 <= len(name) <= 63:
        return f"is {len(name)} characters; S3 bucket names have 3 to 63"
    if not re.fullmatch(r"[a-z0-9][a-z0-9.-]*[a-z0-9]", name):
        return (
            "may hold only lowercase letters, digits, dots and hyphens, and must start and end with a "
            "letter or digit"
        )
    if ".." in name:
        return "must not contain two adjacent dots"
    if re.fullmatch(r"\d{1,3}(\.\d{1,3}){3}", name):
        return "must not be formatted as an IP address"
    for prefix in _BUCKET_RESERVED_PREFIXES:
        if name.startswith(prefix):
            return f"must not start with {prefix!r} (reserved by S3)"
    for suffix in _BUCKET_RESERVED_SUFFIXES:
        if name.endswith(suffix):
            return f"must not end with {suffix!r} (reserved by S3)"
    return None


def check(spec: Spec, cat: Catalog | None = None) -> list[SpecError]:
    cat = cat or catalog_mod.load()
    errors = [
        *_names(spec),
        *_region(spec, cat),
        *_network(spec, cat),
        *_service(spec),
        *_compute(spec, cat),
        *_spot(spec),
        *_scaling(spec),
    ]
    return sorted(set(errors))


def validate(spec: Spec, cat: Catalog | None = None) -> Spec:
    """Return the spec when it obeys every rule; raise :class:`SpecErrors` with all violations."""
    errors = check(spec, cat)
    if errors:
        raise SpecErrors(errors)
    return spec


def load_valid(path: Path) -> Spec:
    """Load a spec file and apply every rule (the entry point other commands use)."""
    return validate(load(path))


def _names(spec: Spec) -> Iterator[SpecError]:
    longest = len(spec.prefix) + len(ELB_NAME_SUFFIX)
    if longest > ELB_NAME_MAX:
        room = ELB_NAME_MAX - len(ELB_NAME_SUFFIX) - 1
        yield SpecError(
            "name",
            f"'{spec.prefix}{ELB_NAME_SUFFIX}' is {longest} characters; ALB and target group names allow "
            f"{ELB_NAME_MAX}, so name and environment together may have at most {room} characters",
        )


def _region(spec: Spec, cat: Catalog) -> Iterator[SpecError]:
    if spec.aws.region not in cat.region_azs:
        yield SpecError(
            "aws.region",
            f"'{spec.aws.region}' is not in the catalog; known regions: {', '.join(sorted(cat.region_azs))}",
        )


def _network(spec: Spec, cat: Catalog) -> Iterator[SpecError]:
    net = spec.network
    if net.vpc_id is not None:
        for key in ("vpc_cidr", "availability_zones", "nat_gateways"):
            if getattr(net, key) is not None:
                yield SpecError(
                    f"network.{key}", "applies to a new VPC only; remove it when vpc_id names an existing VPC"
                )
        for key in ("public_subnet_ids", "private_subnet_ids"):
            ids = getattr(net, key) or []
            if len(ids) < 2:
                yield SpecError(
                    f"network.{key}", "an existing VPC needs at least 2 subnets in different AZs (ALB rule)"
                )
            elif len(set(ids)) != len(ids):
                yield SpecError(f"network.{key}", "lists a subnet twice; each subnet once")
        return
    for key in ("public_subnet_ids", "private_subnet_ids"):
        if getattr(net, key) is not None:
            yield SpecError(
                f"network.{key}", "applies to an existing VPC only; set network.vpc_id or remove it"
            )
    if net.vpc_cidr is None:
        yield SpecError("network", "set either vpc_cidr (a new VPC) or vpc_id with public/private subnet ids")
        return
    try:
        block = ipaddress.ip_network(net.vpc_cidr, strict=True)
    except ValueError as exc:
        yield SpecError("network.vpc_cidr", f"'{net.vpc_cidr}' is not a valid CIDR block ({exc})")
        return
    if block.version != 4:
        yield SpecError("network.vpc_cidr", "must be an IPv4 block (VPCs start from an IPv4 CIDR)")
        return
    lo = VPC_LARGEST_PREFIX
    azs = net.az_count
    needed = SMALLEST_SUBNET_PREFIX - SUBNET_NEWBITS
    if block.prefixlen < lo:
        yield SpecError("network.vpc_cidr", f"/{block.prefixlen} is not allowed; AWS VPCs are /{lo} to /28")
    elif block.prefixlen > needed:
        yield SpecError(
            "network.vpc_cidr",
            f"/{block.prefixlen} is too small: the VPC is cut into 16 blocks (public + private subnets per AZ) "
            f"and each must be at least /{SMALLEST_SUBNET_PREFIX}; use /{needed} or larger",
        )
    region_azs = cat.region_azs.get(spec.aws.region)
    if region_azs is not None and azs > region_azs:
        yield SpecError(
            "network.availability_zones",
            f"{spec.aws.region} has {region_azs} AZs available; use 2..{region_azs}",
        )


def _service(spec: Spec) -> Iterator[SpecError]:
    arn = spec.service.certificate_arn
    if arn:
        parts = arn.split(":")
        if parts[3] != spec.aws.region:
            yield SpecError(
                "service.certificate_arn",
                f"certificate is in {parts[3]}; an ALB needs an ACM certificate in its own region ({spec.aws.region})",
            )
        if spec.aws.account_id and parts[4] != spec.aws.account_id:
            yield SpecError("service.certificate_arn", f"account {parts[4]} differs from aws.account_id")


def _compute(spec: Spec, cat: Catalog) -> Iterator[SpecError]:
    c = spec.compute
    if c.accelerator == "gpu" and c.gpus == 0:
        yield SpecError("compute.gpus_per_task", "accelerator: gpu needs gpus_per_task >= 1")
    if c.accelerator == "none" and c.gpus > 0:
        yield SpecError(
            "compute.gpus_per_task", "GPUs need accelerator: gpu; set gpus_per_task: 0 or remove it"
        )
    if c.capacity == "fargate":
        yield from _fargate(spec, cat)
        return
    if not c.instance_types:
        yield SpecError("compute.instance_types", f"capacity {c.capacity} needs at least one instance type")
    seen: set[str] = set()
    for i, name in enumerate(c.instance_types):
        key = f"compute.instance_types[{i}]"
        if name in seen:
            yield SpecError(key, f"'{name}' is listed twice")
            continue
        seen.add(name)
        itype = cat.instance(name)
        if itype is None:
            known = ", ".join(
                sorted(n for n, t in cat.instance_types.items() if (t.nvidia_gpus > 0) == (c.gpus > 0))
            )
            yield SpecError(key, f"'{name}' is not in the catalog; known: {known}")
            continue
        if itype.arch != c.architecture:
            yield SpecError(key, f"'{name}' is {itype.arch} but compute.architecture is {c.architecture}")
        if c.accelerator == "gpu" and itype.nvidia_gpus == 0:
            why = (
                f"has {itype.accelerator.model} (Neuron devices, not ECS GPU resources)"
                if itype.accelerator
                else "has no GPU"
            )
            yield SpecError(
                key, f"'{name}' {why}; accelerator: gpu needs an NVIDIA GPU type such as g5.xlarge"
            )
            continue
        too_small = {
            limit.resource: limit for limit in itype.task_limits(c.cpu, c.memory, c.gpus) if limit.tasks == 0
        }
        if "gpu" in too_small and itype.nvidia_gpus > 0:
            yield SpecError(key, f"a task needs {c.gpus} GPUs but '{name}' has {itype.nvidia_gpus}")
        if "cpu" in too_small:
            yield SpecError(key, f"a task needs {c.cpu} CPU units but '{name}' has {itype.cpu_units}")
        if "memory" in too_small:
            yield SpecError(
                key,
                f"a task needs {c.memory} MiB but '{name}' registers about {itype.registered_memory_mib} MiB with "
                "ECS (the agent reserves the rest); lower compute.memory or pick a larger type",
            )


def _fargate(spec: Spec, cat: Catalog) -> Iterator[SpecError]:
    c = spec.compute
    if c.accelerator == "gpu" or c.gpus > 0:
        yield SpecError(
            "compute.capacity",
            "Fargate has no GPUs; use capacity: ec2 (ECS on EC2, GPU AMI) or managed_instances for a GPU server",
        )
    if c.instance_types:
        yield SpecError("compute.instance_types", "Fargate picks its own hosts; remove instance_types")
    allowed = cat.fargate_memory_for(c.cpu)
    if not allowed:
        yield SpecError(
            "compute.cpu",
            f"{c.cpu} is not a Fargate CPU size; allowed: {', '.join(map(str, sorted(cat.fargate_sizes)))}",
        )
    elif c.memory not in allowed:
        step = (
            allowed[1] - allowed[0]
            if len(allowed) > 2 and allowed[1] - allowed[0] == allowed[-1] - allowed[-2]
            else 0
        )
        span = f"{allowed[0]}-{allowed[-1]} in steps of {step}" if step else ", ".join(map(str, allowed))
        yield SpecError(
            "compute.memory", f"{c.memory} MiB is not valid with cpu {c.cpu} on Fargate; allowed: {span}"
        )


def _spot(spec: Spec) -> Iterator[SpecError]:
    if spec.spot.on_demand_base > spec.scaling.max_tasks:
        yield SpecError(
            "spot.on_demand_base",
            f"{spec.spot.on_demand_base} exceeds scaling.max_tasks ({spec.scaling.max_tasks}); use 0..max_tasks",
        )


def _scaling(spec: Spec) -> Iterator[SpecError]:
    s = spec.scaling
    if s.min_tasks > s.max_tasks:
        yield SpecError(
            "scaling.min_tasks", f"{s.min_tasks} is above max_tasks ({s.max_tasks}); need min <= max"
        )
    if s.target.metric in ("cpu", "memory") and s.target.value > 100:
        yield SpecError("scaling.target.value", f"{s.target.metric} target is a percentage; use 1..100")
    names: set[str] = set()
    for i, sched in enumerate(s.schedules):
        key = f"scaling.schedules[{i}]"
        if sched.name in names:
            yield SpecError(f"{key}.name", f"'{sched.name}' is used twice; schedule names must be unique")
        names.add(sched.name)
        try:
            cron.parse(sched.cron)
        except cron.CronError as exc:
            yield SpecError(f"{key}.cron", f"'{sched.cron}' {exc}")
        try:
            ZoneInfo(sched.timezone)
        except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a zone directory such as 'America'
            yield SpecError(
                f"{key}.timezone", f"'{sched.timezone}' is not an IANA time zone such as America/New_York"
            )
        lo, hi = sched.min_tasks, sched.max_tasks
        if lo is None and hi is None:
            yield SpecError(key, "sets neither min_tasks nor max_tasks; set one or both")
        elif lo is not None and hi is not None and lo > hi:
            yield SpecError(f"{key}.min_tasks", f"{lo} is above this schedule's max_tasks ({hi})")
        elif hi is None and lo is not None and lo > s.max_tasks:
            yield SpecError(
                f"{key}.min_tasks", f"{lo} is above scaling.max_tasks ({s.max_tasks}); also set max_tasks"
            )
        elif lo is None and hi is not None and hi < s.min_tasks:
            yield SpecError(
                f"{key}.max_tasks", f"{hi} is below scaling.min_tasks ({s.min_tasks}); also set min_tasks"
            )
