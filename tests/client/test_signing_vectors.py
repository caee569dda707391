"""Golden vectors (tests/client/vectors.json, a copy of shared/spec/vectors.json) pin signing.

Every signed operation is rebuilt from its readable `inputs` with our builders, signed with the
vector key, and compared with tpluspy's signature, body JSON and body bytes; then a server-style
verifier rebuilds it from a key-reversed body (spec §3.16).

Sections not about signing belong to the client-api tests: `auth_handshake*` request sequence
and headers and `retry_after_401` → tests/client/test_auth.py; `error_classification` →
tests/client/test_errors.py; `reads` and `mds_reads` → tests/client/test_reads.py;
`websocket` and `ws_parser_checks` → the client-api stream tests. Here we check only the auth
*signatures* and body bytes (test_auth_nonce_signatures). `asset_identifiers` →
tests/client/test_assets.py; `keyfile` and `token_cache` → tests/client/test_keyfile.py.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from tplus_cli.client import signing as s
from tplus_cli.client.assets import normalize_asset_id, pad_address

VECTORS: dict[str, Any] = json.loads((Path(__file__).parent / "vectors.json").read_text("utf-8"))
OPS: dict[str, dict[str, Any]] = {op["name"]: op for op in VECTORS["signed_operations"]}
KEYS = VECTORS["keys"]
SEED = bytes.fromhex(KEYS["account"]["seed_hex"])
COSIGNER_SEED = bytes.fromhex(KEYS["cosigner"]["seed_hex"])
ACCOUNT = KEYS["account"]["public_key_hex"]
SEEDS_BY_PUBKEY = {k["public_key_hex"]: bytes.fromhex(k["seed_hex"]) for k in KEYS.values()}
MARKET = VECTORS["generator"]["market"]
# Fixed inputs documented in vectors-README.md (the add-signer flow's second /nonce reply).
ADD_SIGNER_OMS_NONCE = "b7e1d0c2-9f4a-4c1e-8d2b-6a5f3e2d1c0b"
ADD_SIGNER_CE_NONCE = 7

Built = tuple[str, dict[str, Any]]  # (request kind for verify_body, body)


def body_bytes(body: Mapping[str, Any]) -> str:
    """The body exactly as httpx >= 0.28 serializes it."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)


def reverse_keys(value: Any) -> Any:
    """Reverse the key order of every object, recursively (a worst-case received body)."""
    if isinstance(value, dict):
        return {k: reverse_keys(value[k]) for k in reversed(list(value))}
    if isinstance(value, list):
        return [reverse_keys(v) for v in value]
    return value


# --------------------------------------------------------------------------- builders from inputs


def _order(inp: Mapping[str, Any], clock: list[int], *, market: bool) -> dict[str, Any]:
    """The signed Order for a limit/market vector."""
    decimals = inp.get("market", MARKET)
    if market:
        details = s.market_details(
            base_quantity=inp.get("base_quantity"),
            quote_quantity=inp.get("quote_quantity"),
            max_sellable_amount=inp.get("max_sellable_amount"),
            max_sellable_quantity=inp.get("max_sellable_quantity"),
            fill_or_kill=inp.get("fill_or_kill", False),
        )
    else:
        details = s.limit_details(inp["price"], inp["quantity"], inp.get("time_in_force"))
    trigger = inp.get("trigger")
    order_id = inp.get("order_id") or s.order_id_from_uuid(uuid.UUID(inp["uuid4"]))
    return s.order_object(
        signer=inp.get("account", ACCOUNT),
        order_id=order_id,
        base_asset=normalize_asset_id(inp.get("asset_id", MARKET["asset_id"])),
        price_decimals=decimals["book_price_decimals"],
        quantity_decimals=decimals["book_quantity_decimals"],
        details=details,
        side=inp["side"],
        trigger=s.trigger_object(trigger["condition"], trigger["parent_order_id"])
        if trigger
        else None,
        creation_timestamp_ns=clock[0],
        target=inp.get("target"),
        reduce_only=inp.get("reduce_only", False),
        max_trading_fees_rate=inp.get("max_trading_fees_rate", s.DEFAULT_MAX_TRADING_FEES_RATE),
    )


def build_limit(op: Mapping[str, Any]) -> Built:
    """Limit create: order, master signature, post_sign_timestamp = second clock read."""
    order = _order(op["inputs"], op["clock_reads_ns"], market=False)
    return "create", s.create_body(
        order, s.sign_object(order, master=SEED), op["clock_reads_ns"][1]
    )


def build_market(op: Mapping[str, Any]) -> Built:
    """Market create."""
    order = _order(op["inputs"], op["clock_reads_ns"], market=True)
    return "create", s.create_body(
        order, s.sign_object(order, master=SEED), op["clock_reads_ns"][1]
    )


def build_delegated(op: Mapping[str, Any]) -> Built:
    """Delegated user: account key in the order, `signature: []`, the acting key cosigns."""
    inp = op["inputs"]
    order = _order(inp, op["clock_reads_ns"], market=False)
    sigs = s.sign_object(order, master=None, cosigners=[SEEDS_BY_PUBKEY[inp["acting_signer"]]])
    return "create", s.create_body(order, sigs, op["clock_reads_ns"][1])


def build_cancel(op: Mapping[str, Any]) -> Built:
    """Cancel: only post_sign_timestamp reads the clock."""
    inp = op["inputs"]
    cancel = s.cancel_object(
        order_id=inp["order_id"], asset_id=normalize_asset_id(inp["asset_id"]), signer=ACCOUNT
    )
    return "cancel", s.cancel_body(
        cancel, s.sign_object(cancel, master=SEED), op["clock_reads_ns"][0]
    )


def _replace_request(inp: Mapping[str, Any], timestamp_ns: int) -> dict[str, Any]:
    """The ReplaceOrder for a replace vector (a correct client: PriceBelow stays PriceBelow)."""
    return s.replace_object(
        order_id=inp["original_order_id"],
        base_asset=normalize_asset_id(inp["asset_id"]),
        timestamp_ns=timestamp_ns,
        new_price_limit=inp["new_price"],
        new_quantity=inp["new_quantity"],
        new_trigger=inp.get("new_trigger"),
        book_quantity_decimals=MARKET["book_quantity_decimals"],
        book_price_decimals=MARKET["book_price_decimals"],
    )


def build_replace(op: Mapping[str, Any]) -> Built:
    """Replace, optionally cosigned."""
    inp, clock = op["inputs"], op["clock_reads_ns"]
    request = _replace_request(inp, clock[0])
    cosigners = [SEEDS_BY_PUBKEY[k] for k in inp.get("additional_signers", [])]
    sigs = s.sign_object(request, master=SEED, cosigners=cosigners)
    return "replace", s.replace_body(request, ACCOUNT, sigs, clock[1])


def build_transfer(op: Mapping[str, Any]) -> Built:
    """Sub-account transfer: the nonce is the clock read in milliseconds."""
    inp = op["inputs"]
    inner = s.transfer_object(
        user=ACCOUNT,
        source_index=inp["source_index"],
        target_index=inp["target_index"],
        transfer_asset=normalize_asset_id(inp["transfer_asset"]),
        transfer_amount=inp["transfer_amount"],
        nonce=op["clock_reads_ns"][0] // 1_000_000,
    )
    return "transfer", s.inner_body(inner, s.sign_object(inner, master=SEED, ensure_ascii=True))


def build_close(op: Mapping[str, Any]) -> Built:
    """Close position with an explicit nonce."""
    inp = op["inputs"]
    inner = s.close_position_object(
        user=ACCOUNT,
        account=inp["account"],
        asset_identifier=normalize_asset_id(inp["transfer_asset"]),
        nonce=inp["nonce"],
    )
    return "close_position", s.inner_body(
        inner, s.sign_object(inner, master=SEED, ensure_ascii=True)
    )


def build_add_signer(op: Mapping[str, Any]) -> Built:
    """Add an Ed25519 multisig signer with the README's fixed second nonce."""
    inp = op["inputs"]
    inner = s.add_signer_object(
        user=ACCOUNT,
        oms_nonce=ADD_SIGNER_OMS_NONCE,
        ce_nonce=ADD_SIGNER_CE_NONCE,
        signer_public_key=inp["signer"],
        weight=inp["weight"],
        session_duration_ns=inp["session_duration_ns"],
    )
    return "add_signer", s.inner_body(inner, s.sign_object(inner, master=SEED, ensure_ascii=True))


def build_withdrawal(op: Mapping[str, Any]) -> Built:
    """Withdrawal init: asset in address@chain wire form, EVM target right-padded."""
    inp = op["inputs"]
    inner = s.withdrawal_object(
        tplus_user=ACCOUNT,
        asset=normalize_asset_id(inp["asset"]),
        amount=inp["amount"],
        nonce=inp["nonce"],
        target=pad_address(inp["target"]),
    )
    return "withdrawal", s.inner_body(inner, s.sign_object(inner, master=SEED))


def build_cancel_withdrawal(op: Mapping[str, Any]) -> Built:
    """Withdrawal cancel."""
    inp = op["inputs"]
    inner = s.cancel_withdrawal_object(
        tplus_user=ACCOUNT,
        asset_address=normalize_asset_id(inp["asset_address"]),
        nonce=inp["nonce"],
    )
    return "cancel_withdrawal", s.inner_body(inner, s.sign_object(inner, master=SEED))


BUILDERS: dict[str, Callable[[Mapping[str, Any]], Built]] = {
    "limit_gtc_default": build_limit,
    "limit_gtc_post_only_reduce_only_custom_target": build_limit,
    "limit_ioc_fok": build_limit,
    "limit_gtd": build_limit,
    "limit_trigger_above_no_parent": build_limit,
    "limit_trigger_below_with_parent": build_limit,
    "limit_generated_order_id": build_limit,
    "market_base_quantity": build_market,
    "market_base_quantity_with_cap_fok": build_market,
    "market_quote_quantity_with_cap": build_market,
    "market_trigger_below_stop_loss": build_market,
    "cancel": build_cancel,
    "replace_no_trigger": build_replace,
    "replace_trigger_above": build_replace,
    "replace_with_additional_signer": build_replace,
    "limit_delegated_additional_signer": build_delegated,
    "sub_account_transfer": build_transfer,
    "close_position": build_close,
    "multisig_add_signer": build_add_signer,
    "withdrawal_init": build_withdrawal,
    "withdrawal_cancel": build_cancel_withdrawal,
}
# Covered by dedicated tests below, each with the reason it cannot go through BUILDERS.
SPECIAL = {"replace_trigger_below_BUG", "amend_unsigned", "batch_create", "batch_replace"}


def test_every_signed_operation_is_covered() -> None:
    """No vector is silently skipped: each is built from inputs or has a dedicated test."""
    assert set(OPS) == set(BUILDERS) | SPECIAL
    assert not set(BUILDERS) & SPECIAL


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_signed_operation_from_inputs(name: str) -> None:
    """Built from inputs: same signed strings, signatures, body JSON and body bytes as tpluspy."""
    op = OPS[name]
    kind, body = BUILDERS[name](op)
    signed_obj = body[
        {"create": "order", "cancel": "cancel", "replace": "request"}.get(kind, "inner")
    ]
    message = s.signing_bytes(signed_obj, ensure_ascii=s.ensure_ascii_for(kind))
    for record in op["signatures"]:
        assert message.decode("utf-8") == record["signed_string"]
        assert message.hex() == record["signed_bytes_hex"]
        seed = SEEDS_BY_PUBKEY[record["signer_public_key"]]
        assert bytes(s.sign(seed, message)).hex() == record["signature_hex"]
        assert s.verify(record["signer_public_key"], message, record["signature_list"])
    assert s.strip_ws(op["signable_string"]) == message.decode("utf-8")
    assert body == op["http_request"]["body_json"]
    assert body_bytes(body) == op["http_request"]["body"]


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_server_rebuilds_shuffled_body(name: str) -> None:
    """A verifier rebuilds the canonical object from a key-reversed body and verifies every signer."""
    op = OPS[name]
    kind, _ = BUILDERS[name](op)
    received = reverse_keys(op["http_request"]["body_json"])
    verified = s.verify_body(kind, received)
    assert verified.message.decode("utf-8") == op["signatures"][0]["signed_string"]
    signers = [r["signer_public_key"] for r in op["signatures"]]
    assert verified.account == ACCOUNT
    assert verified.master_signed == (ACCOUNT in signers)
    assert list(verified.cosigners) == [k for k in signers if k != ACCOUNT]


def test_generated_order_id_matches_fixed_uuid() -> None:
    """base64(uuid4.bytes): 24 chars ending in '=='; the README's example uuid maps as recorded."""
    op = OPS["limit_generated_order_id"]
    assert s.order_id_from_uuid(uuid.UUID(op["inputs"]["uuid4"])) == op["expected_order_id"]
    assert op["generated_order_id"] == op["expected_order_id"]
    fresh = s.new_order_id()
    assert len(fresh) == 24 and fresh.endswith("==")


def test_replace_trigger_below_bug() -> None:
    """tpluspy signs TriggerBelow as PriceAbove; we build PriceBelow, and still verify tpluspy's body."""
    op = OPS["replace_trigger_below_BUG"]
    inp, clock = op["inputs"], op["clock_reads_ns"]
    request = _replace_request(inp, clock[0])
    assert request["new_trigger"] == {"PriceBelow": {"price": 48000}}
    assert s.signing_bytes(request).decode() == op["what_a_correct_client_would_sign"]
    # What tpluspy really sent (PriceAbove) is a well-formed, correctly signed replace.
    verified = s.verify_body("replace", reverse_keys(op["http_request"]["body_json"]))
    assert verified.message.decode() == op["signable_string"]
    assert verified.obj["new_trigger"] == {"PriceAbove": {"price": 48000}}


def test_amend_unsigned_body_shape() -> None:
    """Amend carries no signature; its body has a fixed shape and key order."""
    op = OPS["amend_unsigned"]
    inp = op["inputs"]
    assert op["signatures"] == []
    body = s.amend_body(
        order_id=inp["order_id"],
        base_asset=normalize_asset_id(inp["asset_id"]),
        new_quantity=inp["new_quantity"],
        book_quantity_decimals=MARKET["book_quantity_decimals"],
        expected_authorization_revision=inp["expected_authorization_revision"],
        timestamp_ns=op["clock_reads_ns"][0],
        user_id=ACCOUNT,
    )
    assert body == op["http_request"]["body_json"]
    assert body_bytes(body) == op["http_request"]["body"]


def test_batch_create_items() -> None:
    """Batch create: each item is an independently signed create body.

    The vector records no readable `inputs` (null), so each item's order terms come from the
    reversed body through `canonical_order`; the signatures, bytes and envelope are ours.
    """
    op = OPS["batch_create"]
    sent = op["http_request"]["body_json"]
    items = []
    for item, record in zip(reverse_keys(sent)["orders"], op["signatures"], strict=True):
        order = s.canonical_order(item["order"])
        assert s.signing_bytes(order).decode() == record["signed_string"]
        sigs = s.sign_object(order, master=SEED)
        assert bytes(sigs.signature).hex() == record["signature_hex"]
        items.append(s.create_body(order, sigs, item["post_sign_timestamp"]))
    assert body_bytes({"orders": items}) == op["http_request"]["body"]


def test_batch_replace_items() -> None:
    """Batch replace: each item is a full replace body (inputs are null, as for batch create)."""
    op = OPS["batch_replace"]
    items = []
    for item, record in zip(
        reverse_keys(op["http_request"]["body_json"])["replaces"], op["signatures"], strict=True
    ):
        request = s.canonical_replace(item["request"])
        assert s.signing_bytes(request).decode() == record["signed_string"]
        sigs = s.sign_object(request, master=SEED)
        assert bytes(sigs.signature).hex() == record["signature_hex"]
        items.append(s.replace_body(request, item["signer"], sigs, item["post_sign_timestamp"]))
    assert body_bytes({"replaces": items}) == op["http_request"]["body"]


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_tampered_signed_field_fails(name: str) -> None:
    """Changing a signed integer or string breaks verification; the unsigned timestamp does not."""
    op = OPS[name]
    kind, body = BUILDERS[name](op)
    key = {"create": "order", "cancel": "cancel", "replace": "request"}.get(kind, "inner")
    tampered = json.loads(json.dumps(body))
    obj = tampered[key]
    ints = [k for k, v in obj.items() if type(v) is int and k != "protocol_version"]
    if ints:
        obj[ints[0]] += 1
    else:  # cancel signs only strings: change the order id, keeping it a valid id
        obj["order_id"] = obj["order_id"][:-1] + ("A" if obj["order_id"][-1] != "A" else "B")
    with pytest.raises(s.SignatureInvalid):
        s.verify_body(kind, tampered)
    if "post_sign_timestamp" in body:
        untouched = dict(body, post_sign_timestamp=body["post_sign_timestamp"] + 5)
        s.verify_body(kind, untouched)


def test_raw_sign_examples() -> None:
    """User.sign(): strip ' ', CR, LF then Ed25519; includes tpluspy's own RFC 8032 test key."""
    for entry in VECTORS["raw_sign_examples"]["entries"]:
        stripped = s.strip_ws(entry["string_passed_to_sign"])
        assert stripped == entry["signed_string"]
        message = stripped.encode("utf-8")
        assert message.hex() == entry["signed_bytes_hex"]
        assert s.verify(entry["signer_public_key"], message, entry["signature_list"])
        assert list(bytes.fromhex(entry["signature_hex"])) == entry["signature_list"]
        seed = SEEDS_BY_PUBKEY.get(entry["signer_public_key"])
        if seed is not None:  # the third entry's RFC 8032 seed is not in the vectors
            assert bytes(s.sign(seed, message)).hex() == entry["signature_hex"]
    third = VECTORS["raw_sign_examples"]["entries"][2]
    assert (
        third["signature_hex"]
        == VECTORS["raw_sign_examples"]["tpluspy_repo_expected_sig_for_third"]
    )


def test_rfc8032_test_1_key() -> None:
    """The RFC 8032 §7.1 TEST 1 seed gives the public key of the third raw example."""
    seed = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
    third = VECTORS["raw_sign_examples"]["entries"][2]
    assert s.public_key_hex(seed) == third["signer_public_key"]
    message = third["signed_bytes_hex"]
    assert bytes(s.sign(seed, bytes.fromhex(message))).hex() == third["signature_hex"]


@pytest.mark.parametrize("name", sorted(KEYS))
def test_keys(name: str) -> None:
    """Seed → public key (hex and list form); the 64-byte seed‖pubkey form gives the same seed."""
    key = KEYS[name]
    seed = bytes.fromhex(key["seed_hex"])
    assert s.public_key_hex(seed) == key["public_key_hex"]
    assert s.public_key_list(key["public_key_hex"]) == key["public_key_list"]
    assert s.seed_from_any(key["private_key_64_hex(seed||pubkey)"]) == seed


def test_private_key_formats() -> None:
    """All five §2.2 forms of the account key give the recorded public key."""
    forms: dict[str, bytes | str] = {
        "raw_32_bytes": SEED,
        "hex_no_prefix": SEED.hex(),
        "hex_0x_prefix": "0x" + SEED.hex(),
        "raw_64_bytes_seed_plus_pubkey": SEED + bytes.fromhex(ACCOUNT),
        "hex_64_bytes": SEED.hex() + ACCOUNT,
    }
    expected = VECTORS["private_key_formats"]
    assert set(forms) == set(expected)
    for name, form in forms.items():
        assert s.public_key_hex(s.seed_from_any(form)) == expected[name], name


@pytest.mark.parametrize(
    "bad", [b"\x01" * 31, b"\x01" * 33, "01" * 31, "0X" + "01" * 32, "zz" * 32, "01" * 48, 12345]
)
def test_private_key_rejections(bad: Any) -> None:
    """Other lengths, an uppercase 0X prefix and non-hex text are refused without echoing the key."""
    with pytest.raises(ValueError) as info:
        s.seed_from_any(bad)
    assert "0101" not in str(info.value)


def test_auth_nonce_signatures() -> None:
    """The auth signature is over the stripped nonce string; numeric nonces are stringified."""
    for name in ("auth_handshake", "auth_handshake_numeric_nonce", "auth_handshake_with_cosigner"):
        section = VECTORS[name]
        auth_request = next(r for r in section["requests"] if r["raw_path"].endswith("/auth"))
        sent = json.loads(auth_request["body"])
        for record in section["signatures"]:
            message = s.auth_message(record["string_passed_to_sign"])
            assert message.decode() == record["signed_string"]
            seed = SEEDS_BY_PUBKEY[record["signer_public_key"]]
            assert bytes(s.sign(seed, message)).hex() == record["signature_hex"]
        cosigners = [SEEDS_BY_PUBKEY[r["signer_public_key"]] for r in section["signatures"][1:]]
        sigs = s.sign_message(s.auth_message(sent["nonce"]), master=SEED, cosigners=cosigners)
        assert body_bytes(s.auth_body(ACCOUNT, sent["nonce"], sigs)) == auth_request["body"]
        verified = s.verify_body("auth", reverse_keys(sent))
        assert verified.master_signed and len(verified.cosigners) == len(cosigners)
    assert s.auth_nonce_text({"value": 123456789}) == "123456789"
    assert (
        s.auth_nonce_text({"value": VECTORS["generator"]["auth_nonce"]})
        == VECTORS["generator"]["auth_nonce"]
    )
