"""A minimal raw-asyncio HTTP/1.1 keep-alive client, used to load the venue server.

httpx costs more per request than the venue does, so benchmarks and the crash test drive the
server with this instead: one TCP connection, one request in flight, Content-Length bodies.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RawResponse:
    """Status and body of one response."""

    status: int
    body: bytes

    def json(self) -> Any:
        """The decoded JSON body."""
        return json.loads(self.body)


class RawConnection:
    """One keep-alive HTTP/1.1 connection to host:port."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def open(self) -> RawConnection:
        """Connect (idempotent)."""
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        return self

    async def close(self) -> None:
        """Close the socket."""
        if self._writer is not None:
            self._writer.close()
            try:
                await self._writer.wait_closed()
            except (ConnectionError, OSError):
                pass
            self._writer = self._reader = None

    async def request(
        self,
        method: str,
        path: str,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
    ) -> RawResponse:
        """Send one request and read its response (raises ConnectionError if the peer is gone)."""
        await self.open()
        assert self._reader is not None and self._writer is not None
        lines = [
            f"{method} {path} HTTP/1.1",
            f"Host: {self.host}:{self.port}",
            "Content-Type: application/json",
            f"Content-Length: {len(body)}",
        ]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        self._writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        await self._writer.drain()
        head = await self._reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        length = 0
        for line in header_lines:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value.strip())
        payload = await self._reader.readexactly(length) if length else b""
        return RawResponse(status, payload)

    async def json_request(
        self, method: str, path: str, obj: Any = None, headers: dict[str, str] | None = None
    ) -> RawResponse:
        """Send `obj` as a compact JSON body."""
        body = b"" if obj is None else json.dumps(obj, separators=(",", ":")).encode()
        return await self.request(method, path, body, headers)


async def login(conn: RawConnection, seed: bytes) -> dict[str, str]:
    """Run the nonce → signed nonce → token handshake; returns the auth headers."""
    from tplus_cli.client import signing

    pk = signing.public_key_hex(seed)
    nonce = (await conn.request("GET", f"/nonce/{pk}")).json()["value"]
    body = {
        "user_id": pk,
        "nonce": nonce,
        "signature": signing.sign(seed, signing.auth_message(nonce)),
        "additional_signers": [],
    }
    resp = await conn.json_request("POST", "/auth", body)
    if resp.status != 200:
        raise RuntimeError(f"auth failed: {resp.status} {resp.body!r}")
    return {"Authorization": f"Bearer {resp.json()['token']}", "User-Id": pk}
