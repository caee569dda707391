"""`tplus stream ...` end to end on the embedded venue: NDJSON shape, --count/--for, exit codes."""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from decimal import Decimal
from typing import IO, Any

import pytest

from .conftest import Tplus

TIMEOUT = 20.0 * float(os.environ.get("TPLUS_TEST_TIMEOUT_FACTOR", "1"))
TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def sub_env() -> dict[str, str]:
    """Subprocesses share one key store: force the file fallback so none needs a keyring."""
    return {**os.environ, "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}


def run_tplus(*args: str) -> subprocess.CompletedProcess[str]:
    """Run `tplus ARGS` as its own process (another shell, as a user would)."""
    return subprocess.run(
        [sys.executable, "-m", "tplus_cli.app", *args],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env=sub_env(),
    )


class Proc:
    """A `tplus` subprocess whose stdout/stderr lines can be awaited (bounded, no blind sleeps)."""

    def __init__(self, *args: str) -> None:
        self.popen = subprocess.Popen(
            [sys.executable, "-m", "tplus_cli.app", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=sub_env(),
        )
        self.out_lines: queue.Queue[str | None] = queue.Queue()
        self.err_lines: queue.Queue[str | None] = queue.Queue()
        self.stderr: list[str] = []
        assert self.popen.stdout is not None and self.popen.stderr is not None
        self._pumps = [
            threading.Thread(target=self._pump, args=(stream, lines), daemon=True)
            for stream, lines in (
                (self.popen.stdout, self.out_lines),
                (self.popen.stderr, self.err_lines),
            )
        ]
        for pump in self._pumps:
            pump.start()

    @staticmethod
    def _pump(stream: IO[str], lines: queue.Queue[str | None]) -> None:
        for line in stream:
            lines.put(line)
        lines.put(None)

    def _next(self, lines: queue.Queue[str | None], what: str) -> str | None:
        try:
            return lines.get(timeout=TIMEOUT)
        except queue.Empty:
            self.popen.kill()
            raise AssertionError(f"timed out waiting for {what}; stderr {self.stderr}") from None

    def wait_stderr(self, needle: str) -> None:
        """Block until a stderr line contains `needle`."""
        while True:
            line = self._next(self.err_lines, repr(needle))
            if line is None:
                raise AssertionError(f"no {needle!r} on stderr; saw {self.stderr}")
            self.stderr.append(line)
            if needle in line:
                return

    def next_json(self) -> Any:
        """The next stdout line, parsed."""
        line = self._next(self.out_lines, "a stdout line")
        assert line is not None, f"stdout ended; stderr {self.stderr}"
        return json.loads(line)

    def finish(self) -> tuple[int, str]:
        """Exit code and the rest of stdout."""
        code = self.popen.wait(timeout=TIMEOUT)
        for pump in self._pumps:
            pump.join(timeout=TIMEOUT)
        rest = []
        while (line := self.out_lines.get_nowait()) is not None:
            rest.append(line)
        return code, "".join(rest)


@pytest.fixture
def procs() -> Iterator[list[Proc]]:
    started: list[Proc] = []
    yield started
    for p in started:
        if p.popen.poll() is None:
            p.popen.kill()
            p.popen.wait()


def envelopes(stdout: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in stdout.splitlines() if line.strip()]
    for doc in lines:
        assert list(doc) == ["stream", "seq", "ts", "data"]
        assert TS.match(doc["ts"]), doc["ts"]
    return lines


def test_book_count_one_is_one_ndjson_envelope(tplus: Tplus) -> None:
    """`stream book BTC --count 1` prints one envelope with the assembled book and exits 0."""
    res = tplus("stream book BTC --count 1 -o ndjson")
    assert res.exit_code == 0, res.stderr
    [doc] = envelopes(res.stdout)
    assert doc["stream"] == "book" and doc["seq"] == 1
    data = doc["data"]
    assert data["symbol"] == "BTC" and data["asset_id"] == "2" and data["kind"] == "snapshot"
    assert isinstance(data["sequence"], int)
    assert all(isinstance(x, str) for lvl in data["bids"] + data["asks"] for x in lvl)
    assert "book BTC: connected" in res.stderr


def test_status_events_go_to_stdout_in_order(tplus: Tplus) -> None:
    """With --status-events, lifecycle lines precede the data on stdout, stderr stays quiet."""
    res = tplus("stream book BTC --count 1 --status-events -o ndjson")
    assert res.exit_code == 0, res.stderr
    docs = envelopes(res.stdout)
    assert [d["stream"] for d in docs] == ["status", "status", "book"]
    assert [d["data"]["state"] for d in docs[:2]] == ["connected", "resynced"]
    assert "connected" not in res.stderr


def test_table_output_is_one_readable_line(tplus: Tplus) -> None:
    """On a terminal (-o table) each item is a line, not JSON."""
    res = tplus("stream book BTC --count 1 -o table")
    assert res.exit_code == 0, res.stderr
    assert re.match(r"^seq \d+  bid .* \| ask .*levels\)$", res.stdout.strip())


def test_fields_select_keys_of_the_data(tplus: Tplus) -> None:
    """--fields keeps only the named keys of each item (NDJSON and lines alike)."""
    res = tplus("stream book BTC --count 1 --depth 1 --fields sequence,asks -o ndjson")
    assert res.exit_code == 0, res.stderr
    [doc] = envelopes(res.stdout)
    assert list(doc["data"]) == ["sequence", "asks"]
    line = tplus("stream book BTC --count 1 --depth 1 --fields sequence -o table")
    assert re.fullmatch(r"sequence=\d+\n", line.stdout)


def test_for_duration_ends_with_exit_zero(tplus: Tplus) -> None:
    """`--for 300ms` stops a quiet stream cleanly: exit 0, only envelopes on stdout."""
    res = tplus("stream orders --for 300ms -o ndjson")
    assert res.exit_code == 0, res.stderr
    envelopes(res.stdout)


@pytest.mark.parametrize(
    "args",
    [
        "stream orders --for soon",
        "stream klines BTC --interval 5S",
        "stream klines BTC --interval 1M",
        "stream book BTC -o csv --count 1",
        "stream book NOPE --count 1",
    ],
)
def test_bad_input_is_a_usage_error(tplus: Tplus, args: str) -> None:
    """Bad durations, impossible intervals, csv and unknown symbols exit 2."""
    res = tplus(args)
    assert res.exit_code == 2, (res.stdout, res.stderr)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_venue_down_at_start_retries_then_gives_up_with_exit_6(tplus: Tplus) -> None:
    """Nothing listening: reconnect attempts are reported, then exit 6 (STREAM_GAVE_UP)."""
    url = f"http://127.0.0.1:{_closed_port()}"
    res = tplus(f"--endpoint {url} stream trades --max-retries 1 -o ndjson")
    assert res.exit_code == 6
    assert "trades: reconnecting in" in res.stderr
    assert "trades: gave_up" in res.stderr
    assert res.error()["code"] == "STREAM_GAVE_UP"
    assert res.stdout == ""


@pytest.mark.slow
def test_order_from_another_process_appears_in_running_stream(procs: list[Proc]) -> None:
    """Embedded venue: `stream orders` in one process sees an order placed from another."""
    assert run_tplus("order", "list", "-o", "json").returncode == 0  # creates the paper key
    stream = Proc("stream", "orders", "--count", "1", "-o", "ndjson")
    procs.append(stream)
    stream.wait_stderr("orders: connected")
    placed = run_tplus("order", "place", "BTC", "buy", "0.01", "--price", "50000", "-o", "json")
    assert placed.returncode == 0, placed.stderr
    code, out = stream.finish()
    assert code == 0
    [doc] = envelopes(out)
    created = doc["data"]["Created"]["user_order"]
    assert created["order_id"] == json.loads(placed.stdout)["order_id"]


@pytest.mark.slow
def test_book_diffs_mode_is_a_contiguous_replayable_feed(procs: list[Proc]) -> None:
    """`--diffs`: a full snapshot, then applied diffs with consecutive sequence numbers (the
    simulator keeps the book moving); our own order's level shows up as a diff."""
    assert run_tplus("order", "list", "-o", "json").returncode == 0
    stream = Proc("stream", "book", "ETH", "--diffs", "-o", "ndjson")
    procs.append(stream)
    first = stream.next_json()["data"]
    assert first["kind"] == "snapshot"
    placed = run_tplus("order", "place", "ETH", "sell", "0.5", "--price", "9999", "-o", "json")
    assert placed.returncode == 0, placed.stderr
    book = {("bid", Decimal(p)): Decimal(q) for p, q in first["bids"]}
    book.update({("ask", Decimal(p)): Decimal(q) for p, q in first["asks"]})
    last = first["sequence"]
    while book.get(("ask", Decimal(9999))) != Decimal("0.5"):
        data = stream.next_json()["data"]
        if data["kind"] == "snapshot":  # a resync replaces the book wholesale
            book = {("bid", Decimal(p)): Decimal(q) for p, q in data["bids"]}
            book.update({("ask", Decimal(p)): Decimal(q) for p, q in data["asks"]})
        else:
            assert data["sequence"] == last + 1
            for side, levels in (("bid", data["bids"]), ("ask", data["asks"])):
                book.update({(side, Decimal(p)): Decimal(q) for p, q in levels})
        last = data["sequence"]
    stream.popen.send_signal(signal.SIGINT)
    assert stream.finish()[0] == 130


@pytest.mark.slow
def test_sigint_exits_130(procs: list[Proc]) -> None:
    """Ctrl-C (SIGINT) ends a running stream with exit status 130."""
    stream = Proc("stream", "trades", "-o", "ndjson")
    procs.append(stream)
    stream.wait_stderr("trades: connected")
    stream.popen.send_signal(signal.SIGINT)
    code, _ = stream.finish()
    assert code == 130


@pytest.mark.slow
def test_activity_from_another_process_reaches_every_stream(procs: list[Proc]) -> None:
    """A market buy and a transfer made elsewhere show up as our fill, a public trade, a
    ticker, a window-aligned 5m bar and an account event."""
    assert run_tplus("order", "list", "-o", "json").returncode == 0
    kinds = {
        "user-trades": ["user-trades"],
        "events": ["events"],
        "trades": ["trades", "BTC"],
        "ticker": ["ticker", "BTC"],
        "klines": ["klines", "BTC", "--interval", "5m"],
    }
    running = {
        k: Proc("stream", *args, "--count", "1", "-o", "ndjson") for k, args in kinds.items()
    }
    procs.extend(running.values())
    for name, proc in running.items():
        proc.wait_stderr(f"{name}: connected" if name in ("user-trades", "events") else "connected")
    bought = run_tplus("order", "place", "BTC", "buy", "0.001", "--market", "-o", "json")
    assert bought.returncode == 0, bought.stderr
    moved = run_tplus("transfer", "USDC", "5", "--from", "1", "--to", "2", "--yes", "-o", "json")
    assert moved.returncode == 0, moved.stderr
    data = {}
    for name, proc in running.items():
        code, out = proc.finish()
        assert code == 0, (name, proc.stderr)
        [data[name]] = [d["data"] for d in envelopes(out)]
    assert data["user-trades"]["is_buyer"] is True
    assert data["user-trades"]["order_id"] == json.loads(bought.stdout)["order_id"]
    assert list(data["events"]) == ["SubAccountAssetTransferred"]
    assert data["trades"]["asset_id"] == "2" and data["ticker"]["asset_id"] == "2"
    bar, window = data["klines"], 300 * 1_000_000_000
    assert bar["open_timestamp_ns"] % window == 0
    assert bar["close_timestamp_ns"] - bar["open_timestamp_ns"] == window
    assert Decimal(bar["low"]) <= Decimal(bar["close"]) <= Decimal(bar["high"])
