"""`tplus order …` (and its alias `tplus orders …`) against the embedded venue."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from .conftest import Tplus
from .trading_helpers import (
    FAR_ASK,
    FAR_BID,
    FORMATS,
    has_record,
    ok,
    one_line_error,
    place,
    set_simulator,
)


@pytest.fixture(autouse=True)
def _quiet_venue(monkeypatch: pytest.MonkeyPatch) -> None:
    """The embedded venue without its simulator: books and fills are only these tests'."""
    set_simulator(monkeypatch, on=False)


def test_fresh_machine_place_creates_paper_key_and_succeeds(
    tplus: Tplus, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no config at all (simulator on, as shipped) the quickstart order works, and a
    one-line notice names the new paper key; it rests or fills depending on the market."""
    set_simulator(monkeypatch, on=True)
    result = ok(tplus("order place BTC buy 0.01 --price 65000"))
    doc = json.loads(result.stdout)
    assert len(doc["order_id"]) == 24
    assert (doc["symbol"], doc["side"], doc["type"], doc["tif"]) == ("BTC", "buy", "limit", "gtc")
    assert (Decimal(doc["quantity"]), Decimal(doc["price"])) == (Decimal("0.01"), 65000)
    assert doc["status"] in ("open", "filled", "partially_filled")
    assert Decimal(doc["filled"]) + Decimal(doc["remaining"]) == Decimal("0.01")
    notices = [line for line in result.stderr.splitlines() if "paper key" in line]
    assert len(notices) == 1
    second = ok(tplus(f"order place BTC buy 0.01 --price {FAR_BID}"))
    assert "paper key" not in second.stderr


def test_place_table_output(tplus: Tplus) -> None:
    """The acknowledgement renders as a record table."""
    out = ok(tplus(f"order place BTC buy 0.01 --price {FAR_BID} -o table")).stdout
    assert "order id" in out and "open" in out and FAR_BID in out


def test_client_id_fixes_the_id_and_duplicates_are_rejected(tplus: Tplus) -> None:
    """--client-id is used verbatim; re-using it is a venue rejection (exit 5)."""
    doc = place(tplus, f"BTC buy 0.01 --price {FAR_BID} --client-id my-order-1")
    assert doc["order_id"] == "my-order-1"
    again = tplus(f"order place BTC buy 0.01 --price {FAR_BID} --client-id my-order-1")
    one_line_error(again, 5)
    assert again.error()["code"] == "DUPLICATE_ORDER"


def test_dry_run_prints_the_signed_request_and_sends_nothing(tplus: Tplus) -> None:
    """--dry-run prints {method, path, body} with the signed order; no order is created."""
    result = ok(tplus(f"order place BTC buy 0.01 --price {FAR_BID} --client-id dry-1 --dry-run"))
    req = json.loads(result.stdout)
    assert (req["method"], req["path"]) == ("POST", "/orders/create")
    order = req["body"]["order"]
    assert list(req["body"]) == ["order", "signature", "post_sign_timestamp", "additional_signers"]
    assert order["order_id"] == "dry-1" and order["side"] == "Buy"
    assert order["details"]["Limit"]["limit_price"] == 10000  # 1000 at price decimals 1
    assert order["details"]["Limit"]["quantity"] == 1000  # 0.01 at quantity decimals 5
    assert order["target"] == {"account": 1, "is_spot": True}
    assert len(req["body"]["signature"]) == 64
    assert ok(tplus("order list -o json")).json() == []
    line = ok(tplus(f"order place BTC buy 0.01 --price {FAR_BID} --dry-run -o ndjson")).stdout
    assert len(line.splitlines()) == 1 and json.loads(line)["path"] == "/orders/create"
    assert json.loads(
        ok(tplus(f"order place BTC sell 1 --price {FAR_ASK} --dry-run -o table")).stdout
    )


def test_until_makes_a_gtd_order(tplus: Tplus) -> None:
    """--until 5m gives a GTD order with an expiry; --sub-account picks the target."""
    doc = place(tplus, f"BTC buy 0.01 --price {FAR_BID} --until 5m --sub-account 0")
    assert doc["tif"] == "gtd"
    shown = ok(tplus(f"order show {doc['order_id']} -o json")).json()
    assert shown["tif"] == "gtd" and shown["good_until"] is not None


def test_market_dry_run_and_quote_sizing(tplus: Tplus) -> None:
    """A market order signs Market details; --quote sizes it in quote units at price scale."""
    req = ok(tplus("order place BTC buy 100 --market --quote --dry-run")).json()
    details = req["body"]["order"]["details"]["Market"]
    assert details["quantity"] == {"QuoteAsset": {"quantity": 1000, "max_sellable_quantity": None}}
    req = ok(
        tplus("order place BTC sell 0.5 --market --tif fok --max-slippage 30000 --dry-run")
    ).json()
    details = req["body"]["order"]["details"]["Market"]
    assert details["fill_or_kill"] is True
    assert details["quantity"]["BaseAsset"] == {"quantity": 50000, "max_sellable_amount": 300000}


def test_stop_trigger_is_signed(tplus: Tplus) -> None:
    """--stop-below puts a PriceBelow trigger in the order at book price scale."""
    req = ok(tplus("order place BTC sell 0.01 --market --stop-below 60000.5 --dry-run")).json()
    trigger = req["body"]["order"]["trigger"]
    assert trigger == {"parent_order_id": None, "condition": {"PriceBelow": {"price": 600005}}}


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        ("BTC buy 0.000001 --price 1000", "0.00001"),  # excess quantity precision names the step
        ("BTC buy 0.01 --price 1000.05", "0.1"),  # excess price precision names the tick
        ("BTC buy -0.01 --price 1000", "quantity"),
        ("BTC buy 0.01", "--price"),
        ("BTC buy 0.01 --price 1000 --market", "--price"),
        ("BTC hold 0.01 --price 1000", "buy or sell"),
        ("DOGE buy 1 --price 1", "DOGE"),
        ("BTC buy abc --price 1000", "quantity"),
        ("BTC buy 0.01 --price 1000 --tif gtd", "--until"),
        ("BTC buy 0.01 --price 1000 --until yesterday", "--until"),
        ("BTC buy 0.01 --price 1000 --client-id 0123456789012345678901234", "--client-id"),
    ],
)
def test_bad_place_input_is_exit_2(tplus: Tplus, args: str, needle: str) -> None:
    """Each bad order is refused before sending: one error line naming the problem, exit 2."""
    assert needle in one_line_error(tplus(f"order place {args}"), 2)
    assert one_line_error(tplus(f"order place {args} -o table"), 2)


def test_insufficient_balance_is_a_rejection(tplus: Tplus) -> None:
    """An order the paper balance cannot cover is rejected by the venue: exit 5."""
    one_line_error(tplus("order place BTC buy 1000 --price 60000"), 5)


@pytest.mark.parametrize(
    ("args", "code", "hint"),
    [
        ("order place DOGE buy 1 --price 1", 2, "tplus markets"),
        ("order show nosuchorder", 2, "tplus order list"),
        ("order place BTC buy 1000 --price 60000", 5, "tplus balances"),
    ],
)
def test_actionable_errors_carry_a_hint(tplus: Tplus, args: str, code: int, hint: str) -> None:
    """An error the user can act on says how: the JSON error has a hint, the table form a line."""
    res = tplus(f"{args} -o json")
    assert res.exit_code == code and hint in res.error()["hint"]
    table = tplus(f"{args} -o table")
    assert table.stderr.splitlines()[-1] == f"Hint: {res.error()['hint']}"


def test_list_show_and_filters(tplus: Tplus) -> None:
    """list shows our orders oldest first; --open and --symbol filter; show finds one."""
    first = place(tplus, f"BTC buy 0.01 --price {FAR_BID}")
    second = place(tplus, "ETH sell 0.5 --price 900000")
    rows = ok(tplus("order list -o json")).json()
    ids = [r["order_id"] for r in rows]
    assert ids.index(first["order_id"]) < ids.index(second["order_id"])
    eth = ok(tplus("order list --symbol ETH -o json")).json()
    assert [r["order_id"] for r in eth] == [second["order_id"]]
    assert Decimal(eth[0]["quantity"]) == Decimal("0.5")
    assert (eth[0]["side"], eth[0]["status"]) == ("sell", "open")
    shown = ok(tplus(f"order show {first['order_id']} -o json")).json()
    assert (shown["symbol"], Decimal(shown["price"]), Decimal(shown["filled"])) == ("BTC", 1000, 0)
    ok(tplus(f"order cancel {first['order_id']} -o json"))
    open_ids = [r["order_id"] for r in ok(tplus("order list --open -o json")).json()]
    assert open_ids == [second["order_id"]]


def test_list_formats_and_empty(tplus: Tplus) -> None:
    """Empty json is []; ndjson/csv/table carry the same orders; the alias `orders` works."""
    assert ok(tplus("order list -o json")).stdout.strip() == "[]"
    assert ok(tplus("order list -o ndjson")).stdout == ""
    doc = place(tplus)
    lines = ok(tplus("orders list -o ndjson")).stdout.splitlines()
    assert [json.loads(line)["order_id"] for line in lines] == [doc["order_id"]]
    rows = list(csv.DictReader(io.StringIO(ok(tplus("order list -o csv")).stdout)))
    assert rows[0]["order_id"] == doc["order_id"]
    table = ok(tplus("order list -o table")).stdout
    assert doc["order_id"] in table and "BTC" in table
    picked = ok(tplus("order list -o json --fields order_id,status")).json()
    assert picked == [{"order_id": doc["order_id"], "status": "open"}]


def test_alias_is_hidden_from_help(tplus: Tplus) -> None:
    """`orders` works but only `order` is listed in the top-level help."""
    out = ok(tplus("--help")).stdout
    assert " order " in out and " orders " not in out


def test_cancel_finds_the_market_and_unknown_ids_fail(tplus: Tplus) -> None:
    """cancel without --symbol finds the book; an unknown id is one error line, exit 2."""
    doc = place(tplus)
    res = ok(tplus(f"order cancel {doc['order_id']} -o json")).json()
    assert res == {"order_id": doc["order_id"], "status": "cancelled"}
    one_line_error(tplus("order cancel nosuchorder"), 2)
    one_line_error(tplus("order cancel nosuchorder --symbol BTC"), 2)
    one_line_error(tplus("order show nosuchorder"), 2)


def _terms(row: dict[str, str]) -> tuple[Decimal, Decimal]:
    return Decimal(row["price"]), Decimal(row["quantity"])


def test_replace_fills_unchanged_terms_and_amend_reduces(tplus: Tplus) -> None:
    """replace --price keeps the quantity; amend --qty reduces it; growing via amend is refused."""
    doc = place(tplus, f"BTC buy 0.02 --price {FAR_BID}")
    oid = doc["order_id"]
    replaced = ok(tplus(f"order replace {oid} --price 1100 -o json")).json()
    assert _terms(replaced) == (Decimal("1100"), Decimal("0.02"))
    replaced = ok(tplus(f"order replace {oid} --qty 0.03 --symbol BTC -o json")).json()
    assert _terms(replaced) == (Decimal("1100"), Decimal("0.03"))
    amended = ok(tplus(f"order amend {oid} --qty 0.01 -o json")).json()
    assert _terms(amended) == (Decimal("1100"), Decimal("0.01"))
    one_line_error(tplus(f"order amend {oid} --qty 0.05"), 2)
    one_line_error(tplus(f"order replace {oid}"), 2)
    one_line_error(tplus(f"order replace {oid} --price 1100.01"), 2)


def test_cancel_all_asks_then_reports_each(tplus: Tplus) -> None:
    """Without --yes and no TTY cancel-all refuses (exit 2); with --yes one row per order."""
    ids = {place(tplus)["order_id"], place(tplus, f"BTC sell 0.01 --price {FAR_ASK}")["order_id"]}
    eth = place(tplus, "ETH buy 0.1 --price 10")["order_id"]
    refused = one_line_error(tplus("order cancel-all"), 2)
    assert "Cancel 3 open orders" in refused
    rows = ok(tplus("order cancel-all --symbol BTC --yes -o json")).json()
    assert {r["order_id"] for r in rows} == ids
    assert {r["status"] for r in rows} == {"cancelled"} and {r["symbol"] for r in rows} == {"BTC"}
    open_ids = [r["order_id"] for r in ok(tplus("order list --open -o json")).json()]
    assert open_ids == [eth]
    assert ok(tplus("order cancel-all --side sell --yes -o json")).json() == []
    table = ok(tplus("-y order cancel-all -o table")).stdout
    assert eth in table and "cancelled" in table
    assert ok(tplus("order list --open -o json")).json() == []


def test_cancel_all_side_must_be_buy_or_sell(tplus: Tplus) -> None:
    """--side takes buy or sell only."""
    one_line_error(tplus("order cancel-all --side both --yes"), 2)


def _live_profile(home: Path) -> None:
    config = home / "config"
    config.mkdir(parents=True, exist_ok=True)
    (config / "profiles.toml").write_text(
        'default_profile = "paperlive"\n\n[paperlive]\nendpoint = "embedded"\nlive = true\nkey = "paper"\n'
    )


def test_live_profile_confirms_every_write(tplus: Tplus, sealed_env: Path) -> None:
    """On a live profile a write without --yes (no TTY) is refused; reads are not."""
    ok(tplus(f"order place BTC buy 0.01 --price {FAR_BID} -o json"))  # creates the paper key
    _live_profile(sealed_env)
    message = one_line_error(tplus(f"order place BTC buy 0.01 --price {FAR_BID}"), 2)
    assert "LIVE" in message or "confirm" in message
    ok(tplus("order list -o json"))
    doc = ok(tplus(f"order place BTC buy 0.01 --price {FAR_BID} --yes -o json")).json()
    one_line_error(tplus(f"order cancel {doc['order_id']}"), 2)
    ok(tplus(f"order cancel {doc['order_id']} --yes"))


def test_profile_errors_are_exit_3(tplus: Tplus, sealed_env: Path) -> None:
    """A malformed profiles.toml or an unknown profile: one error line, exit 3."""
    one_line_error(tplus("--profile nosuch order list"), 3)
    config = sealed_env / "config"
    config.mkdir(parents=True, exist_ok=True)
    (config / "profiles.toml").write_text("[broken\nendpoint = 1\n")
    one_line_error(tplus(f"order place BTC buy 0.01 --price {FAR_BID}"), 3)
    one_line_error(tplus("balances"), 3)


def test_amounts_are_exact(tplus: Tplus) -> None:
    """Prices and sizes come back exactly as typed (no float rounding anywhere)."""
    doc = place(tplus, "BTC buy 0.00013 --price 1234.5")
    assert (doc["quantity"], doc["price"]) == ("0.00013", "1234.5")
    row = ok(tplus(f"order show {doc['order_id']} -o json")).json()
    assert (row["price"], row["quantity"]) == ("1234.5", "0.00013")


class _LostCreateReply:
    """An httpx transport over the embedded venue that delivers the first create but loses
    its reply (a read timeout), optionally refusing the follow-up order lookup too. One is
    built per invocation, so later commands in the test see a healthy venue."""

    def __init__(self, inner: Any, refuse_lookup: bool) -> None:
        self.inner = inner
        self.refuse_lookup = refuse_lookup
        self.dropped = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if request.method == "POST" and path == "/orders/create" and not self.dropped:
            await self.inner.handle_async_request(request)  # the venue applies it...
            self.dropped = True
            raise httpx.ReadTimeout("reply lost", request=request)  # ...the answer never arrives
        if self.refuse_lookup and self.dropped and path.startswith("/orders/user/"):
            body = {"error": {"code": "BAD_REQUEST", "message": "lookup refused"}}
            return httpx.Response(400, json=body)
        response: httpx.Response = await self.inner.handle_async_request(request)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


def _lose_create_reply(monkeypatch: pytest.MonkeyPatch, *, refuse_lookup: bool) -> None:
    from tplus_cli.venue.embedded import EmbeddedVenue

    real = EmbeddedVenue.transport

    def lossy(self: EmbeddedVenue) -> Any:
        return _LostCreateReply(real(self), refuse_lookup)

    monkeypatch.setattr(EmbeddedVenue, "transport", lossy)


def test_lost_reply_is_settled_by_lookup_never_resent(
    tplus: Tplus, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A create whose reply is lost is looked up by its fixed id: placed once, exit 0."""
    ok(tplus("balances -o json"))  # create the key and account before the fault
    _lose_create_reply(monkeypatch, refuse_lookup=False)
    doc = place(tplus, f"BTC buy 0.01 --price {FAR_BID} --client-id lost-reply-1")
    assert (doc["order_id"], doc["status"]) == ("lost-reply-1", "open")
    ids = [r["order_id"] for r in ok(tplus("order list -o json")).json()]
    assert ids == ["lost-reply-1"]


def test_unconfirmable_create_is_exit_8_with_the_order_id(
    tplus: Tplus, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reply lost and the lookup fails: exit 8 naming the order id, and nothing re-sent."""
    ok(tplus("balances -o json"))
    _lose_create_reply(monkeypatch, refuse_lookup=True)
    result = tplus(f"order place BTC buy 0.01 --price {FAR_BID} --client-id unsure-1")
    one_line_error(result, 8)
    err = result.error()
    assert err["details"]["order_id"] == "unsure-1" and "unsure-1" in err["hint"]
    ids = [r["order_id"] for r in ok(tplus("order list -o json")).json()]
    assert ids == ["unsure-1"]  # it did land, exactly once


@pytest.mark.parametrize("fmt", FORMATS)
def test_single_order_commands_in_every_format(tplus: Tplus, fmt: str) -> None:
    """place, show, replace, amend, cancel and cancel-all render in table/json/ndjson/csv."""
    oid = f"fmt-{fmt}"
    out = ok(tplus(f"order place BTC buy 0.02 --price {FAR_BID} --client-id {oid} -o {fmt}"))
    assert has_record(fmt, out.stdout, order_id=oid, symbol="BTC")
    assert has_record(fmt, ok(tplus(f"order show {oid} -o {fmt}")).stdout, order_id=oid)
    out = ok(tplus(f"order replace {oid} --price 1100 -o {fmt}"))
    assert has_record(fmt, out.stdout, order_id=oid, price="1100.0")
    out = ok(tplus(f"order amend {oid} --qty 0.01 -o {fmt}"))
    assert has_record(fmt, out.stdout, order_id=oid, quantity="0.01000")
    out = ok(tplus(f"order cancel {oid} -o {fmt}"))
    assert has_record(fmt, out.stdout, order_id=oid, status="cancelled")
    place(tplus, f"BTC sell 0.01 --price {FAR_ASK} --client-id all-{fmt}")
    out = ok(tplus(f"order cancel-all --yes -o {fmt}"))
    assert has_record(fmt, out.stdout, order_id=f"all-{fmt}", status="cancelled")


@pytest.mark.parametrize(
    ("args", "code"),
    [
        ("BTC buy 0.01 --price 5000 --post-only", "POST_ONLY_WOULD_CROSS"),
        ("BTC buy 0.01 --price 4000 --tif fok", "FOK_NOT_FILLED"),
        ("BTC buy 0.01 --price 4000 --reduce-only", "REDUCE_ONLY_NO_POSITION"),
    ],
)
def test_venue_rejections_are_exit_5_with_the_code(tplus: Tplus, args: str, code: str) -> None:
    """Orders the venue refuses exit 5; the JSON error carries the reject code and order id."""
    place(tplus, "BTC sell 0.01 --price 5000")
    result = tplus(f"order place {args}")
    one_line_error(result, 5)
    err = result.error()
    assert err["code"] == code and err["details"]["order_id"]


def test_market_order_with_no_liquidity_says_so(tplus: Tplus) -> None:
    """A market order on an empty book ends unfilled: exit 0, status cancelled, a notice."""
    result = ok(tplus("order place BTC buy 0.01 --market -o json"))
    doc = result.json()
    assert (doc["status"], Decimal(doc["filled"])) == ("cancelled", 0)
    assert "nothing filled" in result.stderr


def test_watch_flags_hand_over_to_the_live_views(
    tplus: Tplus, monkeypatch: pytest.MonkeyPatch
) -> None:
    """book --watch and order list --watch call the live-view entry points with the args."""
    from tplus_cli.commands import book_watch

    calls: list[tuple[str, object, object]] = []
    monkeypatch.setattr(book_watch, "run_watch", lambda rt, s, d: calls.append(("book", s, d)))
    monkeypatch.setattr(
        book_watch, "run_orders_watch", lambda rt, s: calls.append(("orders", s, None))
    )
    ok(tplus("book ETH --watch --depth 7"))
    ok(tplus("order list --watch --symbol SOL"))
    assert calls == [("book", "ETH", 7), ("orders", "SOL", None)]


class _RefuseOneCancel:
    """An httpx transport over the embedded venue that refuses cancels of one order id."""

    def __init__(self, inner: Any, order_id: str) -> None:
        self.inner = inner
        self.order_id = order_id

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "DELETE" and request.url.path == "/orders/cancel":
            body = json.loads(await request.aread())
            if body["cancel"]["order_id"] == self.order_id:
                error = {"code": "ORDER_LOCKED", "message": "being matched", "retryable": False}
                return httpx.Response(409, json={"error": error})
        response: httpx.Response = await self.inner.handle_async_request(request)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


def test_cancel_all_reports_each_result_and_exits_5_on_any_failure(
    tplus: Tplus, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One refused cancel: every order still gets a row, the failure names why, exit 5."""
    from tplus_cli.venue.embedded import EmbeddedVenue

    place(tplus, f"BTC buy 0.01 --price {FAR_BID} --client-id stays")
    place(tplus, f"BTC buy 0.01 --price {FAR_BID} --client-id goes")
    real = EmbeddedVenue.transport
    monkeypatch.setattr(EmbeddedVenue, "transport", lambda v: _RefuseOneCancel(real(v), "stays"))
    result = tplus("order cancel-all --yes -o json")
    assert result.exit_code == 5
    rows = {r["order_id"]: r for r in json.loads(result.stdout)}
    assert rows["goes"]["status"] == "cancelled" and rows["goes"]["error"] is None
    assert rows["stays"]["status"] == "failed" and "being matched" in rows["stays"]["error"]
    err = result.error()
    assert err["code"] == "CANCEL_FAILED" and err["details"]["order_ids"] == ["stays"]
    table = tplus("order cancel-all --yes -o table")
    assert table.exit_code == 5 and "being matched" in table.stdout
