"""Per-request context handed to endpoint functions: path params, query, user, parsed body."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tplus_cli.client.assets import AssetError, canonical_asset_id
from tplus_cli.venue.auth import canonical_user
from tplus_cli.venue.protocol import ApiError, ApiRequest, parse_json_body


@dataclass
class Ctx:
    """What an endpoint sees: the request, its path params, the caller (if any), the body."""

    req: ApiRequest
    params: Mapping[str, str]
    user: str | None
    now_ns: int
    _body: dict[str, Any] | None = field(default=None, repr=False)

    def body(self) -> dict[str, Any]:
        """The JSON object body (parsed once), else 400 INVALID_REQUEST."""
        if self._body is None:
            self._body = parse_json_body(self.req.body)
        return self._body

    def me(self) -> str:
        """The authenticated user (R endpoints always have one)."""
        if self.user is None:
            raise ApiError(401, "UNAUTHORIZED", "authentication required")
        return self.user

    def own_pk(self, name: str = "pk") -> str:
        """The {pk} path param, canonicalized; it must be the caller's own account."""
        user = canonical_user(self.params[name])
        if user is None:
            raise ApiError(404, "USER_NOT_FOUND", "not an account public key")
        if user != self.me():
            raise ApiError(403, "UNAUTHORIZED", "an account may only read its own data")
        return user

    def asset(self, name: str = "asset") -> str:
        """The {asset} path param as a canonical asset id ("2"), else 404 MARKET_NOT_FOUND."""
        return asset_param(self.params[name])

    def q_int(self, name: str, default: int | None = None, *, lo: int = 0, hi: int = 10**9) -> int:
        """An integer query parameter within [lo, hi], else 400 INVALID_REQUEST."""
        raw = self.req.query.get(name)
        if raw is None or raw == "":
            if default is None:
                raise ApiError(400, "INVALID_REQUEST", f"query parameter {name} is required")
            return default
        try:
            value = int(raw)
        except ValueError:
            raise ApiError(400, "INVALID_REQUEST", f"{name} must be an integer") from None
        if not lo <= value <= hi:
            raise ApiError(400, "INVALID_REQUEST", f"{name} must be within {lo}..{hi}")
        return value

    def q_opt_int(self, name: str, *, lo: int = 0, hi: int = 10**9) -> int | None:
        """An optional integer query parameter."""
        if not self.req.query.get(name):
            return None
        return self.q_int(name, lo=lo, hi=hi)

    def q_bool(self, name: str, default: bool = False) -> bool:
        """A `true`/`false` query parameter."""
        raw = self.req.query.get(name)
        if raw is None or raw == "":
            return default
        if raw.lower() in ("true", "1"):
            return True
        if raw.lower() in ("false", "0"):
            return False
        raise ApiError(400, "INVALID_REQUEST", f"{name} must be true or false")


def asset_param(raw: str) -> str:
    """A path asset segment (index or address@chain) → canonical id; junk → MARKET_NOT_FOUND."""
    try:
        return canonical_asset_id(raw)
    except AssetError:
        raise ApiError(404, "MARKET_NOT_FOUND", f"unknown asset {raw[:80]!r}") from None


def paginate(items: list[Any], page: int, limit: int) -> tuple[list[Any], dict[str, Any]]:
    """One page of `items` and the flattened PageMeta (spec §5.2)."""
    total_pages = (len(items) + limit - 1) // limit if limit else 0
    chunk = items[page * limit : (page + 1) * limit]
    has_next = page + 1 < total_pages
    return chunk, {
        "page": page,
        "limit": limit,
        "total_pages": total_pages,
        "cursor_size": len(chunk),
        "has_next_page": has_next,
        "next_page": page + 1 if has_next else None,
    }
