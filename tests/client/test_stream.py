"""The resilient stream layer against a scripted dialer, in virtual time (no real sleeps)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from streamfakes import CLOSE, HANG, FakeDial, StreamClosed, VirtualTime, collect

from tplus_cli.client.errors import AuthFailed, NotFound, ServerError
from tplus_cli.client.stream import (
    Backoff,
    Frame,
    ResilientStream,
    StreamGaveUp,
    StreamStatus,
    data_frames,
    decode_frame,
)


def make(vt: VirtualTime, scripts: list[Any], **kw: Any) -> tuple[ResilientStream, FakeDial]:
    dial = FakeDial(scripts, vt)
    kw.setdefault("rng", lambda: 1.0)  # top of the jitter range: delays are exactly the ceiling
    stream = ResilientStream("test", dial, sleep=vt.sleep, clock=vt.clock, **kw)
    return stream, dial


def states(items: list[Any]) -> list[str]:
    return [i.state if isinstance(i, StreamStatus) else f"data:{i.data}" for i in items]


def test_decode_frame_skips_control_and_junk_and_keeps_decimals() -> None:
    """Heartbeats and non-JSON are skipped (§8.2); JSON numbers become Decimal, never float."""
    assert decode_frame('{"type":"ping"}') is None
    assert decode_frame('{"type":"subscriptions","x":1}') is None
    assert decode_frame("not json") is None
    frame = decode_frame('{"price":501.25,"qty":"1"}')
    assert frame == Frame({"price": Decimal("501.25"), "qty": "1"})
    assert decode_frame("[1,2]") == Frame([1, 2])


def test_backoff_doubles_from_half_a_second_to_a_30s_cap() -> None:
    """0.5, 1, 2, 4 ... capped at 30 s at the top of the jitter range; never below half."""
    b = Backoff()
    top = [b.delay(n, lambda: 1.0) for n in range(1, 10)]
    assert top == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]
    assert [b.delay(n, lambda: 0.0) for n in (1, 7)] == [0.25, 15.0]
    assert b.delay(10_000, lambda: 0.5) == 22.5


def test_frames_pass_through_and_control_frames_are_skipped() -> None:
    """Data arrives in order after `connected`; heartbeats never reach the consumer; stopping
    closes the connection."""
    vt = VirtualTime()
    stream, dial = make(vt, [['{"a":1}', '{"type":"pong"}', '{"a":2}', HANG]], stale_after=5.0)
    items = vt.run(collect(stream.__aiter__(), 3))
    assert states(items) == ["connected", "data:{'a': 1}", "data:{'a': 2}"]
    assert dial.connections[0].closed  # the consumer stopping closes the connection at once


def test_drop_reconnects_with_backoff_and_reports_every_step() -> None:
    """A dropped connection → disconnected, reconnecting (0.5 s), connected, data resumes."""
    vt = VirtualTime()
    stream, dial = make(vt, [['"x"', CLOSE], ['"y"', HANG]])
    items = vt.run(collect(stream.__aiter__(), 6))
    assert states(items) == [
        "connected",
        "data:x",
        "disconnected",
        "reconnecting",
        "connected",
        "data:y",
    ]
    reconnecting = items[3]
    assert isinstance(reconnecting, StreamStatus)
    assert reconnecting.delay == 0.5 and reconnecting.attempt == 1
    assert "closed by server" in (reconnecting.reason or "")
    assert vt.now == 0.5
    assert all(conn.closed for conn in dial.connections[:1])


def test_consecutive_failures_back_off_exponentially_then_give_up() -> None:
    """Refused dials back off 0.5, 1, 2 s; after max_retries the stream raises StreamGaveUp."""
    vt = VirtualTime()
    stream, dial = make(vt, [ConnectionRefusedError("refused")] * 5, max_retries=3)
    seen: list[StreamStatus] = []

    async def run() -> None:
        async for item in stream:
            assert isinstance(item, StreamStatus)
            seen.append(item)

    with pytest.raises(StreamGaveUp) as err:
        vt.run(run())
    assert [s.delay for s in seen if s.state == "reconnecting"] == [0.5, 1.0, 2.0]
    assert seen[-1].state == "gave_up"
    assert err.value.attempts == 4 and "refused" in err.value.last_error
    assert len(dial.refresh_flags) == 4
    assert err.value.retryable is False


def test_backoff_resets_after_a_healthy_connection() -> None:
    """A connection that stayed up past `healthy_after` resets the delay to the first step."""
    vt = VirtualTime()
    scripts: list[Any] = [
        ConnectionRefusedError("a"),
        ConnectionRefusedError("b"),
        [("sleep", 100.0), CLOSE],  # long, healthy connection
        ConnectionRefusedError("c"),
        [HANG],
    ]
    stream, _ = make(vt, scripts, stale_after=None)
    items = vt.run(collect(stream.__aiter__(), 7))
    delays = [i.delay for i in items if isinstance(i, StreamStatus) and i.state == "reconnecting"]
    assert delays == [0.5, 1.0, 0.5, 1.0]


def test_short_lived_connections_keep_backing_off() -> None:
    """Connections that die at once do not reset the backoff (no reconnect storm)."""
    vt = VirtualTime()
    stream, _ = make(vt, [[CLOSE], [CLOSE], [CLOSE], [HANG]], stale_after=None)
    items = vt.run(collect(stream.__aiter__(), 10))
    delays = [i.delay for i in items if isinstance(i, StreamStatus) and i.state == "reconnecting"]
    assert delays == [0.5, 1.0, 2.0]


def test_stale_connection_is_dropped_and_redialed() -> None:
    """No frame for `stale_after` seconds → reconnect, with the reason in the status."""
    vt = VirtualTime()
    stream, dial = make(vt, [['"a"', HANG], ['"b"', HANG]], stale_after=5.0)
    items = vt.run(collect(stream.__aiter__(), 6))
    assert states(items) == [
        "connected",
        "data:a",
        "disconnected",
        "reconnecting",
        "connected",
        "data:b",
    ]
    stale = items[2]
    assert isinstance(stale, StreamStatus) and stale.reason == "no frame for 5s"
    assert vt.now == 5.5
    assert dial.connections[0].closed


def test_heartbeats_keep_a_quiet_connection_alive() -> None:
    """Control frames count as life: a quiet stream with pings is not torn down."""
    vt = VirtualTime()
    pings = [x for _ in range(10) for x in (("sleep", 3.0), '{"type":"ping"}')]
    stream, dial = make(vt, [[*pings, '"late"', HANG]], stale_after=5.0)
    items = vt.run(collect(stream.__aiter__(), 2))
    assert states(items) == ["connected", "data:late"]
    assert vt.now == 30.0 and len(dial.connections) == 1


def test_auth_refusal_reauthenticates_once_then_connects() -> None:
    """A 401 handshake → one immediate redial with fresh auth (spec §8.1), no backoff."""
    vt = VirtualTime()
    refused = AuthFailed("token expired", status=401, code="UNAUTHORIZED")
    stream, dial = make(vt, [refused, ['"ok"', HANG]])
    items = vt.run(collect(stream.__aiter__(), 3))
    assert states(items) == ["reconnecting", "connected", "data:ok"]
    assert dial.refresh_flags == [False, True]
    assert vt.now == 0.0


def test_auth_refused_twice_raises_auth_failed() -> None:
    """Refused again after re-authenticating: the stream fails with AuthFailed (exit 4 in the CLI)."""
    vt = VirtualTime()
    refused = AuthFailed("no", status=403)
    stream, dial = make(vt, [refused, refused])
    with pytest.raises(AuthFailed):
        vt.run(collect(stream.__aiter__(), 10))
    assert dial.refresh_flags == [False, True]


def test_non_transient_error_is_raised_not_retried() -> None:
    """A 404 path is a mistake, not an outage: raised at once."""
    vt = VirtualTime()
    stream, dial = make(vt, [NotFound("no such market", status=404)])
    with pytest.raises(NotFound):
        vt.run(collect(stream.__aiter__(), 10))
    assert len(dial.refresh_flags) == 1


def test_server_errors_and_abnormal_closes_are_transient() -> None:
    """5xx handshakes and StreamClosed/OSError mid-stream are retried."""
    vt = VirtualTime()
    scripts: list[Any] = [ServerError("boom", status=503), [StreamClosed("1006")], ['"z"', HANG]]
    stream, _ = make(vt, scripts)
    items = vt.run(collect(stream.__aiter__(), 6))
    assert states(items) == [
        "reconnecting",
        "connected",
        "disconnected",
        "reconnecting",
        "connected",
        "data:z",
    ]


def test_reconnect_request_drops_the_connection() -> None:
    """`reconnect(reason)` from a layer above (e.g. a failed resync) redials."""
    vt = VirtualTime()
    stream, dial = make(vt, [['"1"', HANG], ['"2"', HANG]])

    async def run() -> list[Any]:
        out: list[Any] = []
        async for item in stream:
            out.append(item)
            if isinstance(item, Frame) and item.data == "1":
                stream.reconnect("resync failed")
            if len(out) == 6:
                break
        return out

    items = vt.run(run())
    assert states(items)[2:4] == ["disconnected", "reconnecting"]
    assert items[2].reason == "resync failed"
    assert len(dial.connections) == 2


def test_data_frames_routes_statuses_to_a_callback() -> None:
    """`data_frames` gives plain data and reports lifecycle changes to `on_status`."""
    vt = VirtualTime()
    stream, _ = make(vt, [['{"n":1}', CLOSE], ['{"n":2}', HANG]])
    seen: list[str] = []
    got = vt.run(collect(data_frames(stream.__aiter__(), lambda s: seen.append(s.state)), 2))
    assert got == [{"n": 1}, {"n": 2}]
    assert seen == ["connected", "disconnected", "reconnecting", "connected"]


def test_status_json_has_no_floats() -> None:
    """Status lines for NDJSON carry the delay as a string."""
    s = StreamStatus("orders", "reconnecting", 2, delay=1.0, reason="x")
    assert s.to_json() == {
        "stream": "orders",
        "state": "reconnecting",
        "attempt": 2,
        "delay_s": "1.000",
        "reason": "x",
    }
    assert s.describe() == "orders: reconnecting in 1.0s (attempt 2) (x)"


# --- property: the reconnect loop never loses, reorders or invents data, and gives up on time ---

connection_scripts = st.lists(
    st.one_of(
        st.just("refused"),
        st.tuples(st.integers(min_value=0, max_value=3), st.sampled_from(["close", "reset"])),
    ),
    max_size=8,
)


@settings(max_examples=150, deadline=None)
@given(scripts=connection_scripts, max_retries=st.integers(0, 4))
def test_reconnect_loop_properties(scripts: list[Any], max_retries: int) -> None:
    """Data = every frame of every connection, in order; statuses alternate sanely; the delay
    doubles per consecutive failure within the jitter band; gave_up exactly when due."""
    vt = VirtualTime()
    plan: list[Any] = []
    expected: list[str] = []  # frames of the attempts made before giving up
    for n, script in enumerate(scripts):
        if script == "refused":
            plan.append(ConnectionRefusedError("refused"))
            continue
        count, end = script
        frames = [f'"{n}.{i}"' for i in range(count)]
        plan.append([*frames, CLOSE if end == "close" else ConnectionResetError("reset")])
        if n <= max_retries:  # short-lived connections never reset the failure count
            expected += [f"{n}.{i}" for i in range(count)]
    stream, dial = make(vt, plan, max_retries=max_retries, rng=lambda: 0.0)
    seen: list[Any] = []

    async def run() -> None:
        async for item in stream:
            seen.append(item)

    gave_up = None
    try:
        vt.run(run())
    except StreamGaveUp as exc:
        gave_up = exc
    data = [i.data for i in seen if isinstance(i, Frame)]
    statuses = [i for i in seen if isinstance(i, StreamStatus)]
    assert gave_up is not None  # once the scripts run out the fake refuses forever
    assert data == expected
    assert len(dial.refresh_flags) == max_retries + 1
    connected = False
    for s in statuses:
        if s.state == "connected":
            assert not connected
            connected = True
        elif s.state == "disconnected":
            assert connected
            connected = False
        elif s.state == "reconnecting":
            assert not connected
            assert s.delay == min(30.0, 0.5 * 2 ** (s.attempt - 1)) / 2  # rng 0: bottom of band
    assert statuses[-1].state == "gave_up"
    assert statuses[-1].attempt == max_retries + 1 == gave_up.attempts
