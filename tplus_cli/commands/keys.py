"""`tplus keys`: create, import, list, export, delete and select Ed25519 signing keys.

Secrets never travel on argv: `import` reads stdin (when piped) or a hidden prompt. `list`
and `show` print public keys only; `export` and `delete` ask first on a TTY and refuse
without --yes otherwise. The keyring backend is only looked up by commands that store or
read a secret (new, import, export, sign; delete of a keyring key).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from tplus_cli.commands import _options
from tplus_cli.errors import AuthError, TplusError, UsageError

if TYPE_CHECKING:
    from tplus_cli.config.keystore import KeyRecord
    from tplus_cli.runtime import Runtime

keys_app = typer.Typer(help="Create, import, list and select signing keys.", no_args_is_help=True)
KEY_COLUMNS = ("name", "storage", "public_key", "in_use", "created_at")


def _row(rt: Runtime, record: KeyRecord) -> dict[str, object]:
    try:
        active = rt.settings.key_name
    except TplusError:  # a broken profile must not hide the key list
        active = None
    return {
        "name": record.name,
        "public_key": record.public_key,
        "storage": record.storage,
        "in_use": record.name == active,
        "created_at": record.created_at,
    }


def _read_secret(prompt: str) -> str:
    """The secret from stdin when piped, else a hidden prompt; never from argv."""
    from tplus_cli.render.console import stdin_isatty

    if not stdin_isatty():
        return sys.stdin.read().strip()
    value: str = typer.prompt(prompt, hide_input=True, err=True, show_default=False)
    return value.strip()


@keys_app.command("new")
@_options.command_options
def new_key(
    ctx: typer.Context, name: Annotated[str, typer.Argument(help="Name for the key.")]
) -> None:
    """Generate a new key and store it (OS keyring, else an encrypted file).

    Example: tplus keys new main
    """
    import os

    rt = _options.runtime(ctx)
    record = rt.keystore().create(name, os.urandom(32))
    rt.notice(f"Created key {name!r} in {record.storage}. Use it with: tplus keys use {name}")
    rt.emit(_row(rt, record), columns=KEY_COLUMNS)


@keys_app.command("import")
@_options.command_options
def import_key(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Name for the key.")],
    from_tpluspy: Annotated[
        str | None,
        typer.Option(
            "--from-tpluspy",
            metavar="PATH",
            help="Decrypt a tpluspy keyfile (~/.tplus/users/NAME); password from TPLUS_PASSWORD or a prompt.",
        ),
    ] = None,
) -> None:
    """Import a private key (hex seed, or seed+pubkey) from stdin or a hidden prompt.

    Example: printf %s "$SEED_HEX" | tplus keys import main
    """
    from tplus_cli.client.signing import seed_from_any

    rt = _options.runtime(ctx)
    if from_tpluspy is not None:
        seed = _from_tpluspy(from_tpluspy)
    else:
        text = _read_secret("Private key (hex)")
        if not text:
            raise UsageError("no private key given", hint="pipe the hex seed on stdin")
        try:
            seed = seed_from_any(text)
        except ValueError as exc:
            # The message names the problem (length, not hex) but never echoes the input.
            raise UsageError(
                str(exc), hint="expected 64 hex chars (seed) or 128 (seed||pubkey)"
            ) from None
    record = rt.keystore().create(name, seed)
    rt.notice(f"Imported key {name!r} into {record.storage}.")
    rt.emit(_row(rt, record), columns=KEY_COLUMNS)


def _from_tpluspy(path: str) -> bytes:
    import os
    from pathlib import Path

    from tplus_cli.client.keyfile import decrypt_keyfile
    from tplus_cli.client.signing import seed_from_any
    from tplus_cli.config import envvars

    password = os.environ.get(envvars.PASSWORD)
    if password is None:
        from tplus_cli.render.console import stdin_isatty

        if not stdin_isatty():
            raise AuthError(
                "tpluspy keyfile password needed",
                hint=f"set {envvars.PASSWORD} or run on a terminal",
            )
        password = typer.prompt("tpluspy keyfile password", hide_input=True, err=True)
    try:
        data = Path(path).expanduser().read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        return seed_from_any(decrypt_keyfile(data, password))
    except ValueError as exc:
        raise AuthError(f"{path}: {exc}") from None


@keys_app.command("list")
@_options.command_options
def list_keys(ctx: typer.Context) -> None:
    """List keys with their public key and storage (no secrets).

    Example: tplus keys list -o json
    """
    rt = _options.runtime(ctx)
    rt.emit([_row(rt, r) for r in rt.keystore().list()], columns=KEY_COLUMNS, title="Keys")


@keys_app.command("show")
@_options.command_options
def show_key(ctx: typer.Context, name: _options.KeyNameArg) -> None:
    """Show one key's public key and storage.

    Example: tplus keys show main --fields public_key
    """
    rt = _options.runtime(ctx)
    rt.emit(_row(rt, rt.keystore().get(name)), columns=KEY_COLUMNS)


@keys_app.command("export")
@_options.command_options
def export_key(ctx: typer.Context, name: _options.KeyNameArg) -> None:
    """Print a key's secret seed (hex) to stdout, after confirming.

    Example: tplus keys export main --yes > main.seed
    """
    rt = _options.runtime(ctx)
    store = rt.keystore()
    store.get(name)
    rt.confirm(f"Print the SECRET key {name!r} to stdout? Anyone who sees it controls the account.")
    seed = store.load_seed(name)
    if rt.output_format in ("json", "ndjson"):
        rt.emit({"name": name, "seed": seed.hex()})
    else:
        sys.stdout.write(seed.hex() + "\n")


@keys_app.command("delete")
@_options.command_options
def delete_key(ctx: typer.Context, name: _options.KeyNameArg) -> None:
    """Delete a key and its secret, after confirming.

    Example: tplus keys delete old --yes
    """
    rt = _options.runtime(ctx)
    store = rt.keystore()
    record = store.get(name)
    rt.confirm(
        f"Delete key {name!r} ({record.public_key}, {record.storage})? "
        "Without a backup the account cannot be used again."
    )
    store.delete(name)
    rt.notice(f"Deleted key {name!r}.")


@keys_app.command("use")
@_options.command_options
def use_key(ctx: typer.Context, name: _options.KeyNameArg) -> None:
    """Make NAME the signing key of the current profile.

    Example: tplus --profile localhost keys use main
    """
    rt = _options.runtime(ctx)
    rt.keystore().get(name)
    profile = rt.settings.profile.name
    rt.profiles.set_field(profile, "key", name)
    rt.notice(f"Profile {profile!r} now signs with key {name!r}.")


@keys_app.command("sign")
@_options.command_options
def sign_message(
    ctx: typer.Context,
    message: Annotated[
        str | None, typer.Argument(help="Message to sign; read from stdin when omitted.")
    ] = None,
) -> None:
    """Sign a message with the active key; prints the signature hex.

    As everywhere in T+, spaces, CR and LF are removed before signing (strip_ws),
    so "a b" and "ab" have the same signature. Example: tplus keys sign hello
    """
    from tplus_cli.client.signing import public_key_hex, sign, strip_ws

    rt = _options.runtime(ctx)
    text = sys.stdin.read() if message is None else message
    seed = rt.signing_seed()
    signature = bytes(sign(seed, strip_ws(text).encode("utf-8"))).hex()
    if rt.output_format == "table":
        sys.stdout.write(signature + "\n")
    else:
        rt.emit({"public_key": public_key_hex(seed), "signature": signature})


def register(app: typer.Typer) -> None:
    """Attach `tplus keys` to the root app."""
    app.add_typer(keys_app, name="keys")
