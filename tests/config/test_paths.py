"""config/paths: directory resolution and private (0600/0700) atomic writes."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from tplus_cli.config import paths


def test_env_overrides_win(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """TPLUS_CONFIG_DIR and TPLUS_DATA_DIR are used verbatim."""
    monkeypatch.setenv("TPLUS_CONFIG_DIR", str(tmp_path / "c"))
    monkeypatch.setenv("TPLUS_DATA_DIR", str(tmp_path / "d"))
    assert paths.config_dir() == tmp_path / "c"
    assert paths.data_dir() == tmp_path / "d"
    assert paths.venue_dir() == tmp_path / "d" / "venue"


def test_xdg_then_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without TPLUS_* dirs, XDG_*_HOME is used, then ~/.config and ~/.local/share."""
    monkeypatch.delenv("TPLUS_CONFIG_DIR")
    monkeypatch.delenv("TPLUS_DATA_DIR")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xc"))
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "h"))
    assert paths.config_dir() == tmp_path / "xc" / "tplus"
    assert paths.data_dir() == tmp_path / "h" / ".local" / "share" / "tplus"


def test_write_private_is_atomic_and_0600(tmp_path: Path) -> None:
    """write_private leaves a 0600 file in a 0700 directory and no temp file behind."""
    target = tmp_path / "secret" / "f.toml"
    paths.write_private(target, b"one")
    paths.write_private(target, b"two")
    assert target.read_bytes() == b"two"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert stat.S_IMODE(target.parent.stat().st_mode) == 0o700
    assert [p.name for p in target.parent.iterdir()] == ["f.toml"]
