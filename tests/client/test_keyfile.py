"""Keyfile decryption: the AES-128 block cipher against FIPS-197/SP 800-38A, the file against vectors."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tplus_cli.client import keyfile as kf
from tplus_cli.client.signing import public_key_hex

VECTORS = json.loads((Path(__file__).parent / "vectors.json").read_text("utf-8"))
KEYFILE = VECTORS["keyfile"]
TOKEN_CACHE = VECTORS["token_cache"]


@pytest.mark.parametrize(
    ("key", "plaintext", "ciphertext"),
    [
        # FIPS-197 Appendix C.1 (AES-128 example vector)
        (
            "000102030405060708090a0b0c0d0e0f",
            "00112233445566778899aabbccddeeff",
            "69c4e0d86a7b0430d8cdb78070b4c55a",
        ),
        # FIPS-197 Appendix B (cipher example)
        (
            "2b7e151628aed2a6abf7158809cf4f3c",
            "3243f6a8885a308d313198a2e0370734",
            "3925841d02dc09fbdc118597196a0b32",
        ),
    ],
)
def test_fips197_block(key: str, plaintext: str, ciphertext: str) -> None:
    """The forward cipher matches the FIPS-197 worked examples."""
    assert kf.aes128_encrypt_block(bytes.fromhex(key), bytes.fromhex(plaintext)).hex() == ciphertext


def test_sbox_entries() -> None:
    """Spot checks of the generated S-box (FIPS-197 Figure 7) and that it is a permutation."""
    assert (kf.SBOX[0x00], kf.SBOX[0x01], kf.SBOX[0x53], kf.SBOX[0xFF]) == (0x63, 0x7C, 0xED, 0x16)
    assert sorted(kf.SBOX) == list(range(256))


def test_sp800_38a_ctr() -> None:
    """NIST SP 800-38A F.5.1 CTR-AES128.Encrypt, four blocks."""
    key = bytes.fromhex("2b7e151628aed2a6abf7158809cf4f3c")
    counter = bytes.fromhex("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff")
    plaintext = bytes.fromhex(
        "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
        "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710"
    )
    expected = (
        "874d6191b620e3261bef6864990db6ce9806f66b7970fdff8617187bb9fffdff"
        "5ae4df3edbd5d35e5b4f09020db03eab1e031dda2fbe03d1792170a0f3009cee"
    )
    assert kf.aes128_ctr(key, counter, plaintext).hex() == expected
    assert kf.aes128_ctr(key, counter, bytes.fromhex(expected)) == plaintext
    assert kf.aes128_ctr(key, counter, plaintext[:5]).hex() == expected[:10]  # partial block


def test_ctr_counter_wraps() -> None:
    """The 128-bit counter wraps from ff..ff to 00..00."""
    key = bytes(16)
    stream = kf.aes128_ctr(key, b"\xff" * 16, bytes(32))
    assert stream[16:] == kf.aes128_encrypt_block(key, bytes(16))


def test_bad_block_inputs() -> None:
    """Wrong key, block or IV sizes are refused."""
    with pytest.raises(ValueError):
        kf.aes128_encrypt_block(bytes(15), bytes(16))
    with pytest.raises(ValueError):
        kf.aes128_encrypt_block(bytes(16), bytes(17))
    with pytest.raises(ValueError):
        kf.aes128_ctr(bytes(16), bytes(8), b"x")


def test_keyfile_vector_decrypts() -> None:
    """vectors.json → keyfile: hunter2 decrypts alice's file to the account seed; PBKDF2 output matches."""
    seed = kf.decrypt_keyfile(KEYFILE["file_text"], KEYFILE["password"])
    assert seed.hex() == KEYFILE["plaintext_private_key_hex"]
    assert kf.pub_sidecar_text(public_key_hex(seed)) == KEYFILE["pub_sidecar_text"]
    crypto = json.loads(KEYFILE["file_text"])["crypto"]
    salt = bytes.fromhex("000102030405060708090a0b0c0d0e0f")
    assert crypto["kdfparams"]["iterations"] == kf.KEYFILE_ITERATIONS
    derived = hashlib.pbkdf2_hmac("sha256", b"hunter2", salt, kf.KEYFILE_ITERATIONS, dklen=32)
    assert derived.hex() == KEYFILE["derived_key_hex"]


def test_keyfile_vector_reproduced_byte_for_byte() -> None:
    """With the vector's fixed salt (00..0f) and IV (10..1f) we write the exact same file text."""
    text = kf.encrypt_keyfile(
        bytes.fromhex(KEYFILE["plaintext_private_key_hex"]),
        KEYFILE["password"],
        salt=bytes(range(16)),
        iv=bytes(range(16, 32)),
    )
    assert text == KEYFILE["file_text"]


def test_wrong_password_is_a_mac_error() -> None:
    """A wrong password fails the MAC check, and the message reveals nothing secret."""
    with pytest.raises(kf.KeyfileError, match="MAC mismatch") as info:
        kf.decrypt_keyfile(KEYFILE["file_text"], "hunter3")
    assert "hunter" not in str(info.value)


def test_token_cache_vector() -> None:
    """vectors.json → token_cache: same layout, 10000 iterations, IV inside the MAC.

    The vector does not name its password; it is the keyfile's (hunter2), which the MAC proves.
    """
    crypto = TOKEN_CACHE["blob"]["crypto"]
    assert crypto["kdfparams"]["iterations"] == kf.TOKEN_CACHE_ITERATIONS
    token = kf.decrypt_crypto(crypto, KEYFILE["password"], mac_covers_iv=True)
    assert token.decode() == TOKEN_CACHE["decrypts_to"]
    with pytest.raises(kf.KeyfileError):  # the keyfile MAC rule does not fit a token blob
        kf.decrypt_crypto(crypto, KEYFILE["password"])


def _crypto() -> dict[str, Any]:
    """The vector's crypto object (a fresh copy)."""
    crypto: dict[str, Any] = json.loads(KEYFILE["file_text"])["crypto"]
    return crypto


def _edit(path: tuple[str, ...], value: Any) -> str:
    """The vector keyfile with one crypto field changed (or removed when value is ...)."""
    crypto = _crypto()
    parent = crypto
    for key in path[:-1]:
        parent = parent[key]
    if value is ...:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return json.dumps({"crypto": crypto})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "not JSON"),
        ("[]", "'crypto'"),
        (_edit(("cipher",), "aes-256-gcm"), "aes-128-ctr"),
        (_edit(("kdf",), "scrypt"), "pbkdf2"),
        (_edit(("kdfparams", "digest"), "sha512"), "sha256"),
        (_edit(("kdfparams", "dklen"), 16), "dklen"),
        (_edit(("kdfparams", "iterations"), 10**9), "iterations"),
        (_edit(("kdfparams", "iterations"), True), "iterations"),
        (_edit(("cipherparams", "iv"), "AAAA"), "16 bytes"),
        (_edit(("ciphertext",), "!!"), "base64"),
        (_edit(("mac",), ...), "missing crypto.mac"),
        (_edit(("ciphertext",), "RE7FOq8JH9BIclUh2jyw5apmx0vAjO5olVGKXw6CH/M="), "MAC mismatch"),
    ],
)
def test_malformed_keyfiles(text: str, message: str) -> None:
    """Malformed or tampered files raise KeyfileError (a ValueError) with a useful message."""
    with pytest.raises(kf.KeyfileError, match=message):
        kf.decrypt_keyfile(text, KEYFILE["password"])


@settings(max_examples=25, deadline=None)
@given(st.binary(max_size=80), st.text(max_size=20), st.booleans())
def test_round_trip(plaintext: bytes, password: str, mac_covers_iv: bool) -> None:
    """encrypt_crypto → decrypt_crypto is the identity (one KDF iteration keeps it fast)."""
    crypto = kf.encrypt_crypto(plaintext, password, iterations=1, mac_covers_iv=mac_covers_iv)
    assert kf.decrypt_crypto(crypto, password, mac_covers_iv=mac_covers_iv) == plaintext
