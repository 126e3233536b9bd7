"""Spec -> the plan of a Terraform root workspace: the one place that decides what a workspace contains.

:func:`plan` turns a valid spec into a :class:`~mlfargate.generate.model.WorkspacePlan`: the module calls
(which modules, with which arguments), variables, outputs, provider and backend settings. It is the
single source of every module argument; two serializers read it:

* :func:`mlfargate.generate.hcl.render_hcl` writes the HCL workspace through the jinja2 templates;
* ``cdktf_app`` (CDK Terrain) builds ``TerraformHclModule`` constructs from the same plan, with
  :func:`mlfargate.generate.hcl.json_value` for the values, and synthesizes ``cdk.tf.json``.

Pure: no file system access; no AWS, no Terraform.

Longer than most core files on purpose: one small function per module call, in dependency order, so
the whole wiring reads top to bottom beside modules/README.md's wiring table.
"""

from __future__ import annotations

import re

from mlfargate.generate.hcl import number
from mlfargate.generate.model import (
    GENERATED_BY,
    SPEC_COPY,
    Backend,
    Conditional,
    DataSource,
    ModuleCall,
    ModuleSource,
    Output,
    Ref,
    RenderError,
    Template,
    Value,
    Variable,
    WorkspacePlan,
)
from mlfargate.spec.model import Spec
from mlfargate.spec.rules import bucket_name_error, secret_resource_arn

# --------------------------------------------------------------------------------------------------
# The plan: every module argument is decided here and only here.


def plan(
    spec: Spec, source: ModuleSource, *, spec_text: str, backend_bucket: str | None = None
) -> WorkspacePlan:
    if backend_bucket is not None:
        problem = bucket_name_error(backend_bucket)
        if problem:
            raise RenderError(f"--backend-bucket {backend_bucket!r} {problem}")
    extra = module_waivers(spec)
    modules = [
        ModuleCall(
            name, module, source.for_module(module), inputs, comment, source.waivers() + extra.get(name, ())
        )
        for name, module, inputs, comment in module_calls(spec)
    ]
    notes: list[str] = []
    return WorkspacePlan(
        spec=spec,
        spec_text=spec_text,
        source=source,
        modules=modules,
        data_sources=data_sources(spec),
        variables=variables(spec),
        outputs=outputs(spec),
        tfvars=tfvars(spec),
        backend=Backend(backend_bucket, f"mlfargate/{spec.prefix}/terraform.tfstate", spec.aws.region),
        provider={"region": Ref("var.aws_region"), "profile": Ref("var.aws_profile")},
        default_tags=default_tags(spec),
        regenerate=regenerate_command(source),
        notes=notes,
    )


def default_tags(spec: Spec) -> dict[str, str]:
    return {"app": spec.name, "environment": spec.environment, "managed-by": GENERATED_BY}


def regenerate_command(source: ModuleSource) -> str:
    cmd = f"mlfargate generate {SPEC_COPY} --out ."
    if source.kind == "git":
        cmd += f" --modules-source git --modules-ref {source.ref}"
    return cmd


# --------------------------------------------------------------------------------------------------
# Wiring: spec -> module calls. Mirrors modules/examples/ and the wiring section of modules/README.md.

#: Root variables: what may differ between runs without changing the spec.
VARIABLES: tuple[Variable, ...] = (
    Variable("aws_region", "string", "AWS region of every resource (from the spec's aws.region)."),
    Variable(
        "aws_profile",
        "string",
        "Named AWS CLI profile; null uses the default credential chain (environment, SSO, instance role).",
        nullable_default=True,
    ),
)
#: The first deployment (docs/image.md): the workspace creates the ECR repository, but no image is in it
#: until `mlfargate image push` pins one by digest in PIN_FILE. Until then the service runs no task (its
#: desired count is 0 and autoscaling registers nothing), so a first apply never starts tasks that
#: cannot pull their image; the apply after the push starts them.
IMAGE_DIGEST = Variable(
    "image_digest",
    "string",
    "Digest (sha256:...) of the model server image in the ECR repository this workspace creates, pinned "
    "by `mlfargate image push` in image.auto.tfvars. Empty until then: the service runs no task.",
    validations=(
        (
            'var.image_digest == "" || can(regex("^sha256:[0-9a-f]{64}$", var.image_digest))',
            "image_digest must be empty (no image pushed yet) or an image digest: sha256: and 64 hex digits.",
        ),
    ),
)
#: The file `mlfargate image push` writes the digest to: Terraform reads *.auto.tfvars after
#: terraform.tfvars, and regenerating the workspace never touches it (generate owns only its files).
PIN_FILE = "image.auto.tfvars"
#: Root output: the repository `mlfargate image push` pushes to.
IMAGE_REPOSITORY_OUTPUT = "image_repository_url"
#: The tag the task definition names while no image is pinned (no task runs it).
UNPINNED_TAG = "pending-image-push"
_UNPINNED = Ref(f'var.{IMAGE_DIGEST.name} == ""')
_PINNED = Ref(f'var.{IMAGE_DIGEST.name} != ""')
#: GPU model servers load large weights before /ready answers: the ALB health checks wait this long
#: (the modules' GPU examples use the same; the module default of 300 s suits CPU servers).
GPU_HEALTH_CHECK_GRACE_S = 600
#: Where the task logs go: the ecs-service module names its log group /ecs/<name>.
LOG_GROUP_PREFIX = "/ecs/"
#: An image in a private ECR repository: <account>.dkr.ecr.<region>.amazonaws.com/<repo>[:tag|@digest].
_ECR_IMAGE = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/(?P<repo>[^:@]+)"
)

ModuleCallSpec = tuple[str, str, dict[str, Value], str]


def variables(spec: Spec) -> list[Variable]:
    return [*VARIABLES, IMAGE_DIGEST] if spec.service.image is None else list(VARIABLES)


def tfvars(spec: Spec) -> dict[str, Value]:
    values: dict[str, Value] = {"aws_region": spec.aws.region}
    if spec.aws.profile:
        values["aws_profile"] = spec.aws.profile
    if spec.service.image is None:
        values[IMAGE_DIGEST.name] = ""  # until `mlfargate image push` pins one in PIN_FILE
    return values


def _out(module: str, output: str) -> Ref:
    return Ref(f"module.{module}.{output}")


def _compact(values: dict[str, Value]) -> dict[str, Value]:
    """Leave out unset optional arguments: the module's default applies (the same in HCL and JSON)."""
    return {k: v for k, v in values.items() if v is not None}


class _Net:
    """Where the network comes from: the network module, or the existing VPC the spec names."""

    def __init__(self, spec: Spec) -> None:
        net = spec.network
        self.creates = net.creates_vpc
        if self.creates:
            self.vpc_id: Value = _out("network", "vpc_id")
            self.vpc_cidr: Value = _out("network", "vpc_cidr")
            self.public: Value = _out("network", "public_subnet_ids")
            self.private: Value = _out("network", "private_subnet_ids")
        else:
            self.vpc_id = net.vpc_id
            self.vpc_cidr = Ref("data.aws_vpc.existing.cidr_block")
            self.public = list(net.public_subnet_ids or [])
            self.private = list(net.private_subnet_ids or [])
        # The S3 gateway endpoint's prefix list: the network module's endpoint, or AWS's managed list
        # for the region (the same pl-... every gateway endpoint to S3 in the region routes to).
        self.s3_prefix_list: Value = (
            _out("network", "s3_prefix_list_id") if self.creates else Ref("data.aws_prefix_list.s3.id")
        )


def data_sources(spec: Spec) -> list[DataSource]:
    if spec.network.creates_vpc:
        return []
    return [
        DataSource(
            "aws_vpc",
            "existing",
            {"id": spec.network.vpc_id},
            "The existing VPC's CIDR (the ALB may only send traffic there); no module looks it up.",
        ),
        DataSource(
            "aws_prefix_list",
            "s3",
            {"name": f"com.amazonaws.{spec.aws.region}.s3"},
            "S3's managed prefix list in the region: tasks and hosts reach S3 (image layers, the model) "
            "through it without 0.0.0.0/0.",
        ),
    ]


def egress(spec: Spec, net: _Net) -> tuple[list[Value], list[Value]]:
    """Where tasks and GPU hosts may open HTTPS connections: (CIDRs, prefix lists). Always the VPC
    (interface endpoints) and S3's prefix list (gateway endpoint); beyond them only with NAT (or an
    existing VPC, whose routes the spec does not know): service.egress_cidrs, default 0.0.0.0/0."""
    cidrs: list[Value] = [net.vpc_cidr]
    if not (net.creates and spec.network.nat == "none"):
        beyond = spec.service.egress_cidrs or ["0.0.0.0/0"]
        cidrs += [c for c in beyond if c != spec.network.vpc_cidr]
    return cidrs, [net.s3_prefix_list]


#: The model server's prediction endpoint (service/README.md): the one path the load balancer
#: forwards besides the readiness path; /metrics, /health and anything else get the listener's 404.
PREDICT_PATH = "/predict"


def forwarded_paths(spec: Spec) -> list[str]:
    return list(dict.fromkeys([PREDICT_PATH, spec.service.health_check_path]))


def ingress_cidrs(spec: Spec, net: _Net) -> list[Value]:
    """Who may reach the listener: service.ingress_cidrs, else the world (public) or the VPC (internal)."""
    if spec.service.ingress_cidrs:
        return list(spec.service.ingress_cidrs)
    return [net.vpc_cidr] if spec.service.internal else ["0.0.0.0/0"]


def plain_http(spec: Spec) -> bool:
    """The listener serves plain HTTP: no certificate, which the rules allow only when the spec chose
    it (service.allow_plain_http, or service.internal)."""
    return spec.service.certificate_arn is None


#: checkov's HTTPS checks a plain-HTTP load balancer fails (modules/alb waives none of them itself).
PLAIN_HTTP_CHECKS = ("CKV_AWS_2", "CKV_AWS_103", "CKV2_AWS_20")
#: ... and the one for port 80 open to 0.0.0.0/0.
OPEN_PORT_80_CHECK = "CKV_AWS_260"


def module_waivers(spec: Spec) -> dict[str, tuple[tuple[str, str], ...]]:
    """Waivers a module call carries because the spec chose them: plain HTTP, written into the
    ``module "alb"`` block (checkov applies a module block's skips to the module's resources). A
    workspace whose spec did not choose plain HTTP gets none, so plain HTTP fails the gate there."""
    if not plain_http(spec):
        return {}
    s = spec.service
    if s.internal:
        reason = "service.internal: true without certificate_arn in the spec: plain HTTP inside the VPC"
    else:
        reason = (
            "service.allow_plain_http: true in the spec: plain HTTP on port 80 was chosen (no certificate)"
        )
    checks = list(PLAIN_HTTP_CHECKS)
    net = _Net(spec)
    if "0.0.0.0/0" in ingress_cidrs(spec, net):
        checks.append(OPEN_PORT_80_CHECK)
    return {"alb": tuple((check, reason) for check in checks)}


def ecr_repository_arns(spec: Spec) -> Value:
    """What the execution role may pull: the repository this workspace creates, or the ECR repository
    named by service.image (none for a public registry image)."""
    image = spec.service.image
    if image is None:
        return [_out("ecr", "repository_arn")]
    match = _ECR_IMAGE.match(image)
    if not match:
        return []
    partition = "aws-cn" if ".amazonaws.com.cn/" in image else "aws"
    return [f"arn:{partition}:ecr:{match['region']}:{match['account']}:repository/{match['repo']}"]


def module_calls(spec: Spec) -> list[ModuleCallSpec]:
    """Every module call of the workspace, in dependency order, with its arguments."""
    net = _Net(spec)
    calls: list[ModuleCallSpec] = []
    if net.creates:
        calls.append(_network(spec))
    if spec.service.image is None:
        calls.append(("ecr", "ecr", {"name": spec.prefix}, "Image repository (immutable tags, scan on push)"))
    calls.append(_iam(spec))
    calls.append(_alb(spec, net))
    calls.append(_cluster(spec))
    if spec.compute.capacity != "fargate":
        calls.append(_gpu_capacity(spec, net))
    calls.append(_service(spec, net))
    calls.append(_autoscaling(spec))
    calls.append(_observability(spec))
    return calls


def _network(spec: Spec) -> ModuleCallSpec:
    net = spec.network
    inputs: dict[str, Value] = {
        "name": spec.prefix,
        "cidr": net.vpc_cidr,
        "az_count": net.az_count,
        "nat_gateways": net.nat,
    }
    if net.nat == "none" and spec.compute.capacity != "fargate":
        # Container instances without NAT reach ECS only through its own interface endpoints.
        inputs["ecs_instance_endpoints"] = True
    nat = {"none": "no NAT (VPC endpoints)", "single": "one NAT gateway", "per_az": "a NAT gateway per AZ"}
    return ("network", "network", inputs, f"VPC {net.vpc_cidr} across {net.az_count} AZs, {nat[net.nat]}")


def _iam(spec: Spec) -> ModuleCallSpec:
    s = spec.service
    secret_arns: list[Value] = [*sorted({secret_resource_arn(a) for a in s.secrets.values()})]
    inputs = _compact(
        {
            "name": spec.prefix,
            "capacity": spec.compute.capacity,
            "model_s3_uri": s.model_uri,
            "ecr_repository_arns": ecr_repository_arns(spec),
            "log_group_name": LOG_GROUP_PREFIX + spec.prefix,
            # The execution role reads exactly the secrets the task definition names, nothing else.
            "secret_arns": secret_arns or None,
            "secret_kms_key_arns": [s.secrets_kms_key_arn] if s.secrets_kms_key_arn else None,
        }
    )
    return ("iam", "iam", inputs, "Task, execution and (GPU) host roles, least privilege")


def _alb(spec: Spec, net: _Net) -> ModuleCallSpec:
    s = spec.service
    plain = plain_http(spec)
    paths: list[Value] = list(forwarded_paths(spec))
    inputs = _compact(
        {
            "name": spec.prefix,
            "vpc_id": net.vpc_id,
            "vpc_cidr": net.vpc_cidr,
            "internal": True if s.internal else None,
            "subnet_ids": net.private if s.internal else net.public,
            "container_port": s.container_port,
            "health_check_path": s.health_check_path,
            "certificate_arn": s.certificate_arn,
            "allow_plain_http": True if plain else None,
            "ingress_cidrs": ingress_cidrs(spec, net),
            "forwarded_paths": paths,
            "waf_web_acl_arn": s.waf_web_acl_arn,
        }
    )
    where = "internal (inside the VPC)" if s.internal else "internet-facing"
    how = "plain HTTP, as the spec chose" if plain else "HTTPS"
    forwarded = ", ".join(forwarded_paths(spec))
    return ("alb", "alb", inputs, f"Application Load Balancer, {where}, {how}; forwards {forwarded} only")


def _cluster(spec: Spec) -> ModuleCallSpec:
    inputs: dict[str, Value] = {"name": spec.prefix}
    if spec.compute.capacity == "ec2":
        inputs["capacity_provider_names"] = _out("gpu_capacity", "cluster_capacity_provider_names")
    return ("ecs_cluster", "ecs-cluster", inputs, "ECS cluster (Container Insights, exec audit log)")


def _gpu_capacity(spec: Spec, net: _Net) -> ModuleCallSpec:
    from mlfargate.spec import catalog

    c = spec.compute
    cat = catalog.load()
    types = [t for t in (cat.instance(n) for n in c.instance_types) if t is not None]
    # Any listed type may be launched (Spot pools): size the group for the one that holds the fewest tasks.
    per_instance = max(1, min(t.tasks_per_instance(c.cpu, c.memory, c.gpus) for t in types))
    inputs: dict[str, Value] = {
        "name": spec.prefix,
        # The provider's default_tags do not reach launch-template tag specifications or the Auto
        # Scaling group's propagated tags: the hosts (the largest cost) get the same tags explicitly.
        "tags": dict(default_tags(spec)),
        "capacity": c.capacity,
        "cluster_name": _out("ecs_cluster", "cluster_name"),
        "cluster_arn": _out("ecs_cluster", "cluster_arn"),
        "vpc_id": net.vpc_id,
        "subnet_ids": net.private,
        "instance_types": list(c.instance_types),
        "gpus_per_instance": min(t.nvidia_gpus for t in types),
        "instance_profile_arn": _out("iam", "instance_profile_arn"),
        "spot_percentage": spec.spot.spot_percentage,  # Managed Instances: > 0 adds the SPOT provider
    }
    inputs["egress_cidrs"], inputs["egress_prefix_list_ids"] = egress(spec, net)
    if c.capacity == "ec2":
        inputs["on_demand_base"] = spec.spot.on_demand_base  # EC2: on-demand hosts before Spot
    if c.capacity == "managed_instances":
        inputs["infrastructure_role_arn"] = _out("iam", "infrastructure_role_arn")
        inputs["instance_requirements"] = {
            "vcpu_min": min(t.vcpu for t in types),
            "memory_mib_min": min(t.memory_gib for t in types) * 1024,
        }
    else:
        inputs["max_size"] = catalog.instances_for(
            spec.scaling.max_tasks, per_instance
        )  # hosts for max_tasks
    where = "ECS Managed Instances" if c.capacity == "managed_instances" else "EC2 Auto Scaling group"
    spot = f"{spec.spot.spot_percentage}% Spot above {spec.spot.on_demand_base} on-demand"
    return (
        "gpu_capacity",
        "gpu-capacity",
        inputs,
        f"GPU hosts: {where} of {', '.join(c.instance_types)}; {spot}",
    )


def _image(spec: Spec) -> Value:
    if spec.service.image is not None:
        return spec.service.image
    repository = _out("ecr", "repository_url")
    return Conditional(
        _UNPINNED,
        Template((repository, f":{UNPINNED_TAG}")),
        Template((repository, "@", Ref(f"var.{IMAGE_DIGEST.name}"))),
    )


def _held_until_pinned(spec: Spec, value: int, held: int) -> Value:
    """``value``, or ``held`` while the repository this workspace creates holds no pinned image."""
    if spec.service.image is not None:
        return value
    return Conditional(_UNPINNED, held, value)


def _service(spec: Spec, net: _Net) -> ModuleCallSpec:
    c = spec.compute
    environment: dict[str, Value] = {"PORT": str(spec.service.container_port)}
    uri = spec.service.model_uri
    if uri:
        # The model server loads one object (s3://bucket/key) or downloads a whole prefix
        # (s3://bucket/prefix/) and loads the single model file in it (MODEL_FILE picks among several).
        environment["MODEL_PATH"] = uri
    # The model server's own settings (MAX_BATCH_SIZE, MODEL_FILE, ...) from the spec; the rules keep
    # credentials out (they go in secrets) and PORT / MODEL_PATH to the keys above.
    environment.update({k: spec.service.environment[k] for k in sorted(spec.service.environment)})
    egress_cidrs, egress_prefix_lists = egress(spec, net)
    inputs: dict[str, Value] = {
        "name": spec.prefix,
        "capacity": c.capacity,
        "cpu": c.cpu,
        "memory": c.memory,
        "gpus_per_task": c.gpus,
        "image": _image(spec),
        "container_port": spec.service.container_port,
        "environment": environment,
        "cluster_arn": _out("ecs_cluster", "cluster_arn"),
        "egress_cidrs": egress_cidrs,
        "egress_prefix_list_ids": egress_prefix_lists,
        "vpc_id": net.vpc_id,
        "subnet_ids": net.private,
        "alb_security_group_id": _out("alb", "security_group_id"),
        "target_group_arn": _out("alb", "target_group_arn"),
        "execution_role_arn": _out("iam", "execution_role_arn"),
        "task_role_arn": _out("iam", "task_role_arn"),
        "log_kms_key_arn": _out("ecs_cluster", "logs_kms_key_arn"),
        "spot_percentage": spec.spot.spot_percentage,  # also raises stopTimeout for Spot interruptions
        "desired_count": _held_until_pinned(spec, spec.scaling.min_tasks, 0),
    }
    if spec.service.secrets:
        # ARNs only: ECS reads the values at task start (the container definition's secrets/valueFrom).
        inputs["secrets"] = {k: spec.service.secrets[k] for k in sorted(spec.service.secrets)}
    if c.capacity != "ec2":
        # Fargate and Managed Instances place the on-demand base in tasks; EC2 keeps it in the
        # Auto Scaling group (gpu-capacity.on_demand_base, in hosts). modules/README.md "Wiring".
        inputs["on_demand_base"] = spec.spot.on_demand_base
    if c.gpus:
        inputs["health_check_grace_period_seconds"] = GPU_HEALTH_CHECK_GRACE_S
    if c.capacity != "fargate":
        inputs["capacity_providers"] = _out("gpu_capacity", "capacity_provider_names")
    if c.architecture == "arm64":
        inputs["cpu_architecture"] = "ARM64"
    hw = f"{c.gpus} GPU, " if c.gpus else ""
    return (
        "ecs_service",
        "ecs-service",
        inputs,
        f"The model server: {hw}{c.cpu} CPU units, {c.memory} MiB per task",
    )


def _autoscaling(spec: Spec) -> ModuleCallSpec:
    s = spec.scaling
    inputs: dict[str, Value] = {"name": spec.prefix}
    if spec.service.image is None:
        # Registered only once an image is pinned: a scalable target (or a schedule) would otherwise
        # raise the service above 0 tasks before its image exists.
        inputs["create"] = _PINNED
    inputs |= {
        "cluster_name": _out("ecs_cluster", "cluster_name"),
        "service_name": _out("ecs_service", "service_name"),
        "min_capacity": s.min_tasks,
        "max_capacity": s.max_tasks,
        "target_metric": s.target.metric,
        "target_value": s.target.value,
    }
    if s.target.metric == "requests_per_target":
        inputs["alb_resource_label"] = _out("alb", "resource_label")
    if s.schedules:
        inputs["schedules"] = [
            _compact(
                {
                    "name": sched.name,
                    "schedule": sched.cron,
                    "timezone": sched.timezone,
                    "min_capacity": sched.min_tasks,
                    "max_capacity": sched.max_tasks,
                }
            )
            for sched in s.schedules
        ]
    names = f", schedules: {', '.join(x.name for x in s.schedules)}" if s.schedules else ""
    return (
        "autoscaling",
        "autoscaling",
        inputs,
        f"{s.min_tasks}..{s.max_tasks} tasks, target {s.target.metric} {number(s.target.value)}{names}",
    )


def _observability(spec: Spec) -> ModuleCallSpec:
    inputs: dict[str, Value] = {
        "name": spec.prefix,
        "cluster_name": _out("ecs_cluster", "cluster_name"),
        "service_name": _out("ecs_service", "service_name"),
        "alb_arn_suffix": _out("alb", "alb_arn_suffix"),
        "target_group_arn_suffix": _out("alb", "target_group_arn_suffix"),
        "capacity": spec.compute.capacity,
    }
    if spec.budget is not None:
        inputs["alarm_emails"] = [spec.budget.alert_email]
        inputs["budget"] = {"monthly_usd": spec.budget.monthly_usd, "alert_email": spec.budget.alert_email}
        # AWS Budgets ORs the values of a tag filter, so one filter cannot select app AND environment:
        # the budget counts every environment of the app in this account (activate `app` as a cost
        # allocation tag).
        inputs["budget_cost_filter_tag"] = f"app={spec.name}"
    budget = f", budget {number(spec.budget.monthly_usd)} USD/month" if spec.budget else ""
    return ("observability", "observability", inputs, f"Dashboard and alarms{budget}")


def outputs(spec: Spec) -> list[Output]:
    scheme = "https" if spec.service.certificate_arn else "http"
    image: list[Output] = []
    if spec.service.image is None:
        image.append(
            Output(
                IMAGE_REPOSITORY_OUTPUT,
                _out("ecr", "repository_url"),
                "ECR repository of the model server image (`mlfargate image push` pushes there).",
            )
        )
    return [
        Output(
            "endpoint_url",
            Template((f"{scheme}://", _out("alb", "dns_name"))),
            "URL of the model server (the load balancer).",
        ),
        Output("cluster_name", _out("ecs_cluster", "cluster_name"), "ECS cluster."),
        Output("service_name", _out("ecs_service", "service_name"), "ECS service."),
        Output("log_group_name", _out("ecs_service", "log_group_name"), "CloudWatch log group of the tasks."),
        Output(
            "dashboard_url",
            Template(
                (
                    f"https://{spec.aws.region}.console.aws.amazon.com/cloudwatch/home?region={spec.aws.region}"
                    "#dashboards/dashboard/",
                    _out("observability", "dashboard_name"),
                )
            ),
            "CloudWatch dashboard of the service.",
        ),
        *image,
    ]
