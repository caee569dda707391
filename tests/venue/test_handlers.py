"""Venue.handle end to end without sockets: routing, shapes tpluspy parses, the order flow."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from service_helpers import BTC, T0, Caller, error_code

from tplus_cli.client import signing
from tplus_cli.venue.auth import canonical_user
from tplus_cli.venue.clock import StepClock
from tplus_cli.venue.context import paginate
from tplus_cli.venue.handlers import Venue
from tplus_cli.venue.protocol import ApiRequest, ApiResponse
from tplus_cli.venue.streams import Subscription

USDC_18 = 10**18


def get(venue: Venue, path: str, **query: str) -> ApiResponse:
    return venue.handle(ApiRequest("GET", path, query, {}, b""))


def test_health(venue: Venue) -> None:
    resp = get(venue, "/health")
    assert resp.status == 200 and resp.json()["status"] == "ok"


def test_unknown_path_and_wrong_method_use_the_envelope(venue: Venue) -> None:
    resp = get(venue, "/no/such/thing")
    assert (resp.status, error_code(resp)) == (404, "ROUTE_NOT_FOUND")
    resp = venue.handle(ApiRequest("POST", "/markets", {}, {}, b"{}"))
    assert (resp.status, error_code(resp)) == (405, "METHOD_NOT_ALLOWED")


def test_malformed_json_body_is_a_400(alice: Caller) -> None:
    resp = alice.venue.handle(
        ApiRequest(
            "POST", "/orders/create", {}, {k.lower(): v for k, v in alice.headers.items()}, b"{nope"
        )
    )
    assert (resp.status, error_code(resp)) == (400, "INVALID_REQUEST")


def test_market_has_what_every_order_call_needs(venue: Venue) -> None:
    market = get(venue, f"/market/{BTC}").json()
    assert (
        market["asset_id"],
        market["book_price_decimals"],
        market["book_quantity_decimals"],
    ) == (
        "2",
        1,
        5,
    )
    assert get(venue, "/market/0002").json()["asset_id"] == "2"
    resp = get(venue, "/market/99")
    assert (resp.status, error_code(resp)) == (404, "MARKET_NOT_FOUND")
    resp = get(venue, "/market/BTC-PERP")
    assert (resp.status, error_code(resp)) == (404, "MARKET_NOT_FOUND")


def test_markets_page_with_symbol_map(venue: Venue) -> None:
    page = get(venue, "/markets", include_symbol_map="true", page="0", limit="2").json()
    assert [m["asset_id"] for m in page["markets"]] == ["1", "2"]
    assert page["symbol_map"]["0"]["symbol"] == "USDC"
    assert (page["total_markets"], page["has_next_page"], page["next_page"]) == (3, True, 1)
    assert get(venue, "/markets").json()["symbol_map"] is None


def test_new_account_is_funded_on_first_login(alice: Caller) -> None:
    spot = alice.inventory()["accounts"]["0"]["spot"]
    assert int(spot["0"]) == 100_000 * USDC_18


def test_order_lifecycle_create_replace_amend_cancel(clock: StepClock, alice: Caller) -> None:
    resp = alice.create(price=600_000, quantity=2_000, order_id="life-1")
    assert resp.status == 200
    ack = resp.json()
    assert ack == {
        "order_id": "life-1",
        "status": "Received",
        "reason": None,
        "processed_at_ns": T0,
    }
    rows = alice.orders(open_only=True)
    assert [(r["order_id"], r["limit_price"], r["quantity"], r["status"]) for r in rows] == [
        ("life-1", "600000", "2000", "Open")
    ]
    page = alice.send("GET", f"/orders/user/{alice.pk}", query={"page": "0", "limit": "100"}).json()
    assert [o["order_id"] for o in page["orders"]] == ["life-1"] and page["total_orders"] == 1

    clock.advance(10**9)
    body = alice.replace_body("life-1", price=600_500, quantity=1_500)
    assert alice.send("PATCH", "/orders/replace", body).json()["status"] == "Received"
    assert alice.orders()[0]["limit_price"] == "600500"

    amend = signing.amend_body(
        order_id="life-1",
        base_asset=BTC,
        new_quantity=1_000,
        book_quantity_decimals=5,
        expected_authorization_revision=body["request"]["timestamp_ns"],
        timestamp_ns=alice.now,
        user_id=alice.pk,
    )
    assert alice.send("PATCH", "/orders/amend", amend).status == 200
    assert alice.orders()[0]["quantity"] == "1000"

    assert alice.cancel("life-1").json()["status"] == "Received"
    assert alice.orders(open_only=True) == []
    assert error_code(alice.cancel("life-1")) == "ORDER_NOT_FOUND"


def test_engine_rejects_come_back_as_order_rejected_codes(alice: Caller) -> None:
    resp = alice.create(quantity=10**12)  # far more BTC notional than the account holds
    assert resp.status == 400
    assert error_code(resp).startswith("INSUFFICIENT")
    assert resp.json()["error"]["details"]["order_id"]


def test_batch_create_reports_each_item_with_a_reason(alice: Caller) -> None:
    good = alice.limit_body(order_id="b-good")
    bad = alice.limit_body(order_id="b-bad")
    bad["signature"] = [0] * 64
    resp = alice.send("POST", "/orders/batch-create", {"orders": [good, bad]})
    assert resp.json() == {
        "results": [
            {"order_id": "b-good", "status": "Received", "reason": None},
            {"order_id": "b-bad", "status": "Rejected", "reason": "INVALID_SIGNATURE"},
        ]
    }
    assert [o["order_id"] for o in alice.orders()] == ["b-good"]


def test_batch_replace_refuses_a_repeated_id(clock: StepClock, alice: Caller) -> None:
    alice.create(order_id="r1")
    clock.advance(10**9)
    item = alice.replace_body("r1", price=600_100, quantity=1_000)
    resp = alice.send("PATCH", "/orders/batch-replace", {"replaces": [item, item]})
    assert (resp.status, error_code(resp)) == (400, "INVALID_REQUEST")


def test_a_cross_trades_and_shows_in_public_and_user_history(
    venue: Venue, alice: Caller, bob: Caller
) -> None:
    assert alice.create(side="sell", price=650_000, quantity=1_000, order_id="ask").status == 200
    depth = get(venue, f"/marketdepth/{BTC}").json()
    assert depth["asks"] == [["65000.0", "0.01000"]] and depth["bids"] == []
    assert bob.create(side="buy", price=650_000, quantity=400, order_id="bid").status == 200

    trades = get(venue, f"/trades/{BTC}").json()
    assert isinstance(trades, list) and len(trades) == 1
    assert (trades[0]["price"], trades[0]["quantity"], trades[0]["buyer_is_maker"]) == (
        "65000.0",
        "0.00400",
        False,
    )
    assert get(venue, "/trades").json() == trades
    mine = bob.send("GET", f"/trades/user/{bob.pk}").json()
    assert [(t["order_id"], t["is_buyer"], t["is_maker"]) for t in mine["trades"]] == [
        ("bid", True, False)
    ]
    assert get(venue, f"/ticker/{BTC}").json()["last_price"] == "65000.0"
    assert isinstance(get(venue, "/tickers").json(), list)
    assert isinstance(get(venue, "/openinterest").json(), list)
    assert get(venue, f"/klines/{BTC}", interval="1").status == 200


def test_transfer_moves_balance_between_sub_accounts(alice: Caller) -> None:
    resp = alice.send("POST", "/account/transfer/sub-account", alice.transfer_body(5 * USDC_18, 1))
    assert resp.status == 200, resp.body
    accounts = alice.inventory()["accounts"]
    assert int(accounts["0"]["spot"]["0"]) == (100_000 - 5) * USDC_18
    assert int(accounts["1"]["spot"]["0"]) == (100_000 + 5) * USDC_18


def test_per_user_reads_have_the_shapes_tpluspy_parses(alice: Caller) -> None:
    pk = alice.pk
    assert alice.orders() == []
    assert "accounts" in alice.send("GET", f"/solvency/user/{pk}").json()
    margin = alice.send("GET", f"/margin/user/{pk}", query={"sub_account": "1"}).json()
    assert set(margin["accounts"]) == {"1"}
    positions = alice.send("GET", f"/positions/{pk}").json()
    assert positions["positions"] == [] and positions["has_next_page"] is False
    assert alice.send("GET", f"/positions/close-all/{pk}/1").json()["orders"] == []
    config = alice.send("GET", f"/multisig/config/{pk}").json()
    assert config["master_weight"] == 1 and config["signers"] == []
    assert alice.send("POST", "/multisig/signers", {"Ed25519": [0] * 32}).json() == []
    assert alice.send("GET", "/registry/assets").json()["2"]["symbol"] == "BTC"


def test_malformed_user_key_is_user_not_found(alice: Caller) -> None:
    resp = alice.send("GET", "/inventory/user/not-a-key")
    assert (resp.status, error_code(resp)) == (404, "USER_NOT_FOUND")


def test_streams_need_auth_and_map_to_channels(venue: Venue, alice: Caller, bob: Caller) -> None:
    assert isinstance(refused := venue.open_stream("/orders", {}), ApiResponse)
    assert refused.status == 401
    headers = {k.lower(): v for k, v in alice.headers.items()}
    sub = venue.open_stream("/orders", headers)
    assert isinstance(sub, Subscription) and sub.channels == (f"orders/{alice.pk}",)
    other = venue.open_stream(f"/trades/user/{bob.pk}", headers)
    assert isinstance(other, ApiResponse) and other.status == 403
    positions = venue.open_stream(f"/positions/ws/{alice.pk}", headers)
    assert isinstance(positions, Subscription) and positions.channels == (f"positions/{alice.pk}",)
    own = venue.open_stream(f"/trades/user/{alice.pk}", headers)
    assert isinstance(own, Subscription) and own.finalized_only
    depth = venue.open_stream("/marketdepth/diff/0002", {})
    assert isinstance(depth, Subscription) and depth.channels == ("depth/2",)
    missing = venue.open_stream("/marketdepth/diff/99", {})
    assert isinstance(missing, ApiResponse) and missing.status == 404
    tickers = venue.open_stream("/tickers/ws", {})
    assert isinstance(tickers, Subscription) and tickers.frame({"a": 1}) == '[{"a":1}]'
    assert isinstance(venue.open_stream("/nope", {}), ApiResponse)


# ---------------------------------------------------------------------- pure helpers


@given(st.lists(st.integers(), max_size=60), st.integers(1, 25))
def test_pages_partition_the_items_and_describe_themselves(items: list[int], limit: int) -> None:
    pages, page = [], 0
    while True:
        chunk, meta = paginate(items, page, limit)
        assert (meta["page"], meta["limit"], meta["cursor_size"]) == (page, limit, len(chunk))
        pages.append(chunk)
        if not meta["has_next_page"]:
            assert meta["next_page"] is None
            break
        assert meta["next_page"] == page + 1 and len(chunk) == limit
        page += 1
    assert [x for chunk in pages for x in chunk] == items
    assert meta["total_pages"] == (len(items) + limit - 1) // limit


@given(st.binary(min_size=32, max_size=32), st.sampled_from(["", "0x", "0X"]), st.booleans())
def test_account_keys_canonicalize_to_64_lowercase_hex(
    raw: bytes, prefix: str, upper: bool
) -> None:
    text = raw.hex().upper() if upper else raw.hex()
    assert canonical_user(prefix + text) == raw.hex()


@given(st.text(max_size=70))
def test_anything_else_is_not_an_account_key(text: str) -> None:
    stripped = text.strip()
    body = stripped[2:] if stripped[:2] in ("0x", "0X") else stripped
    is_key = len(body) == 64 and all(c in "0123456789abcdefABCDEF" for c in body)
    assert (canonical_user(text) is not None) == is_key
