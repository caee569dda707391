"""TplusClient: the async T+ client (OMS + MDS on one origin), wire-compatible with tpluspy 0.6.0.

Reads retry with backoff; creates and replaces are never re-sent: a lost answer is settled
by looking the order id up. Human Decimals in, human Decimals out; book-unit ints on the wire.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from tplus_cli.client import orders as build
from tplus_cli.client import signing, units
from tplus_cli.client.errors import (
    AmbiguousOutcome,
    AuthFailed,
    ClientError,
    InvalidInput,
    NotFound,
    Rejected,
    ServerError,
    Unavailable,
)
from tplus_cli.client.feeds import Feeds
from tplus_cli.client.retry import NO_RETRY, RetryPolicy, retrying
from tplus_cli.client.wire import (
    Market,
    OrderAck,
    PreparedRequest,
    items_of,
    parse_ack,
)

CREATE_PATH = "/orders/create"
BATCH_CREATE_PATH = "/orders/batch-create"


class TplusClient(Feeds):
    """Async context manager speaking the T+ protocol to a network venue or an injected transport."""

    # --- order entry --------------------------------------------------------------------------

    def _signing_seed(self) -> bytes:
        if self._seed is None:
            raise AuthFailed("placing orders needs an account key, and none is configured")
        return self._seed

    def _create_request(
        self,
        market: Market,
        order_id: str | None,
        build_order: Callable[[str, int], dict[str, Any]],
    ) -> PreparedRequest:
        seed = self._signing_seed()
        oid = build.check_order_id(order_id) if order_id is not None else signing.new_order_id()
        order = build_order(oid, self._clock())
        sigs = signing.sign_object(order, master=seed)
        body = signing.create_body(order, sigs, self._clock())
        return PreparedRequest("POST", CREATE_PATH, body, oid)

    async def prepare_limit(
        self,
        asset: str | int,
        side: str,
        quantity: Decimal | str | int,
        price: Decimal | str | int,
        *,
        tif: build.Tif = "gtc",
        until_ns: int | None = None,
        post_only: bool = False,
        reduce_only: bool = False,
        trigger_above: Decimal | str | None = None,
        trigger_below: Decimal | str | None = None,
        parent_order_id: str | None = None,
        order_id: str | None = None,
        sub_account: int = 1,
        is_spot: bool = True,
        max_fee_rate: int = signing.DEFAULT_MAX_TRADING_FEES_RATE,
    ) -> PreparedRequest:
        """Validate, convert and sign a limit order; nothing is sent."""
        wire_side = build.side_of(side)
        build.check_sub_account(sub_account)
        build.check_fee_rate(max_fee_rate)
        if order_id is not None:
            build.check_order_id(order_id)
        build.positive(quantity, "quantity")
        build.positive(price, "price")
        for name, value in (("trigger_above", trigger_above), ("trigger_below", trigger_below)):
            if value is not None:
                build.positive(value, name)
        if trigger_above is not None and trigger_below is not None:
            raise InvalidInput("give at most one of trigger_above / trigger_below")
        build.tif_object(tif, until_ns=until_ns, post_only=post_only, now_ns=None)
        market = await self._trading_market(asset)
        qty = build.quantity_int(market, quantity)
        px = build.price_int(market, price)
        trig = build.trigger(market, trigger_above, trigger_below, parent_order_id)

        def order(oid: str, now: int) -> dict[str, Any]:
            tif_obj = build.tif_object(tif, until_ns=until_ns, post_only=post_only, now_ns=now)
            return signing.order_object(
                signer=self._pk(),
                order_id=oid,
                base_asset=market.asset_id,
                price_decimals=market.price_decimals,
                quantity_decimals=market.quantity_decimals,
                details=signing.limit_details(px, qty, tif_obj),
                side=wire_side,
                trigger=trig,
                creation_timestamp_ns=now,
                target=signing.target_object(sub_account, is_spot),
                reduce_only=reduce_only,
                max_trading_fees_rate=max_fee_rate,
            )

        return self._create_request(market, order_id, order)

    async def prepare_market(
        self,
        asset: str | int,
        side: str,
        quantity: Decimal | str | int,
        *,
        quote: bool = False,
        max_sellable_amount: Decimal | str | None = None,
        max_sellable_quantity: Decimal | str | None = None,
        fill_or_kill: bool = False,
        trigger_above: Decimal | str | None = None,
        trigger_below: Decimal | str | None = None,
        parent_order_id: str | None = None,
        order_id: str | None = None,
        sub_account: int = 1,
        is_spot: bool = True,
        max_fee_rate: int = signing.DEFAULT_MAX_TRADING_FEES_RATE,
        price: object = None,
    ) -> PreparedRequest:
        """Validate, convert and sign a market order sized in base (default) or quote units.

        `max_sellable_amount` caps the quote spent (base-sized orders only);
        `max_sellable_quantity` caps the base sold (quote-sized orders only). `price` exists
        only to refuse it clearly: market orders take no price.
        """
        if price is not None:
            raise InvalidInput("a market order takes no price (use a limit order)")
        wire_side = build.side_of(side)
        build.check_sub_account(sub_account)
        build.check_fee_rate(max_fee_rate)
        if order_id is not None:
            build.check_order_id(order_id)
        if quote and max_sellable_amount is not None:
            raise InvalidInput("max_sellable_amount (a quote cap) pairs only with a base quantity")
        if not quote and max_sellable_quantity is not None:
            raise InvalidInput(
                "max_sellable_quantity (a base cap) pairs only with a quote quantity"
            )
        build.positive(quantity, "quantity" if not quote else "quote quantity")
        for name, value in (
            ("max_sellable_amount", max_sellable_amount),
            ("max_sellable_quantity", max_sellable_quantity),
            ("trigger_above", trigger_above),
            ("trigger_below", trigger_below),
        ):
            if value is not None:
                build.positive(value, name)
        market = await self._trading_market(asset)
        pd, qd = market.price_decimals, market.quantity_decimals
        if quote:
            details = signing.market_details(
                quote_quantity=build.book_int(quantity, pd, "quote quantity"),
                max_sellable_quantity=None
                if max_sellable_quantity is None
                else build.book_int(max_sellable_quantity, qd, "max_sellable_quantity"),
                fill_or_kill=fill_or_kill,
            )
        else:
            details = signing.market_details(
                base_quantity=build.quantity_int(market, quantity),
                max_sellable_amount=None
                if max_sellable_amount is None
                else build.book_int(max_sellable_amount, pd, "max_sellable_amount"),
                fill_or_kill=fill_or_kill,
            )
        trig = build.trigger(market, trigger_above, trigger_below, parent_order_id)

        def order(oid: str, now: int) -> dict[str, Any]:
            return signing.order_object(
                signer=self._pk(),
                order_id=oid,
                base_asset=market.asset_id,
                price_decimals=pd,
                quantity_decimals=qd,
                details=details,
                side=wire_side,
                trigger=trig,
                creation_timestamp_ns=now,
                target=signing.target_object(sub_account, is_spot),
                reduce_only=False,
                max_trading_fees_rate=max_fee_rate,
            )

        return self._create_request(market, order_id, order)

    async def submit(self, prep: PreparedRequest) -> OrderAck:
        """Send a prepared create (or replace); a lost answer is settled by lookup, never re-sent."""
        asset = _asset_of(prep)
        try:
            payload = await self._call(prep.method, prep.path, auth="R", body=prep.body)
        except (Unavailable, ServerError) as exc:
            if prep.order_id is None:
                raise
            return await self._settle(prep, asset, exc)
        except ClientError as exc:
            raise _as_rejection(exc, prep.order_id) from None
        return parse_ack(payload)

    async def _settle(self, prep: PreparedRequest, asset: str, cause: ClientError) -> OrderAck:
        """After an uncertain create/replace: placed → ack, not placed → raise, unknown → Ambiguous."""
        assert prep.order_id is not None
        oid = prep.order_id
        if isinstance(cause, Unavailable) and not cause.maybe_delivered:
            raise Unavailable(
                f"order {oid} was not sent ({cause.message}); safe to retry", code=cause.code
            ) from cause
        if isinstance(cause, Unavailable):  # a request may still be in flight: let it land
            await self._retry.sleep(self._retry.settle_delay)
        try:
            live = await self.find_order(oid, asset)
        except ClientError as lookup:
            raise AmbiguousOutcome(
                f"order {oid}: {cause.message}, and the follow-up lookup failed ({lookup}); "
                "look the order id up before placing it again",
                order_id=oid,
                retryable=False,
            ) from cause
        request = prep.body.get("request")
        if isinstance(request, dict):  # replace: did the new terms take effect?
            applied = live is not None and (
                live.authorization_revision == request["timestamp_ns"]
                or (
                    live.limit_price_raw == request["new_price_limit"]
                    and live.quantity_raw == request["new_quantity"]
                )
            )
        else:
            applied = live is not None
        if applied:
            return OrderAck(oid, "Received", reason=f"confirmed by lookup after: {cause.message}")
        if isinstance(cause, Unavailable):
            raise Unavailable(
                f"order {oid} was not placed (checked after: {cause.message}); safe to retry",
                code=cause.code,
            ) from cause
        raise cause

    async def place_limit(
        self, asset: str | int, side: str, quantity: Any, price: Any, **kw: Any
    ) -> OrderAck:
        """prepare_limit() + submit()."""
        return await self.submit(await self.prepare_limit(asset, side, quantity, price, **kw))

    async def place_market(self, asset: str | int, side: str, quantity: Any, **kw: Any) -> OrderAck:
        """prepare_market() + submit()."""
        return await self.submit(await self.prepare_market(asset, side, quantity, **kw))

    async def batch_create(self, preps: Sequence[PreparedRequest]) -> list[OrderAck]:
        """Submit several prepared creates in one request; a lost answer is settled per id."""
        if not preps or any(p.path != CREATE_PATH for p in preps):
            raise InvalidInput("batch_create takes one or more prepared creates")
        body = {"orders": [dict(p.body) for p in preps]}
        try:
            payload = await self._call("POST", BATCH_CREATE_PATH, auth="R", body=body)
        except (Unavailable, ServerError) as exc:
            return [await self._settle_in_batch(p, exc) for p in preps]
        return [parse_ack(r) for r in items_of(payload, "results")]

    async def _settle_in_batch(self, prep: PreparedRequest, cause: ClientError) -> OrderAck:
        try:
            return await self._settle(prep, _asset_of(prep), cause)
        except Unavailable as exc:
            return OrderAck(prep.order_id or "", "Rejected", reason=exc.message)

    async def cancel(self, order_id: str, asset: str | int | None = None) -> OrderAck:
        """Cancel one order (finding its book when `asset` is None); retried like a read."""
        seed = self._signing_seed()
        build.check_order_id(order_id)
        if asset is None:
            live = await self.find_order(order_id)
            if live is None:
                raise NotFound(f"no order {order_id!r} for this account", code="ORDER_NOT_FOUND")
            asset_id = live.asset_id
        else:
            asset_id = await self.resolve_asset(asset)
        obj = signing.cancel_object(order_id=order_id, asset_id=asset_id, signer=self._pk())
        body = signing.cancel_body(obj, signing.sign_object(obj, master=seed), self._clock())
        try:
            payload = await retrying(
                self._retry, lambda: self._call("DELETE", "/orders/cancel", auth="R", body=body)
            )
        except ClientError as exc:
            raise _as_rejection(exc, order_id) from None
        return parse_ack(payload)

    async def prepare_replace(
        self,
        order_id: str,
        asset: str | int,
        *,
        price: Decimal | str | None = None,
        quantity: Decimal | str | None = None,
        trigger_above: Decimal | str | None = None,
        trigger_below: Decimal | str | None = None,
        clear_trigger: bool = False,
    ) -> PreparedRequest:
        """Sign a replace restating the full terms; unchanged price/quantity/trigger come from the live order.

        `quantity` is the new lifetime total (not the remaining part). The trigger is kept
        unless a new one is given or `clear_trigger` is set.
        """
        seed = self._signing_seed()
        build.check_order_id(order_id)
        if price is None and quantity is None and trigger_above is None and trigger_below is None:
            if not clear_trigger:
                raise InvalidInput("replace needs a new price, quantity or trigger")
        if clear_trigger and (trigger_above is not None or trigger_below is not None):
            raise InvalidInput("clear_trigger contradicts a new trigger")
        for name, value in (
            ("price", price),
            ("quantity", quantity),
            ("trigger_above", trigger_above),
            ("trigger_below", trigger_below),
        ):
            if value is not None:
                build.positive(value, name)
        market = await self._trading_market(asset)
        new_px = None if price is None else build.price_int(market, price)
        new_qty = None if quantity is None else build.quantity_int(market, quantity)
        new_trig = build.trigger(market, trigger_above, trigger_below, None)
        live = await self.find_order(order_id, market.asset_id)
        if live is None:
            raise NotFound(
                f"no live order {order_id!r} on {market.asset_id}", code="ORDER_NOT_FOUND"
            )
        if new_px is None:
            if live.limit_price_raw is None:
                raise InvalidInput(f"order {order_id} has no limit price; give one")
            new_px = live.limit_price_raw
        condition: dict[str, Any] | None
        if new_trig is not None:
            condition = new_trig["condition"]
        elif clear_trigger:
            condition = None
        elif live.trigger_above_raw is not None:
            condition = signing.price_above(live.trigger_above_raw)
        elif live.trigger_below_raw is not None:
            condition = signing.price_below(live.trigger_below_raw)
        else:
            condition = None
        request = signing.replace_object(
            order_id=order_id,
            base_asset=market.asset_id,
            timestamp_ns=self._clock(),
            new_price_limit=new_px,
            new_quantity=live.quantity_raw if new_qty is None else new_qty,
            new_trigger=condition,
            book_quantity_decimals=market.quantity_decimals,
            book_price_decimals=market.price_decimals,
        )
        sigs = signing.sign_object(request, master=seed)
        body = signing.replace_body(request, self._pk(), sigs, self._clock())
        return PreparedRequest("PATCH", "/orders/replace", body, order_id)

    async def replace(self, order_id: str, asset: str | int, **terms: Any) -> OrderAck:
        """prepare_replace() + submit(); remembers the new authorization revision for amend()."""
        prep = await self.prepare_replace(order_id, asset, **terms)
        ack = await self.submit(prep)
        if ack.accepted:
            self._revisions[order_id] = prep.body["request"]["timestamp_ns"]
        return ack

    async def batch_replace(self, preps: Sequence[PreparedRequest]) -> list[OrderAck]:
        """Submit up to 50 prepared replaces (unique ids) in one request; never re-sent."""
        ids = [p.order_id for p in preps]
        if not preps or len(preps) > 50 or len(set(ids)) != len(ids):
            raise InvalidInput("batch_replace takes 1..50 prepared replaces with unique order ids")
        if any(p.path != "/orders/replace" for p in preps):
            raise InvalidInput("batch_replace takes prepared replaces only")
        body = {"replaces": [dict(p.body) for p in preps]}
        try:
            payload = await self._call("PATCH", "/orders/batch-replace", auth="R", body=body)
        except (Unavailable, ServerError) as exc:
            return [await self._settle_in_batch(p, exc) for p in preps]
        acks = [parse_ack(r) for r in items_of(payload, "results")]
        for prep, ack in zip(preps, acks, strict=False):
            if ack.accepted and prep.order_id is not None:
                self._revisions[prep.order_id] = prep.body["request"]["timestamp_ns"]
        return acks

    async def amend(self, order_id: str, asset: str | int, quantity: Decimal | str) -> OrderAck:
        """Reduce an order's lifetime-total quantity (unsigned; bearer session only).

        expected_authorization_revision: the revision the venue reports for the order if it
        does (`authorization_revision` on the order row), else the timestamp of the last
        replace/amend this client made, else null (original signed terms).
        """
        build.check_order_id(order_id)
        build.positive(quantity, "quantity")
        market = await self._trading_market(asset)
        new_qty = build.quantity_int(market, quantity)
        live = await self.find_order(order_id, market.asset_id)
        if live is None:
            raise NotFound(
                f"no live order {order_id!r} on {market.asset_id}", code="ORDER_NOT_FOUND"
            )
        if new_qty >= live.quantity_raw:
            raise InvalidInput(
                f"amend can only reduce the quantity (now {live.quantity}); use replace to grow it"
            )
        revision = live.authorization_revision or self._revisions.get(order_id)
        now = self._clock()
        body = signing.amend_body(
            order_id=order_id,
            base_asset=market.asset_id,
            new_quantity=new_qty,
            book_quantity_decimals=market.quantity_decimals,
            expected_authorization_revision=revision,
            timestamp_ns=now,
            user_id=self._pk(),
        )
        try:
            ack = parse_ack(await self._call("PATCH", "/orders/amend", auth="R", body=body))
        except ClientError as exc:  # e.g. 409: the revision we sent is stale
            raise _as_rejection(exc, order_id) from None
        if ack.accepted:
            self._revisions[order_id] = now
        return ack

    # --- account transfers --------------------------------------------------------------

    def _nonce_ms(self, nonce: int | None) -> int:
        if nonce is not None:
            return nonce
        self._last_nonce_ms = max(self._last_nonce_ms + 1, self._clock() // 1_000_000)
        return self._last_nonce_ms

    async def _signed_inner(self, path: str, inner: dict[str, Any]) -> dict[str, Any]:
        sigs = signing.sign_object(inner, master=self._signing_seed(), ensure_ascii=True)
        try:
            payload = await self._call("POST", path, auth="R", body=signing.inner_body(inner, sigs))
        except Unavailable as exc:
            if not exc.maybe_delivered:
                raise
            raise AmbiguousOutcome(
                f"{path}: {exc.message}; the outcome is unknown, check balances before retrying",
                order_id=None,
            ) from exc
        return payload if isinstance(payload, dict) else {"result": payload}

    async def transfer(
        self,
        asset: str | int,
        amount: Decimal | str,
        source: int,
        target: int,
        *,
        nonce: int | None = None,
    ) -> dict[str, Any]:
        """Move `amount` (human units) of `asset` between sub-accounts; returns the venue's reply."""
        build.check_sub_account(source)
        build.check_sub_account(target)
        if source == target:
            raise InvalidInput("source and target sub-accounts are the same")
        build.positive(amount, "amount")
        try:
            raw = units.to_inventory_units(amount, what="amount")
        except units.UnitsError as exc:
            raise InvalidInput(str(exc)) from None
        asset_id = await self.resolve_asset(asset)
        inner = signing.transfer_object(
            user=self._pk(),
            source_index=source,
            target_index=target,
            transfer_asset=asset_id,
            transfer_amount=raw,
            nonce=self._nonce_ms(nonce),
        )
        return await self._signed_inner("/account/transfer/sub-account", inner)

    async def close_position(
        self, asset: str | int, sub_account: int, *, nonce: int | None = None
    ) -> dict[str, Any]:
        """Settle a margin position's realized PnL into spot and remove it (not a trade)."""
        build.check_sub_account(sub_account)
        asset_id = await self.resolve_asset(asset)
        inner = signing.close_position_object(
            user=self._pk(),
            account=sub_account,
            asset_identifier=asset_id,
            nonce=self._nonce_ms(nonce),
        )
        return await self._signed_inner("/account/transfer/close-position", inner)


def _as_rejection(error: ClientError, order_id: str | None) -> ClientError:
    """A write refused with an unclassified 4xx (e.g. INSUFFICIENT_BALANCE) is a rejection."""
    if type(error) is not ClientError or error.status is None or not 400 <= error.status < 500:
        return error
    return Rejected(
        error.message,
        order_id=order_id,
        code=error.code,
        status=error.status,
        retryable=False,
        details=error.details,
    )


def _asset_of(prep: PreparedRequest) -> str:
    """The book a prepared create/replace targets."""
    body = prep.body
    if "order" in body:
        return str(body["order"]["base_asset"])
    if "request" in body:
        return str(body["request"]["base_asset"])
    raise InvalidInput(f"not an order request: {prep.method} {prep.path}")


__all__ = ["NO_RETRY", "RetryPolicy", "TplusClient"]
