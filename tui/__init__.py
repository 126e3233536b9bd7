"""mlfargate's terminal UI (Textual). Screens live in ``tui.screens``, reusable widgets in ``tui.widgets``."""
