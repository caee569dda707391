"""Every forged, replayed or unauthorized request is refused with its code and changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from service_helpers import BTC, SEED_A, SEED_B, T0, Caller, error_code

from tplus_cli.client import signing
from tplus_cli.venue.auth import TOKEN_TTL_NS
from tplus_cli.venue.clock import StepClock
from tplus_cli.venue.handlers import Venue


def _state(venue: Venue, *callers: Caller) -> tuple[Any, ...]:
    """Journal head plus every caller's orders and balances: what must not move on a refusal."""
    return (venue.store.last_seq(),) + tuple((c.orders(), c.inventory()) for c in callers)


def test_bad_signature_is_refused(venue: Venue, alice: Caller) -> None:
    before = _state(venue, alice)
    body = alice.limit_body()
    body["signature"] = [7] * 64
    resp = alice.send("POST", "/orders/create", body)
    assert (resp.status, error_code(resp)) == (401, "INVALID_SIGNATURE")
    assert resp.json()["error"]["details"]["order_id"] == body["order"]["order_id"]
    assert _state(venue, alice) == before


@pytest.mark.parametrize(
    "path, value",
    [
        (("details", "Limit", "quantity"), 999_999),
        (("details", "Limit", "limit_price"), 1),
        (("side",), "Sell"),
        (("target", "account"), 0),
        (("max_trading_fees_rate",), 1_000_000),
        (("order_id",), "other-id"),
    ],
)
def test_tampered_signed_field_is_refused(
    venue: Venue, alice: Caller, path: tuple[str, ...], value: object
) -> None:
    before = _state(venue, alice)
    body = alice.limit_body()
    node = body["order"]
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    resp = alice.send("POST", "/orders/create", body)
    assert (resp.status, error_code(resp)) == (401, "INVALID_SIGNATURE")
    assert _state(venue, alice) == before


def test_shuffled_keys_and_extra_envelope_fields_still_verify(alice: Caller) -> None:
    body = alice.limit_body()
    body["order"] = dict(reversed(list(body["order"].items())))
    body["unsigned_extra"] = True
    resp = alice.send("POST", "/orders/create", body)
    assert resp.status == 200, resp.body
    assert resp.json()["status"] == "Received"


def test_replayed_order_id_is_a_duplicate(venue: Venue, alice: Caller) -> None:
    body = alice.limit_body(order_id="replay-me")
    assert alice.send("POST", "/orders/create", body).status == 200
    before = _state(venue, alice)
    resp = alice.send("POST", "/orders/create", body)
    assert error_code(resp) == "DUPLICATE_ORDER"
    fresh = alice.create(order_id="replay-me", price=590_000)
    assert error_code(fresh) == "DUPLICATE_ORDER"
    assert [o["order_id"] for o in alice.orders()] == ["replay-me"]
    assert _state(venue, alice)[1:] == before[1:]


@pytest.mark.parametrize("offset_s", [-61, 61, -3600])
def test_stale_or_future_creation_timestamp_is_refused(
    venue: Venue, alice: Caller, offset_s: int
) -> None:
    before = _state(venue, alice)
    ts = T0 + offset_s * 10**9
    resp = alice.create(ts=ts, post_sign=max(ts, T0))
    assert (resp.status, error_code(resp)) == (400, "INVALID_ORDER_STALE_TIMESTAMP")
    assert _state(venue, alice) == before


def test_timestamp_inside_the_window_is_accepted(alice: Caller) -> None:
    assert alice.create(ts=T0 - 59 * 10**9).status == 200


def test_post_sign_timestamp_before_creation_is_refused(venue: Venue, alice: Caller) -> None:
    before = _state(venue, alice)
    resp = alice.create(ts=T0, post_sign=T0 - 1)
    assert error_code(resp) == "INVALID_ORDER_TIMESTAMP"
    assert _state(venue, alice) == before


def test_order_signed_for_another_account_is_refused(
    venue: Venue, alice: Caller, bob: Caller
) -> None:
    before = _state(venue, alice, bob)
    body = bob.limit_body()  # validly signed by bob ...
    resp = alice.send("POST", "/orders/create", body)  # ... sent on alice's session
    assert (resp.status, error_code(resp)) == (403, "SIGNER_MISMATCH")
    assert _state(venue, alice, bob) == before


def test_foreign_cancel_is_refused(venue: Venue, alice: Caller, bob: Caller) -> None:
    oid = alice.create().json()["order_id"]
    before = _state(venue, alice, bob)
    # bob cancels alice's id as himself: no such order of his
    assert error_code(bob.cancel(oid)) == "ORDER_NOT_FOUND"
    # bob claims to be alice in the signed cancel: the signature does not verify
    forged = signing.cancel_object(order_id=oid, asset_id=BTC, signer=alice.pk)
    body = signing.cancel_body(forged, signing.sign_object(forged, master=SEED_B), alice.now)
    assert error_code(bob.send("DELETE", "/orders/cancel", body)) == "INVALID_SIGNATURE"
    # bob replays alice's own valid cancel on his session
    assert (
        error_code(bob.send("DELETE", "/orders/cancel", alice.cancel_body(oid)))
        == "SIGNER_MISMATCH"
    )
    state = _state(venue, alice, bob)
    assert state[1:] == before[1:]
    assert [o["order_id"] for o in alice.orders(open_only=True)] == [oid]


def test_missing_token_is_unauthorized(venue: Venue, alice: Caller) -> None:
    before = _state(venue, alice)
    resp = alice.send("POST", "/orders/create", alice.limit_body(), headers={})
    assert (resp.status, error_code(resp)) == (401, "UNAUTHORIZED")
    resp = alice.send("GET", f"/inventory/user/{alice.pk}", headers={"User-Id": alice.pk})
    assert (resp.status, error_code(resp)) == (401, "UNAUTHORIZED")
    assert _state(venue, alice) == before


def test_unknown_token_is_unauthorized(alice: Caller) -> None:
    headers = {"Authorization": "Bearer not-a-token", "User-Id": alice.pk}
    resp = alice.send("GET", f"/inventory/user/{alice.pk}", headers=headers)
    assert (resp.status, error_code(resp)) == (401, "UNAUTHORIZED")


def test_expired_token_is_unauthorized(clock: StepClock, venue: Venue, alice: Caller) -> None:
    clock.advance(TOKEN_TTL_NS)
    before_seq = venue.store.last_seq()
    resp = alice.create()
    assert (resp.status, error_code(resp)) == (401, "UNAUTHORIZED")
    # time passed (a Tick may be journaled) but no order reached the exchange
    assert {r.command["type"] for r in venue.store.journal_after(before_seq)} <= {"Tick"}


def test_token_with_another_user_id_is_unauthorized(alice: Caller, bob: Caller) -> None:
    headers = {"Authorization": alice.headers["Authorization"], "User-Id": bob.pk}
    resp = bob.send("GET", f"/inventory/user/{bob.pk}", headers=headers)
    assert (resp.status, error_code(resp)) == (401, "UNAUTHORIZED")


def test_reading_another_account_is_forbidden(alice: Caller, bob: Caller) -> None:
    for path in (
        f"/inventory/user/{bob.pk}",
        f"/orders/user/{bob.pk}/{BTC}",
        f"/solvency/user/{bob.pk}",
    ):
        resp = alice.send("GET", path)
        assert (resp.status, error_code(resp)) == (403, "UNAUTHORIZED"), path


def test_path_keys_are_canonicalized(alice: Caller) -> None:
    resp = alice.send("GET", f"/inventory/user/0x{alice.pk.upper()}")
    assert resp.status == 200


def test_auth_nonce_is_single_use(venue: Venue) -> None:
    alice = Caller(venue, SEED_A)
    nonce = alice.send("GET", f"/nonce/{alice.pk}", headers={}).json()["value"]
    body = alice.auth_body(nonce)
    assert alice.send("POST", "/auth", body, headers={}).status == 200
    resp = alice.send("POST", "/auth", body, headers={})
    assert (resp.status, error_code(resp)) == (401, "NONCE_INVALID")


def test_auth_nonce_is_bound_to_its_pubkey(venue: Venue) -> None:
    alice, bob = Caller(venue, SEED_A), Caller(venue, SEED_B)
    nonce = alice.send("GET", f"/nonce/{alice.pk}", headers={}).json()["value"]
    resp = bob.send("POST", "/auth", bob.auth_body(nonce), headers={})
    assert error_code(resp) == "NONCE_INVALID"


def test_auth_with_a_bad_signature_is_refused(venue: Venue) -> None:
    alice = Caller(venue, SEED_A)
    nonce = alice.send("GET", f"/nonce/{alice.pk}", headers={}).json()["value"]
    body = alice.auth_body(nonce)
    body["signature"] = Caller(venue, SEED_B).auth_body(nonce)["signature"]
    resp = alice.send("POST", "/auth", body, headers={})
    assert (resp.status, error_code(resp)) == (401, "INVALID_SIGNATURE")
    # the nonce was not burnt by the failed attempt
    assert alice.send("POST", "/auth", alice.auth_body(nonce), headers={}).status == 200


def test_replayed_replace_is_refused(clock: StepClock, venue: Venue, alice: Caller) -> None:
    oid = alice.create(price=600_000, quantity=1_000).json()["order_id"]
    clock.advance(10**9)
    first = alice.replace_body(oid, price=600_100, quantity=1_000)
    assert alice.send("PATCH", "/orders/replace", first).status == 200
    before = _state(venue, alice)
    resp = alice.send("PATCH", "/orders/replace", first)
    assert (resp.status, error_code(resp)) == (409, "ORDER_REJECTED_STALE_REVISION")
    assert _state(venue, alice)[1:] == before[1:]


def test_transfer_nonce_must_increase(venue: Venue, alice: Caller) -> None:
    amount = 10**18
    ok = alice.send("POST", "/account/transfer/sub-account", alice.transfer_body(amount, nonce=5))
    assert ok.status == 200, ok.body
    before = _state(venue, alice)
    for nonce in (5, 4):
        resp = alice.send(
            "POST", "/account/transfer/sub-account", alice.transfer_body(amount, nonce)
        )
        assert (resp.status, error_code(resp)) == (409, "NONCE_REUSED")
    assert _state(venue, alice) == before


def test_delegated_style_unsigned_cancel_is_authorized_by_the_session(alice: Caller) -> None:
    oid = alice.create().json()["order_id"]
    body = alice.cancel_body(oid)
    body["signature"] = []
    assert alice.send("DELETE", "/orders/cancel", body).status == 200
    assert alice.orders(open_only=True) == []


def test_unsigned_create_is_refused(venue: Venue, alice: Caller) -> None:
    body = alice.limit_body()
    body["signature"] = []
    assert error_code(alice.send("POST", "/orders/create", body)) == "INVALID_SIGNATURE"
