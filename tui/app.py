"""``mlfargate-tui``: the terminal front-end over the same core as the CLI.

Routing and global bindings only: the modes (today the wizard; plan/apply and the dashboard are
later modes), save, help, quit, the command palette's entries, and the one place unexpected errors
become a notification plus a log path instead of a traceback."""

from __future__ import annotations

import argparse
import select
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import ClassVar

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from mlfargate.errors import MlfargateError
from mlfargate.spec.text import DEFAULT_FILE
from tui import errors
from tui.format import shown_path
from tui.messages import CoreReady, GoToStep
from tui.state import STEP_KEYS, STEPS, WizardState
from tui.wizard.screen import WizardScreen

Clock = Callable[[], datetime]
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

    def __init__(self, spec_path: Path, *, clock: Clock = _now, cursor_blink: bool = True) -> None:
        super().__init__()
        self.spec_path = spec_path
        self.state = WizardState.open(spec_path)
        self.start = "account" if self.state.is_new else "review"
        self.clock = clock
        self.cursor_blink = cursor_blink
        self.wizard: WizardScreen | None = None
        #: The one line ``main`` prints when the app had to stop on an unexpected error.
        self.crash: str | None = None

    # --- routing ----------------------------------------------------------------------------------

    def _wizard_screen(self) -> Screen[None]:
        self.wizard = WizardScreen(self.state, self.start)
        return self.wizard

    async def on_mount(self) -> None:
        self.add_mode("wizard", self._wizard_screen)
        await self.switch_mode("wizard")

    def on_ready(self) -> None:
        # The first frame is rendered now, but Textual's writer thread has yet to put it on the
        # terminal: an import-heavy thread started at once would hold the GIL and delay it.
        self.set_timer(WARM_UP_DELAY_S, self._start_warm_up)
        if not self.is_headless:
            self.set_interval(HANGUP_CHECK_S, self._check_terminal)

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
        for i, s in enumerate(STEPS, 1):
            yield SystemCommand(f"Step {i}: {s.title}", f"go to the {s.title} step", partial(self.go, s.key))
        yield SystemCommand("Save spec", f"write {shown_path(self.spec_path)} (atomic)", self.action_save)
        yield SystemCommand(
            "Generate & check", "save, write the workspace and run the policy gate", self.action_generate
        )
        yield SystemCommand("Help", "keys and steps", self.action_help)
        yield from super().get_system_commands(screen)

    def go(self, key: str) -> None:
        if self.wizard is not None and key in STEP_KEYS:
            self.wizard.post_message(GoToStep(key))

    # --- global actions ---------------------------------------------------------------------------

    def action_save(self) -> None:
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
        if not self.state.dirty:
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
        description="Walk through a deployment spec (new or existing) and generate its checked workspace.",
    )
    parser.add_argument(
        "spec",
        nargs="?",
        default=DEFAULT_FILE,
        help=f"spec file to open, or to create from the example when it does not exist (default {DEFAULT_FILE})",
    )
    args = parser.parse_args(argv)
    try:
        app = MlfargateApp(Path(args.spec))
    except MlfargateError as exc:
        for line in exc.lines():
            print(line, file=sys.stderr)
        return exc.exit_code
    try:
        app.run()
    except KeyboardInterrupt:
        return 130
    if app.crash:
        print(app.crash, file=sys.stderr)
        return 1
    return app.return_code or 0
