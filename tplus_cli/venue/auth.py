"""Nonce → signed nonce → bearer token (spec §4), kept in the store so tokens work across processes.

Nonces are random, bound to the pubkey that asked, single-use and expire after five minutes.
Tokens are 256-bit random strings that live one hour; only their SHA-256 is stored.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from tplus_cli.client import signing
from tplus_cli.venue.protocol import ApiError
from tplus_cli.venue.store import Store

NONCE_TTL_NS = 300 * 10**9
TOKEN_TTL_NS = 3600 * 10**9
TOKEN_CACHE_LIMIT = 4096  # tokens remembered in memory; the store stays the truth
_HEX64 = re.compile(r"[0-9a-f]{64}")


def canonical_user(raw: str) -> str | None:
    """A path or header pubkey in canonical form (64 lowercase hex, no 0x), or None if malformed."""
    text = raw.strip()
    if text[:2] in ("0x", "0X"):
        text = text[2:]
    text = text.lower()
    return text if _HEX64.fullmatch(text) else None


def _unauthorized(message: str) -> ApiError:
    return ApiError(401, "UNAUTHORIZED", message)


class Authenticator:
    """Issues nonces and tokens and resolves request headers to an authenticated user."""

    def __init__(self, store: Store, now_ns: Callable[[], int]) -> None:
        self._store = store
        self._now_ns = now_ns
        # token hash -> (user, expiry); tokens are never revoked early, so caching is safe.
        self._cache: dict[str, tuple[str, int]] = {}

    def issue_nonce(self, raw_user: str) -> dict[str, Any]:
        """`GET /nonce/{pk}`: a fresh single-use nonce bound to the pubkey."""
        user = canonical_user(raw_user)
        if user is None:
            raise ApiError(400, "INVALID_REQUEST", "the path must hold a 64-hex public key")
        value = str(uuid.uuid4())
        now = self._now_ns()
        self._store.put_nonce(user, value, now + NONCE_TTL_NS, now)
        return {"value": value, "ce_nonce": 0}

    def authenticate(self, body: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        """`POST /auth`: verify the signed nonce, burn it, return (user, {"token", "expiry_ns"})."""
        try:
            verified = signing.verify_body("auth", body)
        except signing.SignatureInvalid as exc:
            raise ApiError(401, "INVALID_SIGNATURE", str(exc)) from None
        except signing.SigningError as exc:
            raise ApiError(400, "INVALID_REQUEST", str(exc)) from None
        if not verified.master_signed:
            # No multisig registry on the local venue: only the account key itself can log in.
            raise ApiError(401, "INVALID_SIGNATURE", "the account key must sign the nonce")
        now = self._now_ns()
        if not self._store.consume_nonce(verified.account, verified.obj["nonce"], now):
            raise ApiError(401, "NONCE_INVALID", "unknown, expired or already used nonce")
        token = secrets.token_urlsafe(32)
        expiry = now + TOKEN_TTL_NS
        self._store.put_token(_hash(token), verified.account, expiry, now)
        return verified.account, {"token": token, "expiry_ns": expiry}

    def user(self, headers: Mapping[str, str]) -> str:
        """The user of a valid `Authorization: Bearer` + matching `User-Id`, else 401."""
        auth = headers.get("authorization", "")
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise _unauthorized("missing bearer token")
        digest = _hash(token.strip())
        entry = self._cache.get(digest)
        if entry is None:
            entry = self._store.token(digest)
            if entry is None:
                raise _unauthorized("unknown token")
            if len(self._cache) >= TOKEN_CACHE_LIMIT:
                self._cache.clear()  # bounded memory; evicted tokens are re-read from the store
            self._cache[digest] = entry
        user, expiry = entry
        if self._now_ns() >= expiry:
            self._cache.pop(digest, None)
            raise _unauthorized("token expired")
        claimed = canonical_user(headers.get("user-id", ""))
        if claimed != user:
            raise _unauthorized("User-Id does not match the token")
        return user

    def optional_user(self, headers: Mapping[str, str]) -> str | None:
        """Opportunistic auth on public endpoints: the user if the headers are valid, else None."""
        if "authorization" not in headers:
            return None
        try:
            return self.user(headers)
        except ApiError:
            return None


def _hash(token: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
