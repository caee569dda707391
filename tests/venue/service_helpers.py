"""Helpers for the venue service tests: a signing caller that drives `Venue.handle` directly."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tplus_cli.client import signing
from tplus_cli.venue.clock import StepClock
from tplus_cli.venue.handlers import Venue
from tplus_cli.venue.protocol import ApiRequest, ApiResponse
from tplus_cli.venue.store import Store

T0 = 1_750_000_000_000_000_000
SEED_A = bytes([1]) * 32
SEED_B = bytes([2]) * 32
BTC = "2"  # price decimals 1, quantity decimals 5 (venue/markets.py)


def open_venue(db: Path, clock: StepClock | None = None, **kw: Any) -> Venue:
    """A venue on `db` with a frozen clock at T0 and the simulator off."""
    kw.setdefault("simulate", False)
    return Venue(Store(db), clock or StepClock(T0), **kw)


@dataclass
class Caller:
    """One account talking to a Venue in-process: logs in, signs and sends requests."""

    venue: Venue
    seed: bytes
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def pk(self) -> str:
        return signing.public_key_hex(self.seed)

    @property
    def now(self) -> int:
        return self.venue.clock.now_ns()

    def send(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        headers: dict[str, str] | None = None,
        query: dict[str, str] | None = None,
    ) -> ApiResponse:
        raw = b"" if body is None else json.dumps(body, separators=(",", ":")).encode()
        hdrs = {k.lower(): v for k, v in (self.headers if headers is None else headers).items()}
        return self.venue.handle(ApiRequest(method, path, query or {}, hdrs, raw))

    def login(self) -> Caller:
        nonce = self.send("GET", f"/nonce/{self.pk}", headers={}).json()["value"]
        resp = self.send("POST", "/auth", self.auth_body(nonce), headers={})
        assert resp.status == 200, resp.body
        self.headers = {"Authorization": f"Bearer {resp.json()['token']}", "User-Id": self.pk}
        return self

    def auth_body(self, nonce: str) -> dict[str, Any]:
        sig = signing.sign(self.seed, signing.auth_message(nonce))
        return signing.auth_body(self.pk, nonce, signing.Signatures(sig, []))

    def limit_body(
        self,
        *,
        side: str = "buy",
        price: int = 600_000,
        quantity: int = 1_000,
        order_id: str | None = None,
        ts: int | None = None,
        asset: str = BTC,
        post_only: bool = False,
        post_sign: int | None = None,
    ) -> dict[str, Any]:
        created = self.now if ts is None else ts
        order = signing.order_object(
            signer=self.pk,
            order_id=order_id or signing.new_order_id(),
            base_asset=asset,
            price_decimals=1,
            quantity_decimals=5,
            details=signing.limit_details(price, quantity, signing.tif_gtc(post_only)),
            side=side,
            creation_timestamp_ns=created,
        )
        sigs = signing.sign_object(order, master=self.seed)
        return signing.create_body(order, sigs, created if post_sign is None else post_sign)

    def create(self, **kw: Any) -> ApiResponse:
        return self.send("POST", "/orders/create", self.limit_body(**kw))

    def cancel_body(self, order_id: str, asset: str = BTC) -> dict[str, Any]:
        obj = signing.cancel_object(order_id=order_id, asset_id=asset, signer=self.pk)
        return signing.cancel_body(obj, signing.sign_object(obj, master=self.seed), self.now)

    def cancel(self, order_id: str, asset: str = BTC) -> ApiResponse:
        return self.send("DELETE", "/orders/cancel", self.cancel_body(order_id, asset))

    def replace_body(
        self, order_id: str, *, price: int, quantity: int, ts: int | None = None
    ) -> dict[str, Any]:
        stamp = self.now if ts is None else ts
        obj = signing.replace_object(
            order_id=order_id,
            base_asset=BTC,
            timestamp_ns=stamp,
            new_price_limit=price,
            new_quantity=quantity,
            new_trigger=None,
            book_quantity_decimals=5,
            book_price_decimals=1,
        )
        sigs = signing.sign_object(obj, master=self.seed)
        return signing.replace_body(obj, self.pk, sigs, stamp)

    def transfer_body(
        self, amount: int, nonce: int, source: int = 0, target: int = 1
    ) -> dict[str, Any]:
        obj = signing.transfer_object(
            user=self.pk,
            source_index=source,
            target_index=target,
            transfer_asset="0",
            transfer_amount=amount,
            nonce=nonce,
        )
        return signing.inner_body(
            obj, signing.sign_object(obj, master=self.seed, ensure_ascii=True)
        )

    def orders(self, asset: str = BTC, open_only: bool = False) -> list[dict[str, Any]]:
        query = {"open_only": "true"} if open_only else {}
        resp = self.send("GET", f"/orders/user/{self.pk}/{asset}", query=query)
        assert resp.status == 200, resp.body
        rows: list[dict[str, Any]] = resp.json()
        return rows

    def inventory(self) -> dict[str, Any]:
        resp = self.send("GET", f"/inventory/user/{self.pk}")
        assert resp.status == 200, resp.body
        inv: dict[str, Any] = resp.json()
        return inv


def error_code(resp: ApiResponse) -> str:
    """The envelope code of an error response."""
    body = resp.json()
    assert isinstance(body, dict) and "error" in body, resp.body
    return str(body["error"]["code"])


class ServerProcess:
    """The venue server on 127.0.0.1 port 0 as a real child process: `python -m
    tplus_cli.venue.server`, or with `cli=True` the user-facing `tplus venue serve`."""

    def __init__(self, db: Path, *extra: str, cli: bool = False) -> None:
        import subprocess
        import sys

        self.db = db
        entry = ["tplus_cli.app", "venue", "serve"] if cli else ["tplus_cli.venue.server"]
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                *entry,
                "--port",
                "0",
                "--db",
                str(db),
                *extra,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stderr is not None
        self.log: list[str] = []
        for line in self.proc.stderr:  # blocks until the server announces itself (or dies)
            self.log.append(line)
            if "listening on http://" in line:
                address = line.split("http://", 1)[1].split()[0]
                self.host, port = address.rsplit(":", 1)
                self.port = int(port)
                self.url = f"http://{address}"
                self._drain = threading.Thread(target=self._read_rest, daemon=True)
                self._drain.start()
                return
        raise RuntimeError("venue server exited before listening:\n" + "".join(self.log))

    def _read_rest(self) -> None:
        """Keep draining stderr so a chatty server never blocks on a full pipe."""
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.log.append(line)

    def stop(self, sig: int | None = None) -> int:
        """Signal the process (SIGTERM by default), wait and return its exit code."""
        import signal
        import subprocess

        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM if sig is None else sig)
        try:
            code = self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("server did not stop:\n" + "".join(self.log)) from None
        self._drain.join(timeout=10)
        return code
