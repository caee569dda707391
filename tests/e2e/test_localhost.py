"""End to end: the real `tplus` as subprocesses against `tplus venue serve` on 127.0.0.1.

One server (simulator off, its own store) serves the module; each test gets fresh config and
data dirs, hence a fresh paper key and a fresh funded account. No real keyring is touched
(PYTHON_KEYRING_BACKEND=fail: paper keys go to 0600 files in the temp config dir).
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

TIMEOUT_S = 60 * float(os.environ.get("TPLUS_TEST_TIMEOUT_FACTOR", "1"))
LISTENING = re.compile(r"listening on (http://127\.0\.0\.1:(\d+))")


@dataclass(frozen=True)
class Run:
    """One finished `tplus` process."""

    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        """stdout as JSON."""
        return json.loads(self.stdout)


def _base_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TPLUS_")}
    env.update(
        TPLUS_CONFIG_DIR=str(home / "config"),
        TPLUS_DATA_DIR=str(home / "data"),
        PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
        NO_COLOR="1",
        COLUMNS="120",
    )
    return env


@dataclass
class Server:
    """A running `tplus venue serve` and the URL it announced."""

    proc: subprocess.Popen[str]
    url: str
    port: int


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Start the venue on a free loopback port (port 0, read back from its banner)."""
    home = tmp_path_factory.mktemp("venue")
    proc = subprocess.Popen(
        [sys.executable, "-m", "tplus_cli.app", "venue", "serve", "--port", "0", "--no-simulate"]
        + ["--db", str(home / "venue.sqlite3")],
        env=_base_env(home),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    found: list[re.Match[str]] = []
    ready = threading.Event()

    def watch() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            match = LISTENING.search(line)
            if match and not found:
                found.append(match)
                ready.set()
        ready.set()  # the process ended (or closed stderr) without announcing

    threading.Thread(target=watch, daemon=True).start()
    try:
        if not ready.wait(TIMEOUT_S) or not found:
            raise RuntimeError(f"venue did not start (exit {proc.poll()})")
        yield Server(proc, found[0].group(1), int(found[0].group(2)))
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(TIMEOUT_S)


class Cli:
    """`tplus --endpoint <server>` as a subprocess with this test's own config and data."""

    def __init__(self, home: Path, url: str) -> None:
        self.env = _base_env(home)
        self.url = url

    def __call__(self, *args: str, endpoint: bool = True, env: Mapping[str, str] = {}) -> Run:
        argv = [sys.executable, "-m", "tplus_cli.app"]
        if endpoint:
            argv += ["--endpoint", self.url]
        proc = subprocess.run(
            [*argv, *args],
            env={**self.env, **env},
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
            stdin=subprocess.DEVNULL,
        )
        return Run(proc.returncode, proc.stdout, proc.stderr)

    def ok(self, *args: str) -> Run:
        """Run and assert exit 0."""
        run = self(*args)
        assert run.code == 0, f"tplus {' '.join(args)} -> {run.code}\n{run.stderr}"
        return run


@pytest.fixture
def cli(server: Server, tmp_path: Path) -> Cli:
    """A fresh user of the shared server."""
    return Cli(tmp_path / "user", server.url)


def _error(run: Run, code: int) -> dict[str, Any]:
    assert run.code == code, run.stderr
    assert "Traceback" not in run.stderr
    err: dict[str, Any] = json.loads(run.stderr.strip().splitlines()[-1])["error"]
    return err


def test_fresh_machine_order_over_http(cli: Cli) -> None:
    """No config at all: the quickstart order succeeds, with a one-line paper-key notice."""
    run = cli.ok("order", "place", "BTC", "buy", "0.01", "--price", "65000", "-o", "json")
    ack = run.json()
    assert ack["status"] == "open"
    assert sum("paper key" in line for line in run.stderr.splitlines()) == 1
    rows = cli.ok("order", "list", "-o", "json").json()
    assert [r["order_id"] for r in rows] == [ack["order_id"]]
    assert Decimal(rows[0]["price"]) == Decimal("65000")


def test_markets_and_book_over_http(cli: Cli) -> None:
    """markets lists the venue's books; book shows our bid and ask with spread and mid."""
    symbols = {r["symbol"] for r in cli.ok("markets", "-o", "json").json()}
    assert symbols >= {"BTC", "ETH", "SOL"}
    cli.ok("order", "place", "SOL", "buy", "2", "--price", "0.5")
    cli.ok("order", "place", "SOL", "sell", "3", "--price", "99999")
    book = cli.ok("book", "SOL", "--depth", "1000", "-o", "json").json()
    assert {"price": "0.500", "quantity": "2.00"} in [
        {k: lv[k] for k in ("price", "quantity")} for lv in book["bids"]
    ]
    assert Decimal(book["mid"]) * 2 == Decimal(book["best_bid"]) + Decimal(book["best_ask"])
    table = cli.ok("book", "SOL", "-o", "table").stdout
    assert "SOL order book" in table and "spread:" in table


def test_order_lifecycle_over_http(cli: Cli) -> None:
    """place, replace, amend, show, cancel and cancel-all behave as on the embedded venue."""
    oid = cli.ok("order", "place", "ETH", "buy", "0.5", "--price", "100", "-o", "json").json()[
        "order_id"
    ]
    row = cli.ok("order", "replace", oid, "--price", "101.5", "-o", "json").json()
    assert (Decimal(row["price"]), Decimal(row["quantity"])) == (Decimal("101.5"), Decimal("0.5"))
    row = cli.ok("order", "amend", oid, "--qty", "0.25", "-o", "json").json()
    assert Decimal(row["quantity"]) == Decimal("0.25")
    assert cli.ok("orders", "show", oid, "-o", "json").json()["order_id"] == oid
    assert cli.ok("order", "cancel", oid, "-o", "json").json()["status"] == "cancelled"
    two = {
        cli.ok("order", "place", "ETH", "buy", "0.1", "--price", str(p), "-o", "json").json()[
            "order_id"
        ]
        for p in (90, 91)
    }
    assert "confirmation needed" in _error(cli("order", "cancel-all"), 2)["message"]
    rows = cli.ok("order", "cancel-all", "--yes", "-o", "json").json()
    assert {r["order_id"] for r in rows} == two and {r["status"] for r in rows} == {"cancelled"}
    assert cli.ok("order", "list", "--open", "-o", "json").stdout.strip() == "[]"


def test_bad_input_over_http(cli: Cli) -> None:
    """Excess precision, unknown symbol and unknown order id: one JSON error, exit 2."""
    err = _error(cli("order", "place", "BTC", "buy", "0.000001", "--price", "65000"), 2)
    assert "0.00001" in err["message"]
    _error(cli("order", "place", "DOGE", "buy", "1", "--price", "1"), 2)
    _error(cli("order", "cancel", "no-such-order"), 2)
    _error(cli("order", "place", "BTC", "buy", "0.01"), 2)


def test_balances_transfer_and_trades_over_http(cli: Cli, server: Server, tmp_path: Path) -> None:
    """A second account's sell fills our buy: trades, holds, fees and transfers add up."""
    maker = Cli(tmp_path / "maker", server.url)
    # Above every bid other tests may have left on this shared server, so it rests for us.
    maker.ok("order", "place", "BTC", "sell", "0.002", "--price", "70000")
    fill = cli.ok("order", "place", "BTC", "buy", "0.002", "--price", "70000", "-o", "json")
    trades = cli.ok("trades", "-o", "json").json()
    assert [(t["order_id"], t["side"], t["role"]) for t in trades] == [
        (fill.json()["order_id"], "buy", "taker")
    ]
    assert (Decimal(trades[0]["price"]), Decimal(trades[0]["quantity"])) == (
        Decimal("70000"),
        Decimal("0.002"),
    )
    assert Decimal(trades[0]["fee"]) == Decimal("0.07")  # 0.05% taker fee on 140 USDC
    btc = [r for r in cli.ok("balances", "-o", "json").json() if r["symbol"] == "BTC"]
    assert Decimal(btc[0]["total"]) == Decimal("1.002")
    cli.ok("transfer", "BTC", "0.002", "--from", "1", "--to", "0", "--yes")
    every = cli.ok("balances", "--all", "-o", "json").json()
    totals = {(r["sub_account"], r["symbol"]): Decimal(r["total"]) for r in every}
    assert (totals[(0, "BTC")], totals[(1, "BTC")]) == (Decimal("1.002"), Decimal("1"))
    assert "solvent" in cli.ok("balances", "-o", "table").stdout


def test_unreachable_venue_is_exit_6(cli: Cli) -> None:
    """A closed port is 'unavailable' (exit 6) with one error line."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    run = cli("--endpoint", f"http://127.0.0.1:{port}", "markets", endpoint=False)
    _error(run, 6)


def test_localhost_profile_points_at_port_8000(cli: Cli) -> None:
    """The built-in `localhost` profile targets the default `venue serve` address."""
    doc = cli("profile", "show", "localhost", "-o", "json", endpoint=False)
    assert doc.code == 0, doc.stderr
    assert doc.json()["endpoint"] == "http://127.0.0.1:8000"
