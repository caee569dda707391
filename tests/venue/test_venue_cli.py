"""`tplus venue status|reset` through the real CLI entry point (the server has its own tests)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tplus_cli.venue.clock import StepClock
from tplus_cli.venue.embedded import open_embedded, store_path
from tplus_cli.venue.owner import OwnerLock


def tplus(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tplus_cli.app", "venue", *args],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )


def test_status_of_a_missing_store_creates_nothing(tmp_path: Path) -> None:
    db = tmp_path / "none.sqlite3"
    out = tplus("status", "--db", str(db), "-o", "json")
    assert out.returncode == 0
    assert json.loads(out.stdout) == {"db_path": str(db), "exists": False, "owner": None}
    assert not db.exists()


def test_status_reports_journal_users_and_markets(tmp_path: Path, sealed_env: Path) -> None:
    open_embedded(sealed_env / "data", clock=StepClock(1_750_000_000_000_000_000)).close()
    out = tplus("status", "-o", "json")  # default path: $TPLUS_DATA_DIR/venue/venue.sqlite3
    info = json.loads(out.stdout)
    assert info["db_path"] == str(store_path(sealed_env / "data"))
    assert info["exists"] and info["owner"] is None
    assert (info["journal_length"], info["users"], info["markets"]) == (0, 0, ["1", "2", "3"])


def test_reset_refuses_without_yes_when_not_a_tty(tmp_path: Path) -> None:
    ev = open_embedded(tmp_path, clock=StepClock(1_750_000_000_000_000_000))
    ev.close()
    out = tplus("reset", "--db", str(ev.db_path))
    assert out.returncode == 2
    assert "refusing to reset without --yes" in out.stderr
    assert str(ev.db_path) in out.stderr  # it showed what would be deleted
    assert ev.db_path.exists()


def test_reset_with_yes_deletes_the_store_files(tmp_path: Path) -> None:
    ev = open_embedded(tmp_path, clock=StepClock(1_750_000_000_000_000_000))
    ev.close()
    out = tplus("reset", "--db", str(ev.db_path), "--yes")
    assert out.returncode == 0, out.stderr
    assert list(ev.db_path.parent.iterdir()) == []


def test_reset_refuses_while_a_server_owns_the_store(tmp_path: Path) -> None:
    db = store_path(tmp_path)
    lock = OwnerLock(db)
    lock.publish("127.0.0.1", 8123)
    try:
        out = tplus("reset", "--db", str(db), "--yes")
    finally:
        lock.release()
    assert out.returncode == 1
    assert "in use by `tplus venue serve`" in out.stderr
