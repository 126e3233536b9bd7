"""The connection layer: time limits for slow clients and a cap on open connections.

uvicorn (httptools) closes a connection that stays idle after a response (``timeout_keep_alive``), but
sets no limit on how long a client may take to send a request, and accepts connections until the
process runs out of file descriptors: 3000 partial bodies were held for over 90 s, and with the
default 1024 open files 1005 idle connections made the server unreachable. This protocol adds, per
connection:

- a **cap** (``MAX_CONNECTIONS``, by default the open-file limit less a reserve), so that ``accept()``
  never fails for lack of a descriptor. A connection beyond it makes room by closing the connection
  whose request has been incomplete the longest (a slow or silent client: 503 + ``Retry-After``); a
  real client sends its request at once, so it is not the one closed. Only when every connection is
  busy with a complete request, or idle between requests, is the newcomer answered 503 and closed;
- a **header timeout** (``HEADER_TIMEOUT_S``) from the connection's opening, or from the first byte of
  each later request, until its headers are complete: 408 and close;
- a **body timeout** (``BODY_TIMEOUT_S``) from the headers until the whole body has arrived. /predict
  enforces it itself and answers 408 (protocol.py); this layer is the backstop for requests nobody
  reads the body of, and closes them a second later.

Answers written here are counted in ``mlserve_rejected_total`` (``evicted``, ``max_connections``,
``header_timeout``, ``body_timeout``) since they never reach the app. It extends uvicorn's httptools
protocol, which the image uses (httptools is pinned in requirements.txt).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from .metrics import Metrics

BODY_BACKSTOP_S = 1.0  # after BODY_TIMEOUT_S, time for the app's own 408 before this layer closes


@dataclass(frozen=True)
class ConnectionLimits:
    max_connections: int
    header_timeout_s: float
    body_timeout_s: float
    retry_after_s: int


def guarded_protocol(limits: ConnectionLimits, metrics: Metrics) -> type[GuardedHttpToolsProtocol]:
    """The protocol class to give uvicorn (``Config(http=...)``), bound to these limits and metrics."""
    namespace = {"limits": limits, "metrics": metrics, "incomplete": {}}
    return type("MlserveHttpProtocol", (GuardedHttpToolsProtocol,), namespace)


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    limits: ConnectionLimits
    metrics: Metrics
    # connections whose current request is not complete yet, oldest request first (a dict keeps order)
    incomplete: dict[GuardedHttpToolsProtocol, None]
    # Slots, not instance attributes: two more keys in the instance dict pushed uvicorn's ~30 protocol
    # attributes past CPython's shared-key limit (30), and every connection paid ~1.3 KB for a dict of
    # its own (296 -> 1584 bytes; +10 MB of RSS at 5000 connections, benchmarks/serve_hostile.py).
    __slots__ = ("_reading", "_timer")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._timer: asyncio.TimerHandle | None = None
        self._reading = "headers"  # headers -> body -> done (-> headers for the next request)

    # -- connection ------------------------------------------------------------------------------
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.limits.max_connections and not self._make_room():
            self.metrics.rejected.labels("max_connections").inc()
            detail = f"server busy: MAX_CONNECTIONS={self.limits.max_connections} connections open"
            self._answer_and_close(503, detail, self.limits.retry_after_s)
            return
        self._begin_request()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop()
        self.incomplete.pop(self, None)
        super().connection_lost(exc)

    def _make_room(self) -> bool:
        """Close the connection whose request has been incomplete the longest; False if there is none."""
        while self.incomplete:
            oldest = next(iter(self.incomplete))
            del self.incomplete[oldest]
            if not oldest.transport.is_closing():
                oldest._evict()
                return True
        return False

    def _evict(self) -> None:
        self._stop()
        self.metrics.rejected.labels("evicted").inc()
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete:
            if cycle.response_started or self._reading != "body":  # a response is owed on it: just close
                self.transport.close()
                return
            cycle.disconnected = True  # the app's receive() now returns http.disconnect
            cycle.message_event.set()
        detail = "request incomplete while the server is at MAX_CONNECTIONS; closed to make room"
        self._answer_and_close(503, detail, self.limits.retry_after_s)

    def data_received(self, data: bytes) -> None:
        if self._reading == "done" and not self.transport.is_closing():
            self._begin_request()  # the first bytes after a complete request start the next one's clock
        super().data_received(data)

    # -- parser callbacks ------------------------------------------------------------------------
    def on_message_begin(self) -> None:
        if self._reading == "done":  # a pipelined request in the same read as the previous one
            self._begin_request()
        super().on_message_begin()

    def on_headers_complete(self) -> None:
        self._reading = "body"
        self._start(self.limits.body_timeout_s + BODY_BACKSTOP_S, self._body_timeout)
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._reading = "done"
        self._stop()
        self.incomplete.pop(self, None)
        super().on_message_complete()

    # -- timeouts --------------------------------------------------------------------------------
    def _begin_request(self) -> None:
        self._reading = "headers"
        self.incomplete.pop(self, None)
        self.incomplete[self] = None  # the youngest incomplete request: last to be closed to make room
        self._start(self.limits.header_timeout_s, self._header_timeout)

    def _header_timeout(self) -> None:
        self._timer = None
        if self.transport.is_closing():
            return
        self.metrics.rejected.labels("header_timeout").inc()
        if self.cycle is not None and not self.cycle.response_complete:
            # a response is still owed on this connection (the client sent more than one request):
            # let it go out, then close instead of reading the incomplete one
            self.cycle.keep_alive = False
            self.flow.pause_reading()
            return
        detail = f"request headers not received within HEADER_TIMEOUT_S={self.limits.header_timeout_s:g}"
        self._answer_and_close(408, detail)

    def _body_timeout(self) -> None:
        self._timer = None
        cycle = self.cycle
        if self.transport.is_closing() or cycle is None:
            return
        if cycle.response_started or self.pipeline:  # answered without reading the whole body (404,
            self.transport.close()  # 413), or an earlier request's answer is still owed: just close
            return
        self.metrics.rejected.labels("body_timeout").inc()
        cycle.disconnected = True  # the app's receive() now returns http.disconnect; its send is dropped
        cycle.message_event.set()
        detail = f"request body not received within BODY_TIMEOUT_S={self.limits.body_timeout_s:g}"
        self._answer_and_close(408, detail)

    def _start(self, seconds: float, callback: Any) -> None:
        self._stop()
        self._timer = self.loop.call_later(seconds, callback)

    def _stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _answer_and_close(self, status: int, detail: str, retry_after: int | None = None) -> None:
        body = json.dumps({"detail": detail}).encode()
        head = [STATUS_LINE[status]]
        head += [name + b": " + value + b"\r\n" for name, value in self.server_state.default_headers]
        head.append(b"content-type: application/json\r\n")
        head.append(b"content-length: %d\r\n" % len(body))
        if retry_after is not None:
            head.append(b"retry-after: %d\r\n" % retry_after)
        head.append(b"connection: close\r\n\r\n")
        self.transport.write(b"".join(head) + body)
        self.transport.close()
