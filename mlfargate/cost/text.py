"""How amounts of money and quantities read, the same in every front-end: the CLI's tables, the
wizard, the dashboard and ``mlfargate status``. Plain functions, no imports: the TUI loads this at
start-up."""

from __future__ import annotations


def amount(value: float) -> str:
    """An amount without its currency, for text that names the currency once: ``1,234.50``."""
    return f"{value:,.2f}"


def money(value: float) -> str:
    """An amount in US dollars (every price mlfargate knows is in USD): ``$1,234.50``, ``$-2.00``."""
    return f"${amount(value)}"


def money_change(value: float) -> str:
    """A difference in cost: ``+$1.00``, ``-$1.00``, or ``$0.00``."""
    sign = "+" if value > 0 else "-" if value < 0 else ""
    return f"{sign}{money(abs(value))}"


def qty(value: float) -> str:
    """A quantity with no trailing zeros: ``730``, ``1,460.5``, ``0``."""
    return f"{value:,.2f}".rstrip("0").rstrip(".") if value else "0"
