"""The names of a deployed spec's AWS resources, exactly as the Terraform modules name them.

Every module is called with ``name = spec.prefix`` (``<name>-<environment>``), see
:mod:`mlfargate.generate.wiring`; the modules then name:

- ``modules/ecs-cluster``: the cluster ``<name>`` (``aws_ecs_cluster.this``);
- ``modules/ecs-service``: the service and task definition family ``<name>``, the log group ``/ecs/<name>``;
- ``modules/alb``: the load balancer ``<name>-alb`` and the target group ``<name>-tg``;
- ``modules/gpu-capacity``: the EC2 Auto Scaling group capacity provider ``<name>-gpu``; the Managed
  Instances providers ``<name>-on-demand`` and (with Spot) ``<name>-spot``;
- ``modules/autoscaling``: the scalable target ``service/<cluster>/<service>``, the target-tracking
  policy ``<name>-<metric>`` and the scheduled actions ``<name>-<schedule name>``.

Fargate services use the cluster's ``FARGATE`` (on-demand) and ``FARGATE_SPOT`` providers.
``tests/live/test_names.py`` reads those modules and checks these names against them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from mlfargate.spec.model import Spec

Purchase = Literal["on-demand", "spot"]
#: Purchase option of each provider; None where one provider mixes both (an EC2 Auto Scaling group
#: with a Spot mix: the instance's own lifecycle says which).
ProviderPurchase = dict[str, Purchase | None]


@dataclass(frozen=True)
class ServiceNames:
    """Where the spec's service lives. ``cluster``/``service`` may be overridden (``--cluster/--service``)."""

    prefix: str
    region: str
    cluster: str
    service: str
    task_family: str
    target_group: str
    load_balancer: str
    log_group: str
    capacity: Literal["fargate", "ec2", "managed_instances"]
    providers: ProviderPurchase = field(default_factory=dict)
    scaling_policy: str = ""
    scheduled_action_prefix: str = ""

    @property
    def resource_id(self) -> str:
        """Application Auto Scaling's id of the service (``service/<cluster>/<service>``)."""
        return f"service/{self.cluster}/{self.service}"

    def purchase_of(self, provider: str | None) -> Purchase | None:
        """On-demand or Spot for a task placed by ``provider`` (None when the provider mixes both)."""
        if provider is None:
            return None
        return self.providers.get(provider)

    def schedule_name(self, action_name: str) -> str:
        """The spec's schedule name of a scheduled action (``<prefix>-<name>`` -> ``<name>``)."""
        return action_name.removeprefix(self.scheduled_action_prefix)


def names_for(spec: Spec, cluster: str | None = None, service: str | None = None) -> ServiceNames:
    prefix = spec.prefix
    capacity = spec.compute.capacity
    providers: ProviderPurchase
    if capacity == "fargate":
        providers = {"FARGATE": "on-demand", "FARGATE_SPOT": "spot"}
    elif capacity == "ec2":
        providers = {f"{prefix}-gpu": None}
    else:
        providers = {f"{prefix}-on-demand": "on-demand"}
        if spec.spot.spot_percentage > 0:
            providers[f"{prefix}-spot"] = "spot"
    return ServiceNames(
        prefix=prefix,
        region=spec.aws.region,
        cluster=cluster or prefix,
        service=service or prefix,
        task_family=prefix,
        target_group=f"{prefix}-tg",
        load_balancer=f"{prefix}-alb",
        log_group=f"/ecs/{prefix}",
        capacity=capacity,
        providers=providers,
        scaling_policy=f"{prefix}-{spec.scaling.target.metric.replace('_', '-')}",
        scheduled_action_prefix=f"{prefix}-",
    )
