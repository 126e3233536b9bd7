"""AWS clients for the live stage: built through one injected factory, counted per API call.

A :data:`ClientFactory` turns a service name (``"ecs"``) into a boto3 client. The default,
:func:`aws_factory`, goes through :func:`mlfargate.aws.client` (region, profile, endpoint URL, retry
mode); tests and the TUI inject their own. :class:`Clients` builds each service's client once and
counts every API call with botocore's ``before-parameter-build`` event (emitted once per call, whatever
its retries, to every handler: a botocore Stubber answering the call does not hide it), so a snapshot
can say how many calls its refresh made.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from mlfargate import aws

ClientFactory = Callable[[str], Any]


def aws_factory(
    region: str,
    profile: str | None = None,
    endpoint_url: str | None = None,
    *,
    max_attempts: int | None = None,
    connect_timeout: float | None = None,
    read_timeout: float | None = None,
) -> ClientFactory:
    """The production factory: :func:`mlfargate.aws.client` for the spec's region and profile, every
    client from one boto3 session (made on first use), so the service models load once. Clients are
    made one at a time (a session is not thread-safe); the clients themselves may be used from any
    thread. A front-end with a person waiting (the TUI dashboard) passes fewer attempts and short
    timeouts, as :func:`mlfargate.aws.client` explains."""
    shared: list[Any] = []

    def make(service: str) -> Any:
        if not shared:
            shared.append(aws.session(region, profile))
        return aws.client(
            service,
            region,
            profile,
            endpoint_url,
            from_session=shared[0],
            max_attempts=max_attempts,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
        )

    return make


class Clients:
    """One client per service from ``factory``, with a call counter on each."""

    def __init__(self, factory: ClientFactory) -> None:
        self._factory = factory
        self._clients: dict[str, Any] = {}
        self.calls: Counter[str] = Counter()

    def __call__(self, service: str) -> Any:
        client = self._clients.get(service)
        if client is None:
            client = self._factory(service)
            client.meta.events.register(
                "before-parameter-build", self._count, unique_id=f"mlfargate-calls-{id(self)}"
            )
            self._clients[service] = client
        return client

    def _count(self, model: Any = None, **_: Any) -> None:
        if model is not None:
            self.calls[f"{model.service_model.service_name}:{model.name}"] += 1

    def take_calls(self) -> dict[str, int]:
        """The calls counted since the last take, sorted by name; the counter starts again at zero."""
        out = dict(sorted(self.calls.items()))
        self.calls.clear()
        return out
