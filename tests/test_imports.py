"""Import hygiene: the CLI's startup path must not pay for the network stack or the venue."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("httpx", "websockets", "nacl", "keyring", "rich.live", "sqlite3", "tplus_cli.venue")


def test_importing_app_loads_no_heavy_module() -> None:
    """`import tplus_cli.app` loads none of httpx, websockets, nacl, keyring, rich.live, sqlite3 or the venue."""
    code = "import sys, tplus_cli.app; print('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout.split()
    loaded = [m for m in HEAVY if m in out]
    assert loaded == []


def test_version_runs() -> None:
    """`tplus --version` prints the version and exits 0."""
    proc = subprocess.run(
        [sys.executable, "-m", "tplus_cli.app", "--version"], capture_output=True, text=True
    )
    assert proc.returncode == 0
    assert proc.stdout.startswith("tplus ")
