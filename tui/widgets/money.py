"""The estimate as a table: every line the core's estimate has (whatever lines a later version adds),
floor and ceiling per month, the totals, and a mark on estimated prices."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.widgets import DataTable

from mlfargate.cost.text import money, qty

if TYPE_CHECKING:
    from mlfargate.cost.estimate import Estimate

COLUMNS = ("item", "floor/mo", "ceiling/mo", "unit price", "unit", "floor qty/mo", "ceiling qty/mo")


class MoneyTable(DataTable[Text]):
    def __init__(self, *, id: str | None = None, compact: bool = False) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True, show_cursor=False)
        self.compact = compact

    def on_mount(self) -> None:
        cols = ("item", "floor/mo", "ceiling/mo") if self.compact else COLUMNS
        for name in cols:
            self.add_column(name, key=name)

    def show(self, est: Estimate | None) -> None:
        self.clear()
        if est is None:
            return
        for line in est.lines:
            mark = "*" if line.price.estimate else ""
            cells = {
                "item": Text(line.item),
                "unit price": Text(f"{line.unit_price:.6g}{mark}", justify="right"),
                "unit": Text(line.unit),
                "floor qty/mo": Text(qty(line.floor_quantity), justify="right"),
                "ceiling qty/mo": Text(qty(line.ceiling_quantity), justify="right"),
                "floor/mo": Text(money(line.monthly_floor), justify="right"),
                "ceiling/mo": Text(money(line.monthly_ceiling), justify="right"),
            }
            self.add_row(*(cells[str(c.value)] for c in self.columns), key=line.item)
        total = {
            "item": Text("total", style="bold"),
            "floor/mo": Text(money(est.monthly_floor), style="bold", justify="right"),
            "ceiling/mo": Text(money(est.monthly_ceiling), style="bold", justify="right"),
        }
        self.add_row(*(total.get(str(c.value), Text("")) for c in self.columns), key="(total)")
