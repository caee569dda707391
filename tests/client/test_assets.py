"""Asset identifiers (spec §9.1): every `asset_identifiers` vector, plus canonical comparison."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tplus_cli.client.assets import (
    AssetError,
    canonical_asset_id,
    evm_asset_address,
    evm_chain_id,
    normalize_asset_id,
    pad_address,
)

VECTORS = json.loads((Path(__file__).parent / "vectors.json").read_text("utf-8"))
CASES: list[dict[str, Any]] = VECTORS["asset_identifiers"]
# The one vector whose input is Python source, not data: tpluspy's EVM helper call.
EVM_HELPER = "ChainAddress.from_evm_address('0x62622E77D1349Face943C6e7D5c01C61465FE1dc', 42161)"
USDC_ARB = "62622e77d1349face943c6e7d5c01c61465fe1dc000000000000000000000000@00000000000000a4b1"


@pytest.mark.parametrize(
    "case", [c for c in CASES if "wire" in c and c["input"] != EVM_HELPER], ids=repr
)
def test_accepted_vectors(case: dict[str, Any]) -> None:
    """Each accepted input normalizes to the recorded wire string."""
    assert normalize_asset_id(case["input"]) == case["wire"]
    assert case["wire"].isdecimal() == case["indexed"]


@pytest.mark.parametrize("case", [c for c in CASES if "error" in c], ids=repr)
def test_rejected_vectors(case: dict[str, Any]) -> None:
    """Tickers and plain chain numbers after '@' are refused."""
    with pytest.raises(AssetError):
        normalize_asset_id(case["input"])


def test_evm_helper_vector() -> None:
    """The EVM helper vector: a 20-byte address on Arbitrum (42161) → padded address@chain."""
    (case,) = [c for c in CASES if c["input"] == EVM_HELPER]
    assert evm_asset_address("0x62622E77D1349Face943C6e7D5c01C61465FE1dc", 42161) == case["wire"]


def test_every_vector_is_covered() -> None:
    """Every asset_identifiers entry is either accepted, rejected or the EVM helper call."""
    assert all(("wire" in c) != ("error" in c) for c in CASES)
    assert sum(c["input"] == EVM_HELPER for c in CASES) == 1


def test_chain_ids() -> None:
    """Spec §9.1 examples: Arbitrum, Ethereum and Base chain ids."""
    assert evm_chain_id(42161) == "00000000000000a4b1"
    assert evm_chain_id(1) == "000000000000000001"
    assert evm_chain_id(8453) == "000000000000002105"


def test_index_forms() -> None:
    """Ints are stringified; digit strings are kept verbatim on the wire, trimmed for comparison."""
    assert normalize_asset_id(0) == "0"
    assert normalize_asset_id("0200") == "0200"
    assert canonical_asset_id("0200") == "200"
    assert canonical_asset_id({"Index": 7}) == "7"


def test_canonical_address_forms_agree() -> None:
    """The byte-array form (unpadded) and a chain in upper case compare equal once canonical."""
    byte_form = {
        "Address": {
            "address": list(bytes.fromhex("62622e77d1349face943c6e7d5c01c61465fe1dc")),
            "chain": [0] * 7 + [164, 177],
        }
    }
    upper_chain = "0x62622e77d1349face943c6e7d5c01c61465fe1dc@00000000000000A4B1"
    assert normalize_asset_id(upper_chain).endswith("@00000000000000A4B1")  # case kept on the wire
    assert canonical_asset_id(byte_form) == canonical_asset_id(upper_chain) == USDC_ARB


@pytest.mark.parametrize(
    "bad",
    [
        "BTC",
        "-1",
        -1,
        True,
        1.0,
        "",
        "@",
        "12@",
        "0x@00000000000000a4b1",
        "abc@00000000000000a4b1",
        "00" * 33 + "@00000000000000a4b1",
        "62622e77@0000000000000000a4b1",
        "62622e77@zz000000000000a4b1",
        "a@b@c",
        {"Index": True},
        {"Index": -1},
        {"Address": {"address": [256], "chain": [0] * 9}},
        {"Address": {"address": [1], "chain": [0] * 8}},
        {"Index": 1, "Address": {}},
        {},
        None,
    ],
    ids=repr,
)
def test_rejections(bad: Any) -> None:
    """Anything not an index or a well-formed address@chain raises AssetError (a ValueError)."""
    with pytest.raises(ValueError):
        normalize_asset_id(bad)


def test_pad_address() -> None:
    """Addresses are right-padded: the address bytes first, then zero bytes."""
    assert pad_address("0xAB") == "ab" + "0" * 62
    assert pad_address("0x62622E77D1349Face943C6e7D5c01C61465FE1dc") == USDC_ARB.split("@")[0]
    with pytest.raises(AssetError):
        pad_address("0x123")
    with pytest.raises(AssetError):
        evm_asset_address("0xab", 1)
