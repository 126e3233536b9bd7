"""A Static that skips an update to what it already shows: the wizard re-reads the core's verdict on
every keystroke, and an unchanged text must not cost a layout pass."""

from __future__ import annotations

from typing import Any

from textual.visual import VisualType
from textual.widgets import Static


class Note(Static):
    _shown: Any = None

    def update(self, content: VisualType = "", *, layout: bool = True) -> None:
        if self._shown is not None and type(content) is type(self._shown) and content == self._shown:
            return
        self._shown = content
        super().update(content, layout=layout)
