"""Where tplus keeps configuration (profiles, key metadata) and data (the embedded venue)."""

from __future__ import annotations

import os
from pathlib import Path

from tplus_cli.config import envvars


def _xdg(var: str, fallback: str) -> Path:
    base = os.environ.get(var, "").strip()
    return Path(base) if base else Path.home() / fallback


def config_dir() -> Path:
    """The config directory: $TPLUS_CONFIG_DIR, else $XDG_CONFIG_HOME/tplus (~/.config/tplus)."""
    explicit = os.environ.get(envvars.CONFIG_DIR, "").strip()
    return Path(explicit) if explicit else _xdg("XDG_CONFIG_HOME", ".config") / "tplus"


def data_dir() -> Path:
    """The data directory: $TPLUS_DATA_DIR, else $XDG_DATA_HOME/tplus (~/.local/share/tplus)."""
    explicit = os.environ.get(envvars.DATA_DIR, "").strip()
    return Path(explicit) if explicit else _xdg("XDG_DATA_HOME", ".local/share") / "tplus"


def venue_dir() -> Path:
    """The embedded venue's directory (its store is venue.sqlite3 inside)."""
    return data_dir() / "venue"


def ensure_private_dir(path: Path) -> Path:
    """Create `path` (and parents) and make it 0700: it may hold key material."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)
    return path


def write_private(path: Path, data: bytes) -> None:
    """Atomically write `data` to `path` with mode 0600 (temp file + fsync + rename)."""
    ensure_private_dir(path.parent)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
