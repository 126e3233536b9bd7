"""A table of spec errors: key path and what is wrong."""

from __future__ import annotations

from textual.widgets import DataTable

from mlfargate.errors import SpecError


class SpecErrorTable(DataTable[str]):
    """Shows :class:`SpecError` rows; empty when the spec obeys every rule."""

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.add_columns("key", "problem")

    def show(self, errors: list[SpecError]) -> None:
        self.clear()
        for error in errors:
            self.add_row(error.path, error.message)
