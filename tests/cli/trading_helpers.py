"""Helpers shared by the trading command tests: place resting orders far from any market."""

from __future__ import annotations

import csv
import functools
import io
import json
from typing import Any

import pytest

from .conftest import Result, Tplus

# Far from the simulated market (BTC trades near 65,000), so these orders rest untouched.
FAR_BID = "1000"
FAR_ASK = "9000000"


def ok(result: Result) -> Result:
    """Assert a zero exit with a readable failure message."""
    assert result.exit_code == 0, (
        f"exit {result.exit_code}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    )
    return result


def place(tplus: Tplus, args: str = f"BTC buy 0.01 --price {FAR_BID}") -> dict[str, Any]:
    """Place an order and return the -o json acknowledgement."""
    doc = ok(tplus(f"order place {args} -o json")).json()
    assert isinstance(doc, dict)
    return doc


def one_line_error(result: Result, code: int) -> str:
    """Assert exit `code`, no traceback, and one error on stderr: a JSON object line (json
    output, the default when piped) or an 'Error:' line plus an optional hint; return its text."""
    assert result.exit_code == code, f"exit {result.exit_code}: {result.stderr}"
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.strip().splitlines() if line]
    if lines and lines[-1].startswith("{"):
        err = json.loads(lines[-1])["error"]
        assert err["exit_code"] == code
        return str(err["message"])
    errors = [line for line in lines if line.startswith("Error: ")]
    assert len(errors) == 1, result.stderr
    return errors[0]


FORMATS = ("table", "json", "ndjson", "csv")


def records(fmt: str, text: str) -> list[dict[str, Any]]:
    """Parse -o json/ndjson/csv output into records (a json object is one record)."""
    if fmt == "json":
        doc = json.loads(text)
        return doc if isinstance(doc, list) else [doc]
    if fmt == "ndjson":
        return [json.loads(line) for line in text.splitlines()]
    if fmt == "csv":
        return list(csv.DictReader(io.StringIO(text)))
    raise ValueError(f"not a data format: {fmt}")


def has_record(fmt: str, text: str, **expected: str) -> bool:
    """Whether output in any format shows a record with these values (tables: as text)."""
    if fmt == "table":
        return all(value in text for value in expected.values())
    return any(all(str(r.get(k)) == v for k, v in expected.items()) for r in records(fmt, text))


def set_simulator(monkeypatch: pytest.MonkeyPatch, on: bool) -> None:
    """Run the embedded venue with its market simulator on or off for this test.

    Off makes books and fills depend only on the test's own orders; the simulator is a
    wall-clock-driven market maker, so tests that need exact fills turn it off.
    """
    from tplus_cli.venue import embedded

    monkeypatch.setattr(embedded, "open_embedded", functools.partial(_REAL_OPEN, simulate=on))


def _real_open() -> Any:
    from tplus_cli.venue import embedded

    return embedded.open_embedded


_REAL_OPEN = _real_open()
