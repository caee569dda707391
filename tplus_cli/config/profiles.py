"""Venue profiles: built-in TOML files shipped in the package plus the user's profiles.toml.

User file (config_dir()/profiles.toml), written atomically with tomli_w:

    default_profile = "prod"        # chosen by `tplus profile use`

    [prod]                          # one table per profile
    endpoint = "https://gw.example" # "embedded" or an http(s) URL
    key = "main"                    # key name (never a secret)
    live = true                     # every write asks for confirmation
    output = "json"                 # optional default output format

A user table named like a built-in profile overlays its fields. Every validation error names
the file and the location, e.g. `profiles.toml: [prod] endpoint: must be an http(s) URL or
"embedded"`, and is a ConfigError (exit 3).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tplus_cli.config import paths
from tplus_cli.errors import ConfigError

BUILTIN_DIR = Path(__file__).resolve().parent.parent / "profiles"
USER_FILE = "profiles.toml"
DEFAULT_KEY = "default_profile"
FALLBACK_PROFILE = "local"
EMBEDDED = "embedded"
OUTPUT_FORMATS = ("auto", "table", "json", "ndjson", "csv")
FIELDS = ("endpoint", "key", "live", "description", "output")
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_LOOPBACK = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class Profile:
    """One resolved profile; `origins` says which file each field came from."""

    name: str
    endpoint: str
    key: str | None = None
    live: bool = False
    description: str = ""
    output: str | None = None
    builtin: bool = False
    origins: Mapping[str, str] = field(default_factory=dict)

    @property
    def is_paper(self) -> bool:
        """Whether this profile points at a local paper venue (embedded or loopback)."""
        return is_paper_endpoint(self.endpoint)


def is_paper_endpoint(endpoint: str) -> bool:
    """Embedded or loopback endpoints are the built-in paper venue (auto paper key allowed)."""
    if endpoint == EMBEDDED:
        return True
    host = urlsplit(endpoint).hostname or ""
    return host in _LOOPBACK


def check_name(name: str, *, where: str = "profile name") -> str:
    """Validate a profile or key name (letters, digits, `_.-`; starts alphanumeric)."""
    if name == DEFAULT_KEY or not _NAME_RE.match(name):
        raise ConfigError(
            f"{where} {name!r}: use letters, digits, '_', '.', '-' (start with a letter or digit)"
        )
    return name


def check_endpoint(value: object) -> str | None:
    """Return an error text if `value` is not "embedded" or an http(s) URL with a host."""
    if not isinstance(value, str):
        return 'must be an http(s) URL or "embedded"'
    if value == EMBEDDED:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return 'must be an http(s) URL or "embedded"'
    return None


def _check_field(key: str, value: object) -> str | None:
    if key == "endpoint":
        return check_endpoint(value)
    if key == "key":
        ok = isinstance(value, str) and bool(_NAME_RE.match(value))
        return None if ok else "must be a key name (letters, digits, '_', '.', '-')"
    if key == "live":
        return None if isinstance(value, bool) else "must be true or false"
    if key == "description":
        return None if isinstance(value, str) else "must be a string"
    if key == "output":
        return None if value in OUTPUT_FORMATS else f"must be one of {', '.join(OUTPUT_FORMATS)}"
    return f"unknown setting (expected one of {', '.join(FIELDS)})"


def _validate_table(source: str, name: str, table: object) -> dict[str, Any]:
    if not isinstance(table, dict):
        raise ConfigError(f"{source}: {name}: must be a table ([{name}])")
    for key, value in table.items():
        problem = _check_field(key, value)
        if problem:
            raise ConfigError(f"{source}: [{name}] {key}: {problem}")
    return dict(table)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}", hint="fix or remove the file") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None


def parse_value(key: str, text: str) -> object:
    """Turn a `profile set KEY VALUE` string into the typed value stored for `key`."""
    if key == "live":
        lowered = text.strip().lower()
        if lowered in ("true", "yes", "1", "on"):
            return True
        if lowered in ("false", "no", "0", "off"):
            return False
        return text
    return text


@dataclass
class ProfileStore:
    """Built-in and user profiles; edits go to the user file only."""

    builtins: dict[str, dict[str, Any]]
    user: dict[str, dict[str, Any]]
    default_profile: str | None
    user_path: Path

    @classmethod
    def load(cls, config_dir: Path | None = None) -> ProfileStore:
        """Read the shipped profiles and, if present, config_dir/profiles.toml (validated)."""
        builtins: dict[str, dict[str, Any]] = {}
        for path in sorted(BUILTIN_DIR.glob("*.toml")):
            builtins[path.stem] = _validate_table(path.name, path.stem, _read_toml(path))
        user_path = (config_dir or paths.config_dir()) / USER_FILE
        user: dict[str, dict[str, Any]] = {}
        default: str | None = None
        if user_path.exists():
            raw = _read_toml(user_path)
            for name, table in raw.items():
                if name == DEFAULT_KEY:
                    if not isinstance(table, str):
                        raise ConfigError(f"{user_path}: {DEFAULT_KEY}: must be a profile name")
                    default = table
                    continue
                user[name] = _validate_table(str(user_path), name, table)
                if name not in builtins and "endpoint" not in table:
                    raise ConfigError(f"{user_path}: [{name}] endpoint: missing")
        return cls(builtins, user, default, user_path)

    def names(self) -> list[str]:
        """All profile names: built-ins first (in file order), then user profiles."""
        extra = sorted(n for n in self.user if n not in self.builtins)
        return [*self.builtins, *extra]

    def get(self, name: str) -> Profile:
        """The named profile with user overlays applied; unknown → ConfigError (exit 3)."""
        if name not in self.builtins and name not in self.user:
            raise ConfigError(
                f"unknown profile {name!r} (known: {', '.join(self.names())})",
                hint="tplus profile list; tplus profile add NAME --endpoint URL",
            )
        merged: dict[str, Any] = {}
        origins: dict[str, str] = {}
        for table, origin in (
            (self.builtins.get(name, {}), "built-in"),
            (self.user.get(name, {}), str(self.user_path)),
        ):
            for key, value in table.items():
                merged[key] = value
                origins[key] = origin
        return Profile(
            name=name,
            endpoint=merged["endpoint"],
            key=merged.get("key"),
            live=bool(merged.get("live", False)),
            description=merged.get("description", ""),
            output=merged.get("output"),
            builtin=name in self.builtins,
            origins=origins,
        )

    # --- edits (each validates, then saves the user file atomically) ---

    def set_default(self, name: str) -> None:
        """Make `name` the profile used when neither --profile nor TPLUS_PROFILE is given."""
        self.get(name)
        self.default_profile = name
        self.save()

    def add(self, name: str, values: Mapping[str, Any]) -> None:
        """Create (or replace) a user profile with the given settings."""
        check_name(name)
        table = _validate_table(USER_FILE, name, {k: v for k, v in values.items() if v is not None})
        if name not in self.builtins and "endpoint" not in table:
            raise ConfigError(f"{USER_FILE}: [{name}] endpoint: missing")
        self.user[name] = table
        self.save()

    def set_field(self, name: str, key: str, value: object) -> None:
        """Set one setting of a profile (a built-in gets a user overlay)."""
        self.get(name)
        problem = _check_field(key, value)
        if problem:
            raise ConfigError(f"{USER_FILE}: [{name}] {key}: {problem}")
        self.user.setdefault(name, {})[key] = value
        self.save()

    def remove(self, name: str) -> bool:
        """Delete a user profile (or a built-in's overlay); returns whether anything changed."""
        self.get(name)
        if name not in self.user:
            return False
        del self.user[name]
        if self.default_profile == name and name not in self.builtins:
            self.default_profile = None
        self.save()
        return True

    def save(self) -> None:
        """Write the user file atomically (0600 inside a 0700 config dir)."""
        import tomli_w

        doc: dict[str, Any] = {}
        if self.default_profile:
            doc[DEFAULT_KEY] = self.default_profile
        doc.update({name: dict(table) for name, table in sorted(self.user.items())})
        paths.write_private(self.user_path, tomli_w.dumps(doc).encode())
