"""SQLite persistence for the local venue: migrations, command journal, events, snapshots, auth.

The journal is the source of truth. Every applied command is appended with a global sequence
number, together with the events it produced, in one transaction that commits before the
venue answers; state is rebuilt from the latest snapshot plus a replay of later commands.

Durability: the database runs in WAL mode with ``synchronous=NORMAL``. A COMMIT appends the
transaction's frames to the ``-wal`` file with ``write()`` before it returns, so once an order
is acknowledged its bytes are in the kernel's page cache, which outlives the process: a
SIGKILL (or any crash of the venue process) loses nothing that was acknowledged. The WAL is
only fsynced at checkpoints, so an OS crash or power cut may roll back the last few
transactions (the file stays consistent). ``synchronous=FULL`` would close that gap at the
cost of one fsync per order, which a local paper venue does not need.

Several processes may share one store: writers serialize on ``BEGIN IMMEDIATE`` (SQLite's
RESERVED lock, waited for through the busy timeout), readers never block in WAL mode.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

JsonDict = dict[str, Any]

# Ordered migrations; entry i brings the schema from version i to i + 1. Never edit a shipped
# entry: append a new one.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE journal (
        seq INTEGER PRIMARY KEY,
        ts_ns INTEGER NOT NULL,
        command TEXT NOT NULL
    );
    CREATE TABLE events (
        id INTEGER PRIMARY KEY,
        seq INTEGER NOT NULL,
        channel TEXT NOT NULL,
        payload TEXT NOT NULL
    );
    CREATE INDEX events_by_channel ON events (channel, id);
    CREATE TABLE snapshots (
        seq INTEGER PRIMARY KEY,
        format_version INTEGER NOT NULL,
        state TEXT NOT NULL
    );
    CREATE TABLE auth_nonces (
        value TEXT PRIMARY KEY,
        user TEXT NOT NULL,
        expires_ns INTEGER NOT NULL,
        used INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE auth_tokens (
        token_hash TEXT PRIMARY KEY,
        user TEXT NOT NULL,
        expires_ns INTEGER NOT NULL
    );
    """,
    """
    CREATE INDEX events_by_seq ON events (seq);
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)


class StoreError(RuntimeError):
    """The store cannot be used as asked (newer schema, misuse of a transaction)."""


@dataclass(frozen=True)
class JournalRow:
    """One applied command: its global sequence number, venue time and JSON form."""

    seq: int
    ts_ns: int
    command: JsonDict


@dataclass(frozen=True)
class EventRow:
    """One committed event: a global id (stream cursor), the command seq, channel and payload."""

    id: int
    seq: int
    channel: str
    payload: JsonDict


@dataclass(frozen=True)
class Snapshot:
    """Serialized exchange state after command `seq`."""

    seq: int
    format_version: int
    state: JsonDict


_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
"""Compact JSON for storage (ints stay ints, never floats); one encoder built once, because
`json.dumps` with options builds a new one per call and every order journals ~5 documents."""


class Store:
    """One connection to a venue database; safe to open from several processes at once."""

    def __init__(self, path: Path, *, busy_timeout_s: float = 30.0) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: we issue BEGIN/COMMIT ourselves (BEGIN IMMEDIATE for writes).
        self._conn = sqlite3.connect(
            str(self.path), timeout=busy_timeout_s, isolation_level=None, check_same_thread=False
        )
        self._in_tx = False
        self._group = False
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute("PRAGMA foreign_keys=ON")
        self._migrate()

    # ------------------------------------------------------------------ lifecycle

    def close(self) -> None:
        """Close the connection (idempotent)."""
        self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def schema_version(self) -> int:
        """The schema version recorded in the database."""
        row = self._conn.execute("SELECT version FROM schema_version").fetchone()
        return int(row[0]) if row else 0

    def _migrate(self) -> None:
        """Apply pending migrations in order, each in its own IMMEDIATE transaction."""
        with self.write():
            self._conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER)")
            if self._conn.execute("SELECT COUNT(*) FROM schema_version").fetchone()[0] == 0:
                self._conn.execute("INSERT INTO schema_version VALUES (0)")
            current = self.schema_version()
            if current > SCHEMA_VERSION:
                raise StoreError(
                    f"{self.path} has schema version {current}, newer than this tplus "
                    f"({SCHEMA_VERSION}); upgrade tplus or use another data dir"
                )
            for version in range(current, SCHEMA_VERSION):
                for statement in MIGRATIONS[version].split(";"):
                    if statement.strip():
                        self._conn.execute(statement)
                self._conn.execute("UPDATE schema_version SET version = ?", (version + 1,))

    # ------------------------------------------------------------------ transactions

    @contextmanager
    def write(self) -> Iterator[None]:
        """A write transaction: BEGIN IMMEDIATE (waits for other writers), COMMIT or ROLLBACK.

        Inside `group()` it is a SAVEPOINT instead: it rolls back alone on error, and its
        changes become durable only when the whole group commits.
        """
        if self._in_tx:
            raise StoreError("nested write transaction")
        with self._savepoint() if self._group else self._transaction():
            yield

    @contextmanager
    def group(self) -> Iterator[None]:
        """Group commit: one BEGIN IMMEDIATE ... COMMIT around many `write()` units.

        The caller must not report any unit as done before this block has exited without an
        exception: that exit is the COMMIT. If COMMIT fails, every unit is rolled back.
        """
        if self._in_tx or self._group:
            raise StoreError("nested write transaction")
        with self._immediate():
            self._group = True
            try:
                yield
            finally:
                self._group = False

    @property
    def in_group(self) -> bool:
        """Whether a group commit is open (its write lock is held since it began)."""
        return self._group

    @contextmanager
    def _immediate(self) -> Iterator[None]:
        """BEGIN IMMEDIATE (waits for other writers) ... COMMIT, or ROLLBACK on any error."""
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield
            self._conn.execute("COMMIT")
        except BaseException:
            if self._conn.in_transaction:  # also when COMMIT itself failed
                self._conn.execute("ROLLBACK")
            raise

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        with self._immediate():
            self._in_tx = True
            try:
                yield
            finally:
                self._in_tx = False

    @contextmanager
    def _savepoint(self) -> Iterator[None]:
        self._conn.execute("SAVEPOINT unit")
        self._in_tx = True
        try:
            yield
        except BaseException:
            self._conn.execute("ROLLBACK TO unit")
            self._conn.execute("RELEASE unit")
            raise
        else:
            self._conn.execute("RELEASE unit")
        finally:
            self._in_tx = False

    def _require_tx(self) -> None:
        """Guard for methods that must run inside `write()`."""
        if not self._in_tx:
            raise StoreError("this store operation needs an open write transaction")

    # ------------------------------------------------------------------ journal and events

    def last_seq(self) -> int:
        """The highest committed command sequence number (0 for an empty journal)."""
        row = self._conn.execute("SELECT MAX(seq) FROM journal").fetchone()
        return int(row[0] or 0)

    def last_ts_ns(self) -> int:
        """Venue time of the last journaled command (0 for an empty journal)."""
        row = self._conn.execute("SELECT ts_ns FROM journal ORDER BY seq DESC LIMIT 1").fetchone()
        return int(row[0]) if row else 0

    def journal_after(self, seq: int, limit: int | None = None) -> list[JournalRow]:
        """Commands with a sequence number above `seq`, in order."""
        sql = "SELECT seq, ts_ns, command FROM journal WHERE seq > ? ORDER BY seq"
        args: tuple[int, ...] = (seq,)
        if limit is not None:
            sql += " LIMIT ?"
            args = (seq, limit)
        return [JournalRow(s, t, json.loads(c)) for s, t, c in self._conn.execute(sql, args)]

    def append(
        self, seq: int, ts_ns: int, command: Mapping[str, Any], events: Sequence[tuple[str, Any]]
    ) -> None:
        """Journal command `seq` and its events; `seq` must be exactly last_seq() + 1."""
        self._require_tx()
        self._conn.execute(
            "INSERT INTO journal (seq, ts_ns, command) VALUES (?, ?, ?)",
            (seq, ts_ns, _dumps(command)),
        )
        if events:
            self._conn.executemany(
                "INSERT INTO events (seq, channel, payload) VALUES (?, ?, ?)",
                [(seq, channel, _dumps(payload)) for channel, payload in events],
            )

    def last_event_id(self) -> int:
        """The highest committed event id (a stream starts after it)."""
        row = self._conn.execute("SELECT MAX(id) FROM events").fetchone()
        return int(row[0] or 0)

    def events_after(
        self, event_id: int, channels: Sequence[str] | None = None, limit: int = 1000
    ) -> list[EventRow]:
        """Events above `event_id`, optionally only on `channels` ("x/*" matches a prefix)."""
        sql = "SELECT id, seq, channel, payload FROM events WHERE id > ?"
        args: list[object] = [event_id]
        if channels is not None:
            if not channels:
                return []
            exact = [c for c in channels if not c.endswith("*")]
            prefixes = [c[:-1] for c in channels if c.endswith("*")]
            terms = []
            if exact:
                terms.append(f"channel IN ({','.join('?' * len(exact))})")
                args.extend(exact)
            for prefix in prefixes:
                terms.append("substr(channel, 1, ?) = ?")
                args.extend([len(prefix), prefix])
            sql += " AND (" + " OR ".join(terms) + ")"
        sql += " ORDER BY id LIMIT ?"
        args.append(limit)
        return [EventRow(i, s, ch, json.loads(p)) for i, s, ch, p in self._conn.execute(sql, args)]

    # ------------------------------------------------------------------ snapshots

    def latest_snapshot(self, format_version: int | None = None) -> Snapshot | None:
        """The newest snapshot, optionally only one written in `format_version`."""
        sql = "SELECT seq, format_version, state FROM snapshots"
        args: tuple[int, ...] = ()
        if format_version is not None:
            sql += " WHERE format_version = ?"
            args = (format_version,)
        row = self._conn.execute(sql + " ORDER BY seq DESC LIMIT 1", args).fetchone()
        if row is None:
            return None
        return Snapshot(int(row[0]), int(row[1]), json.loads(row[2]))

    def save_snapshot(self, seq: int, format_version: int, state: Mapping[str, Any]) -> None:
        """Store the state after command `seq` and drop older snapshots (the journal stays)."""
        self._require_tx()
        self._conn.execute(
            "INSERT OR REPLACE INTO snapshots (seq, format_version, state) VALUES (?, ?, ?)",
            (seq, format_version, _dumps(state)),
        )
        self._conn.execute("DELETE FROM snapshots WHERE seq < ?", (seq,))

    def prune(self, through_seq: int) -> None:
        """Inside a write: drop journal rows and events of commands up to `through_seq`.

        Only ever called with a snapshot newer than `through_seq` in place, so restarts and
        lagging readers rebuild from that snapshot (see Replica.catch_up).
        """
        self._require_tx()
        self._conn.execute("DELETE FROM journal WHERE seq <= ?", (through_seq,))
        self._conn.execute("DELETE FROM events WHERE seq <= ?", (through_seq,))

    def first_seq(self) -> int:
        """The oldest journal row still kept (0 for an empty journal)."""
        row = self._conn.execute("SELECT MIN(seq) FROM journal").fetchone()
        return int(row[0] or 0)

    def last_snapshot_seq(self) -> int:
        """Sequence number of the newest snapshot (0 when there is none)."""
        row = self._conn.execute("SELECT MAX(seq) FROM snapshots").fetchone()
        return int(row[0] or 0)

    # ------------------------------------------------------------------ auth state

    def put_nonce(self, user: str, value: str, expires_ns: int, now_ns: int) -> None:
        """Record an issued auth nonce for `user` (and forget expired ones)."""
        with self.write():
            self._conn.execute("DELETE FROM auth_nonces WHERE expires_ns < ?", (now_ns,))
            self._conn.execute(
                "INSERT INTO auth_nonces (value, user, expires_ns) VALUES (?, ?, ?)",
                (value, user, expires_ns),
            )

    def consume_nonce(self, user: str, value: str, now_ns: int) -> bool:
        """Mark an outstanding, unexpired nonce of `user` used; False if there is none."""
        with self.write():
            cur = self._conn.execute(
                "UPDATE auth_nonces SET used = 1"
                " WHERE value = ? AND user = ? AND used = 0 AND expires_ns >= ?",
                (value, user, now_ns),
            )
            return cur.rowcount == 1

    def put_token(self, token_hash: str, user: str, expires_ns: int, now_ns: int) -> None:
        """Record a bearer token (by hash only) and drop expired ones."""
        with self.write():
            self._conn.execute("DELETE FROM auth_tokens WHERE expires_ns < ?", (now_ns,))
            self._conn.execute(
                "INSERT INTO auth_tokens (token_hash, user, expires_ns) VALUES (?, ?, ?)",
                (token_hash, user, expires_ns),
            )

    def token(self, token_hash: str) -> tuple[str, int] | None:
        """(user, expires_ns) of a known token, else None."""
        row = self._conn.execute(
            "SELECT user, expires_ns FROM auth_tokens WHERE token_hash = ?", (token_hash,)
        ).fetchone()
        return (str(row[0]), int(row[1])) if row else None

    # ------------------------------------------------------------------ stats

    def counts(self) -> dict[str, int]:
        """Row counts for `tplus venue status`."""
        tables = ("journal", "events", "snapshots", "auth_tokens")
        return {
            t: int(self._conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]) for t in tables
        }
