"""Inspect and wipe a venue store (`tplus venue status|reset`) without serving it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tplus_cli.venue.owner import current_owner, lock_path, owner_path
from tplus_cli.venue.replica import Replica
from tplus_cli.venue.store import Store


def store_files(db_path: Path) -> list[Path]:
    """The files that make up a store (database, WAL, shared memory, lock, owner) that exist."""
    candidates = [
        db_path,
        db_path.with_name(db_path.name + "-wal"),
        db_path.with_name(db_path.name + "-shm"),
        lock_path(db_path),
        owner_path(db_path),
    ]
    return [p for p in candidates if p.exists()]


def reset_store(db_path: Path) -> list[Path]:
    """Delete every file of the store; the caller checked that no server owns it."""
    removed = store_files(db_path)
    for path in removed:
        path.unlink(missing_ok=True)
    return removed


def describe_store(db_path: Path) -> dict[str, Any]:
    """Owner, path, journal length, users and markets of a store (never creates one)."""
    owner = current_owner(db_path)
    info: dict[str, Any] = {
        "db_path": str(db_path),
        "exists": db_path.exists(),
        "owner": None
        if owner is None
        else {"pid": owner.pid, "host": owner.host, "port": owner.port, "url": owner.url},
    }
    if not db_path.exists():
        return info
    with Store(db_path) as store:
        counts = store.counts()
        replica = Replica(store)
        ex = replica.exchange
        info.update(
            journal_length=store.last_seq(),
            events=counts["events"],
            snapshot_seq=store.last_snapshot_seq(),
            users=ex.user_count(),
            markets=[m["asset_id"] for m in ex.markets_json()["markets"]],
        )
    return info
