"""Transport-agnostic request/response values and the spec §7 error envelope."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

JSON_HEADERS: Mapping[str, str] = {"content-type": "application/json"}


@dataclass(frozen=True)
class ApiRequest:
    """One HTTP request as the venue sees it; header names are lower-case."""

    method: str
    path: str
    query: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""


@dataclass(frozen=True)
class ApiResponse:
    """One HTTP response: status, JSON body bytes and headers."""

    status: int
    body: bytes
    headers: Mapping[str, str] = field(default_factory=lambda: dict(JSON_HEADERS))

    def json(self) -> Any:
        """The decoded body (tests and the CLI's status command use it)."""
        return json.loads(self.body) if self.body else None


class ApiError(Exception):
    """A request the venue refuses: becomes `{"error": {code, message, details?, retryable}}`."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        details: Mapping[str, Any] | None = None,
        retryable: bool = False,
    ) -> None:
        super().__init__(f"[{code}] {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = dict(details) if details else None
        self.retryable = retryable

    def envelope(self) -> dict[str, Any]:
        """The spec §7.1 error body."""
        err: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            err["details"] = self.details
        err["retryable"] = self.retryable
        return {"error": err}

    def response(self) -> ApiResponse:
        """This error as an HTTP response."""
        return json_response(self.envelope(), self.status)


def dumps(obj: object) -> bytes:
    """Compact UTF-8 JSON; ints stay ints (money is never a float)."""
    return _ENCODE(obj).encode("utf-8")


_ENCODE = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def json_response(obj: object, status: int = 200) -> ApiResponse:
    """A JSON response."""
    return ApiResponse(status, dumps(obj), dict(JSON_HEADERS))


def parse_json_body(body: bytes) -> dict[str, Any]:
    """A request body that must be a JSON object, else 400 INVALID_REQUEST."""
    try:
        value = json.loads(body.decode("utf-8")) if body else None
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ApiError(400, "INVALID_REQUEST", "request body is not valid JSON") from None
    if not isinstance(value, dict):
        raise ApiError(400, "INVALID_REQUEST", "request body must be a JSON object")
    return value
