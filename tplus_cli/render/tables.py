"""Pure Rich table builders: rows (plain JSON data) in, a renderable out.

Every cell is a `rich.text.Text`, so venue-supplied strings are never parsed as markup.
Numeric columns (every non-empty cell looks like a number) are right-aligned.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from rich.table import Table

Justify = Literal["left", "right", "center"]
_NUMBER = re.compile(r"^[-+]?\d+(\.\d+)?$")


@dataclass(frozen=True)
class Column:
    """A table column: the row key, an optional header and alignment."""

    key: str
    header: str | None = None
    justify: Justify | None = None

    @property
    def title(self) -> str:
        """Header text (the key with underscores as spaces unless given)."""
        return self.header if self.header is not None else self.key.replace("_", " ")


ColumnSpec = str | Column


def as_columns(spec: Sequence[ColumnSpec]) -> list[Column]:
    """Accept plain key names or Column objects."""
    return [c if isinstance(c, Column) else Column(c) for c in spec]


def cell_text(value: Any) -> str:
    """How one JSON value reads in a table cell."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


def _justify(column: Column, rows: Sequence[dict[str, Any]]) -> Justify:
    if column.justify:
        return column.justify
    cells = [cell_text(r.get(column.key)) for r in rows]
    numeric = [c for c in cells if c]
    return "right" if numeric and all(_NUMBER.match(c) for c in numeric) else "left"


def build_table(
    rows: Sequence[dict[str, Any]], columns: Sequence[Column], *, title: str | None = None
) -> Table:
    """A table with one line per row and the given columns."""
    from rich.table import Table
    from rich.text import Text

    table = Table(title=title, title_justify="left", show_edge=False, pad_edge=False)
    for column in columns:
        table.add_column(Text(column.title), justify=_justify(column, rows), overflow="fold")
    for row in rows:
        table.add_row(*(Text(cell_text(row.get(c.key))) for c in columns))
    return table


def build_record(
    row: dict[str, Any], columns: Sequence[Column], *, title: str | None = None
) -> Table:
    """A two-column field/value table for a single object."""
    from rich.table import Table
    from rich.text import Text

    table = Table(title=title, title_justify="left", show_header=False, show_edge=False)
    table.add_column("field", style="bold" if columns else None)
    table.add_column("value")
    for column in columns:
        table.add_row(Text(column.title), Text(cell_text(row.get(column.key))))
    return table
