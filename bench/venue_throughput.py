"""Signed order creates per second through a real `tplus venue serve` process, plus engine ops/s.

    .venv/bin/python bench/venue_throughput.py [--connections 16] [--orders 1000]

The server runs as its own process with --no-simulate on 127.0.0.1 (port 0) and a fresh
store. Every order is signed before the clock starts; each connection is one account sending
its orders one after another over HTTP/1.1 keep-alive (raw asyncio, see rawhttp.py), so the
figure is the venue's: parse, verify the Ed25519 signature, match, journal + commit to
SQLite, answer. Targets: >= 2,000 signed creates/s over HTTP, >= 100,000 engine ops/s.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from rawhttp import RawConnection, login  # noqa: E402

from tplus_cli.client import signing  # noqa: E402

HTTP_TARGET = 2_000
ENGINE_TARGET = 100_000


def machine() -> str:
    """nproc, CPU model and Python version, for the record."""
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs ({model}), Python {platform.python_version()}"


def presign(seed: bytes, n: int) -> list[dict[str, Any]]:
    """n signed BTC limit orders for one account; a quarter of them cross the book."""
    pk = signing.public_key_hex(seed)
    now = time.time_ns()
    out = []
    for i in range(n):
        sell = i % 2 == 1
        # buys rest at 64,990-65,000; every 4th sell crosses into them, the rest rest above
        price = 650_000 - i % 100 if not sell else (649_900 if i % 4 == 3 else 651_000 + i % 100)
        order = signing.order_object(
            signer=pk,
            order_id=f"{pk[:10]}{i:010d}",
            base_asset="2",
            price_decimals=1,
            quantity_decimals=5,
            details=signing.limit_details(price, 10),
            side="sell" if sell else "buy",
            creation_timestamp_ns=now,
        )
        out.append(signing.create_body(order, signing.sign_object(order, master=seed), now))
    return out


def start_server(db: Path) -> tuple[subprocess.Popen[str], str, int]:
    """Start the venue server on an ephemeral loopback port; return (process, host, port)."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tplus_cli.venue.server",
            "--port",
            "0",
            "--db",
            str(db),
            "--no-simulate",
        ],
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    for line in proc.stderr:
        if "listening on http://" in line:
            host, port = line.split("http://", 1)[1].split()[0].rsplit(":", 1)
            return proc, host, int(port)
    raise SystemExit("the venue server did not start")


async def http_rate(host: str, port: int, connections: int, per_conn: int) -> tuple[int, float]:
    """(orders acknowledged, seconds) for `connections` accounts sending concurrently."""
    seeds = [bytes([100 + i]) * 32 for i in range(connections)]
    conns = [await RawConnection(host, port).open() for _ in seeds]
    headers = [await login(c, s) for c, s in zip(conns, seeds, strict=True)]
    bodies = [presign(s, per_conn) for s in seeds]
    ok = 0

    async def run(conn: RawConnection, hdrs: dict[str, str], batch: list[dict[str, Any]]) -> None:
        nonlocal ok
        for body in batch:
            resp = await conn.json_request("POST", "/orders/create", body, hdrs)
            if resp.status == 200:
                ok += 1
            else:
                print("rejected:", resp.status, resp.body[:200], file=sys.stderr)

    start = time.perf_counter()
    await asyncio.gather(*(run(c, h, b) for c, h, b in zip(conns, headers, bodies, strict=True)))
    elapsed = time.perf_counter() - start
    for c in conns:
        await c.close()
    return ok, elapsed


def inprocess_rate(db: Path, accounts: int, per_account: int) -> tuple[int, float]:
    """(orders, seconds) through `Venue.handle` in this process: the venue without HTTP."""
    import json

    from tplus_cli.venue.clock import SystemClock
    from tplus_cli.venue.handlers import Venue
    from tplus_cli.venue.protocol import ApiRequest
    from tplus_cli.venue.store import Store

    venue = Venue(Store(db), SystemClock(), simulate=False)
    requests = []
    for i in range(accounts):
        seed = bytes([200 + i]) * 32
        pk = signing.public_key_hex(seed)
        nonce = json.loads(venue.handle(ApiRequest("GET", f"/nonce/{pk}")).body)["value"]
        auth = signing.auth_body(
            pk, nonce, signing.Signatures(signing.sign(seed, signing.auth_message(nonce)), [])
        )
        token = json.loads(
            venue.handle(ApiRequest("POST", "/auth", {}, {}, json.dumps(auth).encode())).body
        )
        headers = {"authorization": f"Bearer {token['token']}", "user-id": pk}
        for body in presign(seed, per_account):
            raw = json.dumps(body, separators=(",", ":")).encode()
            requests.append(ApiRequest("POST", "/orders/create", {}, headers, raw))
    start = time.perf_counter()
    ok = sum(venue.handle(r).status == 200 for r in requests)
    elapsed = time.perf_counter() - start
    venue.store.close()
    return ok, elapsed


def engine_rate() -> list[tuple[str, float]]:
    """Engine-only figures from venue-core's bench/engine_rate.py (empty if it is absent)."""
    path = Path(__file__).resolve().parent / "engine_rate.py"
    if not path.exists():
        return []
    spec = importlib.util.spec_from_file_location("engine_rate", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    figures = []
    for name in ("bench_engine", "bench_exchange"):
        fn = getattr(module, name, None)
        if callable(fn):
            figures.append((name, float(fn())))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--orders", type=int, default=1000, help="orders per connection")
    args = parser.parse_args()

    print(f"machine: {machine()}, load average {os.getloadavg()[0]:.1f} at start")
    with tempfile.TemporaryDirectory() as tmp:
        proc, host, port = start_server(Path(tmp) / "venue.sqlite3")
        try:
            ok, secs = asyncio.run(http_rate(host, port, args.connections, args.orders))
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=60)
        n, in_secs = inprocess_rate(Path(tmp) / "inprocess.sqlite3", 4, args.orders)
    print(
        f"in-process: {n} signed creates through Venue.handle in {in_secs:.2f} s = {n / in_secs:,.0f}/s"
    )
    rate = ok / secs
    verdict = "ok" if rate >= HTTP_TARGET else "BELOW TARGET"
    print(
        f"http: {ok} signed creates over {args.connections} connections in {secs:.2f} s"
        f" = {rate:,.0f}/s (target {HTTP_TARGET:,}/s: {verdict})"
    )
    figures = engine_rate()
    if not figures:
        print("engine: bench/engine_rate.py not present")
    for name, value in figures:
        target = (
            f" (target {ENGINE_TARGET:,}/s: {'ok' if value >= ENGINE_TARGET else 'BELOW TARGET'})"
        )
        print(f"{name}: {value:,.0f} ops/s{target if name == 'bench_engine' else ''}")


if __name__ == "__main__":
    main()
