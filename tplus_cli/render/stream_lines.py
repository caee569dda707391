"""One readable line per streamed item (the TTY view of `tplus stream ...`), and the NDJSON envelope.

Every function is pure: a frame (JSON with Decimals) in, a short line of text out. Unknown
shapes fall back to compact JSON so nothing is ever hidden from the user.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from tplus_cli.render.jsonout import to_jsonable

LineFn = Callable[[Any], str]


def envelope(stream: str, seq: int, ts: datetime, data: Any) -> str:
    """`{"stream","seq","ts","data"}` as one compact JSON line (decimals as strings)."""
    doc = {"stream": stream, "seq": seq, "ts": iso_ts(ts), "data": to_jsonable(data)}
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False)


def iso_ts(ts: datetime) -> str:
    """UTC timestamp with milliseconds, `Z` suffix."""
    return ts.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def compact(data: Any) -> str:
    """Fallback: the item as compact JSON."""
    return json.dumps(to_jsonable(data), separators=(",", ":"), ensure_ascii=False)


def _get(obj: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(obj, Mapping):
            return None
        obj = obj.get(key)
    return obj


def order_event_line(data: Any) -> str:
    """`CREATED  order_id  ...` from an externally tagged OrderEvent."""
    if not isinstance(data, Mapping) or len(data) != 1:
        return compact(data)
    (variant, body), *_ = data.items()
    if not isinstance(body, Mapping):
        return compact(data)
    order = body.get("user_order")
    if isinstance(order, Mapping):
        side = order.get("side", "")
        details = order.get("details")
        kind = next(iter(details), "") if isinstance(details, Mapping) else ""
        return f"{variant:<10} {order.get('order_id')}  asset {order.get('base_asset')}  {side} {kind}".rstrip()
    parts = [f"{variant:<10}", str(body.get("order_id", ""))]
    for key in ("asset_id", "reason", "new_price", "new_quantity", "remaining_quantity"):
        if body.get(key) is not None:
            parts.append(f"{key}={body[key]}")
    return "  ".join(parts)


def trade_line(symbols: Mapping[str, str]) -> LineFn:
    """`BTC  65000.5 x 0.1  taker buy` for a public Trade."""

    def line(data: Any) -> str:
        if not isinstance(data, Mapping) or "price" not in data:
            return compact(data)
        symbol = symbols.get(str(data.get("asset_id")), str(data.get("asset_id")))
        aggressor = "sell" if data.get("buyer_is_maker") else "buy"
        status = data.get("status") or "Confirmed"
        text = f"{symbol:<5} {data['price']} x {data.get('quantity')}  taker {aggressor}"
        return text if status == "Confirmed" else f"{text}  [{status}]"

    return line


def user_trade_line(data: Any) -> str:
    """`BUY 0.5 @ 500.25  maker  fee 0.05  [Pending]` for one of our fills."""
    if not isinstance(data, Mapping) or "price" not in data:
        return compact(data)
    side = "BUY" if data.get("is_buyer") else "SELL"
    role = "maker" if data.get("is_maker") else "taker"
    fee = data.get("trading_fee")
    text = (
        f"{side:<4} {data.get('quantity')} @ {data['price']}  asset {data.get('asset_id')}  {role}"
    )
    if fee is not None:
        text += f"  fee {fee}"
    return f"{text}  [{data.get('status')}]  order {data.get('order_id')}"


def ticker_line(data: Any) -> str:
    """`last 501.50  bid 501.25 / ask 501.75  24h +1.31%  vol 9876.543`."""
    if not isinstance(data, Mapping) or "volume_24h" not in data:
        return compact(data)
    parts = [f"last {data.get('last_price')}"]
    bid, ask = _get(data, "best_bid", "price"), _get(data, "best_ask", "price")
    if bid is not None or ask is not None:
        parts.append(f"bid {bid} / ask {ask}")
    pct = data.get("price_change_pct_24h")
    if pct is not None:
        parts.append(f"24h {'+' if str(pct)[0] not in '-+' else ''}{pct}%")
    parts.append(f"vol {data['volume_24h']}")
    return "  ".join(parts)


def kline_line(data: Any) -> str:
    """`2026-12-07T06:00Z  O 500 H 502 L 499.75 C 501.5  V 12.345`."""
    if not isinstance(data, Mapping) or "open" not in data:
        return compact(data)
    opened = data.get("open_timestamp_ns")
    when = (
        iso_ts(datetime.fromtimestamp(int(opened) // 1_000_000_000, UTC))
        if isinstance(opened, int)
        else "?"
    )
    return (
        f"{when}  O {data['open']} H {data.get('high')} L {data.get('low')} "
        f"C {data.get('close')}  V {data.get('volume')}"
    )


def account_event_line(data: Any) -> str:
    """`SubAccountAssetTransferred  asset=... amount=...` for a UserActivityEvent."""
    if not isinstance(data, Mapping) or len(data) != 1:
        return compact(data)
    (variant, body), *_ = data.items()
    if not isinstance(body, Mapping):
        return compact(data)
    fields = "  ".join(f"{k}={v}" for k, v in body.items() if k not in ("user", "timestamp_ns"))
    return f"{variant}  {fields}"


def book_line(data: Any) -> str:
    """`seq 42  bid 65000.0 x 2.0 | ask 65001.0 x 1.25  (5 / 7 levels)` for a book item."""
    if not isinstance(data, Mapping):
        return compact(data)
    bids, asks = data.get("bids") or [], data.get("asks") or []
    kind = data.get("kind", "snapshot")
    if kind == "diff":
        return f"seq {data.get('sequence')}  diff  bids {_levels(bids)}  asks {_levels(asks)}"
    best_bid = f"{bids[0][0]} x {bids[0][1]}" if bids else "-"
    best_ask = f"{asks[0][0]} x {asks[0][1]}" if asks else "-"
    return (
        f"seq {data.get('sequence')}  bid {best_bid} | ask {best_ask}  "
        f"({len(bids)} / {len(asks)} levels)"
    )


def _levels(levels: Any) -> str:
    return ", ".join(f"{p}:{q}" for p, q in levels) if levels else "-"
