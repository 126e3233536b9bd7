"""The dashboard tables' sort order: numbers (with their unit) by value, anything else as text."""

from __future__ import annotations

from rich.text import Text

from tui.widgets.keyed_table import sort_key


def test_ids_that_start_with_digits_sort_as_text_not_by_their_digits() -> None:
    """Task ids are hex: "42073d31-…" is not the number 42073 (found by the dashboard test, whose moto
    task ids are random: the sorted order changed from run to run)."""
    ids = ["42073d31-c…", "7b901a9a-d…", "d66f803b-9…", "7b901a9a-a…", "9fbf7e18-e…"]
    assert sorted(ids, key=sort_key) == sorted(ids)


def test_numbers_with_their_units_sort_by_value_before_words_and_no_data_last() -> None:
    cells = ["41%", "no data", "9%", "100%", "–", "healthy"]
    assert sorted(cells, key=sort_key) == ["9%", "41%", "100%", "healthy", "no data", "–"]
    assert sorted(["1,351/min", "98/min", "2/min"], key=sort_key) == ["2/min", "98/min", "1,351/min"]
    assert sorted(["120 ms", "54 ms", "1,020 ms"], key=sort_key) == ["54 ms", "120 ms", "1,020 ms"]
    assert sorted([Text("12.5s"), Text("3.0s")], key=sort_key) == [Text("3.0s"), Text("12.5s")]
    assert sorted(["$1.20 /h", "$0.42 /h"], key=sort_key) == ["$0.42 /h", "$1.20 /h"]
