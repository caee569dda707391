"""Bearer-token session (spec §4): nonce → signed /auth → token, reused until 60 s before expiry.

Why a small session object and not an `httpx.Auth` flow: the token is not per-request
signing, it is shared state that the WebSocket handshakes need too (ws.py has no httpx
request to hang an Auth on); public ("O") endpoints must fall back to an anonymous
request when the handshake fails; and the single 401/403 retry must know which token was
rejected so that concurrent tasks refresh only once. All of that lives here, behind one
asyncio.Lock, and api.py decides per endpoint whether auth is required, optional or absent.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx

from tplus_cli.client import signing
from tplus_cli.client.errors import AuthFailed, error_from_response
from tplus_cli.client.transport import send

REFRESH_MARGIN_NS = 60 * 1_000_000_000


@dataclass(frozen=True, slots=True)
class Token:
    """An issued bearer token (kept out of reprs) and its absolute expiry (Unix ns)."""

    value: str = field(repr=False)
    expiry_ns: int = 0


class Session:
    """Holds the account key and the current token; serializes refreshes with a lock."""

    def __init__(
        self,
        seed: bytes | None,
        *,
        clock_ns: Callable[[], int],
        cosigners: Sequence[bytes] = (),
        nonce_path: str = "/nonce/{pk}",
        auth_path: str = "/auth",
    ) -> None:
        self._seed = seed
        self._cosigners = tuple(cosigners)
        self._clock_ns = clock_ns
        self._nonce_path = nonce_path
        self._auth_path = auth_path
        self._token: Token | None = None
        self._lock = asyncio.Lock()
        self.public_key = None if seed is None else signing.public_key_hex(seed)

    @property
    def has_key(self) -> bool:
        """True when requests can be authenticated at all."""
        return self._seed is not None

    def _fresh(self, token: Token) -> bool:
        return self._clock_ns() + REFRESH_MARGIN_NS < token.expiry_ns

    @property
    def current_token(self) -> str | None:
        """The token in use (possibly stale), to name it as rejected when forcing a refresh."""
        return None if self._token is None else self._token.value

    def clear(self) -> None:
        """Forget the token (e.g. after a failed handshake)."""
        self._token = None

    async def token(self, http: httpx.AsyncClient, *, rejected: str | None = None) -> str:
        """A usable token; `rejected` forces a refresh unless another task already replaced it."""
        async with self._lock:
            current = self._token
            if current is not None and self._fresh(current) and current.value != rejected:
                return current.value
            self._token = None
            fresh = await self._handshake(http)
            self._token = fresh
            return fresh.value

    async def headers(
        self, http: httpx.AsyncClient, *, rejected: str | None = None
    ) -> dict[str, str]:
        """`Authorization` + `User-Id` headers (spec §4.2); AuthFailed when no key is configured."""
        if self.public_key is None:
            raise AuthFailed("this call needs an account key, and none is configured")
        value = await self.token(http, rejected=rejected)
        return {"Authorization": f"Bearer {value}", "User-Id": self.public_key}

    async def _handshake(self, http: httpx.AsyncClient) -> Token:
        assert self._seed is not None and self.public_key is not None
        nonce_reply = await self._call(http, "GET", self._nonce_path.format(pk=self.public_key))
        try:
            nonce = signing.auth_nonce_text(nonce_reply)
        except ValueError as exc:
            raise AuthFailed(f"unusable /nonce reply: {exc}") from None
        message = signing.auth_message(nonce)
        sigs = signing.Signatures(
            signing.sign(self._seed, message),
            [
                signing.additional_signer_entry(signing.public_key_hex(s), signing.sign(s, message))
                for s in self._cosigners
            ],
        )
        reply = await self._call(
            http, "POST", self._auth_path, signing.auth_body(self.public_key, nonce, sigs)
        )
        try:
            token = reply["token"]
            expiry = reply["expiry_ns"]
            if not isinstance(token, str) or isinstance(expiry, bool):
                raise TypeError
            return Token(token, int(expiry))
        except (KeyError, TypeError, ValueError):
            raise AuthFailed("the /auth reply lacks token/expiry_ns") from None

    async def _call(
        self, http: httpx.AsyncClient, method: str, path: str, body: object = None
    ) -> dict[str, Any]:
        response = await send(http, method, path, body=body)
        if not response.is_success:
            error = error_from_response(response.status_code, response.content, response.headers)
            if response.status_code != 429 and response.status_code < 500:
                raise AuthFailed(
                    f"authentication failed at {path}: {error}",
                    code=error.code,
                    status=response.status_code,
                ) from error
            raise error
        try:
            value = json.loads(response.content or b"null", parse_float=Decimal)
        except ValueError:
            raise AuthFailed(f"authentication failed at {path}: non-JSON reply") from None
        return value if isinstance(value, dict) else {"value": value}
