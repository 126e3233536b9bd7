"""Every resource the workspace creates, classified and priced (besides the compute lines).

:data:`CLASSIFICATION` names every ``aws_*`` resource type the modules can create, how it bills and
the source; docs/cost-model.md tabulates it, and tests/unit/test_billable.py fails when a module
declares a type this table lacks or an example workspace creates a billable type no line prices.

:func:`fixed_lines` builds the lines that do not depend on how many tasks run (hourly and monthly
charges, usage lines at quantity 0, free tiers), :func:`running_extras` the charges every running
instance or task carries (EBS root volumes, detailed monitoring, Fargate ephemeral storage beyond
20 GiB). Both read quantities from the workspace inventory (:mod:`mlfargate.generate.inventory`):
counts and attributes of what the render plan's module calls create under the spec's choices.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from mlfargate.cost.lines import HOURS_PER_MONTH, Line, RunningExtra, free_price
from mlfargate.cost.price_book import PriceBook
from mlfargate.errors import MlfargateError
from mlfargate.generate.hcl_eval import Unknown
from mlfargate.generate.inventory import Inventory, Resource
from mlfargate.spec.model import Spec

#: compute: priced by the compute lines; running: a charge per running instance/task-hour; priced: by the
#: hour or month; usage: by volume (a quantity-0 line); free: inside a stated free tier; none: no charge.
Kind = Literal["compute", "running", "priced", "usage", "free", "none"]

#: EC2 detailed monitoring sends 7 metrics at 1-minute resolution (CPUUtilization, DiskReadOps,
#: DiskWriteOps, DiskReadBytes, DiskWriteBytes, NetworkIn, NetworkOut), each billed as a CloudWatch
#: metric (https://aws.amazon.com/cloudwatch/pricing/ ; count as listed for detailed monitoring by
#: public CloudWatch billing write-ups, 2026-11-29).
DETAILED_MONITORING_METRICS = 7
#: A target-tracking scaling policy creates and manages its CloudWatch alarms ("Application Auto Scaling
#: creates and manages the CloudWatch alarms that invoke the scaling policy", Application Auto Scaling
#: user guide, target-tracking-scaling-policy-overview): one to scale out, one to scale in.
TARGET_TRACKING_ALARMS = 2
#: Fargate includes this much ephemeral storage in every task (aws-facts.md).
FARGATE_FREE_EPHEMERAL_GIB = 20


class CostError(MlfargateError):
    """The spec cannot be priced as written (e.g. a task that fits no instance)."""


@dataclass(frozen=True)
class Classification:
    kind: Kind
    how: str
    source: str


_VPC = "https://aws.amazon.com/vpc/pricing/"
_CW = "https://aws.amazon.com/cloudwatch/pricing/"
_IAM = "https://aws.amazon.com/iam/faqs/ (IAM is offered at no additional charge)"
_S3 = "https://aws.amazon.com/s3/pricing/"
_ECS = "https://aws.amazon.com/ecs/pricing/"


def _none(how: str, source: str) -> Classification:
    return Classification("none", how, source)


#: Every aws_* resource type a module under modules/ declares. Adding a type to a module without
#: classifying it here fails tests/unit/test_billable.py.
CLASSIFICATION: dict[str, Classification] = {
    # network
    "aws_vpc": _none("no charge for the VPC itself", _VPC),
    "aws_subnet": _none("no charge", _VPC),
    "aws_route_table": _none("no charge", _VPC),
    "aws_route": _none("no charge", _VPC),
    "aws_route_table_association": _none("no charge", _VPC),
    "aws_internet_gateway": _none("no charge for the gateway; data transfer out bills separately", _VPC),
    "aws_default_security_group": _none("no charge (security groups are free)", _VPC),
    "aws_security_group": _none("no charge (security groups are free)", _VPC),
    "aws_vpc_security_group_ingress_rule": _none("no charge", _VPC),
    "aws_vpc_security_group_egress_rule": _none("no charge", _VPC),
    "aws_eip": Classification(
        "priced",
        "public IPv4 address per hour (every public IPv4 address since 2024-02-01, in use or idle)",
        _VPC,
    ),
    "aws_nat_gateway": Classification("priced", "per gateway-hour, plus data processed per GB (usage)", _VPC),
    "aws_vpc_endpoint": Classification(
        "priced",
        "interface: per endpoint per AZ per hour, plus data processed per GB (usage); gateway (S3): no charge",
        "https://aws.amazon.com/privatelink/pricing/",
    ),
    "aws_flow_log": Classification(
        "usage", "vended-log ingestion per GB into CloudWatch Logs (storage: the log group line)", _CW
    ),
    "aws_kms_key": Classification(
        "priced",
        "per key-month (prorated hourly; each automatic rotation adds $1/month for the first two), "
        "requests per 10,000 (usage, 20,000 free a month)",
        "https://aws.amazon.com/kms/pricing/",
    ),
    "aws_kms_alias": _none("no charge for aliases", "https://aws.amazon.com/kms/pricing/"),
    "aws_cloudwatch_log_group": Classification(
        "usage", "ingestion per GB and storage per GB-month (quantity 0: your log volume)", _CW
    ),
    "aws_iam_role": _none("no charge", _IAM),
    "aws_iam_role_policy": _none("no charge", _IAM),
    "aws_iam_role_policy_attachment": _none("no charge", _IAM),
    "aws_iam_instance_profile": _none("no charge", _IAM),
    # alb
    "aws_lb": Classification(
        "priced",
        "per hour, plus LCU-hours (usage); internet-facing: one public IPv4 address per AZ per hour",
        "https://aws.amazon.com/elasticloadbalancing/pricing/",
    ),
    "aws_lb_target_group": _none("no charge (part of the load balancer's hours and LCUs)", _VPC),
    "aws_lb_listener": _none("no charge (part of the load balancer's hours and LCUs)", _VPC),
    "aws_lb_listener_rule": _none(
        "no charge (rule evaluations are an LCU dimension: the first 10 rules a request meets are free)",
        "https://aws.amazon.com/elasticloadbalancing/pricing/",
    ),
    "aws_wafv2_web_acl_association": _none(
        "no charge for the association; the web ACL is the caller's and bills where it was created",
        "https://aws.amazon.com/waf/pricing/",
    ),
    "aws_s3_bucket": Classification(
        "usage",
        "access-log storage per GB-month (S3 Standard) and requests; log delivery itself is free",
        _S3,
    ),
    "aws_s3_bucket_public_access_block": _none("no charge (bucket configuration)", _S3),
    "aws_s3_bucket_ownership_controls": _none("no charge (bucket configuration)", _S3),
    "aws_s3_bucket_versioning": _none(
        "no charge itself; noncurrent versions are stored (7 days) and count in the bucket's storage", _S3
    ),
    "aws_s3_bucket_server_side_encryption_configuration": _none("no charge (SSE-S3)", _S3),
    "aws_s3_bucket_lifecycle_configuration": _none("no charge for expiration rules", _S3),
    "aws_s3_bucket_policy": _none("no charge (bucket configuration)", _S3),
    # ecr
    "aws_ecr_repository": Classification(
        "usage",
        "image storage per GB-month; pulls by ECS in the region are free",
        "https://aws.amazon.com/ecr/pricing/",
    ),
    "aws_ecr_lifecycle_policy": _none("no charge", "https://aws.amazon.com/ecr/pricing/"),
    "aws_ecr_repository_policy": _none("no charge", "https://aws.amazon.com/ecr/pricing/"),
    "aws_ecr_replication_configuration": Classification(
        "usage",
        "replicated images are stored again in each destination region (ECR storage) plus cross-region transfer",
        "https://aws.amazon.com/ecr/pricing/",
    ),
    # ecs-cluster / ecs-service / gpu-capacity
    "aws_ecs_cluster": Classification(
        "usage",
        "no charge for the cluster; Container Insights bills by its mode: enhanced per observation, "
        "enabled as custom metrics",
        _CW,
    ),
    "aws_ecs_cluster_capacity_providers": _none("no charge", _ECS),
    "aws_ecs_task_definition": Classification(
        "compute",
        "priced by the task lines (Fargate: vCPU and GB per task-hour; ephemeral storage above 20 GiB per GB-hour)",
        "https://aws.amazon.com/fargate/pricing/",
    ),
    "aws_ecs_service": Classification(
        "compute", "no charge for ECS itself; its tasks are the compute lines", _ECS
    ),
    "aws_autoscaling_group": Classification(
        "compute",
        "no charge for the group; its instances are the EC2 compute lines",
        "https://aws.amazon.com/ec2/pricing/",
    ),
    "aws_launch_template": Classification(
        "running",
        "no charge itself; every instance it launches carries its EBS root volume (size and type from the "
        "template) per GB-month and, with monitoring enabled, detailed-monitoring metrics",
        "https://aws.amazon.com/ebs/pricing/ ; " + _CW,
    ),
    "aws_ecs_capacity_provider": Classification(
        "compute",
        "Auto Scaling provider: no charge; Managed Instances provider: its instances (compute lines), the "
        "management fee per instance-hour, the data volume per GB-month and detailed monitoring",
        _ECS,
    ),
    # autoscaling
    "aws_appautoscaling_target": _none(
        "no charge for Application Auto Scaling", "https://aws.amazon.com/autoscaling/pricing/"
    ),
    "aws_appautoscaling_scheduled_action": _none(
        "no charge for Application Auto Scaling", "https://aws.amazon.com/autoscaling/pricing/"
    ),
    "aws_appautoscaling_policy": Classification(
        "priced",
        "no charge itself; a target-tracking policy creates two CloudWatch alarms, priced on the alarm line",
        "https://docs.aws.amazon.com/autoscaling/application/userguide/target-tracking-scaling-policy-overview.html",
    ),
    # observability
    "aws_cloudwatch_metric_alarm": Classification(
        "priced", "per standard-resolution alarm metric-month", _CW
    ),
    "aws_cloudwatch_dashboard": Classification(
        "priced", "per dashboard-month (the account's first 3 dashboards of up to 50 metrics are free)", _CW
    ),
    "aws_sns_topic": Classification(
        "free",
        "first 1 million publishes a month free, then $0.50 per million",
        "https://aws.amazon.com/sns/pricing/",
    ),
    "aws_sns_topic_subscription": Classification(
        "free",
        "email: first 1,000 notifications a month free, then $2.00 per 100,000",
        "https://aws.amazon.com/sns/pricing/",
    ),
    "aws_budgets_budget": Classification(
        "free",
        "a budget without actions is free (AWS's older guide: the first two budgets of an account free, "
        "each further one $0.02 a day)",
        "https://docs.aws.amazon.com/cost-management/latest/userguide/budgets-managing-costs.html",
    ),
}


def classify(rtype: str) -> Classification | None:
    return CLASSIFICATION.get(rtype)


# --------------------------------------------------------------------------------------------------
# Reading quantities from the inventory


def _length(value: Any, what: str) -> int:
    if isinstance(value, Unknown):
        if value.length is None:
            raise CostError(f"{what}: how many is known only at apply time; cannot price it")
        return value.length
    if isinstance(value, list | tuple):
        return len(value)
    raise CostError(f"{what}: expected a list, got {value!r}")


def _instances(res: Resource) -> list[str | None]:
    return list(res.keys) if res.keys else [None]


def _value(res: Resource, path: str, key: str | None = None, default: Any = None) -> Any:
    try:
        return res.value(path, key)
    except KeyError:
        return default


def public_ipv4(inv: Inventory) -> tuple[int, int]:
    """(addresses of internet-facing load balancers, one per subnet/AZ; NAT Elastic IPs)."""
    alb = 0
    for lb in inv.of("aws_lb"):
        for key in _instances(lb):
            if _value(lb, "internal", key, False) is False:
                alb += _length(_value(lb, "subnets", key, []), f"{lb.address}.subnets")
    return alb, inv.count("aws_eip")


def interface_endpoints(inv: Inventory) -> tuple[list[str], int]:
    """(interface endpoint services, endpoint-AZ pairs): each interface endpoint bills per AZ it spans."""
    names: list[str] = []
    pairs = 0
    for res in inv.of("aws_vpc_endpoint"):
        for key in _instances(res):
            if _value(res, "vpc_endpoint_type", key, "Gateway") != "Interface":
                continue
            names.append(key or res.name)
            pairs += _length(_value(res, "subnet_ids", key, []), f"{res.address}.subnet_ids")
    return names, pairs


def alarms(inv: Inventory) -> tuple[int, int]:
    """(metric alarms the modules declare, alarms target-tracking policies create)."""
    declared = 0
    for res in inv.of("aws_cloudwatch_metric_alarm"):
        for key in _instances(res):
            period = _value(res, "period", key, 60)
            if isinstance(period, int | float) and period < 60:
                raise CostError(
                    f"{res.address}: a high-resolution alarm (period {period} s) has no price in the price book"
                )
            declared += 1
    tracking = sum(
        1
        for res in inv.of("aws_appautoscaling_policy")
        for key in _instances(res)
        if _value(res, "policy_type", key, "") == "TargetTrackingScaling"
    )
    return declared, tracking * TARGET_TRACKING_ALARMS


def container_insights(inv: Inventory) -> list[str]:
    """The Container Insights mode of each cluster ('enhanced', 'enabled' or 'disabled')."""
    modes = []
    for res in inv.of("aws_ecs_cluster"):
        setting = _value(res, "setting.name")
        modes.append(str(_value(res, "setting.value")) if setting == "containerInsights" else "disabled")
    return modes


@dataclass(frozen=True)
class HostStorage:
    resource: str
    gib: int
    volume_type: str
    detailed_monitoring: bool
    note: str


def host_storage(inv: Inventory) -> list[HostStorage]:
    """The EBS volume and monitoring each EC2 / Managed Instances host carries."""
    out = []
    for lt in inv.of("aws_launch_template"):
        size = _value(lt, "block_device_mappings.ebs.volume_size")
        if not isinstance(size, int | float):
            raise CostError(
                f"{lt.address}: the launch template sets no root volume size; the cost model cannot price "
                "the AMI's default volume"
            )
        out.append(
            HostStorage(
                "aws_launch_template",
                int(size),
                str(_value(lt, "block_device_mappings.ebs.volume_type", default="gp2")),
                bool(_value(lt, "monitoring.enabled", default=False)),
                "root volume from the launch template",
            )
        )
    for cp in inv.of("aws_ecs_capacity_provider"):
        base = "managed_instances_provider.instance_launch_template"
        for key in _instances(cp):
            size = _value(cp, f"{base}.storage_configuration.storage_size_gib", key)
            if size is None:
                continue
            out.append(
                HostStorage(
                    "aws_ecs_capacity_provider",
                    int(size),
                    "gp3",
                    _value(cp, f"{base}.monitoring", key) == "DETAILED",
                    "Managed Instances data volume (storage_size_gib; AWS does not document its volume "
                    "type: gp3 assumed; the OS volume AWS adds is not priced)",
                )
            )
            break  # on-demand and Spot providers launch the same hosts
    return out


def fargate_ephemeral_gib(inv: Inventory) -> int:
    """Ephemeral storage per Fargate task (20 GiB unless the task definition sets more)."""
    size = FARGATE_FREE_EPHEMERAL_GIB
    for td in inv.of("aws_ecs_task_definition"):
        for value in td.dynamic("ephemeral_storage"):
            size = max(size, int(value))
    return size


# --------------------------------------------------------------------------------------------------
# Lines


def fixed_lines(inv: Inventory, spec: Spec, book: PriceBook, assumptions: list[str]) -> list[Line]:
    """Every line that does not depend on how many tasks run, in the order the output lists them."""
    hours = float(HOURS_PER_MONTH)
    lines: list[Line] = []
    usage: list[Line] = []
    free: list[Line] = []

    lbs = inv.count("aws_lb")
    if lbs:
        q = hours * lbs
        lines.append(
            Line("Application Load Balancer", "hour", book.get("alb.hour"), q, q, "fixed", ("aws_lb",))
        )
        usage.append(
            Line(
                "ALB capacity units (traffic)",
                "LCU-hour",
                book.get("alb.lcu_hour"),
                0.0,
                0.0,
                "usage",
                ("aws_lb",),
            )
        )
    net = spec.network
    gateways = inv.count("aws_nat_gateway")
    if gateways:
        q = hours * gateways
        lines.append(
            Line(
                f"NAT gateway ({net.nat}: {gateways})",
                "gateway-hour",
                book.get("nat.hour"),
                q,
                q,
                "fixed",
                ("aws_nat_gateway",),
            )
        )
        usage.append(
            Line("NAT data processed", "GB", book.get("nat.gb"), 0.0, 0.0, "usage", ("aws_nat_gateway",))
        )
    elif not net.creates_vpc:
        assumptions.append(
            "Existing VPC: its NAT gateways and endpoints (if any) are not created by this deployment and not priced."
        )
    alb_ips, eips = public_ipv4(inv)
    if alb_ips or eips:
        parts = [f"{alb_ips} ALB" if alb_ips else "", f"{eips} NAT Elastic IP" if eips else ""]
        q = hours * (alb_ips + eips)
        lines.append(
            Line(
                f"Public IPv4 addresses ({', '.join(p for p in parts if p)})",
                "address-hour",
                book.get("ipv4.hour"),
                q,
                q,
                "fixed",
                tuple(t for t, n in (("aws_lb", alb_ips), ("aws_eip", eips)) if n),
            )
        )
        assumptions.append(
            "Public IPv4: an internet-facing ALB holds at least one public address per AZ it spans (more "
            "while it scales out); each NAT gateway holds one Elastic IP; all bill per address-hour."
        )
    services, pairs = interface_endpoints(inv)
    if services:
        q = hours * pairs
        azs = pairs // len(services)
        lines.append(
            Line(
                f"Interface VPC endpoints ({len(services)} x {azs} AZs: {', '.join(services)})",
                "endpoint-AZ-hour",
                book.get("vpce.hour"),
                q,
                q,
                "fixed",
                ("aws_vpc_endpoint",),
            )
        )
        usage.append(
            Line(
                "Interface endpoint data processed",
                "GB",
                book.get("vpce.gb"),
                0.0,
                0.0,
                "usage",
                ("aws_vpc_endpoint",),
            )
        )
    keys = inv.count("aws_kms_key")
    if keys:
        lines.append(
            Line(
                f"KMS customer managed keys ({keys})",
                "key-month",
                book.get("kms.key_month"),
                float(keys),
                float(keys),
                "fixed",
                ("aws_kms_key",),
            )
        )
        usage.append(
            Line(
                "KMS requests (beyond 20,000 free a month)",
                "10,000 requests",
                book.get("kms.requests_10k"),
                0.0,
                0.0,
                "usage",
                ("aws_kms_key",),
            )
        )
        rotating = [
            r for r in inv.of("aws_kms_key") if _value(r, "enable_key_rotation", default=False) is True
        ]
        if rotating:
            assumptions.append(
                "KMS keys rotate yearly: from the first rotation each key costs $1 more a month, from the "
                "second $2 more (later rotations are free); the line prices the first year."
            )
    declared, tracking = alarms(inv)
    if declared or tracking:
        n = declared + tracking
        label = f"{declared} + {tracking} target tracking" if tracking else f"{declared}"
        lines.append(
            Line(
                f"CloudWatch alarms ({label})",
                "alarm-month",
                book.get("cloudwatch.alarm_month"),
                float(n),
                float(n),
                "fixed",
                tuple(
                    t
                    for t, c in (
                        ("aws_cloudwatch_metric_alarm", declared),
                        ("aws_appautoscaling_policy", tracking),
                    )
                    if c
                ),
            )
        )
        assumptions.append(
            "CloudWatch alarms and dashboards are priced without the account's free tier (10 alarm metrics "
            "and 3 dashboards a month), which other workloads of the account may already use."
        )
    dashboards = inv.count("aws_cloudwatch_dashboard")
    if dashboards:
        lines.append(
            Line(
                "CloudWatch dashboard",
                "dashboard-month",
                book.get("cloudwatch.dashboard_month"),
                float(dashboards),
                float(dashboards),
                "fixed",
                ("aws_cloudwatch_dashboard",),
            )
        )
    groups = inv.count("aws_cloudwatch_log_group")
    if groups:
        usage.append(
            Line(
                f"CloudWatch Logs ingestion ({groups} log groups)",
                "GB",
                book.get("logs.ingest_gb"),
                0.0,
                0.0,
                "usage",
                ("aws_cloudwatch_log_group",),
            )
        )
        usage.append(
            Line(
                "CloudWatch Logs storage",
                "GB-month",
                book.get("logs.storage_gb_month"),
                0.0,
                0.0,
                "usage",
                ("aws_cloudwatch_log_group",),
            )
        )
    if inv.count("aws_flow_log"):
        usage.append(
            Line(
                "VPC flow logs ingestion (vended logs)",
                "GB",
                book.get("logs.vended_gb"),
                0.0,
                0.0,
                "usage",
                ("aws_flow_log",),
            )
        )
    for mode in container_insights(inv):
        if mode == "enhanced":
            usage.append(
                Line(
                    "Container Insights, enhanced observability",
                    "million observations",
                    book.get("container_insights.observations_m"),
                    0.0,
                    0.0,
                    "usage",
                    ("aws_ecs_cluster",),
                )
            )
            assumptions.append(
                "Container Insights runs in enhanced mode (the cluster's containerInsights setting): it "
                "bills per observation its cluster, services, tasks and containers emit while tasks run; "
                "AWS publishes no per-task observation rate for ECS, so the line is usage-based."
            )
        elif mode == "enabled":
            usage.append(
                Line(
                    "Container Insights metrics (custom metrics)",
                    "metric-month",
                    book.get("cloudwatch.metric_month"),
                    0.0,
                    0.0,
                    "usage",
                    ("aws_ecs_cluster",),
                )
            )
    if inv.count("aws_ecr_repository"):
        usage.append(
            Line(
                "ECR image storage",
                "GB-month",
                book.get("ecr.storage_gb_month"),
                0.0,
                0.0,
                "usage",
                ("aws_ecr_repository",),
            )
        )
    if inv.count("aws_ecr_replication_configuration"):
        usage.append(
            Line(
                "ECR replicated image storage (per destination region)",
                "GB-month",
                book.get("ecr.storage_gb_month"),
                0.0,
                0.0,
                "usage",
                ("aws_ecr_replication_configuration",),
                "plus cross-region data transfer, not priced",
            )
        )
    if inv.count("aws_s3_bucket"):
        usage.append(
            Line(
                "S3 access-log bucket storage",
                "GB-month",
                book.get("s3.standard_gb_month"),
                0.0,
                0.0,
                "usage",
                ("aws_s3_bucket",),
            )
        )
    topics, subscriptions = inv.count("aws_sns_topic"), inv.count("aws_sns_topic_subscription")
    if topics:
        why = (
            "free tier: 1 million publishes and 1,000 email notifications a month; beyond it $0.50 per "
            "million publishes and $2.00 per 100,000 emails (https://aws.amazon.com/sns/pricing/; the email "
            "free tier is not re-verified, 2026-11-29)"
        )
        free.append(
            Line(
                f"SNS alarm topic ({subscriptions} email subscription{'s' if subscriptions != 1 else ''})",
                "month",
                free_price("sns.free_tier", why, book.date),
                float(topics),
                float(topics),
                "free",
                tuple(
                    t
                    for t, c in (("aws_sns_topic", topics), ("aws_sns_topic_subscription", subscriptions))
                    if c
                ),
                why,
            )
        )
    budgets = inv.count("aws_budgets_budget")
    if budgets:
        why = (
            "a budget without actions is free; AWS's older user guide says an account's first two budgets "
            "are free and each further one $0.02 a day (https://docs.aws.amazon.com/cost-management/latest/"
            "userguide/budgets-managing-costs.html)"
        )
        free.append(
            Line(
                f"AWS Budgets ({budgets} budget, no actions)",
                "month",
                free_price("budgets.free", why, book.date),
                float(budgets),
                float(budgets),
                "free",
                ("aws_budgets_budget",),
                why,
            )
        )
    assumptions.append(
        "Usage lines (traffic, logs, storage, requests, observations) are listed at quantity 0 with their "
        "unit prices; multiply by your volume. Free lines cost 0 inside the free tier they name."
    )
    unpriced = sorted(t for t in inv.types() if classify(t) is None)
    if unpriced:
        assumptions.append(
            f"NOT PRICED: the workspace creates {', '.join(unpriced)}, which the cost model does not classify."
        )
    assumptions.append(
        "Not included: data transfer out to the internet and across AZs, Savings Plans or Reserved "
        "Instance discounts, support plans, taxes."
    )
    return lines + usage + free


def running_extras(inv: Inventory, spec: Spec, book: PriceBook, assumptions: list[str]) -> list[RunningExtra]:
    """What each running instance (EC2, Managed Instances) or Fargate task adds per hour it runs."""
    extras: list[RunningExtra] = []
    for host in host_storage(inv):
        price = book.get(f"ebs.{host.volume_type}.gb_month")
        extras.append(
            RunningExtra(
                f"EBS {host.volume_type} volumes ({host.gib} GiB per instance)",
                "GB-month",
                price,
                host.gib / HOURS_PER_MONTH,
                "instance",
                (host.resource,),
            )
        )
        assumptions.append(
            f"Each instance carries a {host.gib} GiB {host.volume_type} volume ({host.note}), billed per "
            "GB-month for the hours it exists; the line follows the instance-hours."
        )
        if host.detailed_monitoring:
            extras.append(
                RunningExtra(
                    f"EC2 detailed monitoring ({DETAILED_MONITORING_METRICS} metrics per instance)",
                    "metric-month",
                    book.get("cloudwatch.metric_month"),
                    DETAILED_MONITORING_METRICS / HOURS_PER_MONTH,
                    "instance",
                    (host.resource,),
                )
            )
    if spec.compute.capacity == "fargate":
        extra_gib = fargate_ephemeral_gib(inv) - FARGATE_FREE_EPHEMERAL_GIB
        if extra_gib > 0:
            extras.append(
                RunningExtra(
                    f"Fargate ephemeral storage above 20 GiB ({extra_gib} GiB per task)",
                    "GB-hour",
                    book.get("fargate.ephemeral_gb_hour"),
                    float(extra_gib),
                    "task",
                    ("aws_ecs_task_definition",),
                )
            )
    return extras


@dataclass(frozen=True)
class ResourceCost:
    """One aws_* type the workspace creates: how many, how it bills, which lines price it."""

    type: str
    count: int
    classification: Classification | None
    lines: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        c = self.classification
        return {
            "type": self.type,
            "count": self.count,
            "classification": None if c is None else c.kind,
            "how": None if c is None else c.how,
            "source": None if c is None else c.source,
            "lines": list(self.lines),
        }


def resource_costs(inv: Inventory, lines: list[Line]) -> list[ResourceCost]:
    """Every aws_* type the workspace creates with the lines that price it (none for no-charge types)."""
    return [
        ResourceCost(
            rtype,
            inv.count(rtype),
            classify(rtype),
            tuple(line.item for line in lines if rtype in line.resources),
        )
        for rtype in sorted(inv.types())
    ]


def unpriced(costs: list[ResourceCost]) -> list[str]:
    """Problems: a type with no classification, or a billable type that no line prices."""
    problems = []
    for rc in costs:
        if rc.classification is None:
            problems.append(f"{rc.type}: no cost classification")
        elif rc.classification.kind != "none" and not rc.lines:
            problems.append(f"{rc.type}: classified {rc.classification.kind} but no line prices it")
    return problems
