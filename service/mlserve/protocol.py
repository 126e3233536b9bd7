"""The /predict request protocol: what a request may carry, and what it is answered.

``{"inputs": [instance, ...]}`` (or the seed's ``{"input": instance}``) is validated before anything
reaches the model: a bad body is a 413 or 422 with a message, never a 500. ``Predictor`` reads one
raw ASGI request (see front.py for why it is raw), checks it, hands the batch to the batcher and
returns ``(status, extra headers, JSON body)``.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from starlette.types import Receive

from .batching import Draining, ModelError, QueueFull
from .front import Reply
from .metrics import Metrics
from .state import ServerState


class PredictRequest(BaseModel):
    """``{"inputs": [instance, ...]}``; the seed's ``{"input": instance}`` is accepted too."""

    model_config = ConfigDict(extra="forbid")
    inputs: list[Any] | None = Field(default=None, min_length=1)
    input: Any = None

    @model_validator(mode="after")
    def _exactly_one(self) -> PredictRequest:
        given = {"inputs", "input"} & self.model_fields_set
        if len(given) != 1:
            raise ValueError('give exactly one of "inputs" (a list of instances) or "input" (one instance)')
        return self


class BadInput(ValueError):
    """The body parsed but does not fit the model's input."""


def to_batch(
    instances: list[Any], shape: tuple[int | None, ...], dtype: np.dtype[Any], single: bool = False
) -> np.ndarray:
    """Turn JSON instances into an ``(n, *shape)`` array of the model's dtype, or say what is wrong.

    A value the model's dtype cannot hold (1e39 for float32, 2**31 for int32), NaN and Infinity (JSON
    parsers accept them) are the client's fault: the message names the first such value by its
    position, ``inputs[i][j]`` (``input[j]`` for the single-instance form).
    """
    dims = ["?" if d is None else str(d) for d in shape]
    want = "(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ")"
    try:
        arr = np.asarray(instances)
    except (ValueError, TypeError):
        raise BadInput(f"inputs are ragged: every instance must have shape {want}") from None
    if arr.dtype.kind == "O":  # integers beyond 64 bits, or None/objects among the numbers
        arr = _from_objects(arr, dtype, single, want)
    if arr.dtype.kind not in "iuf":
        raise BadInput(
            f"inputs must be numbers (got {_kind_name(arr.dtype)}); each instance has shape {want}"
        )
    if dtype.kind in "iu" and arr.dtype.kind == "f":
        raise BadInput(f"this model takes integers ({dtype.name}); got floating-point inputs")
    got = arr.shape[1:]
    if len(got) != len(shape) or any(d is not None and d != g for d, g in zip(shape, got, strict=False)):
        raise BadInput(f"each instance must have shape {want}; got {tuple(got)}")
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        if arr.size and (arr.min() < info.min or arr.max() > info.max):
            at = _first(np.argwhere((arr < info.min) | (arr > info.max)))
            raise BadInput(f"{_position(at, single)}: {arr[at]} is out of range for {dtype.name}")
        return np.ascontiguousarray(arr, dtype=dtype)
    with np.errstate(over="ignore"):  # a value too large for the dtype becomes inf, found just below
        x = np.ascontiguousarray(arr, dtype=dtype)
    if not np.isfinite(x).all():
        at = _first(np.argwhere(~np.isfinite(x)))
        value = float(arr[at])
        if np.isfinite(value):
            raise BadInput(
                f"{_position(at, single)}: {value!r} does not fit {dtype.name} "
                f"(magnitude at most {float(np.finfo(dtype).max):.6g})"
            )
        name = "NaN" if np.isnan(value) else ("-Infinity" if value < 0 else "Infinity")
        raise BadInput(f"{_position(at, single)}: {name} is not allowed (inputs must be finite numbers)")
    return x


def _from_objects(arr: np.ndarray, dtype: np.dtype[Any], single: bool, want: str) -> np.ndarray:
    """An object array from JSON holds integers numpy cannot store in 64 bits, or non-numbers: name
    the first value that is not a number or does not fit; else return the numbers as float64."""
    for at, value in np.ndenumerate(arr):
        where = _position(at, single)
        if isinstance(value, bool) or not isinstance(value, int | float):
            shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
            raise BadInput(f"{where}: {shown} is not a number; inputs must be numbers, each instance {want}")
        if not isinstance(value, int):
            continue
        if dtype.kind in "iu":
            info = np.iinfo(dtype)
            if not info.min <= value <= info.max:
                raise BadInput(f"{where}: {value} is out of range for {dtype.name}")
        elif abs(value) > float(np.finfo(dtype).max):
            raise BadInput(f"{where}: an integer of {len(str(abs(value)))} digits does not fit {dtype.name}")
    return arr.astype(np.float64)


def _first(where: np.ndarray) -> tuple[int, ...]:
    return tuple(int(i) for i in where[0])


def _position(at: tuple[int, ...], single: bool) -> str:
    """``inputs[i][j]...`` for an index into the batch; ``input[j]...`` when the request held one instance."""
    return ("input" if single else "inputs") + "".join(f"[{i}]" for i in (at[1:] if single else at))


def _kind_name(dtype: np.dtype[Any]) -> str:
    return {"b": "booleans", "U": "strings", "S": "strings", "O": "mixed or nested objects"}.get(
        dtype.kind, dtype.name
    )


def is_json(content_type: bytes | None) -> bool:
    """``application/json``, in any case, with at most a ``charset=utf-8`` parameter (JSON is UTF-8)."""
    if content_type is None:
        return False
    media, *params = content_type.split(b";")
    if media.strip().lower() != b"application/json":
        return False
    for param in params:
        name, _, value = param.partition(b"=")
        if not name.strip() and not value:  # "application/json;" -- an empty parameter
            continue
        if name.strip().lower() != b"charset" or value.strip().strip(b'"').lower() not in (b"utf-8", b"utf8"):
            return False
    return True


def json_bytes(payload: Any) -> bytes:
    return json.dumps(payload, allow_nan=False, separators=(",", ":")).encode()


class Predictor:
    """POST /predict: one raw ASGI request in, ``(status, headers, JSON body)`` out."""

    def __init__(self, state: ServerState) -> None:
        self.state = state
        self.settings = state.settings
        self.metrics: Metrics = state.metrics

    async def __call__(self, receive: Receive, headers: dict[bytes, bytes]) -> Reply:
        state, settings = self.state, self.settings
        if not state.ready or state.batcher is None or state.backend is None:
            reason = "draining" if state.phase == "draining" else "not_ready"
            return self.refuse(reason, 503, f"model is {state.phase}", settings.retry_after_s)
        content_type = headers.get(b"content-type")
        if content_type != b"application/json" and not is_json(content_type):
            shown = "none" if content_type is None else repr(content_type.decode("latin-1")[:80])
            msg = f"Content-Type must be application/json (charset utf-8 if given); got {shown}"
            return self.refuse("unsupported_media_type", 415, msg)
        limit = settings.max_body_bytes
        too_large = f"body over MAX_BODY_BYTES={limit}"
        declared = headers.get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            return self.refuse("too_large", 413, too_large)
        body = await self._read_body(receive, limit, too_large)
        if isinstance(body, tuple):
            return body
        try:
            req = PredictRequest.model_validate_json(body)
        except ValidationError as exc:
            msgs = [f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in exc.errors()]
            return self.refuse("invalid", 422, "; ".join(msgs))
        single = req.inputs is None
        instances = [req.input] if single else req.inputs
        assert instances is not None
        if len(instances) > state.batcher.max_batch_size:
            msg = f"{len(instances)} inputs in one request; at most MAX_BATCH_SIZE={state.batcher.max_batch_size}"
            return self.refuse("invalid", 422, msg)
        try:
            x = to_batch(instances, state.backend.input_shape, state.backend.input_dtype, single)
        except BadInput as exc:
            return self.refuse("invalid", 422, str(exc))
        try:
            y = await state.batcher.submit(x)
        except QueueFull:
            return self.refuse("queue_full", 503, "server busy: queue full", settings.retry_after_s)
        except Draining as exc:
            return self.refuse("draining", 503, str(exc) or "server is draining", settings.retry_after_s)
        except ModelError as exc:
            return 500, {}, json_bytes({"detail": f"model error: {exc}"})
        try:
            payload = {"output": y[0].tolist()} if single else {"outputs": y.tolist()}
            return 200, {}, json_bytes(payload)
        except ValueError:
            return 500, {}, json_bytes({"detail": "model error: non-finite values in the output"})

    async def _read_body(self, receive: Receive, limit: int, too_large: str) -> bytes | Reply:
        """The request body, or the answer when it is too large, incomplete within BODY_TIMEOUT_S (408)
        or still arriving at the drain deadline (503)."""
        state, settings = self.state, self.settings
        body = bytearray()
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout_at(loop.time() + settings.body_timeout_s) as reading:
                state.body_reads.add(reading)  # a drain that begins now cuts it at its deadline
                try:
                    while True:
                        message = await receive()
                        if message["type"] == "http.disconnect":
                            return self.refuse("disconnected", 400, "client went away")
                        body += message.get("body", b"")
                        if len(body) > limit:
                            return self.refuse("too_large", 413, too_large)
                        if not message.get("more_body", False):
                            return bytes(body)
                finally:
                    state.body_reads.discard(reading)
        except TimeoutError:
            if state.drain_deadline is not None and reading.when() == state.drain_deadline:
                return self.refuse("draining", 503, state.too_late(), settings.retry_after_s)
            msg = f"request body not received within BODY_TIMEOUT_S={settings.body_timeout_s:g}"
            return self.refuse("body_timeout", 408, msg, close=True)

    def refuse(
        self, reason: str, code: int, detail: str, retry_after: int | None = None, close: bool = False
    ) -> Reply:
        self.metrics.rejected.labels(reason).inc()
        headers: dict[str, str] = {}
        if retry_after is not None:
            headers["retry-after"] = str(retry_after)
        if close or self.state.phase == "draining":
            headers["connection"] = "close"
        return code, headers, json_bytes({"detail": detail})
