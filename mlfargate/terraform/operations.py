"""The Terraform operations: ``init``, ``plan`` to a saved plan, ``apply`` a saved plan, ``state list``,
``output``."""

from __future__ import annotations

import contextlib
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlfargate.terraform.diagnostics import InterruptedError_, failure
from mlfargate.terraform.engine import Engine
from mlfargate.terraform.process import Callback, Cancel, NotStartedError, RunResult, _noop
from mlfargate.terraform.process import run as _run
from mlfargate.terraform.state import (
    SavedPlan,
    StateWriteError,
    discard_saved_plan,
    fingerprint,
    make_state_dir,
    saved_plan_paths,
    write_state_file,
)

#: Ctrl-C during a plan: whatever Terraform returned (a plan that finished anyway included), no plan is kept.
PLAN_INTERRUPTED = "plan interrupted: no plan was saved and nothing was changed"

#: What an interrupted command left, by command (the graceful stop saves the state).
_INTERRUPTED = {
    "init": "init interrupted: Terraform stopped; nothing was planned or changed",
    "plan": PLAN_INTERRUPTED,
    "show": PLAN_INTERRUPTED,
}
#: The same, for a command a stopped ``cancel`` kept from starting.
_NOT_STARTED = {**_INTERRUPTED, "init": "init interrupted: nothing was planned or changed"}


def run(
    engine: Engine,
    workspace: Path,
    args: list[str],
    *,
    on_event: Callback = _noop,
    json_events: bool = False,
    total: int | None = None,
    cancel: Cancel | None = None,
    lines: bool = False,
) -> RunResult:
    """:func:`mlfargate.terraform.process.run`; a command its ``cancel`` stopped before it started is an
    :class:`InterruptedError_` saying what it left."""
    try:
        return _run(engine, workspace, args, on_event, json_events, total, cancel, lines)
    except NotStartedError:
        raise InterruptedError_(
            _NOT_STARTED.get(args[0], f"interrupted before terraform {args[0]} started: nothing was changed")
        ) from None


def _interrupted(result: RunResult, what: str) -> None:
    """A Ctrl-C or stop reached the command: whatever Terraform returned, nothing more is done."""
    if result.interrupted and what in _INTERRUPTED:
        raise InterruptedError_(_INTERRUPTED[what])


def init(
    engine: Engine, workspace: Path, on_event: Callback = _noop, cancel: Cancel | None = None
) -> RunResult:
    """``terraform init``: no input, the lock file respected (read-only when one is committed), and
    providers from ``--plugin-dir`` only when one is given. Each line of its output (modules, provider
    installation) goes to ``on_event`` as an ``init`` event."""
    args = ["init", "-input=false", "-no-color"]
    if (workspace / ".terraform.lock.hcl").is_file():
        args.append("-lockfile=readonly")
    if engine.plugin_dir is not None:
        args.append(f"-plugin-dir={engine.plugin_dir}")
    result = run(engine, workspace, args, on_event=on_event, lines=True, cancel=cancel)
    _interrupted(result, "init")
    if result.returncode != 0:
        raise failure(result, "init")
    return result


def plan(
    engine: Engine,
    workspace: Path,
    destroy: bool = False,
    on_event: Callback = _noop,
    lock_timeout: str = "0s",
    cancel: Cancel | None = None,
) -> SavedPlan:
    """Plan to ``.mlfargate/tfplan``, write its ``show -json`` beside it and the configuration's
    fingerprint. Init must have run."""
    ws = workspace.resolve()
    plan_file, plan_json, meta_file = saved_plan_paths(ws)
    discard_saved_plan(ws)
    make_state_dir(ws)
    args = ["plan", "-input=false", "-json", f"-lock-timeout={lock_timeout}", f"-out={plan_file}"]
    if destroy:
        args.append("-destroy")
    try:
        result = run(engine, ws, args, on_event=on_event, json_events=True, cancel=cancel)
        _interrupted(result, "plan")
        if result.returncode != 0:
            raise failure(result, "plan")
        shown = run(engine, ws, ["show", "-json", "-no-color", str(plan_file)], cancel=cancel)
        _interrupted(shown, "show")
        if shown.returncode != 0:
            raise failure(shown, "show")
        write_state_file(plan_json, shown.stdout)
        meta = {"fingerprint": fingerprint(ws), "destroy": destroy, "created": time.time()}
        # Written last: a plan without its meta file is no saved plan (apply refuses it).
        write_state_file(meta_file, json.dumps(meta, indent=2))
    except KeyboardInterrupt:  # Ctrl-C between the Terraform runs (writing the plan's files)
        discard_quietly(ws)
        raise InterruptedError_(PLAN_INTERRUPTED) from None
    except BaseException:
        discard_quietly(ws)  # a failed or interrupted plan leaves nothing half-written behind
        raise
    return SavedPlan(ws, plan_file, plan_json, str(meta["fingerprint"]), destroy, float(str(meta["created"])))


def apply(
    engine: Engine,
    saved: SavedPlan,
    on_event: Callback = _noop,
    total: int | None = None,
    cancel: Cancel | None = None,
) -> RunResult:
    """Apply a saved plan (the caller has checked the gate and the confirmation), streaming progress.
    The plan is discarded afterwards: applied or not, it no longer matches the state."""
    args = ["apply", "-input=false", "-json", "-lock-timeout=0s", str(saved.plan_file)]
    try:
        result = run(
            engine, saved.workspace, args, on_event=on_event, json_events=True, total=total, cancel=cancel
        )
    except InterruptedError_:  # stopped before Terraform started
        discard_quietly(saved.workspace)
        raise InterruptedError_("apply interrupted before it started: nothing was changed") from None
    except BaseException:
        discard_quietly(saved.workspace)
        raise
    if result.interrupted and result.returncode != 0:
        discard_quietly(saved.workspace)
        raise InterruptedError_(
            "apply interrupted: Terraform stopped and saved the state; run `mlfargate plan` to see what is left"
        )
    if result.returncode != 0:
        discard_quietly(saved.workspace)
        raise failure(result, "apply")
    try:
        discard_saved_plan(saved.workspace)
    except StateWriteError as exc:  # the apply happened: say so first
        raise StateWriteError(f"applied, but {exc}") from None
    return result


def discard_quietly(workspace: Path) -> None:
    """Discard the saved plan on the way out of a failure, which is the error that matters."""
    with contextlib.suppress(StateWriteError):
        discard_saved_plan(workspace)


def state_resources(engine: Engine, workspace: Path) -> list[str]:
    """Addresses in the state (``terraform state list``)."""
    result = run(engine, workspace, ["state", "list"])
    if result.returncode != 0 and "No state file was found" in result.stderr + result.stdout:
        return []
    if result.returncode != 0:
        raise failure(result, "state list")
    return [line.strip() for line in result.stdout.splitlines() if line.strip()]


def outputs(engine: Engine, workspace: Path) -> dict[str, object]:
    """The root outputs in the state (``terraform output -json``): name -> value; {} when there is no
    state yet or it cannot be read (an uninitialised remote backend, say)."""
    result = run(engine, workspace.resolve(), ["output", "-json", "-no-color"])
    if result.returncode != 0:
        return {}
    try:
        data = json.loads(result.stdout or "{}")
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): v.get("value") for k, v in data.items() if isinstance(v, dict)}


@dataclass(frozen=True)
class StateEntry:
    """A resource instance in the state; ``tainted``: Terraform will replace it (its creation or a
    provisioner did not finish, e.g. an interrupted apply)."""

    address: str
    tainted: bool = False


def state_entries(engine: Engine, workspace: Path) -> list[StateEntry]:
    """Every managed resource instance in the state, with its tainted mark (``terraform show -json``
    of the state); [] when there is no state yet."""
    result = run(engine, workspace.resolve(), ["show", "-json", "-no-color"])
    if result.returncode != 0:
        raise failure(result, "show")
    try:
        data = json.loads(result.stdout or "{}")
    except ValueError:
        return []
    found: list[StateEntry] = []

    def walk(module: dict[str, Any]) -> None:
        for resource in module.get("resources", []):
            if resource.get("mode") == "managed":
                found.append(StateEntry(str(resource.get("address")), resource.get("tainted") is True))
        for child in module.get("child_modules", []):
            walk(child)

    walk((data.get("values") or {}).get("root_module") or {})
    return sorted(found, key=lambda e: e.address)
