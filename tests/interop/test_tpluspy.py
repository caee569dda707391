"""The official tpluspy 0.6.0 client, unmodified, against `tplus venue serve --no-simulate`.

tpluspy lives in its own virtualenv (never a dependency of tplus): CI exports
TPLUS_TPLUSPY_PYTHON; locally /work/tpluspy-venv/bin/python is used if present. Under CI a
missing interpreter is a failure, not a skip.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.interop, pytest.mark.slow]

DRIVER = Path(__file__).with_name("tpluspy_driver.py")
LOCAL_FALLBACK = Path("/work/tpluspy-venv/bin/python")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "venue"))
from service_helpers import ServerProcess  # noqa: E402


def tpluspy_python() -> str:
    """The interpreter that has tpluspy 0.6.0 installed."""
    explicit = os.environ.get("TPLUS_TPLUSPY_PYTHON", "").strip()
    if explicit:
        return explicit
    if LOCAL_FALLBACK.exists():
        return str(LOCAL_FALLBACK)
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail("CI=true but TPLUS_TPLUSPY_PYTHON is not set: the interop test must run")
    pytest.skip("no tpluspy interpreter (set TPLUS_TPLUSPY_PYTHON)")


def test_tpluspy_trades_against_the_local_venue(tmp_path: Path) -> None:
    python = tpluspy_python()
    version = subprocess.run(
        [python, "-c", "import importlib.metadata as m; print(m.version('tpluspy'))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert version == "0.6.0"

    server = ServerProcess(tmp_path / "venue.sqlite3", "--no-simulate", cli=True)
    try:
        run = subprocess.run(
            [python, str(DRIVER), server.url],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        )
    finally:
        assert server.stop() == 0
    last = run.stdout.strip().splitlines()[-1] if run.stdout.strip() else ""
    assert run.returncode == 0 and last.startswith("INTEROP OK"), (
        f"driver exit {run.returncode}\nstdout:\n{run.stdout}\nstderr:\n{run.stderr[-4000:]}"
    )
    # tpluspy logs rows it could not parse and drops them; there must be none
    assert "ERROR" not in run.stderr and "Could not parse" not in run.stderr, run.stderr[-4000:]
