"""Terraform runner: init / plan (saved) / show / apply / destroy, with progress from ``-json`` events.

Why a child process for every engine, the embedded one included:

* Ctrl-C: the engine runs in its own session (``start_new_session``), so the terminal's SIGINT reaches
  only mlfargate, which forwards exactly one SIGINT (Terraform's graceful stop: running operations
  finish, state is saved). A second Ctrl-C is not forwarded: it produces an ``interrupt`` event
  explaining that forcing can lose state; a third forces (a second SIGINT, which Terraform treats as
  "exit immediately"). In-process, the Go runtime and Python would both own SIGINT.
* Streaming: the child's stdout is a pipe of ``-json`` lines read as they are written.
* Isolation: ``-chdir`` changes the working directory of the whole process running Terraform core.

Saved plans live in ``DIR/.mlfargate/``: ``tfplan`` (Terraform's plan file), ``plan.json``
(``terraform show -json``) and ``plan.meta.json`` (a fingerprint of the configuration: every ``.tf``,
``.tf.json``, ``.tfvars``, lock file and local module file). ``apply`` refuses a plan whose fingerprint
no longer matches the configuration.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import selectors
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from mlfargate.engine import Engine
from mlfargate.errors import MlfargateError

STATE_DIR = ".mlfargate"
PLAN_FILE = "tfplan"
PLAN_JSON = "plan.json"
PLAN_META = "plan.meta.json"


class TerraformError(MlfargateError):
    """Terraform failed; the message is Terraform's first error, or a translation of a known one."""


class StateLockedError(TerraformError):
    """Another run holds the state lock."""


class ProviderUnavailableError(TerraformError):
    """A provider cannot be installed (offline, no mirror)."""


class CredentialsError(TerraformError):
    """No AWS credentials, or an expired SSO session / session token."""


class PlanRequiredError(MlfargateError):
    """No saved plan, or a saved plan made from another configuration."""


class InterruptedError_(TerraformError):
    """The operator interrupted Terraform (it stopped gracefully and saved state)."""

    exit_code = 130


EventKind = Literal["start", "progress", "complete", "errored", "log", "diagnostic", "summary", "interrupt"]


@dataclass(frozen=True)
class ProgressEvent:
    """One line of progress, built from Terraform's ``-json`` UI events."""

    kind: EventKind
    message: str
    address: str | None = None
    action: str | None = None
    elapsed_s: float = 0.0  # since the operation started
    resource_elapsed_s: float | None = None  # Terraform's own per-resource elapsed time
    done: int = 0
    total: int | None = None


@dataclass
class RunResult:
    """What a Terraform command returned, with its parsed JSON events and error diagnostics."""

    argv: list[str]
    returncode: int
    stdout: str
    stderr: str
    events: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    interrupted: bool = False

    @property
    def errors(self) -> list[tuple[str, str]]:
        """(summary, detail) of every error diagnostic in the event stream."""
        out = []
        for event in self.events:
            diag = event.get("diagnostic")
            if (
                event.get("type") == "diagnostic"
                and isinstance(diag, dict)
                and diag.get("severity") == "error"
            ):
                out.append((str(diag.get("summary", "")), str(diag.get("detail", ""))))
        return out


Callback = Callable[[ProgressEvent], None]


def _noop(_: ProgressEvent) -> None:
    return None


# ---------------------------------------------------------------------------------------------------
# Error translation: Terraform's (and the AWS provider's) real texts -> one actionable line.


_LOCK_FIELD = re.compile(r"^\s*(ID|Path|Operation|Who|Version|Created|Info):\s*(.*)$", re.MULTILINE)


def translate_error(text: str) -> MlfargateError | None:
    """A one-line error for the Terraform failures operators hit most, or None for anything else.

    ``text`` is Terraform's error output (diagnostic summaries + details, or stderr)."""
    low = text.lower()
    if "error acquiring the state lock" in low or "state blob is already locked" in low:
        info = {k: v.strip() for k, v in _LOCK_FIELD.findall(text)}
        who = info.get("Who") or "another run"
        parts = [f"state is locked by {who}"]
        if info.get("Operation"):
            parts.append(f"running {info['Operation']}")
        if info.get("Created"):
            parts.append(f"since {info['Created']}")
        hint = "wait for it to finish and retry"
        if info.get("ID"):
            hint += f"; if that run is dead, `terraform force-unlock {info['ID']}` in the workspace"
        return StateLockedError(f"{', '.join(parts)}: {hint}")
    # AWS SSO: expired / invalid session (aws-sdk-go-v2 texts as printed by the AWS provider).
    if (
        "refresh cached sso token failed" in low
        or "sso session has expired or is invalid" in low
        or "ssoproviderinvalidtoken" in low
        or ("sso oidc" in low and "invalidgrantexception" in low)
    ):
        return CredentialsError(
            "the AWS SSO session has expired: run `aws sso login` (with --profile if you use one) and retry"
        )
    if "expiredtoken" in low or "security token included in the request is expired" in low:
        return CredentialsError(
            "the AWS session token has expired: refresh your credentials (aws sso login, or new "
            "temporary keys) and retry"
        )
    if "no valid credential sources" in low:
        return CredentialsError(
            "no AWS credentials found: set AWS_PROFILE (then `aws sso login` for SSO profiles) or "
            "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, and retry"
        )
    m = re.search(r"available versions for provider ([\w./-]+)", text)
    if m and (
        "could not connect" in low
        or "no such host" in low
        or "cannot search" in low
        or "failed to request discovery" in low
        or "provider registry" in low
    ):
        return ProviderUnavailableError(
            f"provider {m.group(1)} cannot be installed (offline or not in the mirror): put it in a "
            "provider mirror and pass --plugin-dir DIR, or a CLI config with a filesystem_mirror "
            "(--cli-config FILE); see docs/runner.md"
        )
    m = re.search(
        r"(?:provider|plugin)s? (?:registry\.terraform\.io/)?([\w-]+/[\w-]+)[^\n]*not (?:installed|available)",
        text,
    )
    if "inconsistent dependency lock file" in low or "required plugins are not installed" in low or m:
        return ProviderUnavailableError(
            "providers are not installed for this workspace: run `mlfargate plan` (it runs init), with "
            "--plugin-dir or --cli-config when offline"
        )
    return None


_WARNING_BOX = re.compile(r"╷\s*\n│ Warning:.*?╵", re.DOTALL)


def _failure(result: RunResult, what: str) -> MlfargateError:
    text = "\n".join(f"{s}\n{d}" for s, d in result.errors) or ""
    text = f"{text}\n{result.stderr}\n{result.stdout if not result.events else ''}"
    translated = translate_error(text)
    if translated is not None:
        return translated
    first = result.errors[0] if result.errors else None
    if first:
        detail = " ".join(first[1].split())
        msg = f"{first[0]}: {detail}" if detail else first[0]
    else:
        # Terraform boxes warnings (e.g. a missing ~/.terraformrc) before the real message: skip them.
        body = _WARNING_BOX.sub("", result.stderr or result.stdout)
        lines = [ln.strip(" │╷╵") for ln in body.splitlines()]
        msg = next((ln for ln in lines if ln.startswith("Error:")), "") or next(
            (ln for ln in lines if ln), ""
        )
    if len(msg) > 400:
        msg = msg[:397] + "..."
    return TerraformError(f"terraform {what} failed: {msg or f'exit code {result.returncode}'}")


# ---------------------------------------------------------------------------------------------------
# Running the engine.


class _Interrupts:
    """SIGINT policy while Terraform runs: forward once, warn on the second, force on the third."""

    def __init__(self, proc: subprocess.Popen[bytes], emit: Callable[[str], None]) -> None:
        self.proc = proc
        self.emit = emit
        self.count = 0

    def __call__(self, signum: int, frame: object) -> None:
        self.count += 1
        if self.proc.poll() is not None:
            return
        if self.count == 1:
            self.proc.send_signal(signal.SIGINT)
            self.emit("interrupt received: Terraform is stopping gracefully and saving state")
        elif self.count == 2:
            self.emit(
                "Terraform is still stopping. Forcing it now can lose state (resources created but not "
                "recorded). Press Ctrl-C again to force, or wait."
            )
        else:
            self.emit("forcing Terraform to stop; check the state with `terraform state list` afterwards")
            self.proc.send_signal(signal.SIGINT)


def run(
    engine: Engine,
    workspace: Path,
    args: list[str],
    on_event: Callback = _noop,
    json_events: bool = False,
    total: int | None = None,
) -> RunResult:
    """Run ``terraform -chdir=WORKSPACE ARGS`` and return its output; ``json_events`` streams
    ``-json`` lines through ``on_event`` as :class:`ProgressEvent` while the command runs."""
    argv = engine.argv(f"-chdir={workspace}", *args)
    started = time.monotonic()
    proc = subprocess.Popen(
        argv,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        env=engine.env(),
        start_new_session=True,
    )
    tracker = _Tracker(started, total)

    def emit_interrupt(message: str) -> None:
        on_event(ProgressEvent("interrupt", message, elapsed_s=time.monotonic() - started, done=tracker.done))

    handler = _Interrupts(proc, emit_interrupt)
    previous = None
    in_main = threading.current_thread() is threading.main_thread()
    if in_main:
        previous = signal.signal(signal.SIGINT, handler)
    events: list[dict[str, Any]] = []
    stdout_lines: list[str] = []
    stderr_chunks: list[bytes] = []
    try:
        for line in _stream(proc, stderr_chunks):
            stdout_lines.append(line)
            if not json_events or not line.startswith("{"):
                continue
            try:
                event = json.loads(line)
            except ValueError:
                continue
            events.append(event)
            progress = tracker.convert(event)
            if progress is not None:
                on_event(progress)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()
        if in_main:
            signal.signal(signal.SIGINT, previous)
    return RunResult(
        argv=argv,
        returncode=proc.returncode,
        stdout="".join(stdout_lines),
        stderr=b"".join(stderr_chunks).decode(errors="replace"),
        events=events,
        seconds=time.monotonic() - started,
        interrupted=handler.count > 0,
    )


def _stream(proc: subprocess.Popen[bytes], stderr_chunks: list[bytes]) -> Iterator[str]:
    """The child's stdout, line by line as each line arrives, while its stderr collects in
    ``stderr_chunks``; both pipes drained from one thread with a selector (as ``communicate`` does).

    One selector instead of a stderr reader thread plus ``readline``: no thread to start and no GIL
    hand-off per line (5-12 ms per command ahead of the reader it replaced in three 41-round
    interleaved comparisons, about the size of this 2-core machine's noise; benchmarks/RESULTS.md).
    Lines are split as bytes and decoded one by one: a UTF-8 sequence never contains a newline byte,
    so no character is cut."""
    assert proc.stdout is not None and proc.stderr is not None
    stdout = proc.stdout
    partial: list[bytes] = []  # the start of a line still being written (`show -json` is one long line)
    with selectors.DefaultSelector() as selector:
        selector.register(stdout, selectors.EVENT_READ)
        selector.register(proc.stderr, selectors.EVENT_READ)
        while selector.get_map():
            for key, _ in selector.select():  # PEP 475: retried after our SIGINT handler runs
                data = os.read(key.fd, 65536)
                if not data:
                    selector.unregister(key.fileobj)
                    continue
                if key.fileobj is not stdout:
                    stderr_chunks.append(data)
                    continue
                partial.append(data)
                if b"\n" in data:
                    *complete, rest = b"".join(partial).split(b"\n")
                    partial = [rest] if rest else []
                    for raw in complete:
                        yield raw.decode(errors="replace") + "\n"
    if partial:
        yield b"".join(partial).decode(errors="replace")


class _Tracker:
    """Turns Terraform's ``-json`` UI events into :class:`ProgressEvent` with counts."""

    def __init__(self, started: float, total: int | None) -> None:
        self.started = started
        self.total = total
        self.done = 0

    def convert(self, event: dict[str, Any]) -> ProgressEvent | None:
        kind = event.get("type")
        message = str(event.get("@message", ""))
        elapsed = time.monotonic() - self.started
        hook = event.get("hook") if isinstance(event.get("hook"), dict) else {}
        address = hook.get("resource", {}).get("addr") if hook else None
        action = hook.get("action") if hook else None
        resource_elapsed = hook.get("elapsed_seconds") if hook else None

        def make(k: EventKind) -> ProgressEvent:
            return ProgressEvent(
                k, message, address, action, elapsed,
                float(resource_elapsed) if resource_elapsed is not None else None, self.done, self.total,
            )  # fmt: skip

        if kind == "apply_start":
            return make("start")
        if kind == "apply_progress":
            return make("progress")
        if kind == "apply_complete":
            self.done += 1
            return make("complete")
        if kind == "apply_errored":
            return make("errored")
        if kind == "provision_progress":
            return make("progress")
        if kind == "change_summary":
            changes = event.get("changes", {})
            if self.total is None and changes.get("operation") == "plan":
                self.total = (
                    int(changes.get("add", 0)) + int(changes.get("change", 0)) + int(changes.get("remove", 0))
                )
            return make("summary")
        if kind == "diagnostic":
            return make("diagnostic")
        if kind == "log" and ("Interrupt" in message or "Stopping" in message):
            return make("log")
        return None


# ---------------------------------------------------------------------------------------------------
# Workspace fingerprint and saved plans.

_CONFIG_SUFFIXES = (".tf", ".tf.json", ".tfvars", ".tfvars.json")


def terraform_data_dir(root: Path) -> Path:
    """Where Terraform keeps a workspace's modules and providers: ``TF_DATA_DIR`` (relative to the
    workspace, as Terraform reads it), else ``.terraform``."""
    data_dir = Path(os.environ.get("TF_DATA_DIR") or ".terraform")
    return (root / data_dir).resolve()


def installed_modules(root: Path) -> dict[str, Path]:
    """The modules ``terraform init``/``get`` installed for the workspace ``root``, by call path
    (``Key`` in ``modules.json``: ``network``, ``parent.child``) -> directory. Terraform installs every
    call into its own directory, even two calls of one source, and records the source normalised
    (``git::/x`` becomes ``git::file:///x``), so the call path is the key, never the source string.
    Honours ``TF_DATA_DIR`` (relative to the workspace, as Terraform reads it); {} before init."""
    manifest = terraform_data_dir(root) / "modules" / "modules.json"
    try:
        modules = json.loads(manifest.read_bytes()).get("Modules", [])
    except (OSError, ValueError, AttributeError):
        return {}
    found: dict[str, Path] = {}
    for module in modules if isinstance(modules, list) else []:
        if isinstance(module, dict) and module.get("Key") and module.get("Dir"):
            directory = (root / str(module["Dir"])).resolve()
            if directory.is_dir():
                found[str(module["Key"])] = directory
    return found


def fingerprint(workspace: Path) -> str:
    """sha256 over the configuration a plan depends on: the workspace's ``.tf``/``.tfvars`` files,
    its lock file, and the files of local modules it calls (from :func:`installed_modules`)."""
    root = workspace.resolve()
    files: set[Path] = set(_config_files(root))
    lock = root / ".terraform.lock.hcl"
    if lock.is_file():
        files.add(lock)
    data_dir = terraform_data_dir(root)
    for directory in installed_modules(root).values():
        if not directory.is_relative_to(data_dir):  # local modules; remote ones are pinned by source
            files.update(_config_files(directory, recursive=False))
    digest = hashlib.sha256()
    for path in sorted(files):
        digest.update(os.path.relpath(path, root).encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def _config_files(directory: Path, recursive: bool = True) -> Iterator[Path]:
    candidates = directory.rglob("*") if recursive else directory.glob("*")
    for path in candidates:
        rel = path.relative_to(directory).parts
        if any(part.startswith(".") for part in rel):
            continue
        if path.is_file() and path.name.endswith(_CONFIG_SUFFIXES):
            yield path


@dataclass(frozen=True)
class SavedPlan:
    workspace: Path
    plan_file: Path
    plan_json: Path
    fingerprint: str
    destroy: bool
    created: float


def saved_plan_paths(workspace: Path) -> tuple[Path, Path, Path]:
    d = workspace / STATE_DIR
    return d / PLAN_FILE, d / PLAN_JSON, d / PLAN_META


def load_saved_plan(workspace: Path) -> SavedPlan:
    """The saved plan, if it was made from the current configuration; else :class:`PlanRequiredError`."""
    workspace = workspace.resolve()  # Terraform runs with -chdir: the plan path must be absolute
    plan_file, plan_json, meta_file = saved_plan_paths(workspace)
    if not (plan_file.is_file() and plan_json.is_file() and meta_file.is_file()):
        raise PlanRequiredError(f"{workspace}: no saved plan; run `mlfargate plan {workspace}` first")
    try:
        meta = json.loads(meta_file.read_text())
    except ValueError as exc:
        raise PlanRequiredError(f"{meta_file}: unreadable; run `mlfargate plan {workspace}` again") from exc
    if meta.get("fingerprint") != fingerprint(workspace):
        raise PlanRequiredError(
            f"{workspace}: the configuration changed since the saved plan; run `mlfargate plan {workspace}` again"
        )
    return SavedPlan(
        workspace,
        plan_file,
        plan_json,
        str(meta["fingerprint"]),
        bool(meta.get("destroy")),
        float(meta["created"]),
    )


def discard_saved_plan(workspace: Path) -> None:
    """Remove the saved plan, and ``.mlfargate/`` with it when nothing else is in there."""
    paths = saved_plan_paths(workspace)
    for path in paths:
        path.unlink(missing_ok=True)
    with contextlib.suppress(OSError):  # missing, or holds something that is not ours to delete
        paths[0].parent.rmdir()


# ---------------------------------------------------------------------------------------------------
# Operations.


def init(engine: Engine, workspace: Path) -> RunResult:
    """``terraform init``: no input, the lock file respected (read-only when one is committed), and
    providers from ``--plugin-dir`` only when one is given."""
    args = ["init", "-input=false", "-no-color"]
    if (workspace / ".terraform.lock.hcl").is_file():
        args.append("-lockfile=readonly")
    if engine.plugin_dir is not None:
        args.append(f"-plugin-dir={engine.plugin_dir}")
    result = run(engine, workspace, args)
    if result.returncode != 0:
        raise _failure(result, "init")
    return result


def plan(
    engine: Engine,
    workspace: Path,
    destroy: bool = False,
    on_event: Callback = _noop,
    lock_timeout: str = "0s",
) -> SavedPlan:
    """Plan to ``.mlfargate/tfplan``, write its ``show -json`` beside it and the configuration's
    fingerprint. Init must have run."""
    ws = workspace.resolve()
    plan_file, plan_json, meta_file = saved_plan_paths(ws)
    discard_saved_plan(ws)
    plan_file.parent.mkdir(exist_ok=True)
    args = ["plan", "-input=false", "-json", f"-lock-timeout={lock_timeout}", f"-out={plan_file}"]
    if destroy:
        args.append("-destroy")
    try:
        result = run(engine, ws, args, on_event=on_event, json_events=True)
        if result.returncode != 0:
            raise _failure(result, "plan")
        shown = run(engine, ws, ["show", "-json", "-no-color", str(plan_file)])
        if shown.returncode != 0:
            raise _failure(shown, "show")
        plan_json.write_text(shown.stdout)
        meta = {"fingerprint": fingerprint(ws), "destroy": destroy, "created": time.time()}
        # Written last: a plan without its meta file is no saved plan (apply refuses it).
        meta_file.write_text(json.dumps(meta, indent=2))
    except BaseException:
        discard_saved_plan(ws)  # a failed or interrupted plan leaves nothing half-written behind
        raise
    return SavedPlan(ws, plan_file, plan_json, str(meta["fingerprint"]), destroy, float(str(meta["created"])))


def apply(
    engine: Engine, saved: SavedPlan, on_event: Callback = _noop, total: int | None = None
) -> RunResult:
    """Apply a saved plan (the caller has checked the gate and the confirmation), streaming progress.
    The plan is discarded afterwards: applied or not, it no longer matches the state."""
    args = ["apply", "-input=false", "-json", "-lock-timeout=0s", str(saved.plan_file)]
    result = run(engine, saved.workspace, args, on_event=on_event, json_events=True, total=total)
    discard_saved_plan(saved.workspace)
    if result.interrupted and result.returncode != 0:
        raise InterruptedError_(
            "apply interrupted: Terraform stopped and saved the state; run `mlfargate plan` to see what is left"
        )
    if result.returncode != 0:
        raise _failure(result, "apply")
    return result


def state_resources(engine: Engine, workspace: Path) -> list[str]:
    """Addresses in the state (``terraform state list``)."""
    result = run(engine, workspace, ["state", "list"])
    if result.returncode != 0 and "No state file was found" in result.stderr + result.stdout:
        return []
    if result.returncode != 0:
        raise _failure(result, "state list")
    return [line.strip() for line in result.stdout.splitlines() if line.strip()]
