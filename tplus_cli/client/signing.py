"""Canonical JSON, Ed25519 signatures and request bodies for every signed T+ object (spec §3).

Pure: no I/O, no clock. Builders (`order_object`, `cancel_object`, ...) return plain dicts in
the canonical key order, which is exactly what is signed and nested in the request body.
Rebuilders (`canonical_order`, ...) take a received object (any key order, extra keys allowed)
and return the canonical dict, raising `SigningError` on a missing or mistyped field; builders
run their result through the same rebuilder, so both sides share one definition per object.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import nacl.exceptions
import nacl.signing

JsonDict = dict[str, Any]

PROTOCOL_VERSION = 1
DEFAULT_MAX_TRADING_FEES_RATE = 50000  # ppm, i.e. 5 % (contracts.md)
U64_MAX = 2**64 - 1
U256_MAX = 2**256 - 1
MAX_ORDER_ID_BYTES = 24
ZERO_TARGET = "0" * 64

_HEX64 = re.compile(r"[0-9a-f]{64}")
_DECIMAL = re.compile(r"[0-9]+")
_STRIP = str.maketrans("", "", " \r\n")


class SigningError(ValueError):
    """A signed object (or a signing input) is malformed; the message names the field."""


# --------------------------------------------------------------------------- primitives


def strip_ws(s: str) -> str:
    """Delete every space, CR and LF (also inside JSON strings), as tpluspy does before signing."""
    return s.translate(_STRIP)


def _has_float(obj: object) -> bool:
    """Whether a float hides anywhere in `obj` (the same walk as `_reject_floats`, no paths)."""
    stack = [obj]
    while stack:
        item = stack.pop()
        if isinstance(item, str | int) or item is None:
            continue
        if isinstance(item, float):
            return True
        if isinstance(item, dict | Mapping):
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return False


def _reject_floats(obj: object, path: str) -> None:
    """Raise if a float hides anywhere in `obj`: signed numbers are always integers."""
    if _has_float(obj):
        _reject_floats_at(obj, path)


def _reject_floats_at(obj: object, path: str) -> None:
    """The slow walk that names the path of the first float (only run when there is one)."""
    if isinstance(obj, float):
        raise SigningError(f"{path}: floats are never signed, use an integer")
    if isinstance(obj, Mapping):
        for key, value in obj.items():
            _reject_floats_at(value, f"{path}.{key}")
    elif isinstance(obj, list | tuple):
        for i, value in enumerate(obj):
            _reject_floats_at(value, f"{path}[{i}]")


def canonical_json(obj: object, *, ensure_ascii: bool = False) -> str:
    """Compact JSON keeping the given key order (serde `to_string` shape); floats refused."""
    _reject_floats(obj, "$")
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=ensure_ascii, allow_nan=False)


def signing_bytes(obj: Mapping[str, Any], *, ensure_ascii: bool = False) -> bytes:
    """The exact Ed25519 message for a signed object: strip_ws(canonical_json(obj)) as UTF-8."""
    return strip_ws(canonical_json(obj, ensure_ascii=ensure_ascii)).encode("utf-8")


def seed_from_any(value: bytes | str) -> bytes:
    """Accept the §2.2 private-key forms (32/64 raw bytes, hex, lowercase-0x hex) → 32-byte seed."""
    if isinstance(value, str):
        text = value[2:] if value.startswith("0x") else value
        try:
            raw = bytes.fromhex(text)
        except ValueError:
            raise ValueError("private key: not a hex string") from None
        if any(c.isspace() for c in text):
            raise ValueError("private key: whitespace inside the hex string")
    elif isinstance(value, bytes | bytearray):
        raw = bytes(value)
    else:
        raise ValueError("private key: expected bytes or a hex string")
    if len(raw) not in (32, 64):
        raise ValueError(f"private key: expected 32 or 64 bytes, got {len(raw)}")
    return raw[:32]


def public_key_hex(seed: bytes) -> str:
    """The account id: 64 lowercase hex characters of the Ed25519 public key."""
    return bytes(nacl.signing.SigningKey(seed).verify_key).hex()


def public_key_list(public_key: str) -> list[int]:
    """The list-of-ints form of a public key, as used inside `{"Ed25519": [...]}`."""
    return list(bytes.fromhex(_account_id(public_key, "public_key")))


def sign(seed: bytes, message: bytes) -> list[int]:
    """Pure Ed25519 signature of `message`, as the 64-int list used on the wire."""
    return list(nacl.signing.SigningKey(seed).sign(message).signature)


def verify(public_key_hex: str, message: bytes, signature: Sequence[int]) -> bool:
    """True iff `signature` (64 ints) is a valid Ed25519 signature of `message` by the key."""
    if len(signature) != 64 or not _are_bytes(signature):
        return False
    if _HEX64.fullmatch(public_key_hex) is None:
        return False
    try:
        nacl.signing.VerifyKey(bytes.fromhex(public_key_hex)).verify(message, bytes(signature))
    except (nacl.exceptions.BadSignatureError, nacl.exceptions.CryptoError, ValueError):
        return False
    return True


def order_id_from_uuid(value: uuid.UUID) -> str:
    """tpluspy's order-id form: standard base64 of the 16 uuid bytes (24 chars, '==' padded)."""
    return base64.standard_b64encode(value.bytes).decode("ascii")


def new_order_id() -> str:
    """A fresh random order id: base64(uuid4().bytes), 24 characters."""
    return order_id_from_uuid(uuid.uuid4())


# --------------------------------------------------------------------------- field checks


def _get(d: object, key: str, path: str) -> Any:
    """A required field, or SigningError naming it."""
    if not isinstance(d, Mapping):
        raise SigningError(f"{path}: expected an object, got {type(d).__name__}")
    if key not in d:
        raise SigningError(f"{path}.{key}: missing field")
    return d[key]


def _int(value: object, path: str, *, maximum: int = U64_MAX) -> int:
    """A non-negative integer within `maximum` (bool is not an int here)."""
    if type(value) is not int:
        raise SigningError(f"{path}: expected an integer, got {_kind(value)}")
    if not 0 <= value <= maximum:
        raise SigningError(f"{path}: {value} is out of range 0..{maximum}")
    return value


def _bool(value: object, path: str) -> bool:
    """A JSON boolean."""
    if type(value) is not bool:
        raise SigningError(f"{path}: expected true or false, got {_kind(value)}")
    return value


def _str(value: object, path: str) -> str:
    """A non-empty JSON string."""
    if not isinstance(value, str):
        raise SigningError(f"{path}: expected a string, got {_kind(value)}")
    if value == "":
        raise SigningError(f"{path}: must not be empty")
    return value


def _account_id(value: object, path: str) -> str:
    """An account public key: exactly 64 lowercase hex characters."""
    text = _str(value, path)
    if _HEX64.fullmatch(text) is None:
        raise SigningError(f"{path}: expected 64 lowercase hex characters (an account public key)")
    return text


def _order_id(value: object, path: str) -> str:
    """An order id: a non-empty string of at most 24 UTF-8 bytes."""
    text = _str(value, path)
    if len(text.encode("utf-8")) > MAX_ORDER_ID_BYTES:
        raise SigningError(f"{path}: longer than {MAX_ORDER_ID_BYTES} UTF-8 bytes")
    return text


def _decimal_string(value: object, path: str) -> str:
    """A U256 amount written as a decimal string (spec §3.2 rule 4)."""
    if not isinstance(value, str) or _DECIMAL.fullmatch(value) is None:
        raise SigningError(f"{path}: expected a decimal integer string, got {_kind(value)}")
    if len(value.lstrip("0")) > len(str(U256_MAX)) or int(value) > U256_MAX:
        raise SigningError(f"{path}: exceeds U256")
    return value


def _protocol_version(value: object, path: str) -> int:
    """The protocol version: the integer 1."""
    if _int(value, path) != PROTOCOL_VERSION:
        raise SigningError(f"{path}: unsupported protocol version {value}")
    return PROTOCOL_VERSION


def _optional(
    d: Mapping[str, Any], key: str, path: str, check: Callable[[object, str], Any]
) -> Any:
    """A nullable field: absent or null → None (serde's Option rule), else `check` it."""
    value = d.get(key)
    return None if value is None else check(value, f"{path}.{key}")


def _variant(value: object, path: str, legal: Sequence[str]) -> tuple[str, Any]:
    """An externally tagged enum value `{"Variant": payload}` with a legal variant name."""
    if not isinstance(value, Mapping):
        raise SigningError(f"{path}: expected one of {_names(legal)} as {{variant: ...}}")
    if len(value) != 1:
        raise SigningError(
            f"{path}: expected exactly one of {_names(legal)}, got {len(value)} keys"
        )
    ((name, payload),) = value.items()
    if name not in legal:
        raise SigningError(f"{path}: unknown variant {name!r}, expected one of {_names(legal)}")
    return name, payload


def _names(legal: Sequence[str]) -> str:
    """Variant names for an error message."""
    return "/".join(legal)


def _kind(value: object) -> str:
    """A JSON-ish type name for error messages (never the value, which may be long)."""
    if value is None:
        return "null"
    return {bool: "bool", int: "integer", float: "float", str: "string"}.get(
        type(value), "list" if isinstance(value, list | tuple) else type(value).__name__
    )


def _are_bytes(values: Sequence[object]) -> bool:
    """Whether every item is an int (never a bool) in 0..255; one C-level pass, no per-item
    Python frame (signatures are checked on every signed request)."""
    if not set(map(type, values)) <= {int}:
        return False
    try:
        bytes(values)  # type: ignore[arg-type]
    except ValueError:
        return False
    return True


def _byte_list(value: object, path: str, lengths: Sequence[int]) -> list[int]:
    """A list of byte values (0..255) with one of the allowed lengths."""
    if isinstance(value, list | tuple) and len(value) in lengths and _are_bytes(value):
        return list(value)
    if not isinstance(value, list | tuple):
        raise SigningError(f"{path}: expected a list of byte values, got {_kind(value)}")
    if len(value) not in lengths:
        raise SigningError(
            f"{path}: expected {' or '.join(map(str, lengths))} bytes, got {len(value)}"
        )
    return [_int(b, f"{path}[{i}]", maximum=255) for i, b in enumerate(value)]


# --------------------------------------------------------------------------- order pieces


def tif_gtc(post_only: bool = False) -> JsonDict:
    """Good-till-cancelled time in force."""
    return _canonical_tif({"GTC": {"post_only": post_only}}, "time_in_force")


def tif_gtd(post_only: bool, timestamp_ns: int) -> JsonDict:
    """Good-till-date time in force, expiring at `timestamp_ns` (Unix ns)."""
    return _canonical_tif(
        {"GTD": {"post_only": post_only, "timestamp_ns": timestamp_ns}}, "time_in_force"
    )


def tif_ioc(fill_or_kill: bool = False) -> JsonDict:
    """Immediate-or-cancel time in force; `fill_or_kill` makes it all-or-nothing."""
    return _canonical_tif({"IOC": {"fill_or_kill": fill_or_kill}}, "time_in_force")


def price_above(price: int) -> JsonDict:
    """Trigger condition: activate when the price crosses up through `price` (book units)."""
    return _canonical_condition({"PriceAbove": {"price": price}}, "condition")


def price_below(price: int) -> JsonDict:
    """Trigger condition: activate when the price crosses down through `price` (book units)."""
    return _canonical_condition({"PriceBelow": {"price": price}}, "condition")


def target_object(account: int = 1, is_spot: bool = True) -> JsonDict:
    """The sub-account an order trades for; default margin account spending spot balance."""
    return _canonical_target({"account": account, "is_spot": is_spot}, "target")


def limit_details(
    limit_price: int, quantity: int, tif: Mapping[str, Any] | None = None
) -> JsonDict:
    """`{"Limit": ...}` order details; `tif` defaults to GTC without post-only."""
    details = {"limit_price": limit_price, "quantity": quantity, "time_in_force": tif or tif_gtc()}
    return _canonical_details({"Limit": details}, "details")


def market_details(
    *,
    base_quantity: int | None = None,
    quote_quantity: int | None = None,
    max_sellable_amount: int | None = None,
    max_sellable_quantity: int | None = None,
    fill_or_kill: bool = False,
) -> JsonDict:
    """`{"Market": ...}` details sized in base OR quote units, each with its own optional cap."""
    if (base_quantity is None) == (quote_quantity is None):
        raise SigningError("market order: give exactly one of base_quantity or quote_quantity")
    if base_quantity is not None:
        if max_sellable_quantity is not None:
            raise SigningError("market order: max_sellable_quantity pairs only with quote_quantity")
        quantity: JsonDict = {
            "BaseAsset": {"quantity": base_quantity, "max_sellable_amount": max_sellable_amount}
        }
    else:
        if max_sellable_amount is not None:
            raise SigningError("market order: max_sellable_amount pairs only with base_quantity")
        quantity = {
            "QuoteAsset": {
                "quantity": quote_quantity,
                "max_sellable_quantity": max_sellable_quantity,
            }
        }
    return _canonical_details(
        {"Market": {"quantity": quantity, "fill_or_kill": fill_or_kill}}, "details"
    )


def trigger_object(
    condition: Mapping[str, Any] | None, parent_order_id: str | None = None
) -> JsonDict | None:
    """An order trigger (or None when there is no condition)."""
    if condition is None:
        if parent_order_id is not None:
            raise SigningError("trigger: parent_order_id needs a trigger condition")
        return None
    return _canonical_trigger(
        {"parent_order_id": parent_order_id, "condition": condition}, "trigger"
    )


def normalize_side(side: str) -> str:
    """'buy'/'sell' in any case → 'Buy'/'Sell'; anything else is refused (tpluspy maps it to Buy)."""
    lowered = side.lower() if isinstance(side, str) else ""
    if lowered not in ("buy", "sell"):
        raise SigningError(f"side: expected Buy or Sell, got {side!r}")
    return "Buy" if lowered == "buy" else "Sell"


def order_object(
    *,
    signer: str,
    order_id: str,
    base_asset: str,
    price_decimals: int,
    quantity_decimals: int,
    details: Mapping[str, Any],
    side: str,
    creation_timestamp_ns: int,
    trigger: Mapping[str, Any] | None = None,
    target: Mapping[str, Any] | None = None,
    reduce_only: bool = False,
    max_trading_fees_rate: int = DEFAULT_MAX_TRADING_FEES_RATE,
) -> JsonDict:
    """The signed `Order` (spec §3.3) for a limit or market create."""
    return canonical_order(
        {
            "signer": signer,
            "order_id": order_id,
            "base_asset": base_asset,
            "book_price_decimals": price_decimals,
            "book_quantity_decimals": quantity_decimals,
            "details": details,
            "side": normalize_side(side),
            "trigger": trigger,
            "creation_timestamp_ns": creation_timestamp_ns,
            "target": target if target is not None else target_object(),
            "reduce_only": reduce_only,
            "max_trading_fees_rate": max_trading_fees_rate,
            "protocol_version": PROTOCOL_VERSION,
        }
    )


# --------------------------------------------------------------------------- other signed objects


def cancel_object(*, order_id: str, asset_id: str, signer: str) -> JsonDict:
    """The signed `CancelOrder` (spec §3.5); note the key is `asset_id` here."""
    return canonical_cancel(
        {
            "order_id": order_id,
            "asset_id": asset_id,
            "signer": signer,
            "protocol_version": PROTOCOL_VERSION,
        }
    )


def replace_object(
    *,
    order_id: str,
    base_asset: str,
    timestamp_ns: int,
    new_price_limit: int,
    new_quantity: int,
    new_trigger: Mapping[str, Any] | None,
    book_quantity_decimals: int,
    book_price_decimals: int,
) -> JsonDict:
    """The signed `ReplaceOrder` (spec §3.6): complete effective terms; PriceBelow stays PriceBelow."""
    return canonical_replace(
        {
            "order_id": order_id,
            "base_asset": base_asset,
            "timestamp_ns": timestamp_ns,
            "new_price_limit": new_price_limit,
            "new_quantity": new_quantity,
            "new_trigger": new_trigger,
            "book_quantity_decimals": book_quantity_decimals,
            "book_price_decimals": book_price_decimals,
            "protocol_version": PROTOCOL_VERSION,
        }
    )


def _amount_text(amount: int | str, path: str) -> str:
    """A U256 amount given as an int or a decimal string → its decimal-string wire form."""
    if isinstance(amount, str):
        return _decimal_string(amount, path)
    return str(_int(amount, path, maximum=U256_MAX))


def transfer_object(
    *,
    user: str,
    source_index: int,
    target_index: int,
    transfer_asset: str,
    transfer_amount: int | str,
    nonce: int,
) -> JsonDict:
    """The signed sub-account transfer `inner` (spec §3.9); the amount goes out as a decimal string."""
    return canonical_transfer(
        {
            "user": user,
            "source_index": source_index,
            "target_index": target_index,
            "transfer_asset": transfer_asset,
            "transfer_amount": _amount_text(transfer_amount, "transfer_amount"),
            "target_account_type": None,
            "nonce": nonce,
        }
    )


def close_position_object(
    *, user: str, account: int, asset_identifier: str, nonce: int
) -> JsonDict:
    """The signed close-position `inner` (spec §3.10)."""
    return canonical_close_position(
        {"user": user, "account": account, "asset_identifier": asset_identifier, "nonce": nonce}
    )


def add_signer_object(
    *,
    user: str,
    oms_nonce: str,
    ce_nonce: int,
    signer_public_key: str,
    weight: int,
    session_duration_ns: int = U64_MAX,
) -> JsonDict:
    """The signed add-multisig-signer `inner` (spec §3.11) registering an Ed25519 key."""
    return canonical_add_signer(
        {
            "user": user,
            "oms_nonce": oms_nonce,
            "ce_nonce": ce_nonce,
            "signer": {"Ed25519": public_key_list(signer_public_key)},
            "weight": weight,
            "session_duration_ns": session_duration_ns,
        }
    )


def withdrawal_object(
    *, tplus_user: str, asset: str, amount: int | str, nonce: int | None, target: str = ZERO_TARGET
) -> JsonDict:
    """The signed withdrawal `inner` (spec §3.12); `asset` and `target` already in wire form."""
    return canonical_withdrawal(
        {
            "tplus_user": tplus_user,
            "asset": asset,
            "amount": _amount_text(amount, "amount"),
            "nonce": nonce,
            "target": target,
        }
    )


def cancel_withdrawal_object(*, tplus_user: str, asset_address: str, nonce: int) -> JsonDict:
    """The signed cancel-withdrawal `inner` (spec §3.12)."""
    return canonical_cancel_withdrawal(
        {"tplus_user": tplus_user, "asset_address": asset_address, "nonce": nonce}
    )


# --------------------------------------------------------------------------- rebuilders


def _canonical_tif(value: object, path: str) -> JsonDict:
    """Rebuild a time-in-force union."""
    name, body = _variant(value, path, ("GTC", "GTD", "IOC"))
    p = f"{path}.{name}"
    if name == "GTC":
        return {"GTC": {"post_only": _bool(_get(body, "post_only", p), f"{p}.post_only")}}
    if name == "GTD":
        return {
            "GTD": {
                "post_only": _bool(_get(body, "post_only", p), f"{p}.post_only"),
                "timestamp_ns": _int(_get(body, "timestamp_ns", p), f"{p}.timestamp_ns"),
            }
        }
    return {"IOC": {"fill_or_kill": _bool(_get(body, "fill_or_kill", p), f"{p}.fill_or_kill")}}


def _canonical_details(value: object, path: str) -> JsonDict:
    """Rebuild `{"Limit": ...}` / `{"Market": ...}` order details."""
    name, body = _variant(value, path, ("Limit", "Market"))
    p = f"{path}.{name}"
    if name == "Limit":
        return {
            "Limit": {
                "limit_price": _int(_get(body, "limit_price", p), f"{p}.limit_price"),
                "quantity": _int(_get(body, "quantity", p), f"{p}.quantity"),
                "time_in_force": _canonical_tif(
                    _get(body, "time_in_force", p), f"{p}.time_in_force"
                ),
            }
        }
    qp = f"{p}.quantity"
    qname, qbody = _variant(_get(body, "quantity", p), qp, ("BaseAsset", "QuoteAsset"))
    qp = f"{qp}.{qname}"
    cap = "max_sellable_amount" if qname == "BaseAsset" else "max_sellable_quantity"
    quantity = {
        qname: {
            "quantity": _int(_get(qbody, "quantity", qp), f"{qp}.quantity"),
            cap: _optional(qbody, cap, qp, _int),
        }
    }
    return {
        "Market": {
            "quantity": quantity,
            "fill_or_kill": _bool(_get(body, "fill_or_kill", p), f"{p}.fill_or_kill"),
        }
    }


def _canonical_condition(value: object, path: str) -> JsonDict:
    """Rebuild a `{"PriceAbove"|"PriceBelow": {"price": int}}` trigger condition."""
    name, body = _variant(value, path, ("PriceAbove", "PriceBelow"))
    return {name: {"price": _int(_get(body, "price", f"{path}.{name}"), f"{path}.{name}.price")}}


def _canonical_trigger(value: object, path: str) -> JsonDict:
    """Rebuild an order trigger `{"parent_order_id", "condition"}`."""
    if not isinstance(value, Mapping):
        raise SigningError(f"{path}: expected an object or null, got {_kind(value)}")
    return {
        "parent_order_id": _optional(value, "parent_order_id", path, _order_id),
        "condition": _canonical_condition(_get(value, "condition", path), f"{path}.condition"),
    }


def _canonical_target(value: object, path: str) -> JsonDict:
    """Rebuild an order target `{"account", "is_spot"}`."""
    return {
        "account": _int(_get(value, "account", path), f"{path}.account"),
        "is_spot": _bool(_get(value, "is_spot", path), f"{path}.is_spot"),
    }


def _side(value: object, path: str) -> str:
    """The wire side enum: exactly "Buy" or "Sell"."""
    if value not in ("Buy", "Sell"):
        raise SigningError(f'{path}: expected "Buy" or "Sell"')
    return str(value)


def canonical_order(d: Mapping[str, Any]) -> JsonDict:
    """Rebuild a received `Order` in canonical key order (spec §3.3)."""
    p = "order"
    return {
        "signer": _account_id(_get(d, "signer", p), f"{p}.signer"),
        "order_id": _order_id(_get(d, "order_id", p), f"{p}.order_id"),
        "base_asset": _str(_get(d, "base_asset", p), f"{p}.base_asset"),
        "book_price_decimals": _int(_get(d, "book_price_decimals", p), f"{p}.book_price_decimals"),
        "book_quantity_decimals": _int(
            _get(d, "book_quantity_decimals", p), f"{p}.book_quantity_decimals"
        ),
        "details": _canonical_details(_get(d, "details", p), f"{p}.details"),
        "side": _side(_get(d, "side", p), f"{p}.side"),
        "trigger": _optional(d, "trigger", p, _canonical_trigger),
        "creation_timestamp_ns": _int(
            _get(d, "creation_timestamp_ns", p), f"{p}.creation_timestamp_ns"
        ),
        "target": _canonical_target(_get(d, "target", p), f"{p}.target"),
        "reduce_only": _bool(_get(d, "reduce_only", p), f"{p}.reduce_only"),
        "max_trading_fees_rate": _int(
            _get(d, "max_trading_fees_rate", p), f"{p}.max_trading_fees_rate"
        ),
        "protocol_version": _protocol_version(
            _get(d, "protocol_version", p), f"{p}.protocol_version"
        ),
    }


def canonical_cancel(d: Mapping[str, Any]) -> JsonDict:
    """Rebuild a received `CancelOrder` in canonical key order (spec §3.5)."""
    p = "cancel"
    return {
        "order_id": _order_id(_get(d, "order_id", p), f"{p}.order_id"),
        "asset_id": _str(_get(d, "asset_id", p), f"{p}.asset_id"),
        "signer": _account_id(_get(d, "signer", p), f"{p}.signer"),
        "protocol_version": _protocol_version(
            _get(d, "protocol_version", p), f"{p}.protocol_version"
        ),
    }


def canonical_replace(d: Mapping[str, Any]) -> JsonDict:
    """Rebuild a received `ReplaceOrder` in canonical key order (spec §3.6)."""
    p = "request"
    return {
        "order_id": _order_id(_get(d, "order_id", p), f"{p}.order_id"),
        "base_asset": _str(_get(d, "base_asset", p), f"{p}.base_asset"),
        "timestamp_ns": _int(_get(d, "timestamp_ns", p), f"{p}.timestamp_ns"),
        "new_price_limit": _int(_get(d, "new_price_limit", p), f"{p}.new_price_limit"),
        "new_quantity": _int(_get(d, "new_quantity", p), f"{p}.new_quantity"),
        "new_trigger": _optional(d, "new_trigger", p, _canonical_condition),
        "book_quantity_decimals": _int(
            _get(d, "book_quantity_decimals", p), f"{p}.book_quantity_decimals"
        ),
        "book_price_decimals": _int(_get(d, "book_price_decimals", p), f"{p}.book_price_decimals"),
        "protocol_version": _protocol_version(
            _get(d, "protocol_version", p), f"{p}.protocol_version"
        ),
    }


def canonical_transfer(d: Mapping[str, Any]) -> JsonDict:
    """Rebuild a received sub-account transfer `inner` (spec §3.9)."""
    p = "inner"
    if d.get("target_account_type") is not None:
        raise SigningError(f"{p}.target_account_type: only null is supported")
    return {
        "user": _account_id(_get(d, "user", p), f"{p}.user"),
        "source_index": _int(_get(d, "source_index", p), f"{p}.source_index"),
        "target_index": _int(_get(d, "target_index", p), f"{p}.target_index"),
        "transfer_asset": _str(_get(d, "transfer_asset", p), f"{p}.transfer_asset"),
        "transfer_amount": _decimal_string(_get(d, "transfer_amount", p), f"{p}.transfer_amount"),
        "target_account_type": None,
        "nonce": _int(_get(d, "nonce", p), f"{p}.nonce"),
    }


def canonical_close_position(d: Mapping[str, Any]) -> JsonDict:
    """Rebuild a received close-position `inner` (spec §3.10)."""
    p = "inner"
    return {
        "user": _account_id(_get(d, "user", p), f"{p}.user"),
        "account": _int(_get(d, "account", p), f"{p}.account"),
        "asset_identifier": _str(_get(d, "asset_identifier", p), f"{p}.asset_identifier"),
        "nonce": _int(_get(d, "nonce", p), f"{p}.nonce"),
    }


_SIGNER_KEY_LENGTHS: dict[str, tuple[int, ...]] = {
    "Ed25519": (32,),
    "Secp256k1": (33,),
    "P256": (33, 65),
}


def canonical_signer_key(value: object, path: str = "signer") -> JsonDict:
    """Rebuild a `SignerKey` union: `{"Ed25519": [32 ints]}`, Secp256k1 (33) or P256."""
    name, body = _variant(value, path, tuple(_SIGNER_KEY_LENGTHS))
    return {name: _byte_list(body, f"{path}.{name}", _SIGNER_KEY_LENGTHS[name])}


def canonical_add_signer(d: Mapping[str, Any]) -> JsonDict:
    """Rebuild a received add-multisig-signer `inner` (spec §3.11)."""
    p = "inner"
    return {
        "user": _account_id(_get(d, "user", p), f"{p}.user"),
        "oms_nonce": _str(_get(d, "oms_nonce", p), f"{p}.oms_nonce"),
        "ce_nonce": _int(_get(d, "ce_nonce", p), f"{p}.ce_nonce"),
        "signer": canonical_signer_key(_get(d, "signer", p), f"{p}.signer"),
        "weight": _int(_get(d, "weight", p), f"{p}.weight"),
        "session_duration_ns": _int(_get(d, "session_duration_ns", p), f"{p}.session_duration_ns"),
    }


def canonical_withdrawal(d: Mapping[str, Any]) -> JsonDict:
    """Rebuild a received withdrawal `inner` (spec §3.12)."""
    p = "inner"
    return {
        "tplus_user": _account_id(_get(d, "tplus_user", p), f"{p}.tplus_user"),
        "asset": _str(_get(d, "asset", p), f"{p}.asset"),
        "amount": _decimal_string(_get(d, "amount", p), f"{p}.amount"),
        "nonce": _optional(d, "nonce", p, _int),
        "target": _account_id(_get(d, "target", p), f"{p}.target"),
    }


def canonical_cancel_withdrawal(d: Mapping[str, Any]) -> JsonDict:
    """Rebuild a received cancel-withdrawal `inner` (spec §3.12)."""
    p = "inner"
    return {
        "tplus_user": _account_id(_get(d, "tplus_user", p), f"{p}.tplus_user"),
        "asset_address": _str(_get(d, "asset_address", p), f"{p}.asset_address"),
        "nonce": _int(_get(d, "nonce", p), f"{p}.nonce"),
    }


# --------------------------------------------------------------------------- signing and bodies


@dataclass(frozen=True)
class Signatures:
    """The master signature (`[]` when delegated) and the cosigner entries for one signed object."""

    signature: list[int]
    additional_signers: list[JsonDict]


def additional_signer_entry(public_key: str, signature: Sequence[int]) -> JsonDict:
    """One `AdditionalSigner` entry: `{"signer": {"Ed25519": [...]}, "signature": [...]}`."""
    return {"signer": {"Ed25519": public_key_list(public_key)}, "signature": list(signature)}


def sign_object(
    obj: Mapping[str, Any],
    *,
    master: bytes | None,
    cosigners: Sequence[bytes] = (),
    ensure_ascii: bool = False,
) -> Signatures:
    """Sign `obj` with the account seed (None = delegated, `signature: []`) and each cosigner seed."""
    return sign_message(
        signing_bytes(obj, ensure_ascii=ensure_ascii), master=master, cosigners=cosigners
    )


def sign_message(
    message: bytes, *, master: bytes | None, cosigners: Sequence[bytes] = ()
) -> Signatures:
    """Sign raw message bytes (e.g. `auth_message(nonce)`) with the account seed and cosigners."""
    extra = [
        additional_signer_entry(public_key_hex(seed), sign(seed, message)) for seed in cosigners
    ]
    return Signatures([] if master is None else sign(master, message), extra)


def create_body(order: Mapping[str, Any], sigs: Signatures, post_sign_timestamp: int) -> JsonDict:
    """`POST /orders/create` body (spec §3.4); `post_sign_timestamp` is read after signing."""
    return {
        "order": dict(order),
        "signature": sigs.signature,
        "post_sign_timestamp": post_sign_timestamp,
        "additional_signers": sigs.additional_signers,
    }


def cancel_body(cancel: Mapping[str, Any], sigs: Signatures, post_sign_timestamp: int) -> JsonDict:
    """`DELETE /orders/cancel` body (spec §3.5): it has no `additional_signers` key."""
    if sigs.additional_signers:
        raise SigningError("cancel: the cancel body has no additional_signers field")
    return {
        "cancel": dict(cancel),
        "signature": sigs.signature,
        "post_sign_timestamp": post_sign_timestamp,
    }


def replace_body(
    request: Mapping[str, Any], signer: str, sigs: Signatures, post_sign_timestamp: int
) -> JsonDict:
    """`PATCH /orders/replace` body (spec §3.6); the account id goes in top-level `signer`."""
    return {
        "request": dict(request),
        "signer": _account_id(signer, "signer"),
        "signature": sigs.signature,
        "post_sign_timestamp": post_sign_timestamp,
        "additional_signers": sigs.additional_signers,
    }


def inner_body(inner: Mapping[str, Any], sigs: Signatures) -> JsonDict:
    """`{"inner", "signature", "additional_signers"}` body of transfer, close, add-signer, withdrawal."""
    return {
        "inner": dict(inner),
        "signature": sigs.signature,
        "additional_signers": sigs.additional_signers,
    }


def amend_body(
    *,
    order_id: str,
    base_asset: str,
    new_quantity: int,
    book_quantity_decimals: int,
    expected_authorization_revision: int | None,
    timestamp_ns: int,
    user_id: str,
) -> JsonDict:
    """`PATCH /orders/amend` body (spec §3.7): unsigned, authorized by the bearer session."""
    revision = (
        None
        if expected_authorization_revision is None
        else _int(expected_authorization_revision, "expected_authorization_revision")
    )
    return {
        "request": {
            "order_id": _order_id(order_id, "order_id"),
            "base_asset": _str(base_asset, "base_asset"),
            "new_quantity": _int(new_quantity, "new_quantity"),
            "book_quantity_decimals": _int(book_quantity_decimals, "book_quantity_decimals"),
            "expected_authorization_revision": revision,
            "timestamp_ns": _int(timestamp_ns, "timestamp_ns"),
            "source": "User",
        },
        "user_id": _account_id(user_id, "user_id"),
        "target": {"account": 0, "is_spot": False},
        "oms_operator_pubkey": "",
        "receive_timestamp_ns": None,
    }


def auth_nonce_text(nonce_response: object) -> str:
    """The string signed for `/auth` (spec §3.13): `str(value)` of an object reply, else `str(reply)`."""
    if isinstance(nonce_response, Mapping):
        nonce_response = _get(nonce_response, "value", "nonce")
    if isinstance(nonce_response, bool | float) or nonce_response is None:
        raise SigningError(f"nonce: expected a string or an integer, got {_kind(nonce_response)}")
    return str(nonce_response)


def auth_body(user_id: str, nonce: str, sigs: Signatures) -> JsonDict:
    """`POST /auth` body (spec §4.1); sign `strip_ws(nonce).encode()` to get `sigs`."""
    return {
        "user_id": _account_id(user_id, "user_id"),
        "nonce": nonce,
        "signature": sigs.signature,
        "additional_signers": sigs.additional_signers,
    }


def auth_message(nonce: str) -> bytes:
    """The Ed25519 message for the auth handshake: the whitespace-stripped nonce as UTF-8."""
    return strip_ws(nonce).encode("utf-8")


# --------------------------------------------------------------------------- server-side verification


class SignatureInvalid(SigningError):
    """A signature in the request does not verify (the venue answers 401 INVALID_SIGNATURE)."""


@dataclass(frozen=True)
class _Kind:
    """Where a request kind keeps its signed object and account id, and how it is serialized."""

    body_key: str
    rebuild: Callable[[Mapping[str, Any]], JsonDict]
    account_key: str  # key inside the signed object; "" means the body's top-level "signer"
    ensure_ascii: bool
    cosigned: bool  # whether the body carries additional_signers


_KINDS: dict[str, _Kind] = {
    "create": _Kind("order", canonical_order, "signer", False, True),
    "cancel": _Kind("cancel", canonical_cancel, "signer", False, False),
    "replace": _Kind("request", canonical_replace, "", False, True),
    "transfer": _Kind("inner", canonical_transfer, "user", True, True),
    "close_position": _Kind("inner", canonical_close_position, "user", True, True),
    "add_signer": _Kind("inner", canonical_add_signer, "user", True, True),
    "withdrawal": _Kind("inner", canonical_withdrawal, "tplus_user", False, True),
    "cancel_withdrawal": _Kind("inner", canonical_cancel_withdrawal, "tplus_user", False, True),
}
SIGNED_KINDS = tuple(_KINDS)


@dataclass(frozen=True)
class VerifiedRequest:
    """A request whose present signatures all verified; weights/thresholds are the caller's job."""

    obj: JsonDict  # the canonical signed object (for auth: {"nonce": ...})
    message: bytes  # the exact bytes that were verified
    account: str  # the claimed account id
    master_signed: bool  # a non-empty top-level signature verified against the account key
    cosigners: tuple[str, ...]  # Ed25519 public keys (hex) of verified additional signers


def _signature_list(value: object, path: str) -> list[int]:
    """A wire signature: `[]` (no master signature) or 64 byte values."""
    if isinstance(value, list) and not value:
        return []
    return _byte_list(value, path, (64,))


def _check(
    message: bytes, account: str, body: Mapping[str, Any], cosigned: bool, allow_unsigned: bool
) -> tuple[bool, tuple[str, ...]]:
    """Verify the top-level and additional signatures of `body` over `message`."""
    signature = _signature_list(_get(body, "signature", "body"), "signature")
    if signature and not verify(account, message, signature):
        raise SignatureInvalid("signature: does not verify against the account key")
    entries = body.get("additional_signers", []) if cosigned else []
    if not isinstance(entries, list):
        raise SigningError(f"additional_signers: expected a list, got {_kind(entries)}")
    keys: list[str] = []
    for i, entry in enumerate(entries):
        p = f"additional_signers[{i}]"
        name, key_bytes = next(
            iter(canonical_signer_key(_get(entry, "signer", p), f"{p}.signer").items())
        )
        if name != "Ed25519":
            raise SignatureInvalid(f"{p}.signer: {name} additional signers are not supported")
        key = bytes(key_bytes).hex()
        if key == account or key in keys:  # each key may add its weight only once
            raise SignatureInvalid(f"{p}.signer: duplicate signer")
        if not verify(
            key, message, _byte_list(_get(entry, "signature", p), f"{p}.signature", (64,))
        ):
            raise SignatureInvalid(f"{p}.signature: does not verify")
        keys.append(key)
    if not signature and not keys and not allow_unsigned:
        raise SignatureInvalid("signature: the request carries no signature at all")
    return bool(signature), tuple(keys)


def verify_body(
    kind: str, body: Mapping[str, Any], *, allow_unsigned: bool = False
) -> VerifiedRequest:
    """Server side (spec §3.16): rebuild the signed object of a `kind` request and verify it.

    Every signature present must verify. A request with no signature at all is refused unless
    `allow_unsigned` (a delegated cancel, spec §2.6, which the bearer session authorizes).
    """
    if kind == "auth":
        account = _account_id(_get(body, "user_id", "body"), "user_id")
        nonce = _str(_get(body, "nonce", "body"), "nonce")
        message = auth_message(nonce)
        master, cosigners = _check(message, account, body, True, allow_unsigned)
        return VerifiedRequest({"nonce": nonce}, message, account, master, cosigners)
    spec = _KINDS.get(kind)
    if spec is None:
        raise ValueError(
            f"unknown signed request kind {kind!r}; expected auth or one of {SIGNED_KINDS}"
        )
    obj = spec.rebuild(_get(body, spec.body_key, "body"))
    if spec.account_key:
        account = obj[spec.account_key]
    else:
        account = _account_id(_get(body, "signer", "body"), "signer")
    message = signing_bytes(obj, ensure_ascii=spec.ensure_ascii)
    master, cosigners = _check(message, account, body, spec.cosigned, allow_unsigned)
    return VerifiedRequest(obj, message, account, master, cosigners)


def ensure_ascii_for(kind: str) -> bool:
    """Whether tpluspy serializes this kind with `\\uXXXX` escapes (transfer, close, add-signer)."""
    return _KINDS[kind].ensure_ascii
