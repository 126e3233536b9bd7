"""The server under hostile load (issue 14), as the container runs it: a real process on loopback.

Client faults are 4xx, never 500; a drain that runs out of time answers 503 instead of letting uvicorn
cancel requests; a poisoned request is isolated in a few model calls; slow and idle connections are
timed out and capped below the open-file limit, and a real client is answered meanwhile.
"""

from __future__ import annotations

import asyncio
import json
import re
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
import pytest

from tests.service import models
from tests.service.helpers import TORCH_USE_GPU, ServerProcess, metric

pytestmark = pytest.mark.slow

JSON = {"content-type": "application/json"}
ROW = [1.0, 2.0, 3.0, 4.0]
PARTIAL_BODY = (  # a /predict request whose body never finishes arriving
    b"POST /predict HTTP/1.1\r\nHost: mlserve\r\nContent-Type: application/json\r\n"
    b"Content-Length: 200\r\n\r\n" + b'{"inputs": [[1, 2'
)


@dataclass
class Conn:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter


async def connect(port: int, first: bytes = b"") -> Conn:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    if first:
        writer.write(first)
        await writer.drain()
    return Conn(reader, writer)


async def outcome(conn: Conn, within: float) -> str:
    """What the server did with a connection we left hanging: the status code it answered before
    closing ("408", "503", ...), "closed" (closed or reset with no answer), or "open" (still open
    after ``within`` seconds, which is what a connection exhaustion attack relies on)."""
    try:
        data = await asyncio.wait_for(conn.reader.read(), within)  # reads until the server closes
    except TimeoutError:
        return "open"
    except ConnectionError:
        return "closed"
    finally:
        conn.writer.close()
    m = re.match(rb"HTTP/1\.1 (\d{3}) ", data)
    return m.group(1).decode() if m else "closed"


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One ONNX server with default settings for the request checks that do not change its state."""
    tmp = tmp_path_factory.mktemp("shared")
    sp = ServerProcess({"MODEL_PATH": str(models.onnx_model(tmp)), "USE_GPU": "cpu"}, tmp / "server.log")
    try:
        sp.wait_ready()
        yield sp
    finally:
        sp.stop()


def onnx_server(tmp_path: Path, start: Callable[..., ServerProcess], **env: str) -> ServerProcess:
    sp = start(model_path=str(models.onnx_model(tmp_path)), use_gpu="cpu", **env)
    sp.wait_ready()
    return sp


def affine_server(
    tmp_path: Path, start: Callable[..., ServerProcess], kwargs: dict[str, float], **env: str
) -> ServerProcess:
    weights, module = models.state_dict_model(tmp_path)
    sp = start(
        model_path=str(weights),
        model_class=f"{module}:Affine",
        model_kwargs=json.dumps(kwargs),
        input_shape="4",
        use_gpu=TORCH_USE_GPU,
        **env,
    )
    sp.wait_ready()
    return sp


@pytest.mark.parametrize(
    ("body", "position"),
    [
        (b'{"inputs": [[1e39, 1, 2, 3]]}', "inputs[0][0]"),  # overflows float32
        (b'{"inputs": [[1, 2, 3, 4], [1, 2, 3, -1e308]]}', "inputs[1][3]"),
        (b'{"input": [1, 2e300, 3, 4]}', "input[1]"),  # the seed's single-instance shape
        (b'{"inputs": [[1, 2, 3, 1' + b"0" * 400 + b"]]}", "inputs[0][3]"),  # an integer beyond float64
        (b'{"inputs": [[NaN, 1, 2, 3]]}', "inputs[0][0]"),
        (b'{"inputs": [[1, Infinity, 2, 3]]}', "inputs[0][1]"),
        (b'{"inputs": [[1, 2, -Infinity, 3]]}', "inputs[0][2]"),
        (b'{"inputs": [[1, 2, 3, 1e999]]}', "inputs[0][3]"),  # parses as Infinity
    ],
)
def test_values_that_do_not_fit_the_input_are_422_naming_the_position(
    shared: ServerProcess, body: bytes, position: str
) -> None:
    sp = shared
    r = httpx.post(sp.url + "/predict", content=body, headers=JSON, timeout=30)
    assert r.status_code == 422, r.text
    assert r.json()["detail"].startswith(position + ": "), r.text
    fits = httpx.post(sp.url + "/predict", json={"inputs": [[3.4e38, -3.4e38, 0, 1]]}, timeout=30)
    assert fits.status_code == 200, fits.text  # the edge of float32 still fits
    text = httpx.get(sp.url + "/metrics").text
    assert 'mlserve_requests_total{endpoint="/predict",status="500"}' not in text
    assert metric(text, "mlserve_batch_errors_total") == 0.0


@pytest.mark.parametrize(
    ("content_type", "code"),
    [
        ("application/json", 200),
        ("application/json; charset=utf-8", 200),
        ('Application/JSON;charset="UTF-8"', 200),
        (None, 415),
        ("text/plain", 415),
        ("application/x-www-form-urlencoded", 415),
        ("multipart/form-data; boundary=x", 415),
        ("application/json; charset=latin-1", 415),
        ("application/jsonp", 415),
    ],
)
def test_predict_accepts_only_application_json(
    shared: ServerProcess, content_type: str | None, code: int
) -> None:
    sp = shared
    headers = {} if content_type is None else {"content-type": content_type}
    body = json.dumps({"inputs": [ROW]}).encode()
    r = httpx.post(sp.url + "/predict", content=body, headers=headers, timeout=30)
    assert r.status_code == code, r.text
    if code == 415:
        assert "application/json" in r.json()["detail"]
    else:
        np.testing.assert_allclose(r.json()["outputs"], models.expected([ROW]), rtol=1e-5, atol=1e-5)


async def test_a_poisoned_request_fails_alone_and_costs_a_few_model_calls(
    tmp_path: Path, server_process: Callable[..., ServerProcess]
) -> None:
    # 16 requests gather into one batch (the long delay only waits for the 16th); one is poisoned
    sp = affine_server(tmp_path, server_process, {}, max_batch_size="16", max_batch_delay_ms="3000")
    rows = [[float(i), 1.0, 0.0, 0.0] for i in range(16)]
    rows[5] = [-999.0, 0.0, 0.0, 0.0]
    async with httpx.AsyncClient(base_url=sp.url, timeout=60) as client:
        rs = await asyncio.gather(*[client.post("/predict", json={"inputs": [row]}) for row in rows])
        text = (await client.get("/metrics")).text
    for i, (row, r) in enumerate(zip(rows, rs, strict=True)):
        if i == 5:
            assert r.status_code == 500 and "poison" in r.json()["detail"], r.text
        else:
            assert r.status_code == 200, r.text
            np.testing.assert_allclose(r.json()["outputs"], models.expected([row]), rtol=1e-5, atol=1e-5)
    calls = metric(text, "mlserve_batch_size_count") + metric(text, "mlserve_batch_errors_total")
    assert metric(text, "mlserve_batch_size_sum") == 15.0  # every good row was answered exactly once
    # the batch, one call per halving (16 -> 8 -> 4 -> 2 -> 1), one for the halves set aside on the way
    # and one to run an inferred culprit alone; retrying each alone made it 17
    assert calls <= 1 + 4 + 2, text


async def test_drain_deadline_answers_what_is_left_503_without_tracebacks(
    tmp_path: Path, server_process: Callable[..., ServerProcess]
) -> None:
    # 0.3 s per batch of 4 rows: about 30 of the 80 queued requests can be served in DRAIN_TIMEOUT_S=2
    sp = affine_server(
        tmp_path,
        server_process,
        {"delay_s": 0.3},
        max_batch_size="4",
        max_batch_delay_ms="1",
        max_queue_size="512",
        drain_timeout_s="2",
        retry_after_s="2",
    )
    n = 80
    limits = httpx.Limits(max_connections=n + 10, max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=sp.url, timeout=60, limits=limits) as client:

        async def call(i: int) -> httpx.Response | Exception:
            try:
                return await client.post("/predict", json={"inputs": [[float(i), 0.0, 0.0, 0.0]]})
            except httpx.HTTPError as exc:
                return exc

        tasks = [asyncio.create_task(call(i)) for i in range(n)]
        deadline = time.monotonic() + 30
        while True:  # every request is in: queued, in the model (at most 4) or answered
            text = (await client.get("/metrics")).text
            if metric(text, "mlserve_queue_depth") + metric(text, "mlserve_batch_size_sum") >= n - 4:
                break
            assert time.monotonic() < deadline, "the requests never queued up"
            await asyncio.sleep(0.05)
        # a body still arriving when the stop signal comes (BODY_TIMEOUT_S is 20 s) ends at the deadline too
        slow_body = await connect(sp.port, PARTIAL_BODY)
        await asyncio.sleep(0.2)
        sp.proc.send_signal(signal.SIGTERM)
        results = await asyncio.gather(*tasks)
        slow = await outcome(slow_body, within=30)
    rc = await asyncio.to_thread(sp.proc.wait, 30)
    assert slow == "503", slow
    log = sp.log_path.read_text()
    codes = [r.status_code if isinstance(r, httpx.Response) else repr(r) for r in results]
    assert set(codes) <= {200, 503}, codes  # no 500 from uvicorn cancelling, no dropped connections
    served = [r for r in results if isinstance(r, httpx.Response) and r.status_code == 200]
    left = [r for r in results if isinstance(r, httpx.Response) and r.status_code == 503]
    assert served and left, codes
    for r in left:
        assert r.headers["retry-after"] == "2" and r.headers["connection"] == "close"
    assert "Traceback" not in log and "Exception in ASGI application" not in log, log
    lines = [line for line in log.splitlines() if "drain deadline" in line]
    assert len(lines) == 1, log
    assert f" {len(left)} " in lines[0], (lines, len(left))
    assert rc == 0, log


async def test_slow_clients_get_408_while_a_real_client_is_answered(
    tmp_path: Path, server_process: Callable[..., ServerProcess]
) -> None:
    sp = onnx_server(tmp_path, server_process, header_timeout_s="2", body_timeout_s="2")
    partial_headers = b"POST /predict HTTP/1.1\r\nHost: mlserve\r\nContent-Type: appl"
    conns = [await connect(sp.port, partial_headers) for _ in range(40)]
    conns += [await connect(sp.port, PARTIAL_BODY) for _ in range(40)]
    conns += [await connect(sp.port) for _ in range(20)]  # nothing sent at all
    trickler = await connect(sp.port)
    header = b"POST /predict HTTP/1.1\r\nHost: mlserve\r\nX-Slow: " + b"a" * 1000

    async def trickle() -> None:  # one byte every 0.2 s: never idle, never done
        for byte in header:
            if trickler.writer.is_closing():
                return
            trickler.writer.write(bytes([byte]))
            await asyncio.sleep(0.2)

    trickling = asyncio.create_task(trickle())
    async with httpx.AsyncClient(base_url=sp.url, timeout=20) as client:
        r = await client.post("/predict", json={"inputs": [ROW]})
    assert r.status_code == 200, r.text  # answered while 101 slow connections are held
    np.testing.assert_allclose(r.json()["outputs"], models.expected([ROW]), rtol=1e-5, atol=1e-5)
    outcomes = await asyncio.gather(*[outcome(c, within=30) for c in [*conns, trickler]])
    trickling.cancel()
    assert outcomes == ["408"] * len(outcomes), outcomes
    text = httpx.get(sp.url + "/metrics").text
    timeouts = [metric(text, "mlserve_rejected_total", reason=r) for r in ("header_timeout", "body_timeout")]
    assert timeouts == [61.0, 40.0], text


async def test_a_body_nobody_reads_is_still_cut_off_after_the_body_timeout(
    tmp_path: Path, server_process: Callable[..., ServerProcess]
) -> None:
    # /health answers 405 to a POST without reading its body; the keep-alive timeout is long, so only
    # the body timeout (the connection layer's backstop) can close the connection still sending it
    sp = onnx_server(tmp_path, server_process, body_timeout_s="1", keep_alive_timeout_s="600")
    conn = await connect(sp.port, PARTIAL_BODY.replace(b"/predict", b"/health"))
    assert await outcome(conn, within=30) == "405"  # answered, then closed


async def test_idle_keep_alive_connections_are_closed_after_the_keep_alive_timeout(
    tmp_path: Path, server_process: Callable[..., ServerProcess]
) -> None:
    sp = onnx_server(tmp_path, server_process, keep_alive_timeout_s="1")
    conn = await connect(sp.port, b"GET /health HTTP/1.1\r\nHost: mlserve\r\n\r\n")
    status = await asyncio.wait_for(conn.reader.readline(), 30)
    assert status.startswith(b"HTTP/1.1 200"), status
    while (await asyncio.wait_for(conn.reader.readline(), 30)) != b"\r\n":
        pass  # headers; the small JSON body follows and then, after 1 s idle, the close
    assert await outcome(conn, within=30) == "closed"


async def test_connections_beyond_the_open_file_limit_make_room_for_a_real_client(
    tmp_path: Path, server_process: Callable[..., ServerProcess]
) -> None:
    # ulimit -n 128 as a container could have it: the default cap is 128 - 64 = 64 connections.
    # 150 idle connections used to take every file descriptor, so that nobody else got in.
    sp = onnx_server(tmp_path, server_process, nofile=128, header_timeout_s="5")
    n = 150
    conns = [await connect(sp.port) for _ in range(n)]
    async with httpx.AsyncClient(base_url=sp.url, timeout=20) as client:
        r = await client.post("/predict", json={"inputs": [ROW]})  # at once, not after the timeouts
        assert r.status_code == 200, r.text
        outcomes = await asyncio.gather(*[outcome(c, within=30) for c in conns])
        text = (await client.get("/metrics")).text
    evicted, timed_out = outcomes.count("503"), outcomes.count("408")
    assert evicted + timed_out == n, outcomes  # every idle connection was closed, none is left open
    # the oldest made room for the newer ones and for the real client; the newest 63 timed out
    assert evicted == n - 64 + 1 and timed_out == 63, (evicted, timed_out)
    assert metric(text, "mlserve_rejected_total", reason="evicted") == evicted


async def test_a_connection_beyond_the_cap_is_refused_503_when_every_connection_is_busy(
    tmp_path: Path, server_process: Callable[..., ServerProcess]
) -> None:
    # 1 s per request, one at a time: five complete requests keep all five places busy for seconds
    sp = affine_server(
        tmp_path, server_process, {"delay_s": 1.0}, max_batch_size="1", max_connections="5", retry_after_s="3"
    )
    body = json.dumps({"inputs": [ROW]}).encode()
    request = (
        b"POST /predict HTTP/1.1\r\nHost: mlserve\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    busy = [await connect(sp.port, request) for _ in range(5)]
    first = await asyncio.wait_for(busy[0].reader.readuntil(b"\r\n\r\n"), 30)
    assert first.startswith(b"HTTP/1.1 200"), first  # answered: every request has been read by now
    late = await connect(sp.port)
    answer = await asyncio.wait_for(late.reader.read(), 30)  # refused at once, closed
    assert answer.startswith(b"HTTP/1.1 503"), answer
    assert b"retry-after: 3\r\n" in answer and b"MAX_CONNECTIONS=5" in answer, answer
    for conn in busy[1:]:  # nobody with a complete request was closed to make room
        head = await asyncio.wait_for(conn.reader.readuntil(b"\r\n\r\n"), 30)
        assert head.startswith(b"HTTP/1.1 200"), head
    for conn in [*busy, late]:
        conn.writer.close()
