"""config/profiles: built-ins, the user file, validation errors with a location, edits."""

from __future__ import annotations

import stat
import tomllib
from pathlib import Path

import pytest

from tplus_cli.config.profiles import ProfileStore, is_paper_endpoint
from tplus_cli.errors import ConfigError, ExitCode


def _store(tmp_path: Path, text: str | None = None) -> ProfileStore:
    if text is not None:
        (tmp_path / "profiles.toml").write_text(text)
    return ProfileStore.load(tmp_path)


def test_builtins(tmp_path: Path) -> None:
    """local is embedded, localhost is a loopback server, and one remote example is live."""
    store = _store(tmp_path)
    assert store.names()[:3] == ["local", "localhost", "remote-example"]
    assert store.get("local").endpoint == "embedded"
    assert store.get("localhost").endpoint == "http://127.0.0.1:8000"
    assert store.get("localhost").is_paper
    remote = store.get("remote-example")
    assert remote.live and not remote.is_paper


@pytest.mark.parametrize(
    ("endpoint", "paper"),
    [
        ("embedded", True),
        ("http://127.0.0.1:9", True),
        ("http://localhost", True),
        ("http://[::1]:8000", True),
        ("https://gw.example", False),
    ],
)
def test_paper_endpoints(endpoint: str, paper: bool) -> None:
    """Only embedded and loopback endpoints count as the paper venue."""
    assert is_paper_endpoint(endpoint) is paper


def test_bad_endpoint_names_file_table_and_field(tmp_path: Path) -> None:
    """A bad endpoint reads `<file>: [prod] endpoint: must be ...` and exits 3."""
    with pytest.raises(ConfigError) as info:
        _store(tmp_path, '[prod]\nendpoint = "ftp://x"\n')
    assert (
        info.value.message
        == f'{tmp_path / "profiles.toml"}: [prod] endpoint: must be an http(s) URL or "embedded"'
    )
    assert info.value.exit_code == ExitCode.CONFIG


def test_malformed_toml_names_file_and_line(tmp_path: Path) -> None:
    """A TOML syntax error names the file and the line."""
    with pytest.raises(ConfigError) as info:
        _store(tmp_path, '[prod]\nendpoint = "https://x"\nlive = maybe\n')
    assert str(tmp_path / "profiles.toml") in info.value.message
    assert "line 3" in info.value.message


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ('[p]\nendpoint = "https://x"\ncolour = "red"\n', "[p] colour: unknown setting"),
        ('[p]\nendpoint = "https://x"\nlive = "yes"\n', "[p] live: must be true or false"),
        ('[p]\nkey = "k"\n', "[p] endpoint: missing"),
        ('[p]\nendpoint = "https://x"\noutput = "xml"\n', "[p] output: must be one of"),
        ("default_profile = 3\n", "default_profile: must be a profile name"),
    ],
)
def test_validation_locations(tmp_path: Path, text: str, fragment: str) -> None:
    """Each invalid setting is reported with its table and key."""
    with pytest.raises(ConfigError, match=None) as info:
        _store(tmp_path, text)
    assert fragment in info.value.message


def test_unknown_profile(tmp_path: Path) -> None:
    """Asking for a profile that does not exist is a ConfigError listing the known ones."""
    with pytest.raises(ConfigError) as info:
        _store(tmp_path).get("nope")
    assert "unknown profile 'nope'" in info.value.message
    assert "local" in info.value.message


def test_overlay_and_origins(tmp_path: Path) -> None:
    """A user table named like a built-in overlays it; origins say where each field came from."""
    store = _store(tmp_path, '[local]\nkey = "main"\n')
    local = store.get("local")
    assert (local.endpoint, local.key) == ("embedded", "main")
    assert local.origins == {
        "description": "built-in",
        "endpoint": "built-in",
        "live": "built-in",
        "key": str(tmp_path / "profiles.toml"),
    }


def test_edits_round_trip(tmp_path: Path) -> None:
    """add, set_field, set_default and remove persist to a 0600 file that reloads equal."""
    store = _store(tmp_path)
    store.add(
        "prod", {"endpoint": "https://gw.example", "key": "main", "live": True, "description": None}
    )
    store.set_field("prod", "output", "json")
    store.set_default("prod")
    path = tmp_path / "profiles.toml"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    doc = tomllib.loads(path.read_text())
    assert doc == {
        "default_profile": "prod",
        "prod": {"endpoint": "https://gw.example", "key": "main", "live": True, "output": "json"},
    }
    again = ProfileStore.load(tmp_path)
    assert again.get("prod") == store.get("prod")
    assert again.remove("prod")
    assert ProfileStore.load(tmp_path).default_profile is None


def test_edit_validation(tmp_path: Path) -> None:
    """Edits are validated before anything is written."""
    store = _store(tmp_path)
    with pytest.raises(ConfigError, match=r"\[local\] endpoint"):
        store.set_field("local", "endpoint", "nope")
    with pytest.raises(ConfigError, match="profile name"):
        store.add("bad name", {"endpoint": "embedded"})
    assert not (tmp_path / "profiles.toml").exists()
