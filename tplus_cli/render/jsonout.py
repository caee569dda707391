"""Serialise command results for scripts: json, ndjson and csv, plus the shared row model.

`to_jsonable` turns dataclasses (field order kept), mappings, sequences, Decimals (as strings,
never floats), enums, datetimes and bytes (hex) into plain JSON values. Fields named `raw`
(wire models keep the unparsed response there) and fields starting with `_` are omitted.
`select_fields` applies `--fields` for every format; unknown names are a UsageError.
"""

from __future__ import annotations

import csv
import dataclasses
import enum
import io
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from tplus_cli.errors import UsageError

Row = dict[str, Any]
_SKIP = frozenset({"raw"})


def to_jsonable(obj: object) -> Any:
    """Plain JSON data for `obj`; Decimal → str, dataclass → dict (declared order)."""
    if obj is None or isinstance(obj, bool | int | str):
        return obj
    if isinstance(obj, Decimal):
        return plain_decimal(obj)
    if isinstance(obj, float):
        # Money is never a float; if one slips through, keep its exact repr as a string.
        return repr(obj)
    if isinstance(obj, enum.Enum):
        return to_jsonable(obj.value)
    if isinstance(obj, datetime | date):
        return obj.isoformat()
    if isinstance(obj, bytes | bytearray):
        return bytes(obj).hex()
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {
            f.name: to_jsonable(getattr(obj, f.name))
            for f in dataclasses.fields(obj)
            if f.name not in _SKIP and not f.name.startswith("_")
        }
    if isinstance(obj, Mapping):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, Iterable):
        return [to_jsonable(v) for v in obj]
    return str(obj)


def plain_decimal(value: Decimal) -> str:
    """Fixed-point text ("0.00000001", not str()'s "1E-8"), digit for digit; scientific only
    for magnitudes no amount has (beyond 10^±40), so the text stays short."""
    if value.is_finite() and -40 <= value.adjusted() <= 40:
        return format(value, "f")
    return str(value)


def is_collection(data: object) -> bool:
    """Whether `data` is a list of records (vs one object)."""
    return (
        isinstance(data, Iterable)
        and not isinstance(data, str | bytes | bytearray | Mapping)
        and not (dataclasses.is_dataclass(data) and not isinstance(data, type))
    )


def to_rows(data: object) -> list[Row]:
    """Normalise one object or a list of them into a list of dict rows."""
    items = list(data) if is_collection(data) else [data]  # type: ignore[call-overload]
    rows: list[Row] = []
    for item in items:
        value = to_jsonable(item)
        rows.append(value if isinstance(value, dict) else {"value": value})
    return rows


def parse_fields(text: str | None) -> list[str] | None:
    """Split `--fields a,b,c` into names (None when not given)."""
    if text is None:
        return None
    names = [part.strip() for part in text.split(",") if part.strip()]
    if not names:
        raise UsageError("--fields: give at least one field name", hint="e.g. --fields id,price")
    return names


def select_fields(rows: list[Row], fields: Sequence[str], known: Iterable[str] = ()) -> list[Row]:
    """Keep only `fields`, in that order; a name no row (nor `known`) has is a UsageError."""
    available: dict[str, None] = dict.fromkeys(known)
    for row in rows:
        available.update(dict.fromkeys(row))
    unknown = [f for f in fields if f not in available]
    if unknown and (rows or available):
        raise UsageError(
            f"--fields: unknown field {', '.join(unknown)}",
            hint=f"available: {', '.join(available)}",
        )
    return [{f: row.get(f) for f in fields} for row in rows]


def dumps_json(data: object) -> str:
    """Pretty JSON text for any result (Decimals as strings); `[]` for an empty list.

    Lists of plain numbers (signatures, public-key bytes) stay on one line.
    """
    return _pretty(to_jsonable(data), 0)


def _pretty(value: object, level: int) -> str:
    pad, inner = "  " * level, "  " * (level + 1)
    if isinstance(value, dict) and value:
        items = (f"{inner}{_scalar(k)}: {_pretty(v, level + 1)}" for k, v in value.items())
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(value, list) and value:
        if all(isinstance(v, int | float) and not isinstance(v, bool) for v in value):
            return "[" + ", ".join(_scalar(v) for v in value) + "]"
        return "[\n" + ",\n".join(inner + _pretty(v, level + 1) for v in value) + "\n" + pad + "]"
    return _scalar(value)


def _scalar(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


def iter_ndjson(rows: Iterable[object]) -> Iterator[str]:
    """One compact JSON object per line (for streams and `-o ndjson`)."""
    for row in rows:
        yield json.dumps(to_jsonable(row), ensure_ascii=False, separators=(",", ":"))


def _csv_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


def dumps_csv(rows: Sequence[Row], columns: Sequence[str]) -> str:
    """CSV with a header row; nested values are compact JSON; None is empty."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_csv_cell(row.get(c)) for c in columns])
    return buf.getvalue()


def columns_of(rows: Sequence[Row]) -> list[str]:
    """Union of row keys in first-seen order."""
    seen: dict[str, None] = {}
    for row in rows:
        seen.update(dict.fromkeys(row))
    return list(seen)
