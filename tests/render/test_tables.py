"""render/tables and console: exact table text, markup off for venue data, NO_COLOR."""

from __future__ import annotations

import io

import pytest

from tplus_cli.render import console, tables


def _render(renderable: object, *, color: bool = False) -> str:
    from rich.console import Console

    buf = io.StringIO()
    Console(
        file=buf,
        width=60,
        markup=False,
        highlight=False,
        force_terminal=color,
        no_color=not color,
        color_system="standard" if color else None,
    ).print(renderable)
    return buf.getvalue()


def test_table_golden() -> None:
    """A list renders as a header plus one line per row; numbers right-aligned."""
    rows = [{"symbol": "BTC", "price": "65000.25"}, {"symbol": "ETH", "price": "3000"}]
    text = _render(tables.build_table(rows, tables.as_columns(["symbol", "price"]), title="Px"))
    assert [line.rstrip() for line in text.splitlines()] == [
        "Px",
        "symbol ┃    price",
        "━━━━━━━╇━━━━━━━━━",
        "BTC    │ 65000.25",
        "ETH    │     3000",
    ]


def test_record_golden() -> None:
    """One object renders as field/value lines with readable headers."""
    row = {"order_id": "abc", "post_only": False, "price": None}
    text = _render(tables.build_record(row, tables.as_columns(["order_id", "post_only", "price"])))
    assert [line.rstrip() for line in text.splitlines()] == [
        " order id  │ abc",
        " post only │ no",
        " price     │",
    ]


def test_markup_in_venue_data_is_literal() -> None:
    """A venue string like "[red]x[/red]" is shown as typed, never interpreted."""
    rows = [{"name": "[red]x[/red] :smile:"}]
    text = _render(tables.build_table(rows, tables.as_columns(["name"])))
    assert "[red]x[/red] :smile:" in text


def test_make_console_honours_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    """With NO_COLOR set, even a forced terminal gets no colour codes."""
    monkeypatch.setenv("NO_COLOR", "1")
    buf = io.StringIO()
    out = console.make_console(file=buf)
    assert out.no_color and not out._markup
    out.print("[bold]data[/bold]")
    assert buf.getvalue() == "[bold]data[/bold]\n"


def test_ids_and_numbers_never_fold_on_a_narrow_terminal() -> None:
    """On a narrow terminal an order id and a price stay whole on one line (the table widens)."""
    from rich.console import Console

    row = {
        "order_id": "XD+l62nKS1mlpNbfacNFVw==",
        "note": "a long free text note",
        "price": "64000.25",
    }
    buf = io.StringIO()
    out = Console(file=buf, width=30, no_color=True, color_system=None)
    tables.print_wide(out, tables.build_table([row], tables.as_columns(list(row))))
    text = buf.getvalue()
    assert "XD+l62nKS1mlpNbfacNFVw==" in text
    assert "64000.25" in text
    assert out.width == 30
