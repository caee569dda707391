"""The Exchange state machine: wire events, acks and errors, queries, snapshots and replay."""

from __future__ import annotations

import json
from typing import Any

import pytest
from core_helpers import (
    BTC,
    E18,
    T0,
    A,
    B,
    C,
    amend,
    cancel,
    close_position,
    funded,
    held,
    limit,
    market,
    ok,
    payloads,
    replace,
    spot,
    transfer,
    variants,
)

from tplus_cli.venue.commands import Command, CreateOrder, EnsureUser, Tick, command_from_dict
from tplus_cli.venue.exchange import Exchange, NotFound, http_status

ORDER_RESPONSE_REQUIRED = {
    "order_id",
    "base_asset",
    "side",
    "limit_price",
    "quantity",
    "amount",
    "max_sellable_amount",
    "max_sellable_quantity",
    "confirmed_filled_quantity",
    "pending_filled_quantity",
    "confirmed_filled_amount",
    "pending_filled_amount",
    "confirmed_trading_fees_amount",
    "pending_trading_fees_amount",
    "good_until_timestamp_ns",
    "timestamp_ns",
    "status",
    "trigger_above_price",
    "trigger_below_price",
    "last_update_timestamp_ns",
}
USER_TRADE_KEYS = {
    "asset_id",
    "trade_id",
    "order_id",
    "price",
    "quantity",
    "timestamp_ns",
    "is_maker",
    "is_buyer",
    "status",
    "rollback_reason",
    "is_liquidation",
    "is_auto_deleverage",
    "sub_account",
    "trading_fee",
}


def test_markets_and_symbol_map() -> None:
    ex = Exchange()
    page = ex.markets_json(include_symbol_map=True)
    assert [m["asset_id"] for m in page["markets"]] == ["1", "2", "3"]
    assert {k: v["symbol"] for k, v in page["symbol_map"].items()} == {
        "0": "USDC",
        "1": "ETH",
        "2": "BTC",
        "3": "SOL",
    }
    assert page["total_markets"] == 3 and page["has_next_page"] is False
    btc = ex.market_json(BTC)
    assert (btc["book_price_decimals"], btc["book_quantity_decimals"]) == (1, 5)
    assert (btc["tick_size"], btc["min_order_size"]) == ("0.1", "0.00010")
    assert btc["fee_schedule"]["global"][0]["taker_fee_rate"] == 500
    assert (
        ex.markets_json(include_symbol_map=False, page=1, limit=2)["markets"][0]["asset_id"] == "3"
    )
    with pytest.raises(NotFound) as info:
        ex.market_json("9")
    assert info.value.code == "MARKET_NOT_FOUND"


def test_unknown_user_reads_raise_user_not_found() -> None:
    ex = Exchange()
    for query in (ex.inventory_json, ex.solvency_json, ex.user_orders_json, ex.margin_json):
        with pytest.raises(NotFound) as info:
            query(A)
        assert info.value.code == "USER_NOT_FOUND"
    result = ex.apply(limit(A, "x", "Buy", 650000, 1000))
    assert result.error is not None and result.error[:2] == (404, "USER_NOT_FOUND")


def test_create_rests_and_echoes_the_signed_order() -> None:
    ex = funded(A)
    cmd = limit(A, "o1", "Buy", 640000, 50000)
    result = ok(ex.apply(cmd))
    assert result.ack == {
        "order_id": "o1",
        "status": "Received",
        "reason": None,
        "processed_at_ns": T0,
    }
    (created,) = payloads(result, f"orders/{A}")
    assert created["Created"]["user_order"] == dict(cmd.order)
    assert created["Created"]["signature"] == list(cmd.signature)
    assert payloads(result, f"depth/{BTC}") == [
        {"bids": [["64000.0", "0.50000"]], "asks": [], "sequence_number": 1}
    ]
    assert ex.book_json(BTC) == {"asks": [], "bids": [["64000.0", "0.50000"]], "sequence_number": 1}
    (row,) = ex.user_orders_json(A)
    assert ORDER_RESPONSE_REQUIRED <= row.keys()
    assert (row["limit_price"], row["quantity"], row["status"]) == ("640000", "50000", "Open")


def test_trade_moves_money_collects_fees_and_reports_both_sides() -> None:
    ex = funded(A, B)
    ok(ex.apply(limit(A, "ask", "Sell", 650000, 100000)))  # 1 BTC at 65000.0
    result = ok(ex.apply(limit(B, "bid", "Buy", 660000, 40000)))  # takes 0.4 BTC
    (trade,) = payloads(result, f"trades/{BTC}")
    assert trade == {
        "asset_id": BTC,
        "trade_id": 1,
        "order_id": "bid",
        "price": "65000.0",
        "quantity": "0.40000",
        "timestamp_ns": T0,
        "buyer_is_maker": False,
        "status": "Confirmed",
    }
    maker_frames = payloads(result, f"user_trades/{A}")
    assert [f["status"] for f in maker_frames] == ["Pending", "Confirmed"]
    assert maker_frames[1].keys() == USER_TRADE_KEYS
    assert (maker_frames[1]["is_maker"], maker_frames[1]["is_buyer"]) == (True, False)
    assert maker_frames[1]["trading_fee"] == "5.2"  # 26000 USDC * 200 ppm
    assert payloads(result, f"user_trades/{B}")[1]["trading_fee"] == "13"  # 500 ppm
    assert variants(result, B) == ["Created", "Removed"]
    notional = 26_000 * E18
    assert spot(ex, B, 1, "0") == 100_000 * E18 - notional - 13 * E18
    assert spot(ex, B, 1, BTC) == E18 + 4 * E18 // 10
    assert spot(ex, A, 1, "0") == 100_000 * E18 + notional - 52 * E18 // 10
    assert held(ex, A, 1, BTC) == 6 * E18 // 10
    assert ex.conservation()["0"][0] == ex.conservation()["0"][1]
    assert ex.ledger.fees["0"] == 13 * E18 + 52 * E18 // 10
    (row,) = ex.user_orders_json(A)
    assert row["confirmed_filled_amount"] == "260000"  # price scale: 26000.0
    assert row["confirmed_trading_fees_amount"] == "52"
    history = ex.user_trades_json(B)
    assert history["trades"][0]["is_buyer"] is True and history["has_next_page"] is False
    assert ex.trades_json(BTC) == [trade]


def _with(command: CreateOrder, **changes: Any) -> CreateOrder:
    return CreateOrder(command.ts_ns, {**command.order, **changes}, command.signature)


@pytest.mark.parametrize(
    ("command", "status", "code"),
    [
        (
            _with(limit(A, "x", "Buy", 650000, 1000), book_price_decimals=2),
            400,
            "INVALID_ORDER_DECIMALS",
        ),
        (
            _with(limit(A, "x", "Buy", 650000, 1000), protocol_version=2),
            400,
            "INVALID_ORDER_PROTOCOL_VERSION",
        ),
        (_with(limit(A, "x", "Buy", 650000, 1000), base_asset="9"), 404, "MARKET_NOT_FOUND"),
        (_with(limit(A, "x", "Buy", 650000, 1000), side="Ask"), 400, "INVALID_ORDER_SIDE"),
        (limit(A, "x", "Buy", 650000, 1000, max_fee=100), 400, "INVALID_ORDER_FEE_RATE"),
        (limit(A, "x", "Buy", 650000, 5), 400, "INVALID_ORDER_QUANTITY"),
        (limit(A, "x", "Buy", 650000, 200_000), 400, "INSUFFICIENT_MARGIN_BALANCE"),
        (limit(A, "x", "Sell", 650000, 200_000), 400, "INSUFFICIENT_MARGIN_BALANCE"),
        (_with(limit(A, "x", "Buy", 650000, 1000), order_id="x" * 25), 400, "INVALID_ORDER_ID"),
        (limit(A, "x", "Buy", 650000, 1000, reduce_only=True), 400, "REDUCE_ONLY_NO_POSITION"),
        (
            market(A, "x", "Sell", base=1000, reduce_only=True, target=(1, False)),
            400,
            "REDUCE_ONLY_NO_POSITION",
        ),
    ],
)
def test_rejections_carry_codes_acks_and_create_failed(
    command: Command, status: int, code: str
) -> None:
    ex = funded(A)
    result = ex.apply(command)
    assert result.error is not None and result.error[:2] == (status, code)
    assert result.ack is not None and result.ack["status"] == "Rejected"
    assert result.ack["reason"] == code
    assert variants(result, A) == ["CreateFailed"]
    assert ex.user_orders_json(A) == []


def test_post_only_pays_maker_rate_so_a_lower_fee_cap_is_enough() -> None:
    ex = funded(A)
    ok(ex.apply(limit(A, "x", "Buy", 650000, 1000, post_only=True, max_fee=200)))
    refused = ex.apply(limit(A, "y", "Buy", 650000, 1000, max_fee=200))
    assert refused.error is not None and refused.error[1] == "INVALID_ORDER_FEE_RATE"


def test_duplicate_order_id_is_refused_across_markets() -> None:
    ex = funded(A)
    ok(ex.apply(limit(A, "same", "Buy", 640000, 1000)))
    result = ex.apply(limit(A, "same", "Buy", 300000, 1000, asset="1"))
    assert result.error is not None and result.error[1] == "DUPLICATE_ORDER"


def test_holds_prevent_spending_twice_and_cancel_releases_them() -> None:
    ex = funded(A)
    # 1.5 BTC at 60000.0 = 90000 USDC + 18 USDC maker fee reserve
    ok(ex.apply(limit(A, "big", "Buy", 600000, 150000)))
    assert held(ex, A, 1, "0") == 90_018 * E18
    again = ex.apply(limit(A, "more", "Buy", 600000, 20000))
    assert again.error is not None and again.error[1] == "INSUFFICIENT_MARGIN_BALANCE"
    result = ok(ex.apply(cancel(A, "big")))
    assert result.ack is not None and result.ack["status"] == "Received"
    assert variants(result, A) == ["Removed"]
    assert payloads(result, f"orders/{A}")[0]["Removed"]["reason"] == "Canceled"
    assert held(ex, A, 1, "0") == 0
    ok(ex.apply(limit(A, "more", "Buy", 600000, 20000)))


def test_cancel_of_unknown_order_is_404_with_cancel_failed() -> None:
    ex = funded(A)
    result = ex.apply(cancel(A, "nope"))
    assert result.error is not None and result.error[:2] == (404, "ORDER_NOT_FOUND")
    assert variants(result, A) == ["CancelFailed"]
    assert ex.apply(cancel(A, "nope", asset="77")).error[1] == "MARKET_NOT_FOUND"  # type: ignore[index]


def test_replace_and_amend_carry_revisions() -> None:
    ex = funded(A)
    ok(ex.apply(limit(A, "o", "Buy", 600000, 10000)))
    result = ok(ex.apply(replace(A, "o", 610000, 20000, revision=T0 + 5)))
    assert payloads(result, f"orders/{A}") == [
        {
            "Replaced": {
                "order_id": "o",
                "asset_id": BTC,
                "user_id": A,
                "new_quantity": 20000,
                "new_price": 610000,
                "timestamp_ns": T0,
                "authorization_revision": T0 + 5,
            }
        }
    ]
    stale = ex.apply(amend(A, "o", 15000, expected=None, revision=T0 + 6))
    assert stale.error is not None and stale.error[:2] == (409, "ORDER_REJECTED_STALE_REVISION")
    assert variants(stale, A) == ["AmendFailed"]
    result = ok(ex.apply(amend(A, "o", 15000, expected=T0 + 5, revision=T0 + 6)))
    amended = payloads(result, f"orders/{A}")[0]["Amended"]
    assert (amended["new_quantity"], amended["remaining_quantity"]) == (15000, 15000)
    assert amended["authorization_revision"] == T0 + 6
    assert ex.user_orders_json(A)[0]["authorization_revision"] == T0 + 6
    replay = ex.apply(replace(A, "o", 600000, 10000, revision=T0 + 5))
    assert replay.error is not None and replay.error[1] == "ORDER_REJECTED_STALE_REVISION"
    assert held(ex, A, 1, "0") == 9_150 * E18 * 1_000_200 // 1_000_000  # + 200 ppm maker fee


def test_gtd_expires_on_tick_with_removed_and_depth_diff() -> None:
    ex = funded(A)
    ok(ex.apply(limit(A, "g", "Buy", 600000, 1000, gtd=T0 + 10)))
    assert payloads(ex.apply(Tick(T0 + 9)), f"orders/{A}") == []
    result = ex.apply(Tick(T0 + 10))
    assert payloads(result, f"orders/{A}")[0]["Removed"]["reason"] == "Expired"
    assert payloads(result, f"depth/{BTC}")[0]["bids"] == [["60000.0", "0.00000"]]
    assert ex.user_orders_json(A)[0]["status"] == "Expired"
    assert held(ex, A, 1, "0") == 0


def test_stop_order_triggers_on_trade() -> None:
    ex = funded(A, B, C)
    ok(ex.apply(limit(C, "bid", "Buy", 600000, 50000)))
    ok(ex.apply(market(A, "stop", "Sell", base=10000, trigger=("PriceBelow", 640000))))
    assert ex.user_orders_json(A)[0]["status"] == "Pending"
    ok(ex.apply(limit(B, "s", "Sell", 640000, 1000)))
    result = ok(ex.apply(limit(C, "b2", "Buy", 640000, 1000)))
    assert variants(result, A) == ["Triggered", "Removed"]
    assert payloads(result, f"orders/{A}")[1]["Removed"]["reason"] == "Completed"
    assert ex.user_orders_json(A)[0]["trigger_touched"] is True


def test_transfer_moves_balance_and_checks_nonce() -> None:
    ex = funded(A)
    result = ok(ex.apply(transfer(A, 0, 1, "0", 500 * E18, nonce=7)))
    event = payloads(result, f"account/{A}")[0]["SubAccountAssetTransferred"]
    assert (event["amount"], event["source_sub_account_index"]) == (str(500 * E18), 0)
    assert spot(ex, A, 1, "0") == 100_500 * E18
    replay = ex.apply(transfer(A, 0, 1, "0", 1, nonce=7))
    assert replay.error is not None and replay.error[1] == "NONCE_INVALID"
    poor = ex.apply(transfer(A, 0, 1, "0", 10**30, nonce=8))
    assert poor.error is not None and poor.error[1] == "INSUFFICIENT_BALANCE"
    ok(ex.apply(transfer(A, 1, 5, "2", E18, nonce=9)))
    assert spot(ex, A, 5, BTC) == E18


def test_margin_position_reduce_only_and_close() -> None:
    ex = funded(A, B)
    ok(ex.apply(limit(B, "ask", "Sell", 650000, 100000)))
    opened = ok(ex.apply(market(A, "long", "Buy", base=50000, target=(1, False))))
    (update,) = payloads(opened, f"positions/{A}")
    assert update["user_id"] == A and update["positions"][0]["side"] == "long"
    assert payloads(opened, f"positions/{B}") == []  # B traded spot
    (position,) = ex.positions_json(A)["positions"]
    assert (position["side"], position["size"], position["entry_price"]) == (
        "long",
        "0.50000",
        "65032.5",  # the fee is part of the break-even entry
    )
    too_much = ex.apply(market(A, "r1", "Sell", base=60000, target=(1, False), reduce_only=True))
    assert too_much.error is not None and too_much.error[1] == "REDUCE_ONLY_EXCEEDS_POSITION"
    wrong = ex.apply(market(A, "r2", "Buy", base=1000, target=(1, False), reduce_only=True))
    assert wrong.error is not None and wrong.error[1] == "REDUCE_ONLY_WOULD_INCREASE"
    not_flat = ex.apply(close_position(A, 1, BTC, nonce=1))
    assert not_flat.error is not None and not_flat.error[1] == "POSITION_NOT_FLAT"
    ok(ex.apply(limit(B, "bid", "Buy", 660000, 50000)))
    ok(ex.apply(market(A, "r3", "Sell", base=50000, target=(1, False), reduce_only=True)))
    assert ex.positions_json(A)["positions"][0]["side"] == "closed"
    before = spot(ex, A, 1, "0")
    result = ok(ex.apply(close_position(A, 1, BTC, nonce=2)))
    assert next(iter(payloads(result, f"account/{A}")[0])) == "PositionCleared"
    # bought 0.5 @65000 (taker 16.25 fee), sold 0.5 @66000 (taker 16.5): +500 - 32.75
    assert spot(ex, A, 1, "0") - before == 46_725 * E18 // 100
    assert ex.positions_json(A)["positions"] == []
    margin = ex.margin_json(A, 1, include_positions=True)["accounts"]["1"]
    assert margin["is_solvent"] is True and margin["positions"] == []
    assert all(a == b for a, b in ex.conservation().values())


def test_close_all_preview_lists_reduce_only_orders() -> None:
    ex = funded(A, B)
    ok(ex.apply(limit(B, "bid", "Buy", 650000, 100000)))
    ok(ex.apply(market(A, "short", "Sell", base=20000, target=(1, False))))
    (order,) = ex.close_all_json(A, 1)["orders"]
    assert (order["side"], order["quantity"], order["reduce_only"]) == ("Buy", 20000, True)
    assert ex.open_interest_json(BTC)["short"] == "0.20000"


def test_depth_diffs_rebuild_the_book() -> None:
    ex = funded(A, B, C)
    start = ex.book_json(BTC)
    book: dict[str, dict[str, str]] = {"bids": {}, "asks": {}}
    seq = start["sequence_number"]
    commands = [
        limit(A, "a1", "Sell", 651000, 3000),
        limit(B, "b1", "Buy", 649000, 5000),
        limit(C, "a2", "Sell", 651000, 2000),
        limit(B, "b2", "Buy", 651000, 4000),
        cancel(B, "b1"),
        market(C, "m", "Buy", base=1000),
    ]
    for command in commands:
        for diff in payloads(ok(ex.apply(command)), f"depth/{BTC}"):
            assert diff["sequence_number"] == seq + 1
            seq = diff["sequence_number"]
            for side in ("bids", "asks"):
                for price, qty in diff[side]:
                    if float(qty) == 0:
                        book[side].pop(price, None)
                    else:
                        book[side][price] = qty
    snapshot = ex.book_json(BTC)
    assert snapshot["sequence_number"] == seq
    assert sorted(book["asks"].items()) == sorted((p, q) for p, q in snapshot["asks"])
    assert sorted(book["bids"].items()) == sorted((p, q) for p, q in snapshot["bids"])


def test_ticker_and_klines_after_trades() -> None:
    ex = funded(A, B)
    ok(ex.apply(limit(A, "s1", "Sell", 650000, 2000)))
    ok(ex.apply(limit(B, "b1", "Buy", 650000, 2000, ts=T0 + 1)))
    ok(ex.apply(limit(A, "s2", "Sell", 660000, 1000, ts=T0 + 61 * 10**9)))
    result = ok(ex.apply(limit(B, "b2", "Buy", 660000, 1000, ts=T0 + 62 * 10**9)))
    (ticker,) = payloads(result, f"ticker/{BTC}")
    assert ticker["last_price"] == "66000.0" and ticker["volume_24h"] == "0.03000"
    assert (ticker["high_24h"], ticker["low_24h"], ticker["price_change_pct_24h"]) == (
        "66000.0",
        "65000.0",
        "1.53",
    )
    (bars,) = payloads(result, f"klines/{BTC}")
    assert bars[0]["open"] == "66000.0"
    klines = ex.klines_json(BTC, "1")
    assert [b["close"] for b in klines["items"]] == ["65000.0", "66000.0"]
    assert len(ex.klines_json(BTC, "1h")["items"]) == 1
    assert ex.klines_json(BTC, "1", limit=1, page=0)["has_next_page"] is True
    with pytest.raises(ValueError):
        ex.klines_json(BTC, "7x")
    assert [t["asset_id"] for t in ex.tickers_json()] == ["1", "2", "3"]


def _session() -> list[Command]:
    return [
        EnsureUser(T0, A),
        EnsureUser(T0, B),
        limit(A, "a1", "Sell", 651000, 3000),
        limit(B, "b1", "Buy", 649000, 5000, gtd=T0 + 50),
        limit(A, "a2", "Sell", 652000, 2000, trigger=("PriceAbove", 651000)),
        limit(B, "b2", "Buy", 651000, 4000, ts=T0 + 1),
        replace(A, "a2", 653000, 2500, revision=T0 + 2, ts=T0 + 2),
        market(B, "m1", "Buy", quote=1_000_000, ts=T0 + 3),
        transfer(A, 0, 1, "0", 5 * E18, nonce=1, ts=T0 + 4),
        Tick(T0 + 60),
        limit(A, "a3", "Sell", 640000, 1000, ts=T0 + 61),
    ]


def test_commands_round_trip_through_json() -> None:
    for command in _session():
        assert command_from_dict(json.loads(json.dumps(command.to_dict()))) == command
    with pytest.raises(ValueError):
        command_from_dict({"type": "Nope", "ts_ns": 1})


def test_snapshot_restore_and_replay_are_identical() -> None:
    live = Exchange()
    events = [live.apply(c).events for c in _session()[:6]]
    snapshot = json.loads(json.dumps(live.snapshot()))
    restored = Exchange.restore(snapshot)
    assert restored.snapshot() == live.snapshot()
    rest = _session()[6:]
    assert [live.apply(c) for c in rest] == [restored.apply(c) for c in rest]
    replayed = Exchange()
    assert [replayed.apply(c).events for c in _session()[:6]] == events
    for c in rest:
        replayed.apply(c)
    assert replayed.snapshot() == live.snapshot() == restored.snapshot()
    assert live.user_orders_json(A) == restored.user_orders_json(A)


def test_restore_refuses_unknown_format() -> None:
    with pytest.raises(ValueError):
        Exchange.restore({"format_version": 999})


def test_time_never_runs_backwards() -> None:
    ex = funded(A)
    ok(ex.apply(Tick(T0 + 100)))
    result = ok(ex.apply(limit(A, "o", "Buy", 600000, 1000, ts=T0)))
    assert result.ack is not None and result.ack["processed_at_ns"] == T0 + 100


# §7.2: codes that must become tpluspy OrderRejected / NotFoundError
ORDER_REJECT_PREFIXES = (
    "INSUFFICIENT_MARGIN",
    "INVALID_ORDER",
    "ORDER_REJECTED",
    "DUPLICATE_ORDER",
    "SELF_TRADE",
    "REDUCE_ONLY",
    "POST_ONLY",
    "FOK_",
    "IOC_",
)


@pytest.mark.parametrize(
    "code",
    [
        "INSUFFICIENT_MARGIN_BALANCE",
        "INSUFFICIENT_MARGIN",
        "INVALID_ORDER_DECIMALS",
        "INVALID_ORDER_FEE_RATE",
        "POST_ONLY_WOULD_CROSS",
        "FOK_NOT_FILLED",
        "REDUCE_ONLY_EXCEEDS_POSITION",
        "DUPLICATE_ORDER",
        "ORDER_REJECTED_STALE_REVISION",
    ],
)
def test_order_reject_codes_classify_as_order_rejected(code: str) -> None:
    assert code.startswith(ORDER_REJECT_PREFIXES)
    assert not code.endswith("_NOT_FOUND")
    assert http_status(code) in (400, 409)


@pytest.mark.parametrize("code", ["ORDER_NOT_FOUND", "MARKET_NOT_FOUND", "USER_NOT_FOUND"])
def test_not_found_codes_are_404(code: str) -> None:
    assert http_status(code) == 404
