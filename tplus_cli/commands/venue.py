"""`tplus venue serve|status|reset`: run, inspect and wipe the local paper venue.

Kept thin and self-contained: the venue, sqlite3 and uvicorn are imported inside commands.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from tplus_cli.errors import TplusError, UsageError

venue_app = typer.Typer(
    name="venue",
    help="Run, inspect and reset the local paper venue.",
    no_args_is_help=True,
)

DbOpt = Annotated[
    Path | None,
    typer.Option(
        "--db", help="Venue store (default: <data dir>/venue/venue.sqlite3).", show_default=False
    ),
]


def default_db_path() -> Path:
    """<data dir>/venue/venue.sqlite3, the store the embedded venue uses too."""
    from tplus_cli.config.paths import venue_dir

    return venue_dir() / "venue.sqlite3"


@venue_app.command("serve")
def serve(
    host: Annotated[
        str, typer.Option(help="Address to bind; loopback unless you mean it.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port (0 picks a free one).")] = 8000,
    db: DbOpt = None,
    no_simulate: Annotated[
        bool, typer.Option("--no-simulate", help="Do not run the market simulator.")
    ] = False,
    seed: Annotated[int | None, typer.Option(help="Seed for the market simulator.")] = None,
) -> None:
    """Serve the venue over HTTP + WebSocket until Ctrl-C.  Example: tplus venue serve --port 8000"""
    from tplus_cli.venue.owner import StoreOwnedError
    from tplus_cli.venue.server import serve as run_server

    try:
        code = run_server(host, port, db or default_db_path(), not no_simulate, seed)
    except StoreOwnedError as exc:
        raise TplusError(str(exc), hint="`tplus venue status` shows the owner") from None
    except OSError as exc:
        raise TplusError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    raise typer.Exit(code)


@venue_app.command("status")
def status(
    db: DbOpt = None,
    output: Annotated[
        str, typer.Option("-o", "--output", help="auto, table or json.", show_default=False)
    ] = "auto",
) -> None:
    """Show who owns the venue store and what it holds.  Example: tplus venue status -o json"""
    from tplus_cli.venue.admin import describe_store

    info = describe_store(db or default_db_path())
    if output == "json" or (output == "auto" and not sys.stdout.isatty()):
        typer.echo(json.dumps(info, indent=2))
        return
    for key, value in _status_rows(info):
        typer.echo(f"{key:<14}{value}")


def _status_rows(info: dict[str, Any]) -> list[tuple[str, str]]:
    owner = info["owner"]
    rows = [
        ("store", str(info["db_path"])),
        ("exists", "yes" if info["exists"] else "no"),
        ("server", f"pid {owner['pid']} at {owner['url']}" if owner else "not running"),
    ]
    if info["exists"]:
        rows += [
            ("journal", str(info["journal_length"])),
            ("events", str(info["events"])),
            ("users", str(info["users"])),
            ("markets", ", ".join(info["markets"])),
        ]
    return rows


@venue_app.command("reset")
def reset(
    db: DbOpt = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete the venue store (orders, balances, sessions).  Example: tplus venue reset --yes"""
    from tplus_cli.venue.admin import reset_store, store_files
    from tplus_cli.venue.owner import current_owner

    path = db or default_db_path()
    owner = current_owner(path)
    if owner is not None:
        raise TplusError(
            f"the venue store is in use by `tplus venue serve` (pid {owner.pid}, {owner.url})",
            hint="stop the server first",
        )
    files = store_files(path)
    if not files:
        typer.echo(f"Nothing to delete: no venue store at {path}", err=True)
        return
    typer.echo("This deletes every order, balance and session of the local venue:", err=True)
    for f in files:
        typer.echo(f"  {f}", err=True)
    if not yes:
        if not sys.stdin.isatty():
            raise UsageError("refusing to reset without --yes when not on a terminal")
        if not typer.confirm("Delete these files?", default=False, err=True):
            raise UsageError("reset cancelled")
    reset_store(path)
    typer.echo(f"Deleted the venue store at {path}", err=True)


def register(app: typer.Typer) -> None:
    """Attach this group's commands to the root app."""
    app.add_typer(venue_app)
