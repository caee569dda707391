"""Shared fixtures: every test runs in a sealed environment (no real config, data or keys)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# Variables that steer the test harness itself (not tplus configuration) survive the seal.
HARNESS_VARS = ("TPLUS_TEST_", "TPLUS_TPLUSPY_PYTHON")


def _memory_backend() -> object:
    import keyring.backend
    from keyring.errors import PasswordDeleteError

    class _Memory(keyring.backend.KeyringBackend):
        priority = 1  # type: ignore[assignment]

        def __init__(self) -> None:
            super().__init__()
            self.secrets: dict[tuple[str, str], str] = {}

        def get_password(self, service: str, username: str) -> str | None:
            return self.secrets.get((service, username))

        def set_password(self, service: str, username: str, password: str) -> None:
            self.secrets[(service, username)] = password

        def delete_password(self, service: str, username: str) -> None:
            if self.secrets.pop((service, username), None) is None:
                raise PasswordDeleteError(username)

    return _Memory()


@pytest.fixture(autouse=True)
def sealed_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Point config and data dirs at a temp dir, drop every real TPLUS_* variable, and swap
    in an in-memory keyring (tests that need a real or absent keyring override it)."""
    for name in list(os.environ):
        if name.startswith("TPLUS_") and not name.startswith(HARNESS_VARS):
            monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("TPLUS_CONFIG_DIR", str(home / "config"))
    monkeypatch.setenv("TPLUS_DATA_DIR", str(home / "data"))
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "100")
    import keyring

    previous = keyring.get_keyring()
    keyring.set_keyring(_memory_backend())  # type: ignore[arg-type]
    try:
        yield home
    finally:
        keyring.set_keyring(previous)
