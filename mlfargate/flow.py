"""The deploy flow: the one sequence the CLI and the TUI both drive.

``gate`` -> ``plan`` (init, plan to a saved plan, show, fingerprint, gate on the plan) -> ``apply`` the
saved plan (only if it is current and passes the gate, and only after the front-end's confirmation),
and ``destroy``. Every step returns typed results and reports progress through an ``on_event``
callback of typed events (:data:`Event`); nothing here prints or prompts. The confirmation is a
parameter: the front-end asks (the CLI's typed name, the TUI's modal) and returns what the operator
typed; :func:`confirmed` decides, here, for both.

Stopping: the CLI's Ctrl-C reaches Terraform through the SIGINT handler of
:mod:`mlfargate.terraform.process` (main thread). A front-end that runs a step in a worker thread
passes ``cancel`` (a :class:`~mlfargate.terraform.process.Cancel`) and calls ``cancel.stop()``: the
Terraform command running stops gracefully (state saved), no later phase starts, and the step raises
:class:`~mlfargate.terraform.diagnostics.InterruptedError_` saying what was left.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from mlfargate.errors import MlfargateError
from mlfargate.policy.report import PolicyReport
from mlfargate.terraform import operations
from mlfargate.terraform.diagnostics import InterruptedError_
from mlfargate.terraform.engine import Engine
from mlfargate.terraform.plan_summary import PlanSummary, summarize_file
from mlfargate.terraform.process import Cancel, ProgressEvent
from mlfargate.terraform.state import SavedPlan, discard_saved_plan, load_saved_plan, saved_plan_paths

Phase = Literal["synth", "init", "plan", "gate", "apply", "destroy"]
Verb = Literal["apply", "destroy"]


@dataclass(frozen=True)
class PhaseStarted:
    phase: Phase
    message: str


@dataclass(frozen=True)
class PhaseFinished:
    phase: Phase
    message: str
    seconds: float


@dataclass(frozen=True)
class PhaseStep:
    """What a phase is doing now (the gate: the configuration, then the saved plan)."""

    phase: Phase
    message: str


@dataclass(frozen=True)
class GateChecked:
    """The gate's reports (configuration, and the plan when there is one)."""

    reports: list[PolicyReport]


@dataclass(frozen=True)
class SummaryReady:
    """The plan about to be applied, before the confirmation is asked for."""

    summary: PlanSummary


#: What ``on_event`` receives: phases and their steps, the gate's reports, the plan summary, and Terraform's own
#: progress (resources planned/creating/created/failed with elapsed times, interrupts) as
#: :class:`~mlfargate.terraform.process.ProgressEvent`.
Event = PhaseStarted | PhaseStep | PhaseFinished | GateChecked | SummaryReady | ProgressEvent
OnEvent = Callable[[Event], None]


def _ignore(_: Event) -> None:
    return None


class GateFailedError(MlfargateError):
    """The policy gate found unwaived failures or unchecked code; ``reports`` says which."""

    exit_code = 1

    def __init__(self, reports: list[PolicyReport]) -> None:
        self.reports = reports
        failed = sum(len(r.failed) for r in reports)
        unread = sum(r.unread for r in reports)
        parts = []
        if failed:
            parts.append(
                f"{failed} unwaived finding(s): fix them or waive each with `#checkov:skip=CHECK_ID:reason` "
                "in the resource"
            )
        if unread:
            parts.append(f"{unread} unchecked file(s) or module call(s): see UNPARSED/UNCHECKED above")
        super().__init__(f"policy gate failed with {'; '.join(parts)}")


class NotConfirmedError(MlfargateError):
    """The operator did not confirm (or could not be asked); nothing was changed."""

    exit_code = 1


class WorkspaceDirError(MlfargateError):
    """The workspace named is not a directory."""


class WorkspaceInterruptedError(MlfargateError):
    """A generate was killed mid-swap in this workspace: its files are part new, part old."""


@dataclass(frozen=True)
class ConfirmRequest:
    """What the front-end shows when it asks: type ``name`` to ``verb`` these changes."""

    verb: Verb
    workspace: Path
    name: str
    summary: PlanSummary


#: The front-end's confirmation: returns what the operator typed (None when nothing could be read).
Confirm = Callable[[ConfirmRequest], str | None]


def confirmed(typed: str | None, expected: str) -> bool:
    """The typed confirmation holds only when the operator typed exactly the workspace name: not an
    empty answer, not whitespace, not a prefix, not the name with spaces around it, not EOF."""
    return bool(expected) and typed == expected


def resolve_workspace(value: str | Path) -> Path:
    """The Terraform root of the workspace named, resolved once: Terraform runs with ``-chdir``, so
    every path handed to it (the saved plan above all) must be absolute.

    For a CDK Terrain workspace (``generate --format cdktf``: cdktf.json, no ``.tf`` files) that is its
    synthesized stack, ``DIR/cdktf.out/stacks/<stack>``, which ``plan``, ``destroy`` and ``gate``
    synthesize first when it is missing or out of date (it need not exist yet); the stack directory
    itself may be named too. Saved plans live in the Terraform root's ``.mlfargate/``."""
    from mlfargate.generate import cdktf

    path = Path(value)
    if not path.is_dir():
        raise WorkspaceDirError(f"{value}: not a directory; give a Terraform workspace directory")
    found = cdktf.find_workspace(path)
    return found.stack_dir if found is not None else path.resolve()


def workspace_name(workspace: Path) -> str:
    """The name the operator types to confirm: the workspace directory's (a CDK Terrain workspace's,
    not its stack's)."""
    from mlfargate.generate import cdktf

    found = cdktf.find_workspace(workspace) if workspace.is_dir() else None
    return (found.root if found is not None else workspace).name


def _refuse_interrupted(workspace: Path) -> None:
    """Plan, gate, apply and destroy only a whole workspace: a generate killed mid-swap leaves some files
    new and some old (its journal in the stage says which), which is neither spec's workspace."""
    from mlfargate.generate import cdktf
    from mlfargate.generate import workspace as generated

    found = cdktf.find_workspace(workspace)  # a stack directory need not exist yet (not synthesized)
    root = found.root if found is not None else workspace
    if generated.interrupted(root):
        raise WorkspaceInterruptedError(
            f"{root}: an interrupted `mlfargate generate` left {generated.STAGE}/, so some files may be new "
            "and some old; run the same `mlfargate generate` again (it restores the workspace first), "
            "then retry"
        )


def _synth_if_needed(workspace: Path, on_event: OnEvent) -> None:
    """Synthesize a CDK Terrain stack that is missing or out of date (nothing for an HCL workspace)."""
    from mlfargate.generate import cdktf

    found = cdktf.find_workspace(workspace) if _is_stack_dir(workspace) else None
    reason = cdktf.synth_reason(found) if found is not None else None
    if found is not None and reason is not None:
        with _Phase(on_event, "synth", f"CDK Terrain synth ({reason})"):
            cdktf.synth_workspace(found)


def _is_stack_dir(workspace: Path) -> bool:
    from mlfargate.generate.model import CDKTF_OUT

    return workspace.parent.name == "stacks" and workspace.parents[1].name == CDKTF_OUT


@dataclass(frozen=True)
class GateResult:
    reports: list[PolicyReport]

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.reports)

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "reports": [r.to_dict() for r in self.reports]}


@dataclass(frozen=True)
class PlanResult:
    engine: Engine
    saved: SavedPlan
    summary: PlanSummary
    gate: GateResult

    def to_dict(self) -> dict[str, Any]:
        return {
            "engine": self.engine.describe(),
            "plan_file": str(self.saved.plan_file),
            "summary": self.summary.to_dict(),
            "gate": self.gate.to_dict(),
        }


@dataclass(frozen=True)
class ApplyResult:
    verb: Verb
    summary: PlanSummary
    applied: bool  # False: nothing to do (an empty destroy plan)
    seconds: float = 0.0


class _Phase:
    """Emits PhaseStarted/PhaseFinished around a block."""

    def __init__(self, on_event: OnEvent, phase: Phase, message: str) -> None:
        self.on_event, self.phase, self.message = on_event, phase, message

    def __enter__(self) -> _Phase:
        self.started = time.monotonic()
        self.on_event(PhaseStarted(self.phase, self.message))
        return self

    def __exit__(self, kind: object, *_: object) -> None:
        if kind is None:
            self.on_event(PhaseFinished(self.phase, self.message, time.monotonic() - self.started))


def saved_plan_json(workspace: Path) -> Path | None:
    """The saved plan's JSON, when ``plan`` left one (the gate checks it too)."""
    _, plan_json, _ = saved_plan_paths(workspace)
    return plan_json if plan_json.is_file() else None


def gate(workspace: Path, plan_json: Path | None = None, on_event: OnEvent = _ignore) -> GateResult:
    """The policy gate on the workspace and, when given, on a plan's JSON.

    A CDK Terrain stack (synthesized first when needed) is gated through its HCL twin: checkov does
    not read ``.tf.json``, so the spec copy is rendered as HCL with the same options and compared with
    the stack; checkov scans the twin (a difference blocks the gate), and the plan's JSON with the
    twin's waivers and file:line. A stack with no spec copy has no twin: it is gated on its plan JSON
    alone, and without one it cannot pass."""
    from mlfargate.policy import gate as policy_gate

    _refuse_interrupted(workspace)
    _synth_if_needed(workspace, on_event)
    with _Phase(on_event, "gate", "policy gate (checkov)"):
        if _is_stack_dir(workspace):
            on_event(PhaseStep("gate", f"checking the HCL twin of the CDK Terrain stack in {workspace}"))
            reports = _gate_stack(workspace, plan_json)
        else:
            on_event(PhaseStep("gate", f"checking the configuration in {workspace}"))
            reports = [policy_gate.scan_directory(workspace)]
            if plan_json is not None and plan_json.is_file():
                on_event(PhaseStep("gate", f"checking the saved plan {plan_json.name}"))
                reports.append(policy_gate.scan_plan(plan_json, workspace))
    result = GateResult(reports)
    on_event(GateChecked(reports))
    return result


def _gate_stack(stack: Path, plan_json: Path | None) -> list[PolicyReport]:
    from mlfargate.generate import cdktf
    from mlfargate.generate.model import SPEC_COPY
    from mlfargate.policy import gate as policy_gate

    found = cdktf.find_workspace(stack)
    assert found is not None
    stack_file = found.rel(found.stack_file)
    twin = cdktf.hcl_twin(found)
    has_plan = plan_json is not None and plan_json.is_file()
    reports: list[PolicyReport] = []
    if twin is not None:
        config = policy_gate.scan_directory(twin.directory)
        verdict = "identical" if not twin.differences else "DIFFERENT"
        config.target = (
            f"{found.rel(twin.directory)}: HCL twin of {stack_file}, {verdict} (checkov reads no .tf.json)"
        )
        config.unchecked = [
            *config.unchecked,
            *(
                f"{stack_file} differs from its HCL twin at {d}: the twin that was checked is not what "
                "Terraform applies; regenerate the workspace (`mlfargate generate`)"
                for d in twin.differences
            ),
        ]
        reports.append(config)
    elif not has_plan:
        reports.append(
            PolicyReport(
                target=f"{stack_file} (no {SPEC_COPY} beside it to render an HCL twin from)",
                kind="directory",
                unchecked=[
                    f"{stack_file}: checkov does not read .tf.json and there is no {SPEC_COPY} to "
                    "render its HCL twin from; run `mlfargate plan` to gate the plan JSON instead"
                ],
            )
        )
    if plan_json is not None and has_plan:
        report = policy_gate.scan_plan(plan_json, twin.directory if twin is not None else stack)
        if twin is None:
            report.target = f"{plan_json} (the configuration is not scanned: {stack_file} has no HCL twin)"
        reports.append(report)
    return reports


def _not_stopped(cancel: Cancel | None, message: str) -> None:
    """Between phases: a stop asked for while the last one ran (or before) means no next phase."""
    if cancel is not None and cancel.requested:
        raise InterruptedError_(message)


def plan(
    engine: Engine, workspace: Path, on_event: OnEvent = _ignore, cancel: Cancel | None = None
) -> PlanResult:
    """init, plan to the saved plan, summary, and the gate on the configuration and the plan. A gate
    failure does not raise: the result says so (``apply`` will refuse the plan)."""
    from mlfargate.policy import gate as policy_gate

    _refuse_interrupted(workspace)
    # Load checkov while Terraform plans, so the gate that follows is warm.
    threading.Thread(target=policy_gate.warm_up, daemon=True).start()
    _synth_if_needed(workspace, on_event)
    with _Phase(on_event, "init", "terraform init"):
        operations.init(engine, workspace, on_event=on_event, cancel=cancel)
    with _Phase(on_event, "plan", "terraform plan"):
        saved = operations.plan(engine, workspace, on_event=on_event, cancel=cancel)
    try:
        summary = summarize_file(saved.plan_json)
        return PlanResult(engine, saved, summary, gate(workspace, saved.plan_json, on_event))
    except KeyboardInterrupt:  # Ctrl-C during the gate: a plan command that was interrupted saves no plan
        operations.discard_quietly(workspace)
        raise InterruptedError_(operations.PLAN_INTERRUPTED) from None


def _confirm_and_apply(
    engine: Engine,
    saved: SavedPlan,
    summary: PlanSummary,
    verb: Verb,
    confirm: Confirm,
    on_event: OnEvent,
    cancel: Cancel | None,
) -> ApplyResult:
    on_event(SummaryReady(summary))
    name = workspace_name(saved.workspace)
    typed = confirm(ConfirmRequest(verb, saved.workspace, name, summary))
    if not confirmed(typed, name):
        raise NotConfirmedError(f"not confirmed: typed {typed!r}, expected {name!r}; nothing was changed")
    _not_stopped(cancel, f"{verb} interrupted before it started: nothing was changed")
    with _Phase(on_event, verb, f"terraform apply ({verb})"):
        result = operations.apply(engine, saved, on_event=on_event, total=summary.operations, cancel=cancel)
    return ApplyResult(verb, summary, applied=True, seconds=result.seconds)


def apply(
    engine: Engine,
    workspace: Path,
    confirm: Confirm,
    on_event: OnEvent = _ignore,
    cancel: Cancel | None = None,
) -> ApplyResult:
    """Apply the saved plan: only if it matches the configuration, is not a destroy plan, passes the
    gate (configuration and plan) and the operator confirms."""
    _refuse_interrupted(workspace)
    saved = load_saved_plan(workspace)
    if saved.destroy:
        raise MlfargateError(f"{workspace}: the saved plan is a destroy plan; run `mlfargate destroy`")
    checked = gate(workspace, saved.plan_json, on_event)
    if not checked.ok:
        raise GateFailedError(checked.reports)
    _not_stopped(cancel, "apply interrupted before it started: nothing was changed")
    summary = summarize_file(saved.plan_json)
    return _confirm_and_apply(engine, saved, summary, "apply", confirm, on_event, cancel)


def destroy(
    engine: Engine,
    workspace: Path,
    confirm: Confirm,
    on_event: OnEvent = _ignore,
    cancel: Cancel | None = None,
) -> ApplyResult:
    """Plan the destruction of everything the workspace manages, then confirm and apply it."""
    _refuse_interrupted(workspace)
    _synth_if_needed(workspace, on_event)
    with _Phase(on_event, "init", "terraform init"):
        operations.init(engine, workspace, on_event=on_event, cancel=cancel)
    with _Phase(on_event, "plan", "terraform plan -destroy"):
        saved = operations.plan(engine, workspace, destroy=True, on_event=on_event, cancel=cancel)
    summary = summarize_file(saved.plan_json)
    if summary.empty:
        discard_saved_plan(workspace)
        return ApplyResult("destroy", summary, applied=False)
    try:
        return _confirm_and_apply(engine, saved, summary, "destroy", confirm, on_event, cancel)
    except BaseException:
        operations.discard_quietly(workspace)  # made for this run only: never left for `apply` to trip on
        raise
