"""config/settings: flag > env > profile > built-in, with provenance for every value."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tplus_cli.config.profiles import ProfileStore
from tplus_cli.config.settings import Flags, resolve
from tplus_cli.errors import ConfigError


def _store(tmp_path: Path) -> ProfileStore:
    (tmp_path / "profiles.toml").write_text(
        'default_profile = "prod"\n'
        '[prod]\nendpoint = "https://prod.example"\nkey = "pk"\noutput = "csv"\nlive = true\n'
        '[stage]\nendpoint = "https://stage.example"\n'
    )
    return ProfileStore.load(tmp_path)


def test_fresh_machine_is_local_embedded(tmp_path: Path) -> None:
    """With no configuration at all: profile local, embedded, paper key, auto output."""
    s = resolve(Flags(), {}, ProfileStore.load(tmp_path))
    assert (s.profile.name, s.endpoint, s.key, s.key_name, s.output) == (
        "local",
        "embedded",
        None,
        "paper",
        "auto",
    )
    assert s.sources["profile"] == "built-in default"
    assert s.sources["endpoint"] == "profile local (built-in)"


def test_profile_values_and_their_file(tmp_path: Path) -> None:
    """The default_profile of profiles.toml applies and its values name the file."""
    s = resolve(Flags(), {}, _store(tmp_path))
    f = str(tmp_path / "profiles.toml")
    assert (s.profile.name, s.endpoint, s.key, s.output, s.live) == (
        "prod",
        "https://prod.example",
        "pk",
        "csv",
        True,
    )
    assert s.sources == {
        "profile": f"{f} default_profile",
        "endpoint": f"profile prod ({f})",
        "key": f"profile prod ({f})",
        "output": f"profile prod ({f})",
        "live": f"profile prod ({f})",
    }


def test_env_beats_profile_and_flag_beats_env(tmp_path: Path) -> None:
    """TPLUS_* beat the profile; flags beat TPLUS_*."""
    store = _store(tmp_path)
    env = {
        "TPLUS_PROFILE": "stage",
        "TPLUS_ENDPOINT": "http://127.0.0.1:1",
        "TPLUS_KEY": "ek",
        "TPLUS_OUTPUT": "json",
    }
    s = resolve(Flags(), env, store)
    assert (s.profile.name, s.endpoint, s.key, s.output) == (
        "stage",
        "http://127.0.0.1:1",
        "ek",
        "json",
    )
    assert s.sources["endpoint"] == "env TPLUS_ENDPOINT"
    flags = Flags(profile="local", endpoint="https://flag.example", key="fk", output="ndjson")
    s = resolve(flags, env, store)
    assert (s.profile.name, s.endpoint, s.key, s.output) == (
        "local",
        "https://flag.example",
        "fk",
        "ndjson",
    )
    assert s.sources["key"] == "flag --key"


def test_bad_env_values_are_config_errors(tmp_path: Path) -> None:
    """A malformed TPLUS_ENDPOINT / TPLUS_OUTPUT / unknown TPLUS_PROFILE is exit 3, naming the source."""
    store = ProfileStore.load(tmp_path)
    with pytest.raises(ConfigError, match="env TPLUS_ENDPOINT"):
        resolve(Flags(), {"TPLUS_ENDPOINT": "gopher://x"}, store)
    with pytest.raises(ConfigError, match="env TPLUS_OUTPUT"):
        resolve(Flags(), {"TPLUS_OUTPUT": "xml"}, store)
    with pytest.raises(ConfigError, match="unknown profile 'ghost'"):
        resolve(Flags(), {"TPLUS_PROFILE": "ghost"}, store)


def test_remote_profile_has_no_implicit_key(tmp_path: Path) -> None:
    """Off the paper venue no key is assumed (no silent paper key on a real venue)."""
    s = resolve(Flags(profile="remote-example"), {}, ProfileStore.load(tmp_path))
    assert s.key_name is None
    assert s.sources["key"] == "not set"


_layer = st.sampled_from(["json", "csv", "ndjson", "table"]) | st.none()


@given(flag=_layer, env=_layer, profile=_layer)
def test_output_precedence_property(flag: str | None, env: str | None, profile: str | None) -> None:
    """For any combination of layers, the highest one that is set wins and is named."""
    store = ProfileStore(
        builtins={"b": {"endpoint": "embedded"}},
        user={"b": {"output": profile}} if profile else {},
        default_profile="b",
        user_path=Path("/nonexistent/profiles.toml"),
    )
    s = resolve(Flags(output=flag), {"TPLUS_OUTPUT": env} if env else {}, store)
    expected = flag or env or profile or "auto"
    assert s.output == expected
    source = s.sources["output"]
    if flag:
        assert source == "flag --output"
    elif env:
        assert source == "env TPLUS_OUTPUT"
    elif profile:
        assert source.startswith("profile b")
    else:
        assert source == "built-in default"
