"""Signing properties: random signed objects survive shuffling, tampering is caught, bad input named."""

from __future__ import annotations

import copy
import json
import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tplus_cli.client import signing as s

SEED = bytes([1]) * 32
COSIGNER = bytes([2]) * 32
ACCOUNT = s.public_key_hex(SEED)
U64 = st.integers(min_value=0, max_value=s.U64_MAX)
SMALL = st.integers(min_value=0, max_value=18)

# Order ids: any text (spaces, CR/LF, tabs, non-ASCII) of at most 24 UTF-8 bytes.
order_ids = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=24).filter(
    lambda t: len(t.encode("utf-8")) <= 24
)
assets = st.one_of(st.integers(0, 10**6).map(str), st.text(min_size=1, max_size=12))
tifs = st.one_of(
    st.builds(s.tif_gtc, st.booleans()),
    st.builds(s.tif_gtd, st.booleans(), U64),
    st.builds(s.tif_ioc, st.booleans()),
)
limit_details = st.builds(s.limit_details, U64, U64, tifs)
market_details = st.one_of(
    st.builds(
        lambda q, cap, fok: s.market_details(
            base_quantity=q, max_sellable_amount=cap, fill_or_kill=fok
        ),
        U64,
        st.none() | U64,
        st.booleans(),
    ),
    st.builds(
        lambda q, cap, fok: s.market_details(
            quote_quantity=q, max_sellable_quantity=cap, fill_or_kill=fok
        ),
        U64,
        st.none() | U64,
        st.booleans(),
    ),
)
conditions = st.one_of(st.builds(s.price_above, U64), st.builds(s.price_below, U64))
triggers = st.none() | st.builds(s.trigger_object, conditions, st.none() | order_ids)
orders = st.builds(
    lambda **kw: s.order_object(signer=ACCOUNT, **kw),
    order_id=order_ids,
    base_asset=assets,
    price_decimals=SMALL,
    quantity_decimals=SMALL,
    details=st.one_of(limit_details, market_details),
    side=st.sampled_from(["Buy", "Sell", "buy", "SELL"]),
    trigger=triggers,
    creation_timestamp_ns=U64,
    target=st.builds(s.target_object, st.integers(0, 255), st.booleans()),
    reduce_only=st.booleans(),
    max_trading_fees_rate=st.integers(0, 1_000_000),
)
replaces = st.builds(
    s.replace_object,
    order_id=order_ids,
    base_asset=assets,
    timestamp_ns=U64,
    new_price_limit=U64,
    new_quantity=U64,
    new_trigger=st.none() | conditions,
    book_quantity_decimals=SMALL,
    book_price_decimals=SMALL,
)


def shuffle_keys(value: Any, rng: random.Random) -> Any:
    """Randomly reorder every object's keys, recursively (lists keep their order)."""
    if isinstance(value, dict):
        keys = list(value)
        rng.shuffle(keys)
        return {k: shuffle_keys(value[k], rng) for k in keys}
    if isinstance(value, list):
        return [shuffle_keys(v, rng) for v in value]
    return value


def signed_leaves(obj: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Paths of every scalar leaf that is signed (everything except null)."""
    if isinstance(obj, dict):
        return [p for k, v in obj.items() for p in signed_leaves(v, (*path, k))]
    if isinstance(obj, list):
        return [p for i, v in enumerate(obj) for p in signed_leaves(v, (*path, i))]
    return [] if obj is None else [path]


def tamper(value: Any) -> Any:
    """A different value of the same type whose whitespace-stripped JSON differs."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value - 1 if value == s.U64_MAX or value > 255 else value + 1
    stripped = s.strip_ws(value)
    first = "Z" if stripped[:1] != "Z" else "Y"
    return first + value[1:] if value[:1] not in " \r\n" else first + value.lstrip(" \r\n")[1:]


@settings(max_examples=150, deadline=None)
@given(orders, st.randoms(use_true_random=False), st.booleans())
def test_random_order_round_trip(order: dict[str, Any], rng: random.Random, cosign: bool) -> None:
    """Sign, shuffle the body's keys, rebuild with canonical_order, verify master and cosigner."""
    sigs = s.sign_object(order, master=SEED, cosigners=[COSIGNER] if cosign else [])
    body = json.loads(json.dumps(s.create_body(order, sigs, 1)))  # through real JSON text
    received = shuffle_keys(body, rng)
    assert s.canonical_order(received["order"]) == order
    assert list(s.canonical_order(received["order"])) == list(order)
    verified = s.verify_body("create", received)
    assert verified.message == s.signing_bytes(order)
    assert verified.master_signed and len(verified.cosigners) == int(cosign)


@settings(max_examples=150, deadline=None)
@given(orders, st.data())
def test_tampered_order_field_fails(order: dict[str, Any], data: st.DataObject) -> None:
    """Changing any signed scalar of the order makes verification fail (or the rebuild refuse it)."""
    body = s.create_body(order, s.sign_object(order, master=SEED), 1)
    path = data.draw(st.sampled_from(signed_leaves(order)))
    bad = copy.deepcopy(body)
    parent = bad["order"]
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = tamper(parent[path[-1]])
    with pytest.raises(s.SigningError):
        s.verify_body("create", bad)


@settings(max_examples=100, deadline=None)
@given(replaces, st.randoms(use_true_random=False))
def test_random_replace_round_trip(request: dict[str, Any], rng: random.Random) -> None:
    """Replace bodies rebuild from any key order and verify; delegated form has signature []."""
    sigs = s.sign_object(request, master=None, cosigners=[COSIGNER])
    received = shuffle_keys(s.replace_body(request, ACCOUNT, sigs, 5), rng)
    verified = s.verify_body("replace", received)
    assert verified.obj == request and not verified.master_signed
    assert verified.cosigners == (s.public_key_hex(COSIGNER),)


@given(order_ids)
def test_order_id_whitespace_is_not_signed(order_id: str) -> None:
    """Spec §3.1: spaces/CR/LF vanish from the signed bytes, so they are not protected by the signature."""
    obj = s.cancel_object(order_id=order_id, asset_id="1", signer=ACCOUNT)
    assert s.signing_bytes(obj) == s.strip_ws(s.canonical_json(obj)).encode()
    assert b" " not in s.signing_bytes(obj) and b"\n" not in s.signing_bytes(obj)


def test_ensure_ascii_kinds() -> None:
    """Transfer/close/add-signer escape non-ASCII as tpluspy does; orders keep raw UTF-8."""
    close = s.close_position_object(user=ACCOUNT, account=1, asset_identifier="é", nonce=1)
    assert s.ensure_ascii_for("close_position") and not s.ensure_ascii_for("create")
    body = s.inner_body(close, s.sign_object(close, master=SEED, ensure_ascii=True))
    assert (
        s.verify_body("close_position", body).message
        == b'{"user":"'
        + ACCOUNT.encode()
        + b'","account":1,"asset_identifier":"\\u00e9","nonce":1}'
    )
    with pytest.raises(s.SignatureInvalid):  # signed without escapes: a different message
        s.verify_body("close_position", s.inner_body(close, s.sign_object(close, master=SEED)))


# --------------------------------------------------------------------------- rebuild refusals

GOOD = s.order_object(
    signer=ACCOUNT,
    order_id="abc",
    base_asset="1",
    price_decimals=2,
    quantity_decimals=3,
    details=s.limit_details(100, 5, s.tif_gtc()),
    side="Buy",
    creation_timestamp_ns=1,
)


def with_field(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    """A copy of GOOD with one nested field replaced (or removed when value is ...)."""
    bad = copy.deepcopy(GOOD)
    parent = bad
    for key in path[:-1]:
        parent = parent[key]
    if value is ...:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return bad


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("book_price_decimals",), True, "expected an integer, got bool"),
        (("book_price_decimals",), "2", "expected an integer, got string"),
        (("book_price_decimals",), 2.0, "expected an integer, got float"),
        (("creation_timestamp_ns",), -1, "out of range"),
        (("creation_timestamp_ns",), 2**64, "out of range"),
        (("reduce_only",), 0, "expected true or false"),
        (("side",), "buy", "Buy"),
        (("side",), "Ask", "Buy"),
        (("order_id",), "x" * 25, "24 UTF-8 bytes"),
        (("order_id",), "é" * 13, "24 UTF-8 bytes"),
        (("order_id",), "", "must not be empty"),
        (("signer",), ACCOUNT.upper(), "64 lowercase hex"),
        (("base_asset",), 1, "expected a string"),
        (("protocol_version",), 2, "unsupported protocol version"),
        (("details",), {"Stop": {}}, "unknown variant 'Stop'"),
        (("details",), {"Limit": {}, "Market": {}}, "exactly one of"),
        (("details", "Limit", "time_in_force"), {"FOK": {}}, "unknown variant"),
        (("details", "Limit", "quantity"), ..., "order.details.Limit.quantity: missing field"),
        (("target", "is_spot"), ..., "order.target.is_spot: missing field"),
        (("max_trading_fees_rate",), ..., "missing field"),
        (("trigger",), {"condition": {"PriceBelow": {"price": "1"}}}, "expected an integer"),
        (("trigger",), {"parent_order_id": None}, "trigger.condition: missing field"),
        (("trigger",), [], "expected an object or null"),
    ],
)
def test_rebuild_refusals(path: tuple[Any, ...], value: Any, message: str) -> None:
    """Missing or mistyped fields raise SigningError naming the field."""
    with pytest.raises(s.SigningError, match=message.replace("(", r"\(")):
        s.canonical_order(with_field(path, value))


def test_rebuild_tolerates_extra_keys_and_absent_nullables() -> None:
    """Unknown keys are dropped; an absent nullable field reads as null (serde Option rule)."""
    received = dict(GOOD, extra="ignored")
    del received["trigger"]
    assert s.canonical_order(received) == GOOD


def test_builder_refusals() -> None:
    """Builders refuse contradictory inputs instead of sending something surprising."""
    with pytest.raises(s.SigningError, match="exactly one"):
        s.market_details()
    with pytest.raises(s.SigningError, match="exactly one"):
        s.market_details(base_quantity=1, quote_quantity=1)
    with pytest.raises(s.SigningError, match="pairs only"):
        s.market_details(base_quantity=1, max_sellable_quantity=1)
    with pytest.raises(s.SigningError, match="pairs only"):
        s.market_details(quote_quantity=1, max_sellable_amount=1)
    with pytest.raises(s.SigningError, match="parent_order_id"):
        s.trigger_object(None, "parent")
    with pytest.raises(s.SigningError, match="side"):
        s.order_object(**{**_order_kwargs(), "side": "Ask"})
    with pytest.raises(s.SigningError, match="expected true or false"):
        s.tif_gtc(1)  # type: ignore[arg-type]
    with pytest.raises(s.SigningError, match="out of range"):
        s.price_below(-1)
    with pytest.raises(s.SigningError, match="exceeds U256"):
        s.withdrawal_object(tplus_user=ACCOUNT, asset="1", amount="9" * 5000, nonce=None)
    with pytest.raises(s.SigningError, match="out of range"):
        s.withdrawal_object(tplus_user=ACCOUNT, asset="1", amount=2**256, nonce=None)
    with pytest.raises(s.SigningError, match="floats"):
        s.canonical_json({"a": [1.5]})
    cancel = s.cancel_object(order_id="a", asset_id="1", signer=ACCOUNT)
    with pytest.raises(s.SigningError, match="additional_signers"):
        s.cancel_body(cancel, s.sign_object(cancel, master=SEED, cosigners=[COSIGNER]), 1)
    with pytest.raises(s.SigningError, match="transfer_amount"):
        s.transfer_object(
            user=ACCOUNT,
            source_index=0,
            target_index=1,
            transfer_asset="0",
            transfer_amount="1.5",
            nonce=1,
        )


def _order_kwargs() -> dict[str, Any]:
    """Keyword arguments of a valid order."""
    return {
        "signer": ACCOUNT,
        "order_id": "abc",
        "base_asset": "1",
        "price_decimals": 2,
        "quantity_decimals": 3,
        "details": s.limit_details(100, 5),
        "side": "Buy",
        "creation_timestamp_ns": 1,
    }


def test_verify_body_refusals() -> None:
    """Bad signature shapes, unsupported cosigner types and unsigned bodies are refused."""
    sigs = s.sign_object(GOOD, master=SEED)
    body = s.create_body(GOOD, sigs, 1)
    with pytest.raises(s.SigningError, match="64 bytes"):
        s.verify_body("create", dict(body, signature=sigs.signature[:63]))
    with pytest.raises(s.SigningError, match="expected an integer, got bool"):
        s.verify_body("create", dict(body, signature=[True] * 64))
    with pytest.raises(s.SignatureInvalid, match="no signature"):
        s.verify_body("create", dict(body, signature=[]))
    unsigned = s.verify_body("create", dict(body, signature=[]), allow_unsigned=True)
    assert not unsigned.master_signed and unsigned.cosigners == ()
    cosigned = s.sign_object(GOOD, master=SEED, cosigners=[COSIGNER]).additional_signers
    with pytest.raises(s.SignatureInvalid, match="duplicate signer"):
        s.verify_body("create", dict(body, additional_signers=cosigned * 2))
    as_master = s.sign_object(GOOD, master=None, cosigners=[SEED]).additional_signers
    with pytest.raises(s.SignatureInvalid, match="duplicate signer"):
        s.verify_body("create", dict(body, additional_signers=as_master))
    secp = {"signer": {"Secp256k1": [2] * 33}, "signature": [0] * 64}
    with pytest.raises(s.SignatureInvalid, match="Secp256k1"):
        s.verify_body("create", dict(body, additional_signers=[secp]))
    wrong = s.sign_object(GOOD, master=None, cosigners=[COSIGNER]).additional_signers[0]
    wrong = dict(wrong, signature=sigs.signature)  # the master's signature under the cosigner key
    with pytest.raises(s.SignatureInvalid, match=r"additional_signers\[0\]"):
        s.verify_body("create", dict(body, additional_signers=[wrong]))
    with pytest.raises(s.SigningError, match="body.order: missing field"):
        s.verify_body("create", {"signature": sigs.signature})
    with pytest.raises(ValueError, match="unknown signed request kind"):
        s.verify_body("amend", body)


def test_verify_rejects_malformed_inputs_quietly() -> None:
    """verify() answers False for malformed keys or signatures instead of raising."""
    message = b"m"
    good = s.sign(SEED, message)
    assert s.verify(ACCOUNT, message, good)
    assert not s.verify(ACCOUNT, b"n", good)
    assert not s.verify("zz" * 32, message, good)
    assert not s.verify(ACCOUNT, message, good[:-1])
    assert not s.verify(ACCOUNT, message, [*good[:-1], 256])
    assert not s.verify(s.public_key_hex(COSIGNER), message, good)
