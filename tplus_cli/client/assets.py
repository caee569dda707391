"""Asset identifiers in their wire form (spec §9.1): a registry index or `<address>@<chain>`.

`normalize_asset_id` reproduces what tpluspy puts on the wire (so signatures match);
`canonical_asset_id` goes one step further for comparisons (`"0200"` → `"200"`, chain
lowercased), as the spec advises a server to do.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

ADDRESS_BYTES = 32
CHAIN_BYTES = 9  # 1 byte routing id + 8-byte big-endian vm id
EVM_ROUTING_ID = 0

_HEX = re.compile(r"[0-9a-fA-F]*")


class AssetError(ValueError):
    """An asset identifier that is neither an index nor a valid `address@chain`."""


def _strip_0x(text: str) -> str:
    """Drop one leading `0x`/`0X`."""
    return text[2:] if text[:2] in ("0x", "0X") else text


def pad_address(address: str) -> str:
    """A (0x-)hex address of at most 32 bytes → 64 lowercase hex, right-padded with zero bytes."""
    text = _strip_0x(address)
    if not text or _HEX.fullmatch(text) is None or len(text) % 2:
        raise AssetError(f"address {address!r}: expected an even number of hex digits")
    if len(text) > 2 * ADDRESS_BYTES:
        raise AssetError(f"address {address!r}: longer than {ADDRESS_BYTES} bytes")
    return text.lower().ljust(2 * ADDRESS_BYTES, "0")


def _chain(chain: str, original: str) -> str:
    """The 18-hex-digit chain half; case kept (tpluspy does not lowercase it)."""
    text = _strip_0x(chain)
    if len(text) != 2 * CHAIN_BYTES or _HEX.fullmatch(text) is None:
        raise AssetError(
            f"asset {original!r}: the chain must be {2 * CHAIN_BYTES} hex digits "
            "(routing id + 8-byte chain id), not a plain chain number"
        )
    return text


def _bytes_hex(value: object, what: str, original: object) -> str:
    """A list of byte values → lowercase hex."""
    if not isinstance(value, Sequence) or isinstance(value, str | bytes):
        raise AssetError(f"asset {original!r}: {what} must be a list of bytes")
    if not all(type(b) is int and 0 <= b <= 255 for b in value):
        raise AssetError(f"asset {original!r}: {what} must hold byte values 0..255")
    return bytes(value).hex()


def _from_mapping(value: Mapping[object, object]) -> str:
    """`{"Index": n}` or `{"Address": {"address": [...], "chain": [...]}}` (older servers)."""
    if set(value) == {"Index"}:
        return normalize_asset_id(_index(value["Index"], value))
    if set(value) == {"Address"} and isinstance(inner := value["Address"], Mapping):
        address = _bytes_hex(inner.get("address"), "address", value)
        chain = _bytes_hex(inner.get("chain"), "chain", value)
        if len(address) > 2 * ADDRESS_BYTES or len(chain) != 2 * CHAIN_BYTES:
            raise AssetError(f"asset {value!r}: wrong address or chain length")
        return f"{address}@{chain}"
    raise AssetError(f"asset {value!r}: expected {{'Index': n}} or {{'Address': {{...}}}}")


def _index(value: object, original: object) -> int:
    """A registry index: a non-negative int (never a bool)."""
    if type(value) is not int or value < 0:
        raise AssetError(f"asset {original!r}: an index must be a non-negative integer")
    return value


def normalize_asset_id(value: str | int | Mapping[object, object]) -> str:
    """Any accepted asset identifier input → the wire string tpluspy would send."""
    if isinstance(value, Mapping):
        return _from_mapping(value)
    if not isinstance(value, str):
        return str(_index(value, value))
    if value.isascii() and value.isdecimal():
        return value  # kept verbatim, like tpluspy: "0200" stays "0200"
    address, sep, chain = value.partition("@")
    if not sep:
        raise AssetError(f"asset {value!r}: expected a registry index or <address>@<chain>")
    try:
        return f"{pad_address(address)}@{_chain(chain, value)}"
    except AssetError as exc:
        raise AssetError(f"asset {value!r}: {exc}") from None


def canonical_asset_id(value: str | int | Mapping[object, object]) -> str:
    """The comparison form: like `normalize_asset_id`, plus no leading zeros and a lowercase chain."""
    wire = normalize_asset_id(value)
    if wire.isdecimal():
        return str(int(wire))
    address, _, chain = wire.partition("@")
    return f"{address.ljust(2 * ADDRESS_BYTES, '0')}@{chain.lower()}"


def evm_chain_id(chain_id: int, routing_id: int = EVM_ROUTING_ID) -> str:
    """The 9-byte T+ chain id as 18 hex digits: routing id then the big-endian native chain id."""
    if type(chain_id) is not int or not 0 <= chain_id < 2**64:
        raise AssetError(f"chain id {chain_id!r}: expected an integer in 0..2^64-1")
    if type(routing_id) is not int or not 0 <= routing_id <= 255:
        raise AssetError(f"routing id {routing_id!r}: expected an integer in 0..255")
    return bytes([routing_id]).hex() + chain_id.to_bytes(8, "big").hex()


def evm_asset_address(address: str, chain_id: int) -> str:
    """A token on an EVM chain (e.g. USDC on Arbitrum 42161) → its `address@chain` wire form."""
    if len(_strip_0x(address)) != 40:
        raise AssetError(f"address {address!r}: an EVM address has 20 bytes (40 hex digits)")
    return f"{pad_address(address)}@{evm_chain_id(chain_id)}"
