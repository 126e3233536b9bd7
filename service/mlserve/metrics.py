"""Prometheus metrics, one registry per app (so several apps in one test process do not collide)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def batch_buckets(max_batch_size: int) -> tuple[float, ...]:
    """1, 2, 4, ... up to max_batch_size (inclusive)."""
    out: list[float] = []
    b = 1
    while b < max_batch_size:
        out.append(float(b))
        b *= 2
    out.append(float(max_batch_size))
    return tuple(out)


class _GpuMemoryCollector(Collector):
    """Reads GPU memory at scrape time; emits nothing when the model is not on a GPU."""

    def __init__(self, read: Callable[[], dict[str, float]]) -> None:
        self._read = read

    def collect(self) -> Iterator[GaugeMetricFamily]:
        values = self._read()
        if not values:
            return
        family = GaugeMetricFamily(
            "mlserve_gpu_memory_bytes",
            "GPU memory held for the model (torch allocator or device)",
            labels=["kind"],
        )
        for kind, value in sorted(values.items()):
            family.add_metric([kind], value)
        yield family


class Metrics:
    def __init__(self, max_batch_size: int) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "mlserve_requests",
            "HTTP requests by endpoint and status code",
            ["endpoint", "status"],
            registry=r,
        )
        self.latency = Histogram(
            "mlserve_request_latency_seconds",
            "Request latency from arrival to response, by endpoint",
            ["endpoint"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.batch_size = Histogram(
            "mlserve_batch_size", "Rows per model call", buckets=batch_buckets(max_batch_size), registry=r
        )
        self.inference = Histogram(
            "mlserve_inference_seconds", "Time in the model per batch", buckets=LATENCY_BUCKETS, registry=r
        )
        self.batch_errors = Counter("mlserve_batch_errors", "Model calls that raised", registry=r)
        self.rejected = Counter(
            "mlserve_rejected", "Requests refused before the model, by reason", ["reason"], registry=r
        )
        self.queue_depth = Gauge("mlserve_queue_depth", "Requests waiting for a batch", registry=r)
        self.ready = Gauge(
            "mlserve_ready", "1 when the model is loaded and warmed and not draining", registry=r
        )

    def observe_batch(self, size: int, seconds: float) -> None:
        self.batch_size.observe(size)
        self.inference.observe(seconds)

    def watch_queue(self, depth: Callable[[], int]) -> None:
        self.queue_depth.set_function(lambda: float(depth()))

    def watch_gpu_memory(self, read: Callable[[], dict[str, float]]) -> None:
        self.registry.register(_GpuMemoryCollector(read))
