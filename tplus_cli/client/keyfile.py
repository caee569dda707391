"""Read (and write) the official client's encrypted keyfile, `~/.tplus/users/<name>` (spec §2.3).

Format: PBKDF2-HMAC-SHA256 → 32-byte key; AES-128-CTR with the first half; MAC =
SHA3-256(second half ‖ ciphertext); every binary field base64. The token cache (spec §2.4)
uses the same layout with the IV inside the MAC. There is no `cryptography` package here, so
AES-128 is implemented below: CTR mode needs only the forward block cipher (FIPS-197).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
from collections.abc import Mapping
from typing import Any

KEYFILE_ITERATIONS = 262144
TOKEN_CACHE_ITERATIONS = 10000
MAX_ITERATIONS = 10_000_000  # refuse files that would make the KDF run for minutes


class KeyfileError(ValueError):
    """A keyfile that cannot be read: malformed, unsupported, or the wrong password (MAC)."""


# --------------------------------------------------------------------------- AES-128 (FIPS-197)


def _xtime(b: int) -> int:
    """Multiply by x in GF(2^8) modulo the AES polynomial x^8 + x^4 + x^3 + x + 1."""
    b <<= 1
    return (b ^ 0x11B) if b & 0x100 else b


def _make_sbox() -> bytes:
    """The AES S-box: multiplicative inverse in GF(2^8) followed by the affine map (FIPS-197 §5.1.1)."""
    # Walk the field with generator 3: p runs over 3^i and q over its inverse 3^-i.
    sbox = bytearray(256)
    p = q = 1
    while True:
        p ^= _xtime(p)  # p *= 3
        q ^= q << 1  # q /= 3 (multiply by 0xf6)
        q ^= q << 2
        q ^= q << 4
        q &= 0xFF
        if q & 0x80:
            q ^= 0x09
        rotated = q ^ _rotl8(q, 1) ^ _rotl8(q, 2) ^ _rotl8(q, 3) ^ _rotl8(q, 4)
        sbox[p] = rotated ^ 0x63
        if p == 1:
            break
    sbox[0] = 0x63  # 0 has no inverse; the affine map of 0 is 0x63
    return bytes(sbox)


def _rotl8(x: int, shift: int) -> int:
    """Rotate a byte left."""
    return ((x << shift) | (x >> (8 - shift))) & 0xFF


SBOX = _make_sbox()


def _expand_key(key: bytes) -> list[bytes]:
    """AES-128 key schedule: 11 round keys of 16 bytes (FIPS-197 §5.2)."""
    if len(key) != 16:
        raise ValueError("AES-128 needs a 16-byte key")
    words = [key[i : i + 4] for i in range(0, 16, 4)]
    rcon = 1
    for i in range(4, 44):
        temp = words[i - 1]
        if i % 4 == 0:
            temp = bytes([SBOX[temp[1]] ^ rcon, SBOX[temp[2]], SBOX[temp[3]], SBOX[temp[0]]])
            rcon = _xtime(rcon)
        words.append(bytes(a ^ b for a, b in zip(words[i - 4], temp, strict=True)))
    return [b"".join(words[r * 4 : r * 4 + 4]) for r in range(11)]


def _encrypt_block(round_keys: list[bytes], block: bytes) -> bytes:
    """Encrypt one 16-byte block (the state is column-major: byte i is row i % 4, column i // 4)."""
    s = [a ^ b for a, b in zip(block, round_keys[0], strict=True)]
    for rnd in range(1, 11):
        s = [SBOX[b] for b in s]  # SubBytes
        s = [s[(i + 4 * (i % 4)) % 16] for i in range(16)]  # ShiftRows: row r rotates left by r
        if rnd != 10:  # MixColumns
            mixed = []
            for c in range(0, 16, 4):
                a0, a1, a2, a3 = s[c : c + 4]
                total = a0 ^ a1 ^ a2 ^ a3
                mixed += [
                    a0 ^ total ^ _xtime(a0 ^ a1),
                    a1 ^ total ^ _xtime(a1 ^ a2),
                    a2 ^ total ^ _xtime(a2 ^ a3),
                    a3 ^ total ^ _xtime(a3 ^ a0),
                ]
            s = mixed
        s = [a ^ b for a, b in zip(s, round_keys[rnd], strict=True)]  # AddRoundKey
    return bytes(s)


def aes128_encrypt_block(key: bytes, block: bytes) -> bytes:
    """AES-128 forward cipher of one 16-byte block."""
    if len(block) != 16:
        raise ValueError("AES works on 16-byte blocks")
    return _encrypt_block(_expand_key(key), block)


def aes128_ctr(key: bytes, iv: bytes, data: bytes) -> bytes:
    """AES-128-CTR (encrypt = decrypt); the IV is the first counter block, +1 per block mod 2^128."""
    if len(iv) != 16:
        raise ValueError("AES-CTR needs a 16-byte initial counter block")
    round_keys = _expand_key(key)
    counter = int.from_bytes(iv, "big")
    out = bytearray()
    for offset in range(0, len(data), 16):
        stream = _encrypt_block(round_keys, counter.to_bytes(16, "big"))
        out += bytes(a ^ b for a, b in zip(data[offset : offset + 16], stream, strict=False))
        counter = (counter + 1) % (1 << 128)
    return bytes(out)


# --------------------------------------------------------------------------- the crypto object


def _b64(crypto: Mapping[str, Any], *path: str) -> bytes:
    """A base64 field of the crypto object."""
    value: Any = crypto
    for key in path:
        if not isinstance(value, Mapping) or key not in value:
            raise KeyfileError(f"keyfile: missing crypto.{'.'.join(path)}")
        value = value[key]
    if not isinstance(value, str):
        raise KeyfileError(f"keyfile: crypto.{'.'.join(path)} must be a base64 string")
    try:
        return base64.b64decode(value, validate=True)
    except binascii.Error:
        raise KeyfileError(f"keyfile: crypto.{'.'.join(path)} is not valid base64") from None


def _derive(crypto: Mapping[str, Any], password: str) -> bytes:
    """Check the cipher and KDF parameters, then run PBKDF2-HMAC-SHA256."""
    params = crypto.get("kdfparams")
    if crypto.get("cipher") != "aes-128-ctr" or crypto.get("kdf") != "pbkdf2":
        raise KeyfileError("keyfile: only aes-128-ctr with pbkdf2 is supported")
    if (
        not isinstance(params, Mapping)
        or params.get("digest") != "sha256"
        or params.get("dklen") != 32
    ):
        raise KeyfileError("keyfile: kdfparams must use digest sha256 and dklen 32")
    iterations = params.get("iterations")
    if type(iterations) is not int or not 1 <= iterations <= MAX_ITERATIONS:
        raise KeyfileError(f"keyfile: iterations must be an integer in 1..{MAX_ITERATIONS}")
    salt = _b64(crypto, "kdfparams", "salt")
    return hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations, dklen=32)


def decrypt_crypto(
    crypto: Mapping[str, Any], password: str, *, mac_covers_iv: bool = False
) -> bytes:
    """Decrypt a `crypto` object; KeyfileError on a bad MAC (wrong password or damaged file)."""
    if not isinstance(crypto, Mapping):
        raise KeyfileError("keyfile: 'crypto' must be an object")
    iv = _b64(crypto, "cipherparams", "iv")
    ciphertext = _b64(crypto, "ciphertext")
    mac = _b64(crypto, "mac")
    if len(iv) != 16:
        raise KeyfileError("keyfile: the IV must be 16 bytes")
    dk = _derive(crypto, password)
    expected = hashlib.sha3_256(dk[16:32] + (iv if mac_covers_iv else b"") + ciphertext).digest()
    if not hmac.compare_digest(mac, expected):
        raise KeyfileError("keyfile: wrong password or corrupted file (MAC mismatch)")
    return aes128_ctr(dk[:16], iv, ciphertext)


def encrypt_crypto(
    plaintext: bytes,
    password: str,
    *,
    iterations: int = KEYFILE_ITERATIONS,
    mac_covers_iv: bool = False,
    salt: bytes | None = None,
    iv: bytes | None = None,
) -> dict[str, Any]:
    """Build a `crypto` object in the official client's layout (random salt and IV by default)."""
    salt = os.urandom(16) if salt is None else salt
    iv = os.urandom(16) if iv is None else iv
    dk = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations, dklen=32)
    ciphertext = aes128_ctr(dk[:16], iv, plaintext)
    mac = hashlib.sha3_256(dk[16:32] + (iv if mac_covers_iv else b"") + ciphertext).digest()

    def b64(raw: bytes) -> str:
        return base64.b64encode(raw).decode("ascii")

    return {
        "cipher": "aes-128-ctr",
        "cipherparams": {"iv": b64(iv)},
        "ciphertext": b64(ciphertext),
        "kdf": "pbkdf2",
        "kdfparams": {"salt": b64(salt), "iterations": iterations, "dklen": 32, "digest": "sha256"},
        "mac": b64(mac),
    }


# --------------------------------------------------------------------------- keyfile text


def decrypt_keyfile(text: str, password: str) -> bytes:
    """Decrypt a keyfile's text → the stored private key (normally the 32-byte seed)."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        raise KeyfileError("keyfile: not JSON") from None
    if not isinstance(document, Mapping) or "crypto" not in document:
        raise KeyfileError("keyfile: expected an object with a 'crypto' key")
    return decrypt_crypto(document["crypto"], password)


def encrypt_keyfile(
    private_key: bytes, password: str, *, salt: bytes | None = None, iv: bytes | None = None
) -> str:
    """Keyfile text as the official client writes it (2-space indent, no trailing newline)."""
    return json.dumps({"crypto": encrypt_crypto(private_key, password, salt=salt, iv=iv)}, indent=2)


def pub_sidecar_text(public_key_hex: str) -> str:
    """Contents of the `<name>.pub` sidecar: the lowercase hex public key and a newline."""
    return public_key_hex.lower() + "\n"
