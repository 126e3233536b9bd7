"""Process entry: settings from the environment, uvicorn, signals.

SIGTERM (Spot interruption, scale-in, deploy) or SIGINT: the app turns not-ready at once (/ready and
new /predict answer 503), uvicorn closes the listening socket, in-flight requests and every queued
batch finish, then the process exits 0 -- within DRAIN_TIMEOUT_S, which must be shorter than the
container's ECS ``stopTimeout`` (Fargate allows up to 120 s; the default is 30 s). Requests still waiting
when DRAIN_TIMEOUT_S has passed are answered 503 + Retry-After (see state.py).
A model that fails to load exits 1 so that ECS replaces the task; a bad setting exits 2 with one line.
"""

from __future__ import annotations

import logging
import math
import signal
import sys
from types import FrameType

import uvicorn

from .app import create_app
from .config import ConfigError, Settings
from .connections import ConnectionLimits, guarded_protocol
from .state import ServerState

log = logging.getLogger("mlserve.server")

DRAIN_BACKSTOP_S = 2  # uvicorn cancels what is still running this long after DRAIN_TIMEOUT_S


class DrainingServer(uvicorn.Server):
    """uvicorn.Server that flips the app to not-ready the moment the stop signal arrives."""

    def __init__(self, config: uvicorn.Config, state: ServerState) -> None:
        super().__init__(config)
        self._state = state

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if not self.should_exit:
            log.info("signal %s: draining (stop accepting, finish in-flight work)", signal.Signals(sig).name)
            self._state.begin_drain()
        super().handle_exit(sig, frame)


def _configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        stream=sys.stdout,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )


def main() -> int:
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        print(f"mlserve: {exc}", file=sys.stderr)
        return 2
    _configure_logging(settings.log_level)
    server: DrainingServer | None = None
    fatal: list[BaseException] = []

    def on_fatal(exc: BaseException) -> None:
        fatal.append(exc)
        if server is not None:
            server.should_exit = True

    app = create_app(settings, on_fatal=on_fatal)
    limits = ConnectionLimits(
        settings.max_connections, settings.header_timeout_s, settings.body_timeout_s, settings.retry_after_s
    )
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        http=guarded_protocol(limits, app.state.mlserve.metrics),  # timeouts and the connection cap
        log_config=None,
        access_log=settings.access_log,
        # The app answers what is left 503 at DRAIN_TIMEOUT_S (ServerState.expire_drain); uvicorn's own
        # deadline, which cancels requests with a 500 and a traceback, is only a backstop behind it.
        timeout_graceful_shutdown=math.ceil(settings.drain_timeout_s) + DRAIN_BACKSTOP_S,
        # default 75 s: above the ALB's default 60 s idle timeout, so the ALB closes first
        timeout_keep_alive=settings.keep_alive_timeout_s,  # type: ignore[arg-type]  # a float works
        server_header=False,
    )
    server = DrainingServer(config, app.state.mlserve)
    # uvicorn re-raises the stop signal after a graceful shutdown; with the default SIGTERM action that
    # would kill the process with -15. A no-op handler underneath makes a clean drain exit 0.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda s, f: None)
    server.run()
    if fatal:
        print(f"mlserve: model load failed: {fatal[0]}", file=sys.stderr)
        return 1
    return 0
