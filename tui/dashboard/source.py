"""Where the dashboard reads from. No Textual; :meth:`open` runs in the dashboard's worker thread, so
boto3 (and, for the demo, seeding the emulator) is imported and paid for there, never on the UI thread.

* :class:`LiveSource`: the spec's service in AWS (its profile and region), or at an endpoint
  (``MLFARGATE_AWS_ENDPOINT_URL``, an emulator); tests give a client factory of their own (the same
  seam as tests/live: the real moto server, or botocore's Stubber).
* :class:`DemoSource`: the local emulator of ``--demo``, seeded like the spec, with the demo data over it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mlfargate.live.clients import ClientFactory
    from mlfargate.live.collect import Watcher
    from mlfargate.live.demo import Demo, Emulator
    from mlfargate.spec.model import Spec

Clock = Callable[[], datetime]
#: A person is waiting: fewer attempts and shorter timeouts than the CLI (the next refresh retries).
ATTEMPTS = 3
CONNECT_TIMEOUT_S = 5.0
READ_TIMEOUT_S = 20.0


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class DemoInfo:
    """What the screen says about a demo: where its emulator is and which panels carry demo data."""

    url: str
    supplied: dict[str, str]


@dataclass
class LiveSource:
    spec: Spec
    endpoint_url: str | None = None
    #: Clients from here instead of AWS (tests); None: the spec's profile and region.
    factory: Callable[[], ClientFactory] | None = None
    clock: Clock = utcnow

    def open(self) -> tuple[Watcher, DemoInfo | None]:
        from mlfargate.live.clients import aws_factory
        from mlfargate.live.collect import watcher_for

        if self.factory is not None:
            factory = self.factory()
        else:
            factory = aws_factory(
                self.spec.aws.region,
                self.spec.aws.profile,
                self.endpoint_url,
                max_attempts=ATTEMPTS,
                connect_timeout=CONNECT_TIMEOUT_S,
                read_timeout=READ_TIMEOUT_S,
            )
        return watcher_for(self.spec, factory=factory, clock=self.clock), None


@dataclass
class DemoSource:
    spec: Spec
    emulator: Emulator
    clock: Clock = utcnow
    demo: Demo | None = field(default=None, init=False)

    def open(self) -> tuple[Watcher, DemoInfo | None]:
        from mlfargate.live import demo as demo_mod
        from mlfargate.live.collect import watcher_for

        self.demo = demo_mod.prepare(self.emulator, self.spec, self.clock)
        watcher = watcher_for(self.spec, factory=self.demo.data.factory(), clock=self.clock)
        return watcher, DemoInfo(self.demo.url, dict(self.demo.data.supplied))


Source = LiveSource | DemoSource
