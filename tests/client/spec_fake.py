"""A small T+ server built only from the spec (§4–§7), served through httpx.MockTransport.

It is deliberately not our venue: it checks what the spec says a server checks (tokens,
signatures, amend revisions) and answers with the spec's shapes and the canned bodies of
response-examples.json. Tests script faults around it: `before` runs ahead of the handler
(raise to simulate a request that never arrived), `after` runs once the server has acted
(raise to simulate a reply lost on the way back), and `scripted` queues canned responses.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from tplus_cli.client import signing

HERE = Path(__file__).parent
VECTORS: dict[str, Any] = json.loads((HERE / "vectors.json").read_text("utf-8"))
EXAMPLES: dict[str, Any] = json.loads((HERE / "response-examples.json").read_text("utf-8"))
KEYS = VECTORS["keys"]
SEED = bytes.fromhex(KEYS["account"]["seed_hex"])
COSIGNER_SEED = bytes.fromhex(KEYS["cosigner"]["seed_hex"])
PK = KEYS["account"]["public_key_hex"]
NONCE = "8c3f0e0a-5b7e-4d7c-9a53-2f4d1c0b9e61"
TOKEN = "tok-golden-0001"
EXPIRY_NS = 4102444800000000000
T0 = 1750000000000000000
BASE = "http://oms.test"
MDS: dict[str, Any] = VECTORS["mds_reads"]
MULTISIG_DEFAULT = {
    "master_weight": 1,
    "signers": [],
    "thresholds": {"low": 1, "medium": 1, "high": 1},
}

Hook = Callable[[httpx.Request], None]


def envelope(status: int, code: str, message: str, **extra: Any) -> httpx.Response:
    """A spec §7.1 error envelope response."""
    return httpx.Response(status, json={"error": {"code": code, "message": message, **extra}})


def market_json(asset: str = "200", pd: int = 2, qd: int = 3) -> dict[str, Any]:
    """The example market of response-examples.json, re-keyed."""
    market = dict(EXAMPLES["market"])
    market.update(asset_id=asset, book_price_decimals=pd, book_quantity_decimals=qd)
    return market


class SpecFake:
    """Stateful enough for auth, order entry, listing and lookups; everything else is canned."""

    def __init__(self, *, nonce: object = NONCE, token: str = TOKEN, prefix: str = "") -> None:
        self.prefix = prefix  # a base-URL path the server sits under (spec §1.2)
        self.nonce = nonce
        self.token = token
        self.expiry_ns = EXPIRY_NS
        self.requests: list[httpx.Request] = []
        self.markets: dict[str, dict[str, Any]] = {"200": market_json()}
        self.symbol_map: dict[str, Any] = {
            "0": {"index": 0, "symbol": "USDC", "name": "USD Coin", "asset_class": "USD"},
            "200": {"index": 200, "symbol": "WBTC", "name": "Wrapped BTC", "asset_class": "BTC"},
        }
        self.orders: dict[str, dict[str, Any]] = {}
        self.revisions: dict[str, int | None] = {}
        self.live_tokens: set[str] = set()
        self.before: Hook | None = None
        self.after: Hook | None = None
        self.scripted: deque[httpx.Response] = deque()
        self.canned: dict[str, Any] = {}

    def transport(self) -> httpx.MockTransport:
        """The in-process transport to hand to TplusClient."""
        return httpx.MockTransport(self.handle)

    def seen(self, *, skip_auth: bool = False) -> list[tuple[str, str]]:
        """(method, raw path + query) of every request that reached the server."""
        out = [(r.method, r.url.raw_path.decode()) for r in self.requests]
        if skip_auth:
            out = [(m, p) for m, p in out if not (p.startswith("/nonce/") or p == "/auth")]
        return out

    # --- dispatch ---------------------------------------------------------------------------

    def handle(self, request: httpx.Request) -> httpx.Response:
        if self.before is not None:
            self.before(request)
        self.requests.append(request)
        response = self.scripted.popleft() if self.scripted else self._route(request)
        if self.after is not None:
            self.after(request)
        return response

    def _authed(self, request: httpx.Request) -> bool:
        bearer = request.headers.get("authorization", "")
        return (
            bearer.removeprefix("Bearer ") in self.live_tokens
            and request.headers.get("user-id") == PK
        )

    def _route(self, request: httpx.Request) -> httpx.Response:
        method, path = request.method, request.url.path.removeprefix(self.prefix)
        parts = path.strip("/").split("/")
        body = json.loads(request.content) if request.content else None
        if method == "GET" and parts[0] == "nonce":
            return httpx.Response(200, json={"value": self.nonce})
        if method == "POST" and path == "/auth":
            return self._auth(body)
        if path in self.canned:
            return httpx.Response(200, json=self.canned[path])
        if method == "GET" and parts[0] == "market":
            market = self.markets.get(parts[1])
            if market is None:
                return envelope(404, "MARKET_NOT_FOUND", f"no market {parts[1]}")
            return httpx.Response(200, json=market)
        if method == "GET" and path == "/markets":
            return httpx.Response(200, json=self._markets_page(request))
        if method == "GET" and parts[0] in (
            "marketdepth",
            "ticker",
            "tickers",
            "klines",
            "trades",
            "openinterest",
        ):
            return self._market_data(parts)
        if not self._authed(request):
            return envelope(401, "UNAUTHORIZED", "missing or stale token")
        return self._private(method, parts, body, request)

    def _auth(self, body: dict[str, Any]) -> httpx.Response:
        message = signing.auth_message(str(self.nonce))
        if body.get("user_id") != PK or not signing.verify(PK, message, body["signature"]):
            return envelope(401, "INVALID_SIGNATURE", "bad auth signature")
        self.live_tokens.add(self.token)
        return httpx.Response(200, json={"token": self.token, "expiry_ns": self.expiry_ns})

    def _markets_page(self, request: httpx.Request) -> dict[str, Any]:
        with_map = request.url.params.get("include_symbol_map") == "true"
        return {
            "markets": list(self.markets.values()),
            "symbol_map": self.symbol_map if with_map else None,
            "total_markets": len(self.markets),
            "page": 0,
            "limit": 1000,
            "total_pages": 1,
            "cursor_size": len(self.markets),
            "has_next_page": False,
            "next_page": None,
        }

    def _market_data(self, parts: list[str]) -> httpx.Response:
        kind = parts[0]
        if kind == "trades" and len(parts) > 1 and parts[1] == "user":
            page = {"trades": [EXAMPLES["hist_user_trade"]], "has_next_page": False}
            return httpx.Response(200, json=page)
        payload = {
            "marketdepth": EXAMPLES["depth_snapshot"],
            "ticker": EXAMPLES["ticker"],
            "tickers": [EXAMPLES["ticker"]],
            "klines": {"items": [EXAMPLES["timebar"]], "has_next_page": False, "next_page": None},
            "trades": [EXAMPLES["trade"]],
            "openinterest": {"asset_id": parts[-1], **EXAMPLES["ticker"]["open_interest"]},
        }[kind]
        return httpx.Response(200, json=payload)

    # --- authenticated endpoints ------------------------------------------------------------

    def _private(
        self, method: str, parts: list[str], body: Any, request: httpx.Request
    ) -> httpx.Response:
        route = (method, "/".join(parts[:2]))
        if route == ("POST", "orders/create"):
            return self._create(body)
        if route == ("POST", "orders/batch-create"):
            results = [self._create(o).json() for o in body["orders"]]
            rows = [
                {"order_id": r.get("order_id"), "status": "Received", "reason": None}
                for r in results
            ]
            return httpx.Response(200, json={"results": rows})
        if route == ("DELETE", "orders/cancel"):
            return self._cancel(body)
        if route == ("PATCH", "orders/replace"):
            return self._replace(body)
        if route == ("PATCH", "orders/batch-replace"):
            rows = [self._replace(r).json() for r in body["replaces"]]
            return httpx.Response(200, json={"results": rows})
        if route == ("PATCH", "orders/amend"):
            return self._amend(body)
        if route == ("GET", "orders/user"):
            return self._list(parts, request)
        if method == "POST" and parts[:2] == ["account", "transfer"]:
            inner = body["inner"]
            if not signing.verify(
                PK, signing.signing_bytes(inner, ensure_ascii=True), body["signature"]
            ):
                return envelope(401, "INVALID_SIGNATURE", "bad signature")
            return httpx.Response(200, json={"success": True})
        canned = {
            "inventory": EXAMPLES["inventory"],
            "solvency": EXAMPLES["solvency"],
            "margin": EXAMPLES["margin"],
        }
        if method == "GET" and parts[0] in canned:
            return httpx.Response(200, json=canned[parts[0]])
        if method == "GET" and parts[:2] == ["positions", "user"] and parts[3:4] == ["basis"]:
            return httpx.Response(200, json=MDS["get_user_position_basis"]["client_return_value"])
        if method == "GET" and parts[0] == "sub-accounts":
            return httpx.Response(200, json=MDS["get_sub_account_names"]["client_return_value"])
        if method == "GET" and parts[:2] == ["multisig", "config"]:
            return httpx.Response(200, json=MULTISIG_DEFAULT)
        if method == "GET" and parts[0] == "positions" and len(parts) == 3:
            rows = [EXAMPLES["position"]] if EXAMPLES["position"]["asset_id"] == parts[2] else []
            return httpx.Response(200, json=rows)
        if method == "GET" and parts[:2] == ["positions", "close-all"]:
            return httpx.Response(200, json=EXAMPLES["close_all"])
        if method == "GET" and parts[0] == "positions":
            page = {
                "positions": [EXAMPLES["position"]],
                "total_positions": 1,
                "has_next_page": False,
            }
            return httpx.Response(200, json=page)
        return envelope(404, "ROUTE_NOT_FOUND", f"{method} /{'/'.join(parts)}")

    def _create(self, body: dict[str, Any]) -> httpx.Response:
        order = body["order"]
        if not signing.verify(PK, signing.signing_bytes(order), body["signature"]):
            return envelope(401, "INVALID_SIGNATURE", "bad order signature")
        oid = order["order_id"]
        if oid in self.orders:
            return envelope(
                400, "DUPLICATE_ORDER", "order id already used", details={"order_id": oid}
            )
        details = order["details"]
        limit = details.get("Limit")
        quantity = (
            limit["quantity"]
            if limit
            else next(iter(details["Market"]["quantity"].values()))["quantity"]
        )
        condition = (order["trigger"] or {}).get("condition") or {}
        row = dict(EXAMPLES["order_response"])
        row.update(
            order_id=oid,
            base_asset=order["base_asset"],
            side=order["side"],
            limit_price=None if limit is None else str(limit["limit_price"]),
            quantity=str(quantity),
            confirmed_filled_quantity="0",
            timestamp_ns=order["creation_timestamp_ns"],
            canceled=False,
            status="Open",
            trigger_above_price=(condition.get("PriceAbove") or {}).get("price"),
            trigger_below_price=(condition.get("PriceBelow") or {}).get("price"),
        )
        self.orders[oid] = row
        self.revisions[oid] = None
        return httpx.Response(200, json=self._ack(oid))

    def _ack(self, oid: str) -> dict[str, Any]:
        return {
            "order_id": oid,
            "status": "Received",
            "reason": None,
            "processed_at_ns": T0 + 3_000_000,
        }

    def _cancel(self, body: dict[str, Any]) -> httpx.Response:
        cancel = body["cancel"]
        if not signing.verify(PK, signing.signing_bytes(cancel), body["signature"]):
            return envelope(401, "INVALID_SIGNATURE", "bad cancel signature")
        row = self.orders.get(cancel["order_id"])
        if row is None or row["canceled"]:
            return envelope(404, "ORDER_NOT_FOUND", "no such open order")
        row.update(canceled=True, status="Canceled")
        return httpx.Response(200, json=self._ack(cancel["order_id"]))

    def _replace(self, body: dict[str, Any]) -> httpx.Response:
        request = body["request"]
        if not signing.verify(PK, signing.signing_bytes(request), body["signature"]):
            return envelope(401, "INVALID_SIGNATURE", "bad replace signature")
        row = self.orders.get(request["order_id"])
        if row is None:
            return envelope(404, "ORDER_NOT_FOUND", "no such order")
        trigger = request["new_trigger"] or {}
        row.update(
            limit_price=str(request["new_price_limit"]),
            quantity=str(request["new_quantity"]),
            trigger_above_price=(trigger.get("PriceAbove") or {}).get("price"),
            trigger_below_price=(trigger.get("PriceBelow") or {}).get("price"),
        )
        self.revisions[request["order_id"]] = request["timestamp_ns"]
        return httpx.Response(200, json=self._ack(request["order_id"]))

    def _amend(self, body: dict[str, Any]) -> httpx.Response:
        request = body["request"]
        oid = request["order_id"]
        if oid not in self.orders:
            return envelope(404, "ORDER_NOT_FOUND", "no such order")
        if request["expected_authorization_revision"] != self.revisions[oid]:
            return envelope(409, "STALE_REVISION", "authorization revision is stale")
        self.orders[oid]["quantity"] = str(request["new_quantity"])
        self.revisions[oid] = request["timestamp_ns"]
        return httpx.Response(200, json=self._ack(oid))

    def _list(self, parts: list[str], request: httpx.Request) -> httpx.Response:
        if parts[2] != PK:
            return envelope(404, "USER_NOT_FOUND", "unknown user")
        rows = list(self.orders.values())
        if len(parts) > 3:
            rows = [r for r in rows if r["base_asset"] == parts[3]]
            if request.url.params.get("open_only") == "true":
                rows = [r for r in rows if not r["canceled"]]
            return httpx.Response(200, json=rows)
        page = {"orders": rows, "total_orders": len(rows), "page": 0, "limit": 100}
        page.update(total_pages=1, cursor_size=len(rows), has_next_page=False, next_page=None)
        return httpx.Response(200, json=page)
