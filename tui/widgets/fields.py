"""Form fields bound to a spec key path: the step body writes what the operator types into the draft
at ``path`` and marks the field when the core reports an error at that path."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from textual.suggester import Suggester
from textual.widgets import Input, Select

#: The class a field gets while the core reports an error at its key path (styled in app.tcss).
ERROR_CLASS = "-spec-error"


def field_id(path: str) -> str:
    """The widget id of the field for ``path`` (``aws.account_id`` -> ``f-aws-account_id``)."""
    return "f-" + re.sub(r"[^A-Za-z0-9_-]+", "-", path).strip("-")


class TextField(Input):
    """A one-line field for the spec value at ``path``; ``kind`` is how its text becomes a value
    (``text``, ``int``, ``number``, ``list``: see :func:`tui.state.convert`)."""

    def __init__(
        self,
        path: str,
        *,
        kind: str = "text",
        placeholder: str = "",
        id: str | None = None,
        classes: str | None = None,
        suggester: Suggester | None = None,
    ) -> None:
        restrict = {"int": r"[0-9+\-]*", "number": r"[0-9.eE+\-]*"}.get(kind)
        super().__init__(
            placeholder=placeholder,
            id=id or field_id(path),
            classes=classes,
            compact=True,
            restrict=restrict,
            suggester=suggester,
        )
        self.path = path
        self.kind = kind
        self.example = placeholder

    def show_default(self, default: Any) -> None:
        """An empty field shows what the spec takes when the key is unset."""
        self.placeholder = f"{default} (default)" if default is not None else self.example

    def on_mount(self) -> None:
        self.cursor_blink = getattr(self.app, "cursor_blink", True)

    def matches(self, error_path: str) -> bool:
        """Whether an error at ``error_path`` is about this field (``x.y[2]`` is about list ``x.y``)."""
        return error_path == self.path or error_path.startswith(self.path + "[")


class ChoiceField(Select[Any]):
    """A choice for the spec value at ``path``; the option values are the spec values (None: unset)."""

    def __init__(
        self,
        path: str,
        options: Iterable[tuple[str, Any]],
        *,
        prompt: str = "—",
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        self.choices = list(options)
        #: What the list shows now: the choices, and the spec's value when it is not one of them.
        self.offered = list(self.choices)
        super().__init__(
            self.choices,
            id=id or field_id(path),
            classes=classes,
            compact=True,
            allow_blank=True,
            prompt=prompt,
        )
        self.path = path
        self.blank = prompt

    def show_default(self, default: Any) -> None:
        label = next((str(label) for label, v in self.choices if v == default), str(default))
        self.prompt = f"{label} (default)" if default is not None else self.blank

    def matches(self, error_path: str) -> bool:
        return error_path == self.path or error_path.startswith(self.path + "[")

    def choose(self, value: Any, options: Iterable[tuple[str, Any]] | None = None) -> None:
        """Show ``value`` (adding it to the options when it is not one, so a spec value the list does not
        offer is still shown, and the core says whether it is allowed)."""
        current = list(self.choices if options is None else options)
        self.choices = [c for c in current if not c[0].endswith(" (from the spec)")]
        current = list(self.choices)
        if value is not None and value not in [v for _, v in current]:
            current.append((f"{value} (from the spec)", value))
        self.offered = current
        with self.prevent(Select.Changed):
            self.set_options(current)
            self.value = Select.NULL if value is None else value
