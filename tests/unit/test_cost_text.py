"""mlfargate/cost/text.py: the one place money and quantities are formatted (CLI, wizard, dashboard,
status read the same)."""

from __future__ import annotations

import pytest

from mlfargate.cost.text import amount, money, money_change, qty


@pytest.mark.parametrize(
    ("value", "plain", "dollars"),
    [
        (0, "0.00", "$0.00"),
        (1234.5, "1,234.50", "$1,234.50"),
        (0.004, "0.00", "$0.00"),
        (-2, "-2.00", "$-2.00"),
    ],
)
def test_amounts_have_two_decimals_and_thousands_separators(value: float, plain: str, dollars: str) -> None:
    assert (amount(value), money(value)) == (plain, dollars)


@pytest.mark.parametrize(("value", "shown"), [(32.85, "+$32.85"), (-1000, "-$1,000.00"), (0, "$0.00")])
def test_a_change_in_cost_is_signed(value: float, shown: str) -> None:
    assert money_change(value) == shown


@pytest.mark.parametrize(
    ("value", "shown"),
    [(0, "0"), (730, "730"), (1460.5, "1,460.5"), (100, "100"), (0.25, "0.25"), (2.001, "2")],
)
def test_quantities_drop_trailing_zeros(value: float, shown: str) -> None:
    assert qty(value) == shown
