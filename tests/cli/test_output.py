"""The output contract and the error boundary, through real commands and `app.run`."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest

from tplus_cli.client import errors as client_errors
from tplus_cli.errors import AuthError, ExitCode, Interrupted, UsageError
from tplus_cli.runtime import GlobalOptions, Runtime, translate

if TYPE_CHECKING:
    from cli.conftest import Tplus

SEED = "01" * 32


@pytest.fixture
def two_keys(tplus: Tplus) -> None:
    """Two keys, so list outputs have rows."""
    assert tplus("keys import a", input=SEED).exit_code == 0
    assert tplus("keys import b", input="02" * 32).exit_code == 0


def test_auto_is_json_when_piped(tplus: Tplus) -> None:
    """Without -o and not on a TTY, output is JSON; an empty list is `[]`."""
    r = tplus("keys list")
    assert r.exit_code == 0 and r.stdout == "[]\n"


def test_output_flag_before_or_after_subcommand(tplus: Tplus, two_keys: None) -> None:
    """`-o` works globally and per command; the per-command value wins."""
    before = tplus("-o csv keys list --fields name")
    after = tplus("keys list -o csv --fields name")
    assert before.stdout == after.stdout == "name\na\nb\n"
    both = tplus("-o csv keys list -o json --fields name")
    assert both.json() == [{"name": "a"}, {"name": "b"}]
    env = tplus("keys list --fields name", env={"TPLUS_OUTPUT": "ndjson"})
    assert env.stdout == '{"name":"a"}\n{"name":"b"}\n'


def test_fields_order_every_format(tplus: Tplus, two_keys: None) -> None:
    """--fields selects and orders columns in json, ndjson, csv and table."""
    sel = "--fields storage,name"
    assert list(tplus(f"keys list -o json {sel}").json()[0]) == ["storage", "name"]
    assert list(json.loads(tplus(f"keys list -o ndjson {sel}").stdout.splitlines()[0])) == [
        "storage",
        "name",
    ]
    rows = list(csv.reader(io.StringIO(tplus(f"keys list -o csv {sel}").stdout)))
    assert rows == [["storage", "name"], ["keyring", "a"], ["keyring", "b"]]
    table = tplus(f"keys list -o table {sel}").stdout.splitlines()
    assert table[1].split() == ["storage", "┃", "name"]
    assert table[3].split() == ["keyring", "│", "a"]


def test_table_has_no_colour_codes(tplus: Tplus, two_keys: None) -> None:
    """NO_COLOR (set by the sealed env) means no ANSI escapes, and data stays on stdout."""
    r = tplus("keys list -o table --fields name,public_key")
    assert "\x1b[" not in r.stdout + r.stderr
    assert "8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c" in r.stdout


def test_venue_strings_are_not_markup(tplus: Tplus) -> None:
    """Rich markup inside data is printed literally."""
    tplus(
        [
            "profile",
            "add",
            "m",
            "--endpoint",
            "https://m.example",
            "--description",
            "[red]hot[/red] :x:",
        ]
    )
    r = tplus("profile show m -o table --fields description")
    assert "[red]hot[/red] :x:" in r.stdout


def test_single_object_json_and_empty_table_notice(tplus: Tplus) -> None:
    """One record is a JSON object; an empty table prints nothing on stdout and a note on stderr."""
    assert isinstance(tplus("profile show -o json").json(), dict)
    r = tplus("keys list -o table")
    assert (r.stdout, r.stderr) == ("", "Keys: none.\n")
    assert tplus("-q keys list -o table").stderr == ""


def test_emit_decimals_are_strings(capsys: pytest.CaptureFixture[str]) -> None:
    """Runtime.emit prints Decimals as exact JSON strings and csv text."""
    rt = Runtime(GlobalOptions(output="json"))
    rt.emit([{"price": Decimal("65000.10"), "qty": Decimal("1E-8")}])  # fixed point, not 1E-8
    assert json.loads(capsys.readouterr().out) == [{"price": "65000.10", "qty": "0.00000001"}]
    rt = Runtime(GlobalOptions(output="csv"))
    rt.emit([], columns=["price", "qty"])
    assert capsys.readouterr().out == "price,qty\n"


def test_emit_event_streams_lines(capsys: pytest.CaptureFixture[str]) -> None:
    """emit_event writes one ndjson line per event, or csv with a single header."""
    rt = Runtime(GlobalOptions(output="csv"))
    for p in ("1", "2"):
        rt.emit_event({"p": Decimal(p), "q": 1})
    assert capsys.readouterr().out == "p,q\n1,1\n2,1\n"
    rt = Runtime(GlobalOptions(output="json", fields="q"))
    rt.emit_event({"p": Decimal("1.5"), "q": 1})
    assert capsys.readouterr().out == '{"q":1}\n'


# --- the error boundary ---------------------------------------------------------------------


def test_usage_error_is_one_line_exit_2(tplus: Tplus) -> None:
    """A Typer usage error: exit 2, `Error:` + `Hint:`, nothing on stdout."""
    r = tplus("-o table keys frobnicate")
    assert r.exit_code == 2
    assert r.stdout == ""
    lines = r.stderr.splitlines()
    assert lines[0].startswith("Error: No such command 'frobnicate'")
    assert lines[1] == "Hint: tplus keys --help"


def test_json_error_object_on_stderr(tplus: Tplus) -> None:
    """Under json output an error is one JSON object on stderr with code and exit_code."""
    r = tplus("keys show nope -o json")
    assert r.exit_code == ExitCode.AUTH
    assert r.stdout == ""
    err = r.error()
    assert err["code"] == "AUTH" and err["exit_code"] == 4 and "nope" in err["message"]


def test_unexpected_error_exit_1_without_traceback(
    tplus: Tplus, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug is exit 1 with one line suggesting --debug; --debug adds the traceback."""

    def boom(self: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("tplus_cli.config.keystore.KeyStore.list", boom)
    r = tplus("keys list -o table")
    assert r.exit_code == 1
    assert r.stderr.splitlines() == [
        "Error: unexpected RuntimeError: boom",
        "Hint: run again with --debug (or TPLUS_DEBUG=1) for a traceback",
    ]
    debug = tplus("--debug keys list -o table")
    assert debug.exit_code == 1 and "Traceback" in debug.stderr and "boom" in debug.stderr
    env_debug = tplus("keys list -o table", env={"TPLUS_DEBUG": "1"})
    assert "Traceback" in env_debug.stderr


def test_ctrl_c_is_130(tplus: Tplus, monkeypatch: pytest.MonkeyPatch) -> None:
    """KeyboardInterrupt anywhere ends with exit 130 and one line."""

    def interrupt(self: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("tplus_cli.config.keystore.KeyStore.list", interrupt)
    r = tplus("keys list -o table")
    assert (r.exit_code, r.stderr) == (130, "Interrupted.\n")


def test_runtime_run_maps_interrupt_and_client_errors() -> None:
    """rt.run turns Ctrl-C into Interrupted and client errors into CLI errors."""
    rt = Runtime()

    async def interrupted() -> None:
        raise KeyboardInterrupt

    async def unauthorized() -> None:
        raise client_errors.AuthFailed("bad signature", code="INVALID_SIGNATURE", status=401)

    with pytest.raises(Interrupted):
        rt.run(interrupted())
    with pytest.raises(AuthError) as info:
        rt.run(unauthorized())
    assert info.value.code == "INVALID_SIGNATURE"

    async def ok() -> int:
        return 7

    assert rt.run(ok()) == 7


@pytest.mark.parametrize(
    ("exc", "exit_code", "code"),
    [
        (client_errors.AuthFailed("no", code="UNAUTHORIZED"), 4, "UNAUTHORIZED"),
        (
            client_errors.Rejected("no", code="POST_ONLY_WOULD_CROSS", order_id="oid"),
            5,
            "POST_ONLY_WOULD_CROSS",
        ),
        (client_errors.Unavailable("connection refused"), 6, "UNAVAILABLE"),
        (client_errors.ServerError("boom", code="INTERNAL_ERROR", status=500), 6, "INTERNAL_ERROR"),
        (
            client_errors.RateLimited("slow", code="RATE_LIMITED", retry_after=2.0),
            7,
            "RATE_LIMITED",
        ),
        (client_errors.AmbiguousOutcome("timeout", order_id="oid"), 8, "AMBIGUOUS_OUTCOME"),
        (client_errors.InvalidInput("qty step 0.001"), 2, "INVALID_INPUT"),
        (client_errors.NotFound("no market", code="MARKET_NOT_FOUND"), 2, "MARKET_NOT_FOUND"),
        (client_errors.ClientError("teapot", status=418), 5, "REJECTED"),
        (
            client_errors.ClientError("odd", code="INSUFFICIENT_BALANCE", status=400),
            5,
            "INSUFFICIENT_BALANCE",
        ),
        (client_errors.ClientError("no status"), 6, "UNAVAILABLE"),
    ],
)
def test_client_error_exit_codes(
    tplus: Tplus, monkeypatch: pytest.MonkeyPatch, exc: Exception, exit_code: int, code: str
) -> None:
    """Every client error class reaches the boundary as its documented exit code and code."""

    def raise_it(self: object) -> None:
        raise exc

    monkeypatch.setattr("tplus_cli.config.keystore.KeyStore.list", raise_it)
    r = tplus("keys list -o json")
    assert r.exit_code == exit_code
    err: dict[str, Any] = r.error()
    assert (err["code"], err["exit_code"]) == (code, exit_code)
    if code in ("POST_ONLY_WOULD_CROSS", "AMBIGUOUS_OUTCOME"):
        assert err["details"]["order_id"] == "oid"
    assert "Traceback" not in r.stderr


def test_translate_leaves_other_errors_alone() -> None:
    """translate() only maps client errors (a bug stays a bug)."""
    assert translate(ValueError("x")) is None
    err = UsageError("u")
    assert translate(err) is err


def test_confirm_write_only_on_live_profiles(tplus: Tplus) -> None:
    """confirm_write refuses without --yes off a TTY on a live profile; no-op on paper."""
    Runtime(GlobalOptions()).confirm_write("place an order")  # local: nothing asked
    live = Runtime(GlobalOptions(profile="remote-example"))
    with pytest.raises(UsageError) as info:
        live.confirm_write("buy 1 BTC @ 65000")
    assert "LIVE venue" in info.value.message and "--yes" in (info.value.hint or "")
    Runtime(GlobalOptions(profile="remote-example", yes=True)).confirm_write("buy")


def test_trailing_output_flag_shapes_a_parse_error(tplus: Tplus) -> None:
    """`-o table` after the subcommand decides the error format even when parsing fails."""
    r = tplus("keys show -o table")
    assert r.exit_code == 2
    assert r.stderr.startswith("Error: Missing argument")
    j = tplus("keys show -o json")
    assert j.error()["exit_code"] == 2


def test_group_without_command_shows_help(tplus: Tplus) -> None:
    """`tplus keys` prints the group's help (no error line) and exits 2 like Click."""
    r = tplus("keys")
    assert r.exit_code == 2
    assert "Usage: tplus keys" in r.stdout + r.stderr
    assert "error" not in r.stderr.lower()
