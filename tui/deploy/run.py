"""The deploy steps as the TUI's worker threads run them: the core's flow (``mlfargate.flow.plan /
apply / destroy``, the same calls as ``mlfargate plan/apply/destroy``), its events posted as messages,
the typed confirmation asked on the UI thread while the worker waits, and what the state holds when an
apply or destroy stops part-way. No widgets here."""

from __future__ import annotations

import concurrent.futures
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlfargate.errors import MlfargateError
from tui import errors
from tui.messages import CredentialsChecked, FlowDone, FlowEvent

if TYPE_CHECKING:
    from mlfargate import flow
    from mlfargate.spec.model import Spec
    from mlfargate.terraform.engine import Engine
    from mlfargate.terraform.process import Cancel

Post = Callable[[Any], Any]
#: How often a worker waiting for the operator's confirmation looks whether it was cancelled.
CONFIRM_POLL_S = 0.2
_AWS_PROVIDER = re.compile(r'(?:source\s*=\s*"(?:registry\.terraform\.io/)?hashicorp/aws")|provider\s+"aws"')


@dataclass(frozen=True)
class EngineOptions:
    """``--terraform``, ``--plugin-dir`` and ``--cli-config``, as the CLI's plan/apply take them."""

    terraform: str | None = None
    plugin_dir: str | None = None
    cli_config: str | None = None

    def engine(self) -> Engine:
        from mlfargate.terraform import engine

        return engine.select(self.terraform, self.plugin_dir or None, self.cli_config or None)


def uses_aws(workspace: Path) -> bool:
    """Whether the workspace's root configuration needs the AWS provider (then it needs credentials)."""
    for path in workspace.glob("*.tf"):
        try:
            if _AWS_PROVIDER.search(path.read_text(errors="replace")):
                return True
        except OSError:
            continue
    return False


def credentials_message(kind: str, text: str, spec: Spec | None) -> str:
    """What is missing and what to do, for a credentials check that failed (``kind`` from
    :class:`mlfargate.account.AccountCheckError`)."""
    profile = spec.aws.profile if spec else None
    who = f"profile {profile!r}" if profile else "the default credential chain (no aws.profile in the spec)"
    if kind == "no_credentials":
        login = f"aws sso login --profile {profile}" if profile else "aws sso login --profile NAME"
        return (
            f"no AWS credentials for {who}: Terraform's AWS provider needs them to plan and apply. Set "
            f"aws.profile in the spec (wizard step 1) and sign in (`{login}` for an SSO profile), or export "
            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN); then plan again"
        )
    if kind == "offline":
        return f"cannot reach AWS to check the credentials of {who} ({text}); Terraform will need to"
    return text


def check_credentials(spec: Spec | None, post: Post) -> None:
    """STS GetCallerIdentity with the spec's profile and region (few attempts, short timeouts): who
    the credentials are, or what is missing."""
    from mlfargate import account

    region = spec.aws.region if spec else "us-east-1"
    profile = spec.aws.profile if spec else None
    try:
        identity = account.caller_identity(region, profile)
    except account.AccountCheckError as exc:
        post(CredentialsChecked(credentials_message(exc.kind, str(exc), spec), exc.kind))
        return
    except MlfargateError as exc:
        post(CredentialsChecked(str(exc), "error"))
        return
    post(CredentialsChecked(None, None, identity.account))


def run_step(
    verb: str,
    workspace: Path,
    options: EngineOptions,
    spec: Spec | None,
    post: Post,
    confirm: flow.Confirm,
    cancel: Cancel,
) -> None:
    """Plan, apply or destroy ``workspace`` through the core, posting :class:`FlowEvent` for every
    event and one :class:`FlowDone` at the end (never raises: an unexpected error is one line and the
    log's path)."""
    from mlfargate import flow

    applying: list[bool] = []  # set once Terraform started changing resources

    def on_event(event: flow.Event) -> None:
        if isinstance(event, flow.PhaseStarted) and event.phase in ("apply", "destroy"):
            applying.append(True)
        post(FlowEvent(event))

    engine = None
    try:
        engine = options.engine()
        if verb in ("plan", "destroy") and uses_aws(workspace):
            check_credentials(spec, post)
        result: flow.PlanResult | flow.ApplyResult
        if verb == "plan":
            result = flow.plan(engine, workspace, on_event, cancel=cancel)
        elif verb == "apply":
            result = flow.apply(engine, workspace, confirm, on_event, cancel=cancel)
        else:
            result = flow.destroy(engine, workspace, confirm, on_event, cancel=cancel)
    except MlfargateError as exc:
        state, problem = None, None
        if engine is not None and applying:
            state, problem = state_left(engine, workspace)
        post(FlowDone(verb, error=exc, state=state, state_problem=problem))
    except Exception as exc:  # one line and the log's path, never a traceback
        post(FlowDone(verb, error=RuntimeError(errors.record(exc, f"{verb} worker"))))
    else:
        post(FlowDone(verb, result=result))


def state_left(engine: Engine, workspace: Path) -> tuple[list[Any] | None, str | None]:
    """What the state holds after an apply or destroy stopped part-way (the graceful stop saved it)."""
    from mlfargate.terraform import operations

    try:
        return list(operations.state_entries(engine, workspace)), None
    except MlfargateError as exc:
        return None, str(exc)


def confirm_on_ui(
    call_from_thread: Callable[..., Any], ask: Callable[..., Any], is_cancelled: Callable[[], bool]
) -> flow.Confirm:
    """The flow's confirmation from a worker thread: ``ask(request, future)`` runs on the UI thread
    (it opens the modal, which sets the future); the worker waits, and gives up (None: nothing was
    typed) when it is cancelled (the app is closing)."""

    def confirm(request: flow.ConfirmRequest) -> str | None:
        answer: concurrent.futures.Future[str | None] = concurrent.futures.Future()
        try:
            call_from_thread(ask, request, answer)
        except RuntimeError:  # the app is not running any more
            return None
        while True:
            try:
                return answer.result(timeout=CONFIRM_POLL_S)
            except concurrent.futures.TimeoutError:
                if is_cancelled():
                    return None

    return confirm
