"""The AWS rules behind the spec: everything AWS would reject later, said now.

:func:`check` returns every violation as a :class:`~mlfargate.errors.SpecError` (key path +
message), never just the first. Facts come from :mod:`mlfargate.spec.catalog` and
../shared/aws-facts.md (sources in the catalog data file).
"""

from __future__ import annotations

import contextlib
import ipaddress
import re
from collections.abc import Iterator
from functools import cache
from importlib import resources
from pathlib import Path

from mlfargate.errors import ECHO_LIMIT, SpecError, SpecErrors, one_line, shown
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
        *_exposure(spec),
        *_egress(spec),
        *_model_uri(spec),
        *_container_settings(spec),
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
            f"{shown(spec.aws.region)} is not in the catalog; known regions: {', '.join(sorted(cat.region_azs))}",
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
        reason = one_line(str(exc), ECHO_LIMIT * 2)
        yield SpecError("network.vpc_cidr", f"{shown(net.vpc_cidr)} is not a valid CIDR block ({reason})")
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
    uri = spec.service.model_uri
    if uri:
        bucket = uri.removeprefix("s3://").split("/", 1)[0]
        problem = bucket_name_error(bucket)  # the rule --backend-bucket follows
        if problem:
            yield SpecError("service.model_uri", f"bucket {shown(bucket)} {problem}")
    arn = spec.service.certificate_arn
    if arn:
        parts = arn.split(":")
        if parts[3] != spec.aws.region:
            yield SpecError(
                "service.certificate_arn",
                f"certificate is in {shown(parts[3])}; an ALB needs an ACM certificate in its own region "
                f"({spec.aws.region})",
            )
        if spec.aws.account_id and parts[4] != spec.aws.account_id:
            yield SpecError("service.certificate_arn", f"account {parts[4]} differs from aws.account_id")


def _cidrs(key: str, cidrs: list[str]) -> Iterator[SpecError]:
    seen: set[str] = set()
    for i, text in enumerate(cidrs):
        try:
            block = ipaddress.IPv4Network(text, strict=True)
        except ValueError as exc:
            fixed = ""
            with contextlib.suppress(ValueError):
                fixed = f"; did you mean {ipaddress.IPv4Network(text, strict=False)}?"
            reason = one_line(str(exc), ECHO_LIMIT * 2)
            yield SpecError(f"{key}[{i}]", f"{shown(text)} is not an IPv4 network ({reason}){fixed}")
            continue
        if str(block) in seen:
            yield SpecError(f"{key}[{i}]", f"{shown(text)} is listed twice; each CIDR once")
        seen.add(str(block))


def _exposure(spec: Spec) -> Iterator[SpecError]:
    """Who can reach the load balancer, and over what: HTTPS unless the spec chose otherwise."""
    s = spec.service
    if s.certificate_arn is None and not s.internal and not s.allow_plain_http:
        yield SpecError(
            "service.certificate_arn",
            "a public (internet-facing) service needs HTTPS: set certificate_arn to an ACM certificate in "
            f"{spec.aws.region}, or set service.allow_plain_http: true to serve plain HTTP on port 80 "
            "(development only); service.internal: true keeps the load balancer inside the VPC instead",
        )
    if s.certificate_arn is not None and s.allow_plain_http:
        yield SpecError(
            "service.allow_plain_http",
            "has no effect with certificate_arn (the listener is HTTPS only); remove one of the two",
        )
    if s.ingress_cidrs is not None:
        yield from _cidrs("service.ingress_cidrs", s.ingress_cidrs)
    arn = s.waf_web_acl_arn
    if arn:
        _, _, _, region, account, resource = arn.split(":", 5)
        if not resource.startswith("regional/"):
            yield SpecError(
                "service.waf_web_acl_arn",
                f"is a {resource.split('/')[0]} web ACL; a load balancer takes a REGIONAL web ACL "
                "(arn:aws:wafv2:<region>:<account>:regional/webacl/<name>/<id>)",
            )
        if region != spec.aws.region:
            yield SpecError(
                "service.waf_web_acl_arn",
                f"web ACL is in {region}; a load balancer needs a regional web ACL in its own region "
                f"({spec.aws.region})",
            )
        if spec.aws.account_id and account != spec.aws.account_id:
            yield SpecError("service.waf_web_acl_arn", f"account {account} differs from aws.account_id")


def _egress(spec: Spec) -> Iterator[SpecError]:
    cidrs = spec.service.egress_cidrs
    if cidrs is None:
        return
    if spec.network.creates_vpc and spec.network.nat == "none":
        yield SpecError(
            "service.egress_cidrs",
            "applies with NAT gateways only: with nat_gateways: none tasks and hosts reach AWS through the "
            "VPC endpoints alone; remove it, or set network.nat_gateways: single or per_az",
        )
    yield from _cidrs("service.egress_cidrs", cidrs)


#: IAM reads ``*`` and ``?`` in a resource ARN as wildcards, and ``${...}`` as a policy variable.
_IAM_SPECIAL = ("*", "?", "${")


def model_uri_error(uri: str) -> str | None:
    """Why ``uri`` cannot scope the task role's S3 grant to one prefix or object, or None when it can.
    (The pattern on the spec model has already required ``s3://<bucket>/<something>``.)"""
    key = uri.split("/", 3)[3] if uri.count("/") >= 3 else ""
    special = next((c for c in _IAM_SPECIAL if c in uri), None)
    if special:
        return (
            f"contains {special!r}, which IAM reads as a wildcard or policy variable and would widen the task "
            "role's read grant; name one prefix ending in / or one object, without wildcards"
        )
    if not key.strip("/"):
        return (
            "names the whole bucket; the task role's read grant must stop at a prefix ending in / "
            "(s3://bucket/models/v3/) or one object (s3://bucket/models/v3/model.onnx)"
        )
    segments = key.rstrip("/").split("/")
    if any(seg in ("", ".", "..") for seg in segments):
        return "has an empty, '.' or '..' path segment; S3 and IAM would not agree on what it names"
    return None


def _model_uri(spec: Spec) -> Iterator[SpecError]:
    uri = spec.service.model_uri
    problem = model_uri_error(uri) if uri else None
    if uri and problem:
        yield SpecError("service.model_uri", f"{shown(uri)} {problem}")


#: A container variable name (what ECS and POSIX shells accept).
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
#: Names that look like a credential: ``*_KEY``, ``*_SECRET``, ``*_TOKEN``, ``*PASSWORD*`` (also
#: PASSWD, CREDENTIAL, ACCESS_KEY, PRIVATE_KEY anywhere). modules/ecs-service's validation of
#: ``environment`` uses the same expression (tests/generator/test_one_fact.py).
CREDENTIAL_NAME = r"(?i)((^|_)(KEY|SECRET|TOKEN)$|PASSWORD|PASSWD|SECRET|CREDENTIAL|ACCESS_KEY|PRIVATE_KEY)"
#: An AWS access key id in a value (AKIA: long-term, ASIA: temporary).
_ACCESS_KEY_ID = re.compile(r"\b(AKIA|ASIA)[A-Z0-9]{16}\b")
#: Secrets Manager secret (optionally with ECS's :json-key:version-stage:version-id) or SSM parameter.
SECRET_ARN = re.compile(
    r"^arn:aws[a-z-]*:(?:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+(?::[^:*?]*:[^:*?]*:[^:*?]*)?"
    r"|ssm:[a-z0-9-]+:\d{12}:parameter/[A-Za-z0-9/_.-]+)$"
)


def secret_resource_arn(value_from: str) -> str:
    """The ARN IAM grants for an ECS ``valueFrom``: a Secrets Manager secret without ECS's
    ``:json-key:version-stage:version-id`` suffix, or the SSM parameter ARN as it is."""
    parts = value_from.split(":")
    return ":".join(parts[:7]) if parts[2] == "secretsmanager" else value_from


def _reserved(name: str, spec: Spec) -> str | None:
    if name == "PORT":
        return "is set from service.container_port"
    if name == "MODEL_PATH" and spec.service.model_uri:
        return "is set from service.model_uri"
    if name.startswith(("ECS_", "AWS_CONTAINER_")):
        return "is set by ECS inside the container (the task's metadata and credentials endpoints)"
    return None


def _key(name: str) -> str:
    """A key the operator chose, as a key path shows it: as written when it is a plain name, else quoted,
    escaped and cut (:func:`~mlfargate.errors.shown`)."""
    return name if re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", name) else shown(name)


def _container_settings(spec: Spec) -> Iterator[SpecError]:
    s = spec.service
    for name, value in s.environment.items():
        key = f"service.environment.{_key(name)}"
        if not ENV_NAME.match(name):
            yield SpecError(
                key, "is not a variable name; use letters, digits and _, not starting with a digit"
            )
            continue
        if re.search(CREDENTIAL_NAME, name):
            yield SpecError(
                key,
                "looks like a credential; store it in AWS Secrets Manager or SSM Parameter Store and name its ARN "
                "under service.secrets (ECS injects it at start: never in the task definition's environment, "
                "tfvars, plan or logs)",
            )
        elif _ACCESS_KEY_ID.search(value):
            yield SpecError(
                key,
                "holds what looks like an AWS access key id; the task role gives the server its AWS credentials, "
                "and anything secret belongs under service.secrets",
            )
        reserved = _reserved(name, spec)
        if reserved:
            yield SpecError(key, f"{reserved}; remove it here")
        if name in s.secrets:
            yield SpecError(key, "is also under service.secrets; a variable comes from one of the two")
    for name, arn in s.secrets.items():
        key = f"service.secrets.{_key(name)}"
        if not ENV_NAME.match(name):
            yield SpecError(
                key, "is not a variable name; use letters, digits and _, not starting with a digit"
            )
            continue
        reserved = _reserved(name, spec)
        if reserved:
            yield SpecError(key, f"{reserved}; remove it here")
        if not SECRET_ARN.match(arn):
            yield SpecError(
                key,
                f"{shown(arn)} is not the full ARN of a Secrets Manager secret "
                "(arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 characters>, optionally "
                "followed by :<json-key>:<version-stage>:<version-id>) or of an SSM parameter "
                "(arn:aws:ssm:<region>:<account>:parameter/<name>); no wildcards",
            )
    if s.secrets_kms_key_arn and not s.secrets:
        yield SpecError(
            "service.secrets_kms_key_arn", "applies to service.secrets only; remove it or name the secrets"
        )


@cache
def aws_time_zones() -> frozenset[str]:
    """The time zone names a scheduled action takes: "the canonical names of the IANA time zones
    supported by Joda-Time (such as Etc/GMT+9 or Pacific/Tahiti)" (Application Auto Scaling API
    reference, PutScheduledAction Timezone; read 2026-11-29). That is the tz database's zones and links
    as the ``tzdata`` package lists them, without ``Factory`` (tzdata's placeholder "zone", which
    Joda-Time does not compile). ``ZoneInfo`` alone also opens the system's ``localtime``,
    ``posixrules``, ``posix/...`` and ``right/...`` files, which are no IANA names."""
    try:
        names = resources.files("tzdata").joinpath("zones").read_text(encoding="utf-8").split()
    except (ModuleNotFoundError, OSError):  # tzdata is a dependency; never fall back to the system's files
        names = []
    return frozenset(names) - {"Factory"}


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
            yield SpecError(key, f"{shown(name)} is listed twice")
            continue
        seen.add(name)
        itype = cat.instance(name)
        if itype is None:
            known = ", ".join(
                sorted(n for n, t in cat.instance_types.items() if (t.nvidia_gpus > 0) == (c.gpus > 0))
            )
            yield SpecError(key, f"{shown(name)} is not in the catalog; known: {known}")
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
            yield SpecError(f"{key}.cron", f"{shown(sched.cron)} {exc}")
        if sched.timezone not in aws_time_zones():
            yield SpecError(
                f"{key}.timezone",
                f"{shown(sched.timezone)} is not an IANA time zone such as America/New_York (AWS takes the "
                "tz database's names: not localtime, Factory, posix/... or right/...)",
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
