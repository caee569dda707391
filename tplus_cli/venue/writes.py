"""Endpoints that change state: the auth handshake, signed order flow and account transfers.

Before a command reaches the Exchange every signed body is rebuilt in canonical key order
and verified (`client.signing.verify_body`, spec §3.16), the signer must be the token's user,
and replay protection applies (see the module constants). Anything refused here, before
the Exchange, changes nothing and journals nothing. A command the Exchange itself refuses
(duplicate id, insufficient balance, stale revision...) is journaled like any other, because
applying it is deterministic and may emit a *Failed event on the user's /orders stream.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from tplus_cli.client import signing
from tplus_cli.venue.commands import (
    AmendOrder,
    CancelOrder,
    ClosePosition,
    Command,
    CreateOrder,
    EnsureUser,
    ReplaceOrder,
    Transfer,
)
from tplus_cli.venue.context import Ctx, asset_param
from tplus_cli.venue.protocol import ApiError

if TYPE_CHECKING:
    from tplus_cli.venue.exchange import ApplyResult
    from tplus_cli.venue.handlers import Venue

TIMESTAMP_WINDOW_NS = 60 * 10**9
"""Signed creation/replace timestamps must lie within ±60 s of venue time (replay window)."""
MAX_BATCH = 50
"""Batch create/replace size limit (spec §3.8)."""


# ---------------------------------------------------------------------- auth


def nonce(v: Venue, ctx: Ctx) -> object:
    """GET /nonce/{pk}."""
    return v.auth.issue_nonce(ctx.params["pk"])


def auth(v: Venue, ctx: Ctx) -> object:
    """POST /auth; a new account is funded here, on its first authenticated contact."""
    user, token = v.auth.authenticate(ctx.body())
    v.ensure_user(user)
    return token


def fund(v: Venue, user: str) -> None:
    """Journal the EnsureUser command that creates and funds `user` (idempotent in the engine)."""
    v.execute(lambda ts: EnsureUser(ts_ns=ts, user=user))


# ---------------------------------------------------------------------- helpers


def _verify(
    kind: str,
    body: Mapping[str, Any],
    user: str,
    order_id: str | None,
    *,
    allow_unsigned: bool = False,
) -> signing.VerifiedRequest:
    """Rebuild + verify a signed body; the claimed account must be the caller.

    Every signature present must verify. Only a cancel may come unsigned (`signature: []`,
    spec §2.6): the bearer session of the same account authorizes it.
    """
    details = {"order_id": order_id} if order_id else None
    try:
        verified = signing.verify_body(kind, body, allow_unsigned=allow_unsigned)
    except signing.SignatureInvalid as exc:
        raise ApiError(401, "INVALID_SIGNATURE", str(exc), details=details) from None
    except signing.SigningError as exc:
        code = (
            "INVALID_ORDER_FORMAT" if kind in ("create", "cancel", "replace") else "INVALID_REQUEST"
        )
        raise ApiError(400, code, str(exc), details=details) from None
    if not verified.master_signed and not (allow_unsigned and not verified.cosigners):
        raise ApiError(
            401,
            "INVALID_SIGNATURE",
            "the account key must sign (no additional signers are registered on this venue)",
            details=details,
        )
    if verified.account != user:
        raise ApiError(
            403,
            "SIGNER_MISMATCH",
            "the signed account is not the authenticated user",
            details=details,
        )
    return verified


def _peek_id(obj: object, key: str = "order_id") -> str | None:
    """The order id of a (possibly malformed) signed object, for error details."""
    value = obj.get(key) if isinstance(obj, Mapping) else None
    return value if isinstance(value, str) and len(value) <= 64 else None


def _within_window(ts: int, now: int, what: str, order_id: str | None) -> None:
    """Replay protection: a signed timestamp must be close to venue time."""
    if abs(ts - now) > TIMESTAMP_WINDOW_NS:
        raise ApiError(
            400,
            "INVALID_ORDER_STALE_TIMESTAMP",
            f"{what} is more than {TIMESTAMP_WINDOW_NS // 10**9} s away from venue time {now}",
            details={"order_id": order_id} if order_id else None,
        )


def _post_sign(body: Mapping[str, Any], signed_ts: int, order_id: str | None) -> None:
    """post_sign_timestamp is read after signing, so it can never precede the signed time."""
    post = body.get("post_sign_timestamp")
    if type(post) is not int or post < signed_ts:
        raise ApiError(
            400,
            "INVALID_ORDER_TIMESTAMP",
            "post_sign_timestamp must be an integer not earlier than the signed timestamp",
            details={"order_id": order_id} if order_id else None,
        )


def _ack(result: ApplyResult, order_id: str) -> dict[str, Any]:
    """OrderOperationResponse for a successful operation, or the engine's reject as an error."""
    if result.error is not None:
        status, code, message = result.error
        raise ApiError(status, code, message, details={"order_id": order_id})
    if result.ack is not None:
        return dict(result.ack)
    return {"order_id": order_id, "status": "Received", "reason": None, "processed_at_ns": None}


def _apply(
    v: Venue,
    build: Callable[[int], Command],
    order_id: str,
    guard: Callable[[], None] | None = None,
) -> dict[str, Any]:
    return _ack(v.execute(build, guard), order_id)


# ---------------------------------------------------------------------- orders


def _create(v: Venue, ctx: Ctx, body: Mapping[str, Any]) -> dict[str, Any]:
    user = ctx.me()
    oid = _peek_id(body.get("order"))
    order = _verify("create", body, user, oid).obj
    oid = order["order_id"]
    _post_sign(body, order["creation_timestamp_ns"], oid)
    _within_window(order["creation_timestamp_ns"], ctx.now_ns, "creation_timestamp_ns", oid)
    sig = tuple(body["signature"])
    return _apply(v, lambda ts: CreateOrder(ts_ns=ts, order=order, signature=sig), oid)


def create_order(v: Venue, ctx: Ctx) -> object:
    """POST /orders/create."""
    return _create(v, ctx, ctx.body())


def cancel_order(v: Venue, ctx: Ctx) -> object:
    """DELETE /orders/cancel (a DELETE with a JSON body)."""
    body = ctx.body()
    user = ctx.me()
    cancel = _verify("cancel", body, user, _peek_id(body.get("cancel")), allow_unsigned=True).obj
    oid = cancel["order_id"]
    asset = asset_param(cancel["asset_id"])
    return _apply(v, lambda ts: CancelOrder(ts_ns=ts, user=user, asset=asset, order_id=oid), oid)


def _replace(v: Venue, ctx: Ctx, body: Mapping[str, Any]) -> dict[str, Any]:
    user = ctx.me()
    oid = _peek_id(body.get("request"))
    request = _verify("replace", body, user, oid).obj
    oid = request["order_id"]
    _post_sign(body, request["timestamp_ns"], oid)
    _within_window(request["timestamp_ns"], ctx.now_ns, "timestamp_ns", oid)
    return _apply(v, lambda ts: ReplaceOrder(ts_ns=ts, user=user, request=request), oid)


def replace_order(v: Venue, ctx: Ctx) -> object:
    """PATCH /orders/replace."""
    return _replace(v, ctx, ctx.body())


def amend_order(v: Venue, ctx: Ctx) -> object:
    """PATCH /orders/amend: unsigned, authorized by the bearer session alone (spec §3.7)."""
    body = ctx.body()
    user = ctx.me()
    request = body.get("request")
    if not isinstance(request, dict):
        raise ApiError(400, "INVALID_ORDER_FORMAT", "amend body needs a request object")
    oid = _peek_id(request) or ""
    if body.get("user_id") != user:
        raise ApiError(
            403,
            "SIGNER_MISMATCH",
            "user_id is not the authenticated user",
            details={"order_id": oid},
        )
    return _apply(v, lambda ts: AmendOrder(ts_ns=ts, user=user, request=request), oid)


def _batch(
    items: object,
    key: str,
    one: Callable[[Mapping[str, Any]], dict[str, Any]],
    id_of: Callable[[Mapping[str, Any]], str | None],
) -> dict[str, Any]:
    """Run each batch item independently; one item's rejection does not affect the others."""
    if not isinstance(items, list) or not items:
        raise ApiError(400, "INVALID_REQUEST", f"{key} must be a non-empty list")
    if len(items) > MAX_BATCH:
        raise ApiError(400, "INVALID_REQUEST", f"at most {MAX_BATCH} items per batch")
    results = []
    for item in items:
        oid = id_of(item) if isinstance(item, Mapping) else None
        try:
            if not isinstance(item, Mapping):
                raise ApiError(400, "INVALID_REQUEST", "batch items must be objects")
            ack = one(item)
            results.append(
                {"order_id": ack["order_id"], "status": ack["status"], "reason": ack.get("reason")}
            )
        except ApiError as exc:
            results.append({"order_id": oid or "", "status": "Rejected", "reason": exc.code})
    return {"results": results}


def batch_create(v: Venue, ctx: Ctx) -> object:
    """POST /orders/batch-create."""
    return _batch(
        ctx.body().get("orders"),
        "orders",
        lambda b: _create(v, ctx, b),
        lambda b: _peek_id(b.get("order")),
    )


def batch_replace(v: Venue, ctx: Ctx) -> object:
    """PATCH /orders/batch-replace: ids must be unique within the batch (else all rejected)."""
    items = ctx.body().get("replaces")
    if isinstance(items, list):
        ids = [_peek_id(i.get("request")) if isinstance(i, Mapping) else None for i in items]
        if len(set(ids)) != len(ids):
            raise ApiError(
                400, "INVALID_REQUEST", "an order id appears more than once in the batch"
            )
    return _batch(
        items, "replaces", lambda b: _replace(v, ctx, b), lambda b: _peek_id(b.get("request"))
    )


# ---------------------------------------------------------------------- account actions


def _account_action(
    v: Venue, ctx: Ctx, kind: str, build: Callable[[int, dict[str, Any]], Command]
) -> object:
    user = ctx.me()
    inner = _verify(kind, ctx.body(), user, None).obj
    nonce_value = inner["nonce"]

    def guard() -> None:
        # Transfers and close-position share one strictly increasing nonce per account
        # (spec §3.10); checked against the caught-up state so a replay is never journaled.
        if nonce_value <= v.replica.exchange.nonces.get(user, -1):
            raise ApiError(
                409, "NONCE_REUSED", "nonce must be greater than the last one this account used"
            )

    result = v.execute(lambda ts: build(ts, inner), guard)
    if result.error is not None:
        status, code, message = result.error
        raise ApiError(status, code, message)
    return dict(result.ack) if result.ack is not None else {"success": True}


def transfer(v: Venue, ctx: Ctx) -> object:
    """POST /account/transfer/sub-account."""
    return _account_action(v, ctx, "transfer", lambda ts, inner: Transfer(ts_ns=ts, inner=inner))


def close_position(v: Venue, ctx: Ctx) -> object:
    """POST /account/transfer/close-position."""
    return _account_action(
        v, ctx, "close_position", lambda ts, inner: ClosePosition(ts_ns=ts, inner=inner)
    )
