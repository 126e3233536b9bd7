"""The last hour of CloudWatch in ONE ``GetMetricData`` request (at most 500 queries per call).

Queries (1-minute period):

- ``AWS/ECS`` ``CPUUtilization`` / ``MemoryUtilization`` (ClusterName, ServiceName), Average. AWS/ECS
  reports nothing while the service has no RUNNING task (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/available-metrics.html).
- ``AWS/ApplicationELB`` (TargetGroup, LoadBalancer): ``RequestCount`` Sum, ``TargetResponseTime`` p50
  and p99, ``HTTPCode_Target_5XX_Count`` Sum. ALB metrics exist only while traffic flows.
- ``AWS/ECS`` ``GPUReservation`` (ClusterName), Average: EC2 capacity only.
- Per task: ``ECS/ContainerInsights`` ``TaskCpuUtilization`` / ``TaskMemoryUtilization`` (percent; the
  cluster's Container Insights with enhanced observability, which modules/ecs-cluster turns on) by
  ClusterName, TaskDefinitionFamily, TaskId. One SEARCH expression per metric returns a series per
  task, labelled with its TaskId through a dynamic label, so the query count does not grow with the
  tasks. (Metric names: the enhanced-observability metrics table of the CloudWatch User Guide,
  https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Container-Insights-enhanced-observability-metrics-ECS.html;
  search syntax: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/search-expression-syntax.html;
  dynamic labels: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/graph-dynamic-labels.html.)

No GPU utilisation metric is queried: Container Insights documents none for ECS (GPU use needs the
CloudWatch agent's NVIDIA metrics).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from mlfargate.live.model import Metrics, MetricSeries

PERIOD_S = 60
WINDOW = timedelta(hours=1)
MAX_QUERIES = 500
TASK_LABEL = "${PROP('Dim.TaskId')}"


@dataclass(frozen=True)
class Query:
    key: str
    namespace: str
    metric: str
    stat: str
    dimensions: tuple[tuple[str, str], ...]
    label: str

    @property
    def id(self) -> str:
        return self.key  # lowercase letters and underscores: valid GetMetricData ids

    def to_api(self) -> dict[str, Any]:
        return {
            "Id": self.id,
            "Label": self.label,
            "ReturnData": True,
            "MetricStat": {
                "Metric": {
                    "Namespace": self.namespace,
                    "MetricName": self.metric,
                    "Dimensions": [{"Name": n, "Value": v} for n, v in self.dimensions],
                },
                "Period": PERIOD_S,
                "Stat": self.stat,
            },
        }


def elb_dimension(arn: str) -> str:
    """The CloudWatch dimension value of an ELB ARN: ``targetgroup/NAME/ID`` for a target group,
    ``app/NAME/ID`` for a load balancer (the ARN's resource part, without ``loadbalancer/``)."""
    parts = arn.split(":", 5)
    return parts[5].removeprefix("loadbalancer/") if len(parts) == 6 else ""


def queries(
    cluster: str,
    service: str,
    task_family: str,
    *,
    target_group_arn: str | None,
    load_balancer_arn: str | None,
    gpu_reservation: bool,
) -> list[dict[str, Any]]:
    """The MetricDataQueries of one request (constant in the number of tasks)."""
    svc = (("ClusterName", cluster), ("ServiceName", service))
    out = [
        Query("service_cpu", "AWS/ECS", "CPUUtilization", "Average", svc, "service CPU"),
        Query("service_memory", "AWS/ECS", "MemoryUtilization", "Average", svc, "service memory"),
    ]
    if target_group_arn and load_balancer_arn:
        alb = (
            ("TargetGroup", elb_dimension(target_group_arn)),
            ("LoadBalancer", elb_dimension(load_balancer_arn)),
        )
        out += [
            Query("requests", "AWS/ApplicationELB", "RequestCount", "Sum", alb, "requests"),
            Query("response_p50", "AWS/ApplicationELB", "TargetResponseTime", "p50", alb, "response p50"),
            Query("response_p99", "AWS/ApplicationELB", "TargetResponseTime", "p99", alb, "response p99"),
            Query("target_5xx", "AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", "Sum", alb, "target 5xx"),
        ]
    if gpu_reservation:
        out.append(
            Query(
                "gpu_reservation", "AWS/ECS", "GPUReservation", "Average",
                (("ClusterName", cluster),), "GPU reservation",
            )
        )  # fmt: skip
    api = [q.to_api() for q in out]
    for key, metric in (("task_cpu", "TaskCpuUtilization"), ("task_memory", "TaskMemoryUtilization")):
        api.append(
            {
                "Id": key,
                "Label": TASK_LABEL,
                "ReturnData": True,
                "Expression": (
                    "SEARCH('{ECS/ContainerInsights,ClusterName,TaskDefinitionFamily,TaskId} "
                    f'MetricName="{metric}" ClusterName="{cluster}" TaskDefinitionFamily="{task_family}"\', '
                    f"'Average', {PERIOD_S})"
                ),
            }
        )
    assert len(api) <= MAX_QUERIES
    return api


def window(now: datetime) -> tuple[datetime, datetime]:
    """The last full hour of minutes: [now - 1 h, now), on minute boundaries."""
    end = now.replace(second=0, microsecond=0)
    return end - WINDOW, end


def read(client: Any, api_queries: list[dict[str, Any]], now: datetime) -> Metrics:
    """Run the request (following NextToken, which AWS returns only past 100,800 datapoints) and
    parse it. Raises botocore errors as they come."""
    start, end = window(now)
    results: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {
        "MetricDataQueries": api_queries,
        "StartTime": start,
        "EndTime": end,
        "ScanBy": "TimestampAscending",
    }
    while True:
        page = client.get_metric_data(**kwargs)
        results.extend(page.get("MetricDataResults", []))
        token = page.get("NextToken")
        if not token:
            break
        kwargs["NextToken"] = token
    return parse(api_queries, results, now, start, end)


def parse(
    api_queries: list[dict[str, Any]],
    results: list[dict[str, Any]],
    now: datetime,
    start: datetime,
    end: datetime,
) -> Metrics:
    by_id: dict[str, list[dict[str, Any]]] = {}
    for r in results:
        by_id.setdefault(str(r.get("Id")), []).append(r)
    series: list[MetricSeries] = []
    task_values: dict[str, dict[str, float]] = {"task_cpu": {}, "task_memory": {}}
    for q in api_queries:
        qid = q["Id"]
        if "MetricStat" in q:
            points: dict[datetime, float] = {}
            for r in by_id.get(qid, []):
                points.update(zip(r.get("Timestamps", []), r.get("Values", []), strict=False))
            ordered = sorted(points.items())
            stat = q["MetricStat"]
            series.append(
                MetricSeries(
                    key=qid,
                    label=q["Label"],
                    namespace=stat["Metric"]["Namespace"],
                    metric=stat["Metric"]["MetricName"],
                    stat=stat["Stat"],
                    unit=_UNITS.get(qid, ""),
                    timestamps=tuple(t for t, _ in ordered),
                    values=tuple(float(v) for _, v in ordered),
                )
            )
        elif qid in task_values:
            # A SEARCH returns one result per task, all with the query's Id; the dynamic label is the
            # TaskId. A result whose label is still the template found no metric (e.g. an emulator).
            for r in by_id.get(qid, []):
                label = str(r.get("Label") or "")
                pairs = sorted(zip(r.get("Timestamps", []), r.get("Values", []), strict=False))
                if label and label != TASK_LABEL and pairs:
                    task_values[qid][label] = float(pairs[-1][1])
    return Metrics(
        read_at=now,
        start=start,
        end=end,
        period_s=PERIOD_S,
        series=tuple(series),
        task_cpu=task_values["task_cpu"],
        task_memory=task_values["task_memory"],
        queries=len(api_queries),
    )


_UNITS = {
    "service_cpu": "%",
    "service_memory": "%",
    "requests": "requests",
    "response_p50": "s",
    "response_p99": "s",
    "target_5xx": "responses",
    "gpu_reservation": "%",
}
