"""`Venue.handle(ApiRequest) -> ApiResponse`: the transport-agnostic venue API.

Routing, authentication, catch-up with other processes, the simulator cadence and the error
envelope live here; the endpoints themselves are in `writes.py` (signed order flow, account
writes, auth) and `reads.py` (OMS and MDS reads). The HTTP server and the embedded httpx
transport both call `handle`; the WebSocket side calls `open_stream`.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from tplus_cli.venue import reads, writes
from tplus_cli.venue.auth import Authenticator, canonical_user
from tplus_cli.venue.clock import Clock
from tplus_cli.venue.commands import Command, Tick
from tplus_cli.venue.context import Ctx, asset_param
from tplus_cli.venue.exchange import ApplyResult, NotFound
from tplus_cli.venue.protocol import ApiError, ApiRequest, ApiResponse, json_response
from tplus_cli.venue.replica import DEFAULT_RETAIN, DEFAULT_SNAPSHOT_EVERY, Replica
from tplus_cli.venue.simulate import Simulator
from tplus_cli.venue.store import Store
from tplus_cli.venue.streams import STREAM_ROUTES, Subscription

log = logging.getLogger("tplus.venue")

TICK_EVERY_NS = 250_000_000  # simulator cadence (both served and embedded)

Endpoint = Callable[["Venue", Ctx], object]


@dataclass(frozen=True)
class Route:
    """One REST endpoint: method, path pattern, auth level (R = private) and function.

    `command` endpoints only journal commands, and every write catches up under the store's
    write lock, so they skip the catch-up every other request does first.
    """

    method: str
    pattern: re.Pattern[str]
    private: bool
    fn: Endpoint
    command: bool = False


def _r(method: str, path: str, private: bool, fn: Endpoint, *, command: bool = False) -> Route:
    regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", path)
    return Route(method, re.compile(regex), private, fn, command)


# Order matters where patterns overlap (close-all before {pk}/{asset}, user before {asset}).
ROUTES: tuple[Route, ...] = (
    _r("GET", "/health", False, reads.health),
    _r("GET", "/nonce/{pk}", False, writes.nonce),
    _r("POST", "/auth", False, writes.auth),
    _r("GET", "/market/{asset}", False, reads.market),
    _r("POST", "/market/create", False, reads.market_create),
    _r("GET", "/markets", False, reads.markets),
    _r("POST", "/orders/create", True, writes.create_order, command=True),
    _r("DELETE", "/orders/cancel", True, writes.cancel_order, command=True),
    _r("PATCH", "/orders/replace", True, writes.replace_order, command=True),
    _r("PATCH", "/orders/amend", True, writes.amend_order, command=True),
    _r("POST", "/orders/batch-create", True, writes.batch_create, command=True),
    _r("PATCH", "/orders/batch-replace", True, writes.batch_replace, command=True),
    _r("GET", "/orders/user/{pk}", True, reads.user_orders_page),
    _r("GET", "/orders/user/{pk}/{asset}", True, reads.user_orders_for_book),
    _r("GET", "/inventory/user/{pk}", True, reads.inventory),
    _r("GET", "/solvency/user/{pk}", True, reads.solvency),
    _r("GET", "/margin/user/{pk}", True, reads.margin),
    _r("GET", "/positions/close-all/{pk}/{sub}", True, reads.close_all_preview),
    _r("GET", "/positions/{pk}", True, reads.positions),
    _r("GET", "/positions/{pk}/{asset}", True, reads.positions),
    _r("POST", "/account/transfer/sub-account", True, writes.transfer, command=True),
    _r("POST", "/account/transfer/close-position", True, writes.close_position, command=True),
    _r("GET", "/multisig/config/{pk}", True, reads.multisig_config),
    _r("POST", "/multisig/signers", False, reads.multisig_signers),
    _r("GET", "/registry/assets", False, reads.registry_assets),
    _r("GET", "/marketdepth/{asset}", False, reads.depth),
    _r("GET", "/klines/{asset}", False, reads.klines),
    _r("GET", "/ticker/{asset}", False, reads.ticker),
    _r("GET", "/tickers", False, reads.tickers),
    _r("GET", "/trades", False, reads.trades),
    _r("GET", "/trades/user/{pk}", True, reads.user_trades),
    _r("GET", "/trades/user/{pk}/{asset}", True, reads.user_trades),
    _r("GET", "/trades/{asset}", False, reads.trades),
    _r("GET", "/openinterest", False, reads.open_interest_all),
    _r("GET", "/openinterest/{asset}", False, reads.open_interest),
)


class _NotDue(Exception):
    """Another process ticked first."""


class Venue:
    """The local T+ venue behind one store: answers REST requests and opens streams."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        *,
        simulate: bool = True,
        seed: int | None = None,
        snapshot_every: int = DEFAULT_SNAPSHOT_EVERY,
        retain: int | None = DEFAULT_RETAIN,
    ) -> None:
        self.store = store
        self.clock = clock
        self.simulate = simulate
        self.seed = seed
        self.replica = Replica(store, snapshot_every=snapshot_every, retain=retain)
        self.simulator = Simulator(seed or 0) if simulate else None
        self.auth = Authenticator(store, clock.now_ns)

    # ------------------------------------------------------------------ REST

    def handle(self, req: ApiRequest) -> ApiResponse:
        """Answer one request; every failure becomes a spec §7 error envelope."""
        try:
            route, params = _match(req.method, req.path)
            self.tick()
            if not route.command:
                self.replica.catch_up()
            if route.private:
                user: str | None = self.auth.user(req.headers)
            else:
                user = self.auth.optional_user(req.headers)
            ctx = Ctx(req, params, user, self.clock.now_ns())
            result = route.fn(self, ctx)
            return result if isinstance(result, ApiResponse) else json_response(result)
        except ApiError as exc:
            return exc.response()
        except NotFound as exc:
            return ApiError(404, exc.code, exc.message).response()
        except Exception:
            log.exception("internal error on %s %s", req.method, req.path)
            return ApiError(
                500, "INTERNAL_ERROR", "internal venue error", retryable=True
            ).response()

    def handle_group(self, reqs: Sequence[ApiRequest]) -> list[ApiResponse]:
        """Answer several order-entry requests with one SQLite commit (group commit).

        Each request is its own SAVEPOINT, so a refusal or failure affects only itself; the
        responses exist only after the shared COMMIT returned, so nothing is acknowledged
        before it is durable. If that COMMIT fails, every request gets a retryable 500.
        """
        try:
            with self.replica.group():
                return [self.handle(req) for req in reqs]
        except Exception:
            log.exception("group commit of %d requests failed", len(reqs))
            failed = ApiError(500, "INTERNAL_ERROR", "internal venue error", retryable=True)
            return [failed.response() for _ in reqs]

    def is_command(self, method: str, path: str) -> bool:
        """Whether (method, path) is an order-entry/account command that may be grouped."""
        try:
            route, _ = _match(method, path)
        except ApiError:
            return False
        return route.command

    def execute(
        self, build: Callable[[int], Command], guard: Callable[[], None] | None = None
    ) -> ApplyResult:
        """Apply one command at venue time under the store's write lock and journal it."""
        return self.replica.execute(build, self.clock.now_ns(), guard=guard)

    def ensure_user(self, user: str) -> None:
        """Fund a new account on first authenticated contact (paper money)."""
        if not self.replica.exchange.has_user(user):
            writes.fund(self, user)

    def tick(self) -> bool:
        """Let venue time pass if a tick is due: journal a Tick (GTD expiry) and, with the
        simulator on, its commands for every simulation step boundary crossed since the last
        journaled Tick (bounded by the simulator). True if anything was journaled.

        Due means TICK_EVERY_NS since the last journaled Tick, whichever process wrote it; the
        check is repeated under the write lock, so two processes never tick (or simulate) twice.
        """
        now = self.clock.now_ns()
        if not self._tick_due(now):  # memory may be stale: the guard re-checks under the lock
            return False

        def guard() -> None:
            if not self._tick_due(now):
                raise _NotDue

        def commands(ts: int) -> Iterator[Command]:
            previous = self.replica.exchange.last_tick_ns
            yield Tick(ts_ns=ts)
            sim = self.simulator
            if sim is not None and ts // sim.step_ns > previous // sim.step_ns:
                yield from sim.step(self.replica.exchange, ts)

        try:
            self.replica.execute_all(commands, now, guard)
        except _NotDue:
            return False
        return True

    def _tick_due(self, now: int) -> bool:
        return now - self.replica.exchange.last_tick_ns >= TICK_EVERY_NS

    # ------------------------------------------------------------------ streams

    def open_stream(self, path: str, headers: Mapping[str, str]) -> Subscription | ApiResponse:
        """Accept a WebSocket path (spec §8.3) or return the handshake refusal (401/403/404)."""
        path = path.rstrip("/") or "/"
        for route in STREAM_ROUTES:
            m = route.pattern.fullmatch(path)
            if m is None:
                continue
            groups = {k: v for k, v in m.groupdict().items() if v is not None}
            try:
                if route.private:
                    user = self.auth.user(headers)
                    groups["user"] = user
                    if "pk" in groups:
                        if canonical_user(groups["pk"]) != user:
                            raise ApiError(403, "UNAUTHORIZED", "a stream of another account")
                        groups["pk"] = user
                if "asset" in groups:
                    groups["asset"] = asset_param(groups["asset"])
                    self.replica.catch_up()
                    self.replica.exchange.market_json(groups["asset"])
            except ApiError as exc:
                return exc.response()
            except NotFound as exc:
                return ApiError(404, exc.code, exc.message).response()
            return route.build(path, groups)
        return ApiError(404, "STREAM_NOT_FOUND", f"no stream at {path[:100]}").response()

    def last_event_id(self) -> int:
        """Stream cursor: the newest committed event id."""
        return self.store.last_event_id()

    def snapshot(self) -> bool:
        """Snapshot the journal head so the next start replays nothing (best effort; the
        server does this in lulls and at clean shutdown, short-lived embedded users rely on
        the periodic snapshots instead of paying for one per CLI invocation). False if it
        failed (logged)."""
        try:
            self.replica.snapshot_now()
        except Exception:  # a snapshot is an optimisation; the journal is the truth
            log.exception("snapshot failed")
            return False
        return True


def _match(method: str, path: str) -> tuple[Route, dict[str, str]]:
    """The route for (method, path); 404 ROUTE_NOT_FOUND or 405 METHOD_NOT_ALLOWED otherwise."""
    route, params = _match_cached(method, path)
    return route, dict(params)


@functools.lru_cache(maxsize=1024)
def _match_cached(method: str, path: str) -> tuple[Route, tuple[tuple[str, str], ...]]:
    """`_scan` memoized: a pure function of (method, path), and the hot paths (order entry,
    the caller's own reads) repeat, so they skip the linear regex scan. Refusals raise and
    are never cached."""
    route, params = _scan(method, path)
    return route, tuple(params.items())


def _scan(method: str, path: str) -> tuple[Route, dict[str, str]]:
    """Try each route in order (first match wins)."""
    path = path.rstrip("/") or "/"
    allowed = False
    for route in ROUTES:
        m = route.pattern.fullmatch(path)
        if m is None:
            continue
        if route.method == method.upper():
            return route, m.groupdict()
        allowed = True
    if allowed:
        raise ApiError(405, "METHOD_NOT_ALLOWED", f"{method} is not allowed on {path[:100]}")
    raise ApiError(404, "ROUTE_NOT_FOUND", f"no endpoint at {path[:100]}")
