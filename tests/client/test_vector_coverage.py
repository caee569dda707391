"""Every entry of vectors.json is reproduced by a named test, or skipped here with a written reason.

Entries are enumerated per section: each key of a *named* section, each item of an
*indexed* one (signed operations by name), and a *single* section (one vector whose keys
are its fields) as a whole. Coverage comes from the tables of the other test modules
(READS, MDS_READS, STREAMS, the signed-operation builders), from COVERED_BY (entry → the
test that reproduces it, which must exist) and from the tests below. A new entry that is
neither covered nor in NOT_COVERED fails; so does a reason left behind for a covered entry.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
import test_assets
import test_auth
import test_errors
import test_keyfile
import test_reads
import test_reads_user
import test_signing_vectors
import test_ws_basic
from spec_fake import BASE, EXPIRY_NS, NONCE, SEED, T0, TOKEN, VECTORS, SpecFake, market_json
from test_ws_basic import FakeWs

from tplus_cli.client import TplusClient, signing

pytestmark = pytest.mark.anyio

NAMED = (
    "generator",
    "keys",
    "private_key_formats",
    "reads",
    "mds_reads",
    "websocket",
    "ws_parser_checks",
    "summary",
)
INDEXED = ("asset_identifiers", "error_classification")
SINGLE = (
    "raw_sign_examples",
    "keyfile",
    "token_cache",
    "auth_handshake",
    "auth_handshake_with_cosigner",
    "auth_handshake_numeric_nonce",
    "retry_after_401",
)
BY_NAME = ("signed_operations",)

PROVENANCE = "provenance of the recording run (tool version or platform), nothing to reproduce"
NOT_COVERED: dict[str, str] = {
    "reads/create_market": "operator call: the CLI never creates markets",
    "reads/init_margin_simulate": "what-if margin for a hypothetical trade: no CLI command needs"
    " it yet, and the local venue does not serve /account/simulate",
    "reads/rename_sub_account": "account admin write (PATCH, unsigned); the CLI does not rename"
    " sub-accounts",
    "reads/set_mds_export": "account admin write toggling MDS history export (on by default);"
    " the CLI never turns it off",
    "reads/report_intent": "intent reports are for market makers; the CLI is a trading tool",
    "websocket/stream_intent": "/intent/ws is market-maker only (403 otherwise, spec §7.3)",
    "websocket/control": "our client sends orders over REST; /control is served by"
    " venue/control.py and exercised by tests/venue/test_server.py and the tpluspy interop run",
    "websocket/encode_control_frame_example": "a /control frame encoding; our client never"
    " writes /control frames (see websocket/control)",
    "generator/script": PROVENANCE,
    "generator/python": PROVENANCE,
    "generator/platform": PROVENANCE,
    "generator/tpluspy": PROVENANCE,
    "generator/httpx": PROVENANCE,
    "generator/pydantic": PROVENANCE,
    "generator/pydantic_core": PROVENANCE,
    "generator/websockets": PROVENANCE,
    "generator/pynacl": PROVENANCE,
    "summary/cross_checks_total": "the generator's comparison of tpluspy with its own rebuilds;"
    " our cross-checks are these tests",
    "summary/cross_checks_passed": "the generator's own tally (see summary/cross_checks_total)",
}

HERE = "test_vector_coverage"
COVERED_BY: dict[str, str] = {
    "reads/orders_for_book_404_variants": "test_reads_user::test_orders_for_book_404_variants",
    "raw_sign_examples": "test_signing_vectors::test_raw_sign_examples",
    "keyfile": "test_keyfile::test_keyfile_vector_reproduced_byte_for_byte",
    "token_cache": "test_keyfile::test_token_cache_vector",
    "auth_handshake": "test_auth::test_auth_handshake_vector",
    "auth_handshake_with_cosigner": "test_auth::test_auth_handshake_with_cosigner_vector",
    "auth_handshake_numeric_nonce": (
        "test_auth::test_numeric_nonce_is_signed_and_echoed_as_a_string"
    ),
    "retry_after_401": "test_auth::test_retry_after_401_vector",
    **{
        f"private_key_formats/{k}": "test_signing_vectors::test_private_key_formats"
        for k in (VECTORS["private_key_formats"])
    },
    **{f"keys/{k}": "test_signing_vectors::test_keys" for k in test_signing_vectors.KEYS},
    **{
        f"generator/{k}": f"{HERE}::test_generator_fixtures_are_the_fakes"
        for k in ("clock", "auth_nonce", "auth_token", "token_expiry_ns", "market")
    },
    **{
        f"summary/{k}": f"{HERE}::test_every_signature_record_is_reproduced"
        for k in ("signatures_recorded", "pynacl_identical_all", "pynacl_verify_all")
    },
    **{
        f"error_classification[{i}]": "test_errors::test_each_golden_row_raises_the_right_class"
        for i, row in enumerate(VECTORS["error_classification"])
        if row in test_errors.ROWS
    },
}
MODULES = {
    m.__name__: m
    for m in (
        test_assets,
        test_auth,
        test_errors,
        test_keyfile,
        test_reads,
        test_reads_user,
        test_signing_vectors,
        test_ws_basic,
    )
}


def entries() -> Iterator[str]:
    """Every entry id of vectors.json; an unknown section fails loudly."""
    for section, value in VECTORS.items():
        if section in NAMED:
            yield from (f"{section}/{key}" for key in value)
        elif section in INDEXED:
            yield from (f"{section}[{i}]" for i in range(len(value)))
        elif section in BY_NAME:
            yield from (f"{section}/{op['name']}" for op in value)
        elif section in SINGLE:
            yield section
        else:
            raise AssertionError(f"vectors.json has a new section {section!r}: classify it here")


def asset_identifier_tests() -> dict[str, str]:
    """Each asset_identifiers item → the test_assets case that takes it (same split as there)."""
    out = {}
    for i, case in enumerate(VECTORS["asset_identifiers"]):
        if case["input"] == test_assets.EVM_HELPER:
            out[f"asset_identifiers[{i}]"] = "test_assets::test_evm_helper_vector"
        elif "wire" in case:
            out[f"asset_identifiers[{i}]"] = "test_assets::test_accepted_vectors"
        elif "error" in case:
            out[f"asset_identifiers[{i}]"] = "test_assets::test_rejected_vectors"
    return out


def covered() -> dict[str, str]:
    """Entry id → where it is reproduced."""
    out: dict[str, str] = {}
    for section, table in (("reads", test_reads.READS), ("mds_reads", test_reads.MDS_READS)):
        out |= {f"{section}/{n}": "test_reads::test_read_matches_vector" for n in table}
    out |= {f"websocket/{n}": "test_ws_basic::test_stream_vectors" for n in test_ws_basic.STREAMS}
    signed = set(test_signing_vectors.BUILDERS) | test_signing_vectors.SPECIAL
    out |= {f"signed_operations/{n}": "test_signing_vectors" for n in signed}
    out |= {f"ws_parser_checks/{n}": f"{HERE}::test_ws_parser_check" for n in WS_PARSERS}
    return out | asset_identifier_tests() | COVERED_BY


def test_every_vector_is_covered_or_explained() -> None:
    """No entry is silently skipped, no reason is stale, no name is invented."""
    every = list(entries())
    done = covered()
    assert sorted(set(every) - set(done) - set(NOT_COVERED)) == [], "neither covered nor explained"
    assert sorted(set(done) & set(NOT_COVERED)) == [], "covered, yet still listed as skipped"
    assert sorted(set(done) - set(every)) == [], "covered names that are not in vectors.json"
    assert sorted(set(NOT_COVERED) - set(every)) == [], "reasons for names not in vectors.json"
    assert all(reason.strip() for reason in NOT_COVERED.values())


def test_named_tests_exist() -> None:
    """Every `module::test` named as covering a vector is a real test function."""
    for where in set(covered().values()):
        module, _, function = where.partition("::")
        target = globals() if module == HERE else vars(MODULES[module])
        assert not function or callable(target.get(function)), where


def test_error_classification_rows_are_all_parametrized() -> None:
    """test_errors parametrizes over the whole golden table, in order."""
    assert test_errors.ROWS == VECTORS["error_classification"]


# --------------------------------------------------------------------------- generator, summary


def test_generator_fixtures_are_the_fakes() -> None:
    """The spec fake replays the recording's clock, nonce, token, expiry and market."""
    generator = VECTORS["generator"]
    assert generator["clock"]["T0"] == T0
    assert (generator["auth_nonce"], generator["auth_token"]) == (NONCE, TOKEN)
    assert generator["token_expiry_ns"] == EXPIRY_NS
    market = generator["market"]
    assert {k: market_json()[k] for k in market} == market


def signature_records(value: Any) -> Iterator[dict[str, Any]]:
    """Every signature record anywhere in the file (signer, signed bytes, signature)."""
    if isinstance(value, dict):
        if {"signer_public_key", "signed_bytes_hex", "signature_hex"} <= value.keys():
            yield value
        for item in value.values():
            yield from signature_records(item)
    elif isinstance(value, list):
        for item in value:
            yield from signature_records(item)


RFC8032_TEST1_SEED = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"


def test_every_signature_record_is_reproduced() -> None:
    """summary: all recorded signatures, each verified and re-signed byte-identically by us."""
    seeds = [bytes.fromhex(k["seed_hex"]) for k in VECTORS["keys"].values()]
    seeds.append(bytes.fromhex(RFC8032_TEST1_SEED))
    by_key = {signing.public_key_hex(seed): seed for seed in seeds}
    records = list(signature_records(VECTORS))
    summary = VECTORS["summary"]
    assert len(records) == summary["signatures_recorded"]
    for record in records:
        message = bytes.fromhex(record["signed_bytes_hex"])
        signature = list(bytes.fromhex(record["signature_hex"]))
        verified = signing.verify(record["signer_public_key"], message, signature)
        assert verified is summary["pynacl_verify_all"]
        ours = bytes(signing.sign(by_key[record["signer_public_key"]], message)).hex()
        assert (ours == record["signature_hex"]) is summary["pynacl_identical_all"]


# --------------------------------------------------------------------------- ws_parser_checks

Stream = Callable[[TplusClient], AsyncIterator[Any]]
Check = Callable[[Any, dict[str, Any]], bool]


async def _rest_book(c: TplusClient) -> AsyncIterator[Any]:
    yield await c.orderbook("200")


def _wrap(variant: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda frame: {variant: frame}


# name → (the client call that parses it, how it arrives on the wire, what must come out).
WS_PARSERS: dict[str, tuple[Stream, Callable[[dict[str, Any]], Any] | None, Check]] = {
    "OrderBookDiff": (
        lambda c: c.stream_depth("200"),
        None,
        lambda got, want: got.bids[0].quantity == 0 and got.sequence == want["sequence_number"],
    ),
    "OrderBook": (  # the REST snapshot, served by the fake as the /marketdepth body
        _rest_book,
        None,
        lambda got, want: got.asks[0].price == Decimal("501.75") and len(got.bids) == 2,
    ),
    "Trade": (
        lambda c: c.stream_trades(),
        None,
        lambda got, want: got.trade_id == want["trade_id"] and got.price == Decimal(want["price"]),
    ),
    "UserTrade": (
        lambda c: c.stream_user_trades(),
        None,
        lambda got, want: got.status == want["status"] and got.trading_fee == Decimal("0.05"),
    ),
    "Ticker": (
        lambda c: c.stream_ticker("200"),
        None,
        lambda got, want: got.volume_24h == Decimal(want["volume_24h"]),
    ),
    "PositionUpdate": (
        lambda c: c.stream_positions(),
        None,
        lambda got, want: got.positions[0].size == Decimal("1.5"),
    ),
    # The check holds the variant's fields; the frame is externally tagged (spec §8.3.2).
    "UserEvent.PositionCleared": (
        lambda c: c.stream_account_events(),
        _wrap("PositionCleared"),
        lambda got, want: got.kind == "PositionCleared" and got.data["asset"] == want["asset"],
    ),
    "OrderEvent.legacy_internally_tagged": (
        lambda c: c.stream_orders(),
        None,
        lambda got, want: (got.kind, got.order_id) == ("CREATEFAILED", want["order_id"]),
    ),
}


@pytest.mark.parametrize("name", list(WS_PARSERS))
async def test_ws_parser_check(name: str) -> None:
    """Each minimal frame tpluspy's parsers accept goes through our client and parses."""
    stream, wrap, check = WS_PARSERS[name]
    entry = VECTORS["ws_parser_checks"][name]
    frame = json.dumps(entry if wrap is None else wrap(entry))
    fake = SpecFake()
    fake.canned["/marketdepth/200"] = entry
    async with TplusClient(
        BASE, seed=SEED, transport=fake.transport(), ws_connect=FakeWs([frame])
    ) as c:
        got = [item async for item in stream(c)]
    assert len(got) == 1 and check(got[0], entry), got
