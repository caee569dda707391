"""Root Typer app and the one error boundary, `main()`.

Importing this module must stay cheap: only typer and tplus_cli.errors at module level.
Sub-apps are registered here; their heavy imports happen inside their commands.
"""

from __future__ import annotations

import os
import sys

import typer

from tplus_cli import __version__
from tplus_cli.errors import ExitCode, TplusError

app = typer.Typer(
    name="tplus",
    help="Trade on T+ from the command line (a local paper venue is built in).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"tplus {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Trade on T+ from the command line."""


def _register_commands() -> None:
    # Each command module is light at import time; heavy imports live inside commands.
    from tplus_cli.commands import (
        balances,
        book,
        keys,
        markets,
        order,
        profile,
        stream,
        trades,
        transfer,
        venue,
    )

    for module in (keys, profile, markets, book, order, balances, trades, transfer, stream, venue):
        module.register(app)


_register_commands()


def main() -> None:
    """Run the app; the single place exceptions become messages and exit codes."""
    debug = os.environ.get("TPLUS_DEBUG", "") not in ("", "0")
    try:
        rv = app(standalone_mode=False)
    except TplusError as exc:
        if debug:
            raise
        sys.stderr.write(f"Error: {exc.message}\n")
        if exc.hint:
            sys.stderr.write(f"Hint: {exc.hint}\n")
        raise SystemExit(int(exc.exit_code)) from None
    except KeyboardInterrupt:
        sys.stderr.write("Interrupted.\n")
        raise SystemExit(int(ExitCode.INTERRUPTED)) from None
    raise SystemExit(rv if isinstance(rv, int) else 0)


if __name__ == "__main__":
    main()
