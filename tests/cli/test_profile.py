"""`tplus profile`: list/show/use/add/set/remove, precedence via the CLI, config errors (exit 3)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cli.conftest import Tplus


def test_fresh_machine_uses_local(tplus: Tplus) -> None:
    """With no configuration, the current profile is `local` (embedded)."""
    rows = tplus("profile list -o json").json()
    assert [r["name"] for r in rows][:3] == ["local", "localhost", "remote-example"]
    current = [r["name"] for r in rows if r["current"]]
    assert current == ["local"]
    assert tplus("profile show -o json").json()["endpoint"] == "embedded"


def test_add_use_set_remove(tplus: Tplus, sealed_env: Path) -> None:
    """The profile editing commands round-trip through profiles.toml."""
    r = tplus("profile add prod --endpoint https://gw.example --key main --live")
    assert r.exit_code == 0, r.stderr
    assert tplus("profile use prod").exit_code == 0
    shown = tplus("profile show -o json").json()
    assert (shown["name"], shown["endpoint"], shown["key"], shown["live"]) == (
        "prod",
        "https://gw.example",
        "main",
        True,
    )
    assert tplus("profile set endpoint https://gw2.example").exit_code == 0
    assert tplus("profile set live false").exit_code == 0
    shown = tplus("profile show prod -o json").json()
    assert (shown["endpoint"], shown["live"]) == ("https://gw2.example", False)
    assert tplus("profile remove prod").exit_code == 2  # not a TTY: needs --yes
    assert tplus("profile remove prod --yes").exit_code == 0
    assert tplus("profile show -o json").json()["name"] == "local"


def test_builtin_overlay_and_reset(tplus: Tplus) -> None:
    """`set` on a built-in writes an overlay; `remove` drops it; a bare built-in cannot be removed."""
    assert tplus("-p localhost profile set endpoint http://127.0.0.1:9000").exit_code == 0
    shown = tplus("profile show localhost -o json").json()
    assert (shown["endpoint"], shown["origin"]) == (
        "http://127.0.0.1:9000",
        "built-in + profiles.toml",
    )
    assert tplus("profile remove localhost --yes").exit_code == 0
    assert tplus("profile show localhost -o json").json()["endpoint"] == "http://127.0.0.1:8000"
    r = tplus("profile remove localhost --yes -o table")
    assert r.exit_code == 2 and "built-in" in r.stderr
    assert tplus("profile add local --endpoint https://x.example -o table").exit_code == 2


def test_sources_show_precedence(tplus: Tplus) -> None:
    """--sources names flag, env, profile file or built-in for each setting."""
    tplus("profile add stage --endpoint https://stage.example --key sk")
    env = {"TPLUS_PROFILE": "stage", "TPLUS_KEY": "envkey"}
    rows = tplus("--endpoint http://127.0.0.1:1 profile show --sources -o json", env=env).json()
    got = {r["setting"]: (r["value"], r["source"]) for r in rows}
    assert got["profile"] == ("stage", "env TPLUS_PROFILE")
    assert got["endpoint"] == ("http://127.0.0.1:1", "flag --endpoint")
    assert got["key"] == ("envkey", "env TPLUS_KEY")
    assert got["output"] == ("json", "flag --output")
    assert got["live"][1].startswith("profile stage")


def test_malformed_profiles_file_is_one_line_exit_3(tplus: Tplus, sealed_env: Path) -> None:
    """A broken profiles.toml: exit 3, one error line naming the file and line, no traceback."""
    path = sealed_env / "config" / "profiles.toml"
    path.parent.mkdir(parents=True)
    path.write_text("[prod\nendpoint = 1\n")
    r = tplus("profile show -o table")
    assert r.exit_code == 3
    first = r.stderr.splitlines()[0]
    assert first.startswith(f"Error: {path}: ") and "line 1" in first
    assert "Traceback" not in r.stderr


def test_invalid_value_names_location(tplus: Tplus, sealed_env: Path) -> None:
    """A bad endpoint in the file reads `<file>: [prod] endpoint: must be ...` (json error on stderr)."""
    path = sealed_env / "config" / "profiles.toml"
    path.parent.mkdir(parents=True)
    path.write_text('[prod]\nendpoint = "ftp://x"\n')
    r = tplus("-p prod profile show -o json")
    assert r.exit_code == 3
    assert r.stdout == ""
    assert r.error()["message"] == f'{path}: [prod] endpoint: must be an http(s) URL or "embedded"'
    assert r.error()["code"] == "CONFIG"


def test_unknown_profile_exit_3(tplus: Tplus) -> None:
    """An unknown profile, by flag or env, is exit 3 with a hint."""
    for args, env in (
        ("-p ghost profile show -o table", {}),
        ("profile show -o table", {"TPLUS_PROFILE": "ghost"}),
    ):
        r = tplus(args, env=env)
        assert r.exit_code == 3
        assert r.stderr.splitlines() == [
            "Error: unknown profile 'ghost' (known: local, localhost, remote-example)",
            "Hint: tplus profile list; tplus profile add NAME --endpoint URL",
        ]


def test_list_survives_a_bad_selection(tplus: Tplus) -> None:
    """`profile list` still works when TPLUS_PROFILE names a missing profile (so you can fix it)."""
    r = tplus("profile list -o json", env={"TPLUS_PROFILE": "ghost"})
    assert r.exit_code == 0
    assert not any(row["current"] for row in r.json())
