"""The errors of one step, in the CLI's words (``spec error: <key path>: <what is wrong and what is
allowed>``): the core's rule results, filtered to the step's keys by the caller."""

from __future__ import annotations

from rich.text import Text

from mlfargate.errors import SpecError
from tui.widgets.note import Note


class ErrorList(Note):
    def __init__(self, *, id: str | None = None, ok_text: str = "no errors in this step") -> None:
        super().__init__("", id=id, classes="error-list", markup=False)
        self.ok_text = ok_text
        self.errors: list[SpecError] = []

    def show(self, errors: list[SpecError]) -> None:
        self.errors = list(errors)
        if not errors:
            self.set_class(False, "-bad")
            self.update(Text(f"✓ {self.ok_text}", style="green"))
            return
        self.set_class(True, "-bad")
        self.update(Text("\n".join(str(e) for e in errors)))

    def clear_view(self) -> None:
        self.errors = []
        self.set_class(False, "-bad")
        self.update("")
