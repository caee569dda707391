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
    from rich.console import Console
    from rich.table import Table

Justify = Literal["left", "right", "center"]
_NUMBER = re.compile(r"^[-+]?\d+(\.\d+)?$")


@dataclass(frozen=True)
class Column:
    """A table column: the row key, an optional header and alignment."""

    key: str
    header: str | None = None
    justify: Justify | None = None
    no_wrap: bool | None = None  # None: decide from the key (identifiers never wrap)

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


_SLACK = 24  # columns of overflow allowed to avoid folding text cells
_FOLD_FLOOR = 12  # text columns may fold, but never narrower than this (or their widest cell)
_IDENTIFIER_KEYS = frozenset({"public_key", "pubkey", "signature", "address"})


def _keeps_whole(column: Column) -> bool:
    """Identifiers must stay copy-pasteable, so their cells are never folded."""
    if column.no_wrap is not None:
        return column.no_wrap
    return column.key.endswith("_id") or column.key in _IDENTIFIER_KEYS


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
        justify = _justify(column, rows)
        # Identifiers and numbers never fold: a split order id or price is worse than a wide table.
        whole = _keeps_whole(column) or justify == "right"
        widest = max((len(cell_text(r.get(column.key))) for r in rows), default=0)
        table.add_column(
            Text(column.title),
            justify=justify,
            overflow="fold",
            no_wrap=whole,
            min_width=max(widest, len(column.title)) if whole else min(widest, _FOLD_FLOOR),
        )
    for row in rows:
        table.add_row(*(Text(cell_text(row.get(c.key))) for c in columns))
    return table


def print_wide(console: Console, renderable: Table) -> None:
    """Print a table at least as wide as its unfoldable cells need, even past the terminal.

    A little extra width is also granted so short text cells do not fold for a few columns.
    """
    from rich.measure import Measurement

    size = Measurement.get(console, console.options.update_width(10_000), renderable)
    width = max(console.width, size.minimum)
    if size.maximum - width <= _SLACK:
        width = max(width, size.maximum)
    saved = console.width
    console.width = width  # Console.print caps its width argument at the console's own width
    try:
        console.print(renderable, crop=False)
    finally:
        console.width = saved


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
