"""render/jsonout: Decimals stay exact strings, field order is kept, --fields selects."""

from __future__ import annotations

import csv
import enum
import io
import json
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tplus_cli.errors import UsageError
from tplus_cli.render import jsonout


class Side(enum.Enum):
    BUY = "buy"


@dataclass(frozen=True)
class Fill:
    price: Decimal
    quantity: Decimal
    side: Side
    tags: tuple[str, ...] = ()
    raw: dict[str, object] = field(default_factory=dict)


def test_dataclass_to_json_keeps_order_and_drops_raw() -> None:
    """Fields come out in declared order, enums as values, `raw` omitted."""
    fill = Fill(Decimal("65000.25"), Decimal("0.10"), Side.BUY, ("a",), {"x": 1})
    assert json.dumps(jsonout.to_jsonable(fill)) == (
        '{"price": "65000.25", "quantity": "0.10", "side": "buy", "tags": ["a"]}'
    )


@given(st.decimals(allow_nan=False, allow_infinity=False))
def test_decimal_round_trips_exactly(value: Decimal) -> None:
    """Any finite Decimal survives json as a string, digit for digit."""
    text = jsonout.dumps_json({"v": value})
    assert Decimal(json.loads(text)["v"]) == value
    assert json.loads(text)["v"] == jsonout.plain_decimal(value)


@pytest.mark.parametrize(
    ("value", "text"),
    [("1E-8", "0.00000001"), ("1E+5", "100000"), ("0.50", "0.50"), ("-2.5E-7", "-0.00000025")],
)
def test_decimals_are_fixed_point(value: str, text: str) -> None:
    """Amounts never come out in scientific notation (str(Decimal) would give 1E-8)."""
    assert jsonout.to_jsonable(Decimal(value)) == text


def test_empty_list_is_brackets() -> None:
    """An empty result is `[]`, valid JSON."""
    assert jsonout.dumps_json([]) == "[]"


def test_rows_and_fields() -> None:
    """--fields picks and orders columns; unknown names list what exists."""
    rows = jsonout.to_rows([{"a": 1, "b": 2}, {"a": 3, "c": 4}])
    assert jsonout.select_fields(rows, ["c", "a"]) == [{"c": None, "a": 1}, {"c": 4, "a": 3}]
    with pytest.raises(UsageError) as info:
        jsonout.select_fields(rows, ["zzz"])
    assert info.value.hint == "available: a, b, c"
    assert jsonout.select_fields([], ["x"], known=["x"]) == []
    assert jsonout.parse_fields(" a, b ,") == ["a", "b"]
    with pytest.raises(UsageError):
        jsonout.parse_fields(" , ")


def test_ndjson_one_object_per_line() -> None:
    """ndjson is compact, one object per line."""
    lines = list(jsonout.iter_ndjson([{"p": Decimal("1.5")}, {"p": Decimal("2")}]))
    assert lines == ['{"p":"1.5"}', '{"p":"2"}']


def test_csv_header_and_cells() -> None:
    """csv has a header; None is empty, bools are true/false, nested values compact JSON."""
    rows = [{"a": Decimal("1.0"), "b": None, "c": True, "d": {"k": [1]}}]
    text = jsonout.dumps_csv(jsonout.to_rows(rows), ["a", "b", "c", "d"])
    assert list(csv.reader(io.StringIO(text))) == [
        ["a", "b", "c", "d"],
        ["1.0", "", "true", '{"k":[1]}'],
    ]


def test_single_object_is_one_row() -> None:
    """One dataclass or dict is one row, a list of them many."""
    assert not jsonout.is_collection({"a": 1})
    assert jsonout.is_collection([{"a": 1}])
    assert len(jsonout.to_rows(Fill(Decimal(1), Decimal(1), Side.BUY))) == 1


def test_pretty_json_keeps_number_lists_inline_and_round_trips() -> None:
    """A signature (list of ints) stays on one line; the text parses back to the same data."""
    import json as _json

    data = {"body": {"signature": [1, 2, 255], "ids": ["a", "b"], "empty": [], "obj": {}}}
    text = jsonout.dumps_json(data)
    assert '"signature": [1, 2, 255]' in text
    assert _json.loads(text) == data
    assert jsonout.dumps_json([]) == "[]"
