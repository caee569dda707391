"""Client error tree, classified from the T+ error envelope exactly as spec §7.2 orders it.

    ClientError                 every failure the client raises; .code .message .status .retryable
     ├── AuthFailed             401/403, UNAUTHORIZED, INVALID_SIGNATURE, SIGNER_*, NONCE_*, no key
     ├── NotFound               404 or *_NOT_FOUND (also an unknown asset reference)
     ├── Rejected               the venue refused an order; .order_id from details.order_id
     ├── RateLimited            429 or RATE_LIMITED; .retry_after seconds from Retry-After
     ├── ServerError            5xx or INTERNAL_ERROR / CE_COMMUNICATION_ERROR / TIMEOUT*
     ├── Unavailable            no usable answer: connection refused or dropped, timeout;
     │                          for a create it also means "checked: not placed, safe to retry"
     ├── AmbiguousOutcome       a create/replace may or may not have happened; .order_id
     └── InvalidInput           refused locally, before anything was sent

A 4xx that matches no rule stays a plain ClientError (tpluspy's generic `OmsError`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

_AUTH_CODES = frozenset({"UNAUTHORIZED", "INVALID_SIGNATURE", "SIGNER_REGISTRY_UNAVAILABLE"})
_AUTH_PREFIXES = ("SIGNER_", "NONCE_")
_SERVER_CODES = frozenset(
    {"INTERNAL_ERROR", "CE_COMMUNICATION_ERROR", "TIMEOUT", "TIMEOUT_UNKNOWN_STATE"}
)
_REJECT_PREFIXES = (
    "INSUFFICIENT_MARGIN",
    "INVALID_ORDER",
    "ORDER_REJECTED",
    "DUPLICATE_ORDER",
    "SELF_TRADE",
    "REDUCE_ONLY",
    "POST_ONLY",
    "FOK_",
    "IOC_",
)


class ClientError(Exception):
    """Base of every client failure: a stable code, a message, the HTTP status, retry advice."""

    default_retryable = False

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        retryable: bool | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.retryable = self.default_retryable if retryable is None else retryable
        self.details: Mapping[str, Any] = details or {}

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}" if self.code else self.message


class AuthFailed(ClientError):
    """The venue refused our identity (or no key is configured for an authenticated call)."""


class NotFound(ClientError):
    """The user, order, market or asset does not exist."""


class Rejected(ClientError):
    """The venue refused the order operation; `order_id` names it when the venue said."""

    def __init__(self, message: str, *, order_id: str | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.order_id = order_id


class RateLimited(ClientError):
    """Too many requests; `retry_after` is the server's hint in seconds, if any."""

    default_retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class ServerError(ClientError):
    """The venue failed internally; retryable unless the envelope says otherwise."""

    default_retryable = True


class Unavailable(ClientError):
    """No usable answer (connection, timeout); for a create it means "not placed, safe to retry"."""

    default_retryable = True

    def __init__(self, message: str, *, maybe_delivered: bool = False, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.maybe_delivered = maybe_delivered


class AmbiguousOutcome(ClientError):
    """A create or replace may or may not have taken effect; look `order_id` up before retrying."""

    def __init__(self, message: str, *, order_id: str | None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.order_id = order_id


class InvalidInput(ClientError):
    """Bad input caught locally before any request was sent."""


def classify(status: int, code: str | None) -> type[ClientError]:
    """Pick the class for (status, code) with the first matching rule of spec §7.2."""
    if code is not None:
        if code in _AUTH_CODES or code.startswith(_AUTH_PREFIXES):
            return AuthFailed
        if code == "RATE_LIMITED":
            return RateLimited
        if code.endswith("_NOT_FOUND"):
            return NotFound
        if code in _SERVER_CODES:
            return ServerError
        if code.startswith(_REJECT_PREFIXES):
            return Rejected
    if 500 <= status <= 599:
        return ServerError
    if status == 429:
        return RateLimited
    if status in (401, 403):
        return AuthFailed
    if status == 404:
        return NotFound
    return ClientError


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After in seconds (delta form only; an HTTP date is ignored as unusable here)."""
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


def error_from_response(
    status: int, body: bytes, headers: Mapping[str, str] | None = None
) -> ClientError:
    """Build the right ClientError from a non-2xx response (envelope, flat form or anything else)."""
    code: str | None = None
    message = f"HTTP {status}"
    retryable: bool | None = None
    details: Mapping[str, Any] = {}
    try:
        payload: Any = json.loads(body) if body else None
    except ValueError:
        payload = None
    error = payload.get("error") if isinstance(payload, dict) else None
    if isinstance(error, dict):
        code = str(error.get("code") or "UNKNOWN")
        message = str(error.get("message") or code)
        flag = error.get("retryable")
        retryable = flag if isinstance(flag, bool) else None
        raw_details = error.get("details")
        details = raw_details if isinstance(raw_details, dict) else {}
    elif isinstance(error, str):
        code, message = "UNKNOWN", error
    else:
        text = body.decode("utf-8", "replace").strip()
        if text:
            message = f"HTTP {status}: {text[:200]}"
    cls = classify(status, code)
    kw: dict[str, Any] = {"code": code, "status": status, "retryable": retryable}
    kw["details"] = details
    if cls is Rejected:
        order_id = details.get("order_id")
        return Rejected(message, order_id=order_id if isinstance(order_id, str) else None, **kw)
    if cls is RateLimited:
        lowered = {k.lower(): v for k, v in (headers or {}).items()}
        return RateLimited(message, retry_after=parse_retry_after(lowered.get("retry-after")), **kw)
    return cls(message, **kw)
