"""Which `tplus venue serve` process owns a store: an flock'd lock file plus an owner JSON file.

The server holds an exclusive `flock` on `<db>.lock` for its lifetime and writes
`<db>.owner.json` (pid, host, port). The lock, not the file, is the truth: a file left behind
by a killed server is stale as soon as its lock can be taken again, because the kernel drops
an flock when its process dies.
"""

from __future__ import annotations

import fcntl
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import IO


@dataclass(frozen=True)
class OwnerInfo:
    """The server that owns a store."""

    pid: int
    host: str
    port: int

    @property
    def url(self) -> str:
        """Base URL of the owning server."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"


class StoreOwnedError(RuntimeError):
    """The store is owned by a running `tplus venue serve`; embedded use must go through it."""

    def __init__(self, db_path: Path, owner: OwnerInfo | None) -> None:
        where = f" (pid {owner.pid}, {owner.url})" if owner else ""
        super().__init__(
            f"the venue store {db_path} is in use by `tplus venue serve`{where}; "
            "talk to that server (e.g. the `localhost` profile) or stop it first"
        )
        self.db_path = db_path
        self.owner = owner


def lock_path(db_path: Path) -> Path:
    """The lock file next to the database."""
    return db_path.with_name(db_path.name + ".lock")


def owner_path(db_path: Path) -> Path:
    """The owner JSON file next to the database."""
    return db_path.with_name(db_path.name + ".owner.json")


def _read_owner_file(db_path: Path) -> OwnerInfo | None:
    try:
        data = json.loads(owner_path(db_path).read_text("utf-8"))
        return OwnerInfo(int(data["pid"]), str(data["host"]), int(data["port"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def current_owner(db_path: Path) -> OwnerInfo | None:
    """The live owner of the store, or None if no server holds its lock."""
    path = lock_path(db_path)
    if not path.exists():
        return None
    with open(path, "a+b") as fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read_owner_file(db_path) or OwnerInfo(0, "?", 0)
        fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
    return None


class OwnerLock:
    """Held by a serving process: exclusive flock + owner file; released on close or death."""

    def __init__(self, db_path: Path) -> None:
        self.db_path = db_path
        db_path.parent.mkdir(parents=True, exist_ok=True)
        self._fh: IO[bytes] | None = open(lock_path(db_path), "a+b")  # noqa: SIM115
        try:
            fcntl.flock(self._fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._fh.close()
            self._fh = None
            raise StoreOwnedError(db_path, _read_owner_file(db_path)) from None

    def publish(self, host: str, port: int) -> None:
        """Write the owner file once the listening address is known (atomic rename)."""
        path = owner_path(self.db_path)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"pid": os.getpid(), "host": host, "port": port}), "utf-8")
        os.replace(tmp, path)

    def release(self) -> None:
        """Remove the owner file and drop the lock (idempotent)."""
        if self._fh is None:
            return
        owner_path(self.db_path).unlink(missing_ok=True)
        fcntl.flock(self._fh.fileno(), fcntl.LOCK_UN)
        self._fh.close()
        self._fh = None
