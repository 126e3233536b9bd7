"""``mlfargate-tui``: the terminal front-end over the same core as the CLI.

Routing and global bindings only: the modes (``wizard``; ``deploy``: plan, apply and destroy of the
wizard's workspace; ``dashboard``: the live service, read-only), save, help, quit, the command
palette's entries, the one place unexpected errors become a notification plus a log path instead of a
traceback, and ``main``: the command line, and the demo's emulator, started before the app and stopped
after it whatever way it ends."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import select
import signal
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Literal

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from mlfargate.errors import MlfargateError
from mlfargate.spec.text import DEFAULT_FILE
from tui import errors
from tui.deploy.run import EngineOptions
from tui.format import shown_path
from tui.messages import CoreReady, GoToStep
from tui.state import STEP_KEYS, STEPS, WizardState
from tui.wizard.screen import WizardScreen

if TYPE_CHECKING:
    from mlfargate.spec.model import Spec
    from tui.dashboard.screen import DashboardScreen
    from tui.dashboard.source import Source
    from tui.deploy.screen import DeployScreen

Clock = Callable[[], datetime]
Start = Literal["wizard", "dashboard"]
#: Exit status on SIGTERM (128 + 15, as a shell reports it).
TERM_EXIT = 143
#: How long after the first frame the core starts loading (see on_ready).
WARM_UP_DELAY_S = 0.15
#: How often the app looks whether its terminal is still there (see terminal_gone).
HANGUP_CHECK_S = 1.0
#: Exit status when the terminal went away (128 + SIGHUP, as a shell reports a hung-up job).
HANGUP_EXIT = 129


def terminal_gone(fd: int = 0) -> bool:
    """Whether the terminal on ``fd`` hung up (its window, tmux pane or ssh session closed). poll()
    reports POLLHUP without reading, so keys waiting for Textual stay where they are. Without this
    check the app outlived its terminal: Textual's input thread met end-of-file on every read and
    spun a core at ~70% until killed."""
    try:
        poller = select.poll()
        poller.register(fd, 0)  # POLLHUP, POLLERR and POLLNVAL are reported whatever the mask
        return any(event & (select.POLLHUP | select.POLLERR | select.POLLNVAL) for _, event in poller.poll(0))
    except (OSError, ValueError):
        return True


def _now() -> datetime:
    return datetime.now().astimezone()


def warm_up() -> None:
    """Import the core the wizard validates and prices with (pydantic, rules, catalog, prices), off the
    UI thread and after the first screen is up."""
    from mlfargate.cost import estimate, price_book, sizing  # noqa: F401
    from mlfargate.spec import catalog, rules  # noqa: F401

    catalog.load()
    price_book.bundled_raw()


class MlfargateApp(App[None]):
    TITLE = "mlfargate"
    CSS_PATH = Path(__file__).with_name("app.tcss")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save", priority=True),
        Binding("question_mark,f1", "help", "Help"),
        Binding("ctrl+q", "quit", "Quit", priority=True),
    ]

    def __init__(
        self,
        spec_path: Path,
        *,
        clock: Clock = _now,
        cursor_blink: bool = True,
        start: Start = "wizard",
        source: Source | None = None,
        engine: EngineOptions | None = None,
        endpoint_url: str | None = None,
        wizard: bool = True,
        every_s: int | None = None,
    ) -> None:
        super().__init__()
        self.spec_path = spec_path
        self._state: WizardState | None = WizardState.open(spec_path) if start == "wizard" else None
        self.clock = clock
        self.cursor_blink = cursor_blink
        self.start_mode: Start = start
        #: Where the dashboard reads from when the app starts on it (``--dashboard``, ``--demo``).
        self.source = source
        self.engine_options = engine or EngineOptions()
        self.endpoint_url = endpoint_url
        #: False in the demo: no wizard (and so no deploy) over the demo's spec.
        self.wizard_allowed = wizard
        self.every_s = every_s
        self.wizard: WizardScreen | None = None
        self.deploy: DeployScreen | None = None
        self.dashboard: DashboardScreen | None = None
        #: The one line ``main`` prints when the app had to stop on an unexpected error.
        self.crash: str | None = None

    @property
    def state(self) -> WizardState:
        """The wizard's draft, opened when first needed (a dashboard start does not read it)."""
        if self._state is None:
            self._state = WizardState.open(self.spec_path)
        return self._state

    @property
    def start(self) -> str:
        """The wizard's first step: step 1 for a new spec, the review for an existing one."""
        return "account" if self.state.is_new else "review"

    # --- routing ----------------------------------------------------------------------------------

    def _wizard_screen(self) -> Screen[None]:
        self.wizard = WizardScreen(self.state, self.start)
        return self.wizard

    async def on_mount(self) -> None:
        if self.wizard_allowed:
            self.add_mode("wizard", self._wizard_screen)
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):  # not the main thread
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, self._terminated)
        if self.start_mode == "dashboard" and self.source is not None:
            await self._show_dashboard(self.source)
        else:
            await self.switch_mode("wizard")

    def _terminated(self) -> None:
        """SIGTERM: leave as on a quit (Terraform stopped gracefully, the demo's emulator stopped)."""
        errors.note("SIGTERM: mlfargate-tui exited (unsaved changes were not saved)")
        self.exit(return_code=TERM_EXIT)

    def on_ready(self) -> None:
        # The first frame is rendered now, but Textual's writer thread has yet to put it on the
        # terminal: an import-heavy thread started at once would hold the GIL and delay it.
        if self.wizard is not None:
            self.set_timer(WARM_UP_DELAY_S, self._start_warm_up)
        if not self.is_headless:
            self.set_interval(HANGUP_CHECK_S, self._check_terminal)

    def open_wizard(self) -> None:
        if not self.wizard_allowed:
            self.notify("the demo has no wizard: run `mlfargate-tui SPEC` for your own spec", timeout=6)
            return
        first = self.wizard is None
        self.switch_mode("wizard")
        if first:
            self.set_timer(WARM_UP_DELAY_S, self._start_warm_up)

    def open_deploy(self) -> None:
        """Plan / apply / destroy of the wizard's workspace (it must have been generated)."""
        if not self.wizard_allowed:
            self.notify("the demo deploys nothing", timeout=6)
            return
        from tui.deploy.screen import DeployScreen

        workspace = self.state.workspace
        if not workspace.is_dir():
            self.notify(
                f"{shown_path(workspace)} does not exist yet: Generate & check (step 7) writes it first",
                severity="warning",
                timeout=8,
            )
            return
        workspace = workspace.resolve()
        if self.deploy is not None and (self.deploy.workspace != workspace and self.deploy.running is None):
            self.switch_mode("wizard")
            self.remove_mode("deploy")
            self.deploy = None
        if self.deploy is None:
            deploy = DeployScreen(workspace, self.engine_options, self._spec_now())
            self.deploy = deploy
            self.add_mode("deploy", lambda: deploy)
        self.switch_mode("deploy")

    def _spec_now(self) -> Spec | None:
        if self._state is None:
            return None
        try:
            return self.state.analysis().spec
        except MlfargateError:
            return None

    def open_dashboard(self, *, after_apply: bool = False) -> None:
        """The live dashboard of the spec (its first refresh starts at once)."""
        if self.dashboard is not None:
            self.switch_mode("dashboard")
            if after_apply:
                self.dashboard.refresh_now()
            return
        from tui.dashboard.source import LiveSource

        spec = self._spec_now() if self.source is None else self.source.spec
        if spec is None:
            self.notify(
                "the dashboard needs a valid spec: fix its errors in the wizard first", severity="error"
            )
            return
        self.call_later(self._show_dashboard, self.source or LiveSource(spec, endpoint_url=self.endpoint_url))

    async def _show_dashboard(self, source: Source) -> None:
        from tui.dashboard.screen import DEFAULT_EVERY_S, DashboardScreen

        dashboard = DashboardScreen(
            source, every_s=self.every_s or DEFAULT_EVERY_S, wizard=self.wizard_allowed
        )
        self.dashboard = dashboard
        self.add_mode("dashboard", lambda: dashboard)
        await self.switch_mode("dashboard")

    def _check_terminal(self) -> None:
        if terminal_gone():
            errors.note("the terminal went away: mlfargate-tui exited (unsaved changes were not saved)")
            self.exit(return_code=HANGUP_EXIT)

    def _start_warm_up(self) -> None:
        self.run_worker(self._warm_up, thread=True, exit_on_error=False, name="warm-up")

    def _warm_up(self) -> None:
        warm_up()
        if self.wizard is not None:
            self.wizard.post_message(CoreReady())

    def show_title(self) -> str:
        """The title line: the app, the deployment's prefix and region (also the terminal's title)."""
        region = self.state.get("aws.region")
        self.sub_title = f"{self.state.prefix} · {region}" if region else self.state.prefix
        return f"{self.title} — {self.sub_title}"

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        if not self.wizard_allowed:
            yield from super().get_system_commands(screen)
            return
        for i, s in enumerate(STEPS, 1):
            yield SystemCommand(f"Step {i}: {s.title}", f"go to the {s.title} step", partial(self.go, s.key))
        yield SystemCommand("Save spec", f"write {shown_path(self.spec_path)} (atomic)", self.action_save)
        yield SystemCommand(
            "Generate & check", "save, write the workspace and run the policy gate", self.action_generate
        )
        yield SystemCommand(
            "Plan & apply", "plan the generated workspace, apply it, destroy it", self.open_deploy
        )
        yield SystemCommand("Dashboard", "the deployed service, live (read-only)", self.open_dashboard)
        yield SystemCommand("Help", "keys and steps", self.action_help)
        yield from super().get_system_commands(screen)

    def go(self, key: str) -> None:
        if self.wizard is not None and key in STEP_KEYS:
            self.wizard.post_message(GoToStep(key))

    # --- global actions ---------------------------------------------------------------------------

    def action_save(self) -> None:
        if self.wizard is None:
            return
        with self.guard("saving the spec"):
            try:
                saved = self.state.save()
            except MlfargateError as exc:
                self.notify(str(exc), severity="error", timeout=10)
                return
            at = self.clock().strftime("%H:%M:%S")
            if saved.errors:
                self.notify(
                    f"saved {shown_path(saved.path)} at {at} WITH {saved.errors} error(s): it is not a valid "
                    f"spec yet (`mlfargate validate` refuses it); fix: {', '.join(self.state.analysis().bad_steps())}",
                    severity="warning",
                    timeout=10,
                )
            else:
                self.notify(f"saved {shown_path(saved.path)} at {at}")

    def action_generate(self) -> None:
        if self.wizard is not None:
            self.wizard.post_message(GoToStep("generate"))

    def action_help(self) -> None:
        from tui.screens.dialogs import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    async def action_quit(self) -> None:
        if self.deploy is not None and self.deploy.running is not None:
            self.deploy.ask_quit()
            return
        if self.wizard is None or not self.state.dirty:
            self.exit()
            return
        from tui.screens.dialogs import QuitScreen

        errors_now = len(self.state.analysis().errors) if self.state.load_problem is None else 0

        def chosen(answer: str | None) -> None:
            if answer == "save":
                self.action_save()
                if not self.state.dirty:
                    self.exit()
            elif answer == "discard":
                self.exit()

        self.push_screen(QuitScreen(shown_path(self.spec_path), errors_now), chosen)

    # --- errors -----------------------------------------------------------------------------------

    def report(self, error: BaseException, context: str = "") -> None:
        """An error reaches the operator as a notification: a core error in its own words, anything
        else as one line with the path of the log holding the traceback."""
        if isinstance(error, MlfargateError):
            self.notify(str(error), severity="error", timeout=10)
            return
        self.notify(errors.record(error, context), severity="error", timeout=30)

    @contextmanager
    def guard(self, context: str) -> Iterator[None]:
        try:
            yield
        except Exception as exc:  # the operator sees one line and a log path, never a traceback
            self.report(exc, context)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Worker state messages do not bubble: the app's own and every step's come here."""
        worker = event.worker
        if event.state == WorkerState.ERROR and worker.error is not None:
            self.report(worker.error, f"worker {worker.name}")

    def _handle_exception(self, error: Exception) -> None:
        # Textual stops the app on an exception no handler caught; record it and leave one line for
        # main() to print instead of Textual's traceback (tests still see the exception raised).
        self.crash = "mlfargate-tui stopped on an " + errors.record(error, "uncaught")
        super()._handle_exception(error)

    def _fatal_error(self) -> None:
        self.bell()
        self._close_messages_no_wait()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="mlfargate-tui",
        description="Walk through a deployment spec (new or existing), generate its checked workspace, plan, "
        "apply and destroy it, and watch the deployed service (--dashboard); --demo shows the dashboard on a "
        "local AWS emulator, no AWS account needed.",
    )
    parser.add_argument(
        "spec",
        nargs="?",
        default=None,
        help=f"spec file to open, or to create from the example when it does not exist (default {DEFAULT_FILE}); "
        "with --demo: the spec the demo's service is shaped like (default: a built-in Fargate service)",
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--dashboard", action="store_true", help="open the live dashboard of the spec's service"
    )
    mode.add_argument(
        "--demo",
        action="store_true",
        help="the dashboard on a local AWS emulator (moto on 127.0.0.1) seeded like the spec; no AWS account",
    )
    parser.add_argument(
        "--terraform",
        metavar="PATH",
        help="terraform/tofu binary for plan/apply, or 'embedded' (default: $MLFARGATE_TERRAFORM, then "
        "terraform or tofu on PATH, then the embedded engine)",
    )
    parser.add_argument("--plugin-dir", metavar="DIR", help="provider mirror directory for init (air-gapped)")
    parser.add_argument(
        "--cli-config", metavar="FILE", help="Terraform CLI config (e.g. with a filesystem_mirror)"
    )
    parser.add_argument(
        "--endpoint-url",
        metavar="URL",
        help="the dashboard reads AWS at this endpoint (an emulator); default: $MLFARGATE_AWS_ENDPOINT_URL, else AWS",
    )
    args = parser.parse_args(argv)
    engine = EngineOptions(args.terraform, args.plugin_dir, args.cli_config)
    try:
        if args.endpoint_url is not None and not args.endpoint_url.startswith(("http://", "https://")):
            raise MlfargateError(f"--endpoint-url {args.endpoint_url!r}: give an http:// or https:// URL")
        if args.demo:
            return _demo(args.spec, engine)
        spec_path = Path(args.spec or DEFAULT_FILE)
        if args.dashboard:
            from mlfargate.spec.rules import load_valid
            from tui.dashboard.source import LiveSource

            spec = load_valid(spec_path)
            source = LiveSource(spec, endpoint_url=args.endpoint_url)
            app = MlfargateApp(spec_path, start="dashboard", source=source, engine=engine)
        else:
            app = MlfargateApp(spec_path, engine=engine, endpoint_url=args.endpoint_url)
    except MlfargateError as exc:
        for line in exc.lines():
            print(line, file=sys.stderr)
        return exc.exit_code
    return _run(app)


def _run(app: MlfargateApp) -> int:
    try:
        app.run()
    except KeyboardInterrupt:
        return 130
    if app.crash:
        print(app.crash, file=sys.stderr)
        return 1
    return app.return_code or 0


def _demo(spec_arg: str | None, engine: EngineOptions) -> int:
    """The demo: the emulator starts here, in the main thread (its death signal follows this thread:
    even a killed app leaves no emulator), is seeded by the dashboard's first refresh (a worker), and is
    stopped when the app ends, however it ends."""
    from mlfargate.live import demo
    from mlfargate.spec.rules import load_valid
    from tui.dashboard.source import DemoSource

    spec = demo.demo_spec() if spec_arg is None else load_valid(Path(spec_arg))
    emulator = demo.start_emulator(spec.aws.account_id)
    try:
        app = MlfargateApp(
            Path(spec_arg or DEFAULT_FILE),
            start="dashboard",
            source=DemoSource(spec, emulator),
            engine=engine,
            wizard=False,
        )
        return _run(app)
    finally:
        emulator.stop()
