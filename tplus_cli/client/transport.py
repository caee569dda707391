"""The HTTP seam: one httpx.AsyncClient (network or injected transport) and exact wire framing.

Bodies are serialized here, compactly and without ASCII escaping, exactly as httpx ≥ 0.28
does for tpluspy, so the bytes on the wire do not depend on the installed httpx. Responses
are decoded with `parse_float=Decimal`: a JSON number never becomes a float.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import httpx

from tplus_cli.client.errors import ServerError, Unavailable

JSON_HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}
Query = Sequence[tuple[str, str]]


def make_http(
    base_url: str, *, transport: httpx.AsyncBaseTransport | None, timeout: float
) -> httpx.AsyncClient:
    """The shared AsyncClient; an injected transport (embedded venue, tests) replaces the network."""
    return httpx.AsyncClient(
        base_url=base_url.rstrip("/"),
        transport=transport,
        timeout=timeout,
        headers=JSON_HEADERS,
        follow_redirects=False,
    )


def encode_body(body: Any) -> bytes:
    """Compact UTF-8 JSON (`,`/`:` separators, non-ASCII kept), as tpluspy puts on the wire."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def decode_body(response: httpx.Response) -> Any:
    """2xx body → JSON (204, empty or `null` → `{}`); a non-JSON 2xx is a server fault."""
    if response.status_code == 204 or not response.content:
        return {}
    try:
        value = json.loads(response.content, parse_float=Decimal)
    except ValueError:
        raise ServerError(
            f"{response.request.method} {response.request.url.path}: non-JSON response",
            status=response.status_code,
            retryable=False,
        ) from None
    return {} if value is None else value


def query_bool(value: bool) -> str:
    """Booleans in queries are rendered `true`/`false`."""
    return "true" if value else "false"


async def send(
    http: httpx.AsyncClient,
    method: str,
    path: str,
    *,
    query: Query = (),
    body: Any = None,
    headers: Mapping[str, str] | None = None,
) -> httpx.Response:
    """Send one request; transport failures become Unavailable with `maybe_delivered` set."""
    content = None if body is None else encode_body(body)
    try:
        return await http.request(
            method, path, params=list(query) or None, content=content, headers=headers
        )
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
        raise Unavailable(f"{method} {path}: cannot connect ({exc.__class__.__name__})") from exc
    except httpx.TimeoutException as exc:
        raise Unavailable(
            f"{method} {path}: timed out waiting for the venue", maybe_delivered=True
        ) from exc
    except httpx.TransportError as exc:
        raise Unavailable(
            f"{method} {path}: connection lost ({exc.__class__.__name__})", maybe_delivered=True
        ) from exc


def ws_url(base_url: str, path: str) -> str:
    """WebSocket URL (spec §1.3): https→wss else ws, same host:port, the base path is dropped."""
    parts = urlsplit(base_url)
    scheme = "wss" if parts.scheme == "https" else "ws"
    return f"{scheme}://{parts.netloc}{path}"


def ws_origin(base_url: str) -> str:
    """The Origin header sent on every handshake: `<http scheme>://<host:port>` of the base URL."""
    parts = urlsplit(base_url)
    return f"{parts.scheme}://{parts.netloc}"
