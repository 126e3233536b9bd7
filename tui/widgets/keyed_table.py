"""A table whose rows have keys, updated in place: what a refresh changes is changed, cell by cell; the
selected row, the sort and the filter survive it.

The dashboard gives :meth:`KeyedTable.sync` every row of a new snapshot by key (a task id, a target's
``ip:port``); rows that are gone are removed, new ones added, changed cells updated. The cursor stays on
the row it was on (by key, not by position), the operator's sort (``s`` or a click on a column header)
is applied again, and the filter (a substring of any cell, case-insensitive) keeps hiding what it hid.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey

Cell = Text | str
#: A whole cell that is a number, with the units the dashboard writes (41%, 120 ms, 1,351/min,
#: $0.42 /h, 12.5s); only then by value: a task id such as "42073d31-…" is text, not 42073.
_NUMBER = re.compile(r"^\$?(-?[\d,]*\.?\d+)\s*(?:%|ms|s|/min|/h|/mo)?$")


def sort_key(cell: Any) -> tuple[int, float, str]:
    """Numbers (``41%``, ``$0.42 /h``, ``1,351/min``) by value and before words; words
    case-insensitively; ``–`` and ``no data`` last."""
    text = cell.plain if isinstance(cell, Text) else str(cell)
    text = text.strip()
    if text in ("", "–", "-", "no data"):
        return (2, 0.0, "")
    match = _NUMBER.match(text)
    if match:
        try:
            return (0, float(match.group(1).replace(",", "")), text.lower())
        except ValueError:
            pass
    return (1, 0.0, text.lower())


def plain(cell: Cell) -> str:
    return cell.plain if isinstance(cell, Text) else str(cell)


class KeyedTable(DataTable[Cell]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("s", "cycle_sort", "Sort", show=False)]

    def __init__(
        self,
        columns: Sequence[tuple[str, str]],
        *,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes, cursor_type="row", zebra_stripes=True)
        self._columns = list(columns)
        self._labels = {key: label for key, label in columns}
        self._rows: dict[str, list[Cell]] = {}
        self._order: list[str] = []  # the order of the keys as last given (the table's order unsorted)
        self.sort_column: str | None = None
        self.sort_reverse = False
        self.filter_text = ""

    def on_mount(self) -> None:
        for key, label in self._columns:
            self.add_column(label, key=key)

    # --- what the screen calls ------------------------------------------------------------------

    @property
    def given_rows(self) -> dict[str, list[Cell]]:
        """Every row last given to :meth:`sync` (filtered out or not), by key."""
        return self._rows

    @property
    def selected_key(self) -> str | None:
        """The key of the row under the cursor (None when the table is empty)."""
        if self.row_count == 0:
            return None
        try:
            row_key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        except Exception:  # the cursor is off the rows
            return None
        return None if row_key.value is None else str(row_key.value)

    def sync(self, rows: Mapping[str, Sequence[Cell]]) -> None:
        """Show exactly ``rows`` (key -> cells, in the order to show them unsorted), in place."""
        self._rows = {k: list(v) for k, v in rows.items()}
        self._order = list(rows)
        self._apply()

    def set_filter(self, text: str) -> None:
        self.filter_text = text
        self._apply()

    def sort_by(self, column: str | None, reverse: bool = False) -> None:
        self.sort_column, self.sort_reverse = column, reverse
        self._apply()

    # --- the work -------------------------------------------------------------------------------

    def _visible(self) -> dict[str, list[Cell]]:
        needle = self.filter_text.strip().lower()
        if not needle:
            return self._rows
        return {k: v for k, v in self._rows.items() if any(needle in plain(c).lower() for c in v)}

    def _apply(self) -> None:
        if not self.is_mounted:
            return
        selected = self.selected_key
        visible = self._visible()
        current = [str(row.key.value) for row in self.ordered_rows]
        wanted = [k for k in self._order if k in visible]
        if self.sort_column is None:
            kept = [k for k in current if k in visible]
            if kept + [k for k in wanted if k not in set(current)] != wanted:
                # Unsorted, and the given order is not what appending would give (a new event on
                # top): rebuild in the new order; the cursor is put back on its row below.
                self.clear()
                current = []
        for key in set(current) - set(visible):
            self.remove_row(key)
        columns = [key for key, _ in self._columns]
        present = set(current) & set(visible)
        for key in wanted:
            cells = visible[key]
            if key in present:
                for column, value in zip(columns, cells, strict=False):
                    if self.get_cell(key, column) != value:
                        self.update_cell(key, column, value)
            else:
                self.add_row(*cells, key=key)
        if self.sort_column is not None:
            self.sort(self.sort_column, key=sort_key, reverse=self.sort_reverse)
        self._show_sort()
        if selected is not None and selected in visible:
            index = self.get_row_index(selected)
            if index != self.cursor_row:
                self.move_cursor(row=index, animate=False, scroll=False)

    def _show_sort(self) -> None:
        for key, label in self._labels.items():
            column = self.columns.get(ColumnKey(key))
            if column is None:
                continue
            mark = ""
            if key == self.sort_column:
                mark = " ▼" if self.sort_reverse else " ▲"
            new = Text(label + mark)
            if column.label != new:
                column.label = new
                self.refresh()

    # --- keys and clicks ------------------------------------------------------------------------

    def action_cycle_sort(self) -> None:
        """``s``: sort by the next column (the cursor's column first), then the same reversed, then unsorted."""
        keys = [key for key, _ in self._columns]
        if self.sort_column is None:
            self.sort_by(keys[0])
        elif not self.sort_reverse:
            self.sort_by(self.sort_column, reverse=True)
        else:
            index = keys.index(self.sort_column) + 1
            self.sort_by(keys[index] if index < len(keys) else None)

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        column = str(event.column_key.value)
        if self.sort_column == column:
            if self.sort_reverse:
                self.sort_by(None)
            else:
                self.sort_by(column, reverse=True)
        else:
            self.sort_by(column)
