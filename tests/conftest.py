"""Shared fixtures: every test runs in a sealed environment (no real config, data or keys)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def sealed_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Point config and data dirs at a temp dir and drop every real TPLUS_* variable."""
    for name in list(os.environ):
        if name.startswith("TPLUS_"):
            monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("TPLUS_CONFIG_DIR", str(home / "config"))
    monkeypatch.setenv("TPLUS_DATA_DIR", str(home / "data"))
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "100")
    yield home
