"""The in-memory Exchange kept in step with the store's journal (snapshot + replay + catch-up).

Every process that uses a store holds one Replica. Reads first replay journal rows that other
processes committed; a write takes the store's write lock, catches up, applies its command,
journals command + events and commits before anyone sees the result. If applying or
committing fails half-way, the in-memory state is rebuilt from the store, so memory never
runs ahead of the journal.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from tplus_cli.venue.commands import Command, command_from_dict
from tplus_cli.venue.exchange import FORMAT_VERSION as SNAPSHOT_FORMAT_VERSION
from tplus_cli.venue.exchange import ApplyResult, Exchange
from tplus_cli.venue.store import JournalRow, Store, StoreError

DEFAULT_SNAPSHOT_EVERY = 1000
"""Snapshot after this many commands: a start-up replays at most this many (~0.1 s)."""
DEFAULT_RETAIN = 50_000
"""Journal rows (and their events) kept behind the newest snapshot; older ones are pruned
when a snapshot is written. With the simulator on that is about an hour (~50 MB)."""


class Replica:
    """An Exchange rebuilt from a Store and refreshed from its journal before each use."""

    def __init__(
        self,
        store: Store,
        *,
        snapshot_every: int = DEFAULT_SNAPSHOT_EVERY,
        retain: int | None = DEFAULT_RETAIN,
        factory: Callable[[], Exchange] = Exchange,
    ) -> None:
        self.store = store
        self.snapshot_every = snapshot_every
        self.retain = retain
        self._factory = factory
        self.exchange: Exchange = factory()
        self.seq = 0
        self.last_ts_ns = 0
        self._snapshot_seq = 0
        self.reload()

    def reload(self) -> None:
        """Rebuild from the newest compatible snapshot plus the journal after it."""
        snap = self.store.latest_snapshot(SNAPSHOT_FORMAT_VERSION)
        if snap is None:
            if self.store.first_seq() > 1:
                raise StoreError(
                    f"{self.store.path}: the journal was pruned and no snapshot this version "
                    "can read is left; `tplus venue reset` starts a fresh venue"
                )
            self.exchange, self.seq = self._factory(), 0
        else:
            self.exchange, self.seq = Exchange.restore(snap.state), snap.seq
        self._snapshot_seq = self.seq
        self.last_ts_ns = 0
        self.catch_up()

    def catch_up(self) -> int:
        """Apply journal rows committed since our last look; returns how many were applied."""
        applied = 0
        while True:
            rows = self.store.journal_after(self.seq, limit=1000)
            if rows and rows[0].seq != self.seq + 1:
                # we lagged behind a prune: what we missed is only in the newest snapshot
                self.reload()
                return applied + 1
            for row in rows:
                self._replay(row)
            applied += len(rows)
            if len(rows) < 1000:
                return applied

    @property
    def unsnapshotted(self) -> int:
        """Commands applied by this replica since it last loaded or wrote a snapshot."""
        return self.seq - self._snapshot_seq

    def _replay(self, row: JournalRow) -> None:
        """Re-apply one journaled command; deterministic, so the events are not needed."""
        self.exchange.apply(command_from_dict(row.command))
        self.seq = row.seq
        self.last_ts_ns = max(self.last_ts_ns, row.ts_ns)

    def execute(
        self,
        build: Callable[[int], Command],
        now_ns: int,
        guard: Callable[[], None] | None = None,
    ) -> ApplyResult:
        """Under the write lock: catch up, check `guard`, apply one command, journal, commit.

        `guard` runs after catch-up and before anything changes, so checks against the latest
        state are atomic with the write; an exception from it rolls back and leaves memory
        untouched. Venue time never goes backwards across processes: it is
        max(now, last journaled ts).
        """
        return self.execute_all(lambda ts: iter((build(ts),)), now_ns, guard)[0]

    def execute_all(
        self,
        build: Callable[[int], Iterator[Command]],
        now_ns: int,
        guard: Callable[[], None] | None = None,
    ) -> list[ApplyResult]:
        """Like `execute` for a sequence of commands in one transaction; `build` is consumed
        lazily, so each command is built after the previous ones were applied."""
        dirty = False
        results: list[ApplyResult] = []
        try:
            with self.store.write():
                if not self.store.in_group:  # a group caught up when it took the lock
                    self.catch_up()
                if guard is not None:
                    guard()
                ts = max(now_ns, self.last_ts_ns)
                for cmd in build(ts):
                    dirty = True
                    result = self.exchange.apply(cmd)
                    seq = self.seq + 1
                    events = [(e.channel, e.payload) for e in result.events]
                    self.store.append(seq, cmd.ts_ns, cmd.to_dict(), events)
                    self.seq, self.last_ts_ns = seq, max(ts, cmd.ts_ns)
                    results.append(result)
                if self.seq - self._snapshot_seq >= self.snapshot_every:
                    self._write_snapshot(self.seq)
        except BaseException:
            if dirty:
                self.reload()
            raise
        return results

    @contextmanager
    def group(self) -> Iterator[None]:
        """Group commit: every `execute` inside is one SAVEPOINT of a single transaction that
        commits when the block exits (nothing inside may be acknowledged before that). If the
        group fails as a whole (COMMIT refused), memory is rebuilt from the store."""
        try:
            with self.store.group():
                self.catch_up()
                yield
        except BaseException:
            self.reload()
            raise

    def _write_snapshot(self, seq: int) -> None:
        """Persist the state after `seq` (inside the current write transaction)."""
        state: dict[str, Any] = self.exchange.snapshot()
        self.store.save_snapshot(seq, SNAPSHOT_FORMAT_VERSION, state)
        self._snapshot_seq = seq
        if self.retain is not None and seq > self.retain:
            self.store.prune(seq - self.retain)

    def snapshot_now(self) -> int:
        """Write a snapshot of the current journal head (used at clean shutdown)."""
        with self.store.write():
            self.catch_up()
            if self.seq > self.store.last_snapshot_seq():
                self._write_snapshot(self.seq)
        return self.seq
