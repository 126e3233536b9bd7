"""Typed messages: how workers (threads running core calls) and step bodies tell the wizard what
happened. Workers only post these; the UI thread turns them into widgets."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from mlfargate.account import Identity, NetworkListing
    from mlfargate.flow import ApplyResult, Event, GateResult, PlanResult
    from mlfargate.generate.workspace import GenerateResult
    from mlfargate.live.doctor import Diagnosis
    from mlfargate.live.model import Snapshot
    from mlfargate.terraform.operations import StateEntry
    from tui.dashboard.source import DemoInfo


class SpecChanged(Message):
    """The draft changed (a field, a pick, a preset, the YAML editor); ``origin`` is the step that
    changed it (its own fields already show the new values)."""

    def __init__(self, origin: str | None, *, reload: bool = False) -> None:
        super().__init__()
        self.origin = origin
        #: The other steps must re-read their fields (the draft was replaced, e.g. by the YAML editor).
        self.reload = reload


class CoreReady(Message):
    """The core (pydantic, rules, prices) is imported: the wizard can validate and price."""


class GoToStep(Message):
    def __init__(self, step: str) -> None:
        super().__init__()
        self.step = step


class AccountChecked(Message):
    """STS answered (``identity``) or why it could not (``kind``: offline, no_credentials, ...)."""

    def __init__(self, identity: Identity | None, kind: str | None = None, text: str = "") -> None:
        super().__init__()
        self.identity = identity
        self.kind = kind
        self.text = text


class NetworkListed(Message):
    def __init__(self, listing: NetworkListing | None, kind: str | None = None, text: str = "") -> None:
        super().__init__()
        self.listing = listing
        self.kind = kind
        self.text = text


class PreviewReady(Message):
    """What generating would change in the workspace (check-only), or why it cannot be computed."""

    def __init__(self, token: int, result: GenerateResult | None, problem: str | None = None) -> None:
        super().__init__()
        #: Which request this answers (a newer request makes an older answer stale).
        self.token = token
        self.result = result
        self.problem = problem


class GenerateProgress(Message):
    """A phase of Generate & check started (``done`` False) or finished."""

    def __init__(self, phase: str, text: str, done: bool) -> None:
        super().__init__()
        self.phase = phase
        self.text = text
        self.done = done


class GenerateDone(Message):
    """Generate & check ended: the workspace written and the gate's verdict, or one line saying why
    not (``edited``: files changed by hand that a regeneration would overwrite)."""

    def __init__(
        self,
        result: GenerateResult | None,
        gate: GateResult | None,
        problem: str | None = None,
        edited: tuple[str, ...] = (),
    ) -> None:
        super().__init__()
        self.result = result
        self.gate = gate
        self.problem = problem
        self.edited = edited


# --- deploy (plan / apply / destroy) ---------------------------------------------------------------


class FlowEvent(Message):
    """One of the deploy flow's events (``mlfargate.flow.Event``), from the worker running the step."""

    def __init__(self, event: Event) -> None:
        super().__init__()
        self.event = event


class CredentialsChecked(Message):
    """Whether the AWS credentials of the spec's profile answer (``problem`` None) or why not."""

    def __init__(self, problem: str | None, kind: str | None = None, account: str | None = None) -> None:
        super().__init__()
        self.problem = problem
        self.kind = kind
        self.account = account


class FlowDone(Message):
    """A step (plan, apply, destroy) ended: its result, or the error that ended it, and what the state
    holds when an apply or destroy stopped part-way."""

    def __init__(
        self,
        verb: str,
        result: PlanResult | ApplyResult | None = None,
        error: BaseException | None = None,
        state: list[StateEntry] | None = None,
        state_problem: str | None = None,
    ) -> None:
        super().__init__()
        self.verb = verb
        self.result = result
        self.error = error
        self.state = state
        self.state_problem = state_problem


# --- the dashboard -----------------------------------------------------------------------------------


class SnapshotReady(Message):
    def __init__(
        self, snapshot: Snapshot, diagnosis: Diagnosis | None, seconds: float, demo: DemoInfo | None
    ) -> None:
        super().__init__()
        self.snapshot = snapshot
        self.diagnosis = diagnosis
        self.seconds = seconds
        self.demo = demo


class RefreshFailed(Message):
    """A refresh read nothing: why (one line); ``fatal`` when retrying cannot help (the demo's
    emulator did not start)."""

    def __init__(self, problem: str, *, fatal: bool = False) -> None:
        super().__init__()
        self.problem = problem
        self.fatal = fatal
