"""The composition root: resolved settings -> key -> client (embedded or network) -> output.

This is the only module that knows both the client and the venue. The root callback in
`app.py` builds one `Runtime` per invocation and stores it on `ctx.obj`; commands get it with
`tplus_cli.commands._options.runtime(ctx)`, so a command body reads like:

    rt = runtime(ctx)
    async def go() -> list[OrderInfo]:
        async with rt.client(signing=True) as c:
            return await c.user_orders(open_only=True)
    rt.emit(rt.run(go()), columns=["order_id", "side", "price", "quantity"], title="Open orders")

API (all methods are safe to call from any command):

- `rt.settings` -> `Settings` (profile, endpoint, key, output, sources); resolved lazily, so a
  broken profiles.toml only fails commands that need it (ConfigError, exit 3).
- `rt.run(coro)` -> result of one `asyncio.run`; Ctrl-C -> `Interrupted` (exit 130); client
  errors -> the matching TplusError (see `translate`).
- `async with rt.client(signing=False) as c:` -> a `TplusClient` for the resolved endpoint:
  "embedded" -> in-process venue (store: `data_dir()/venue/venue.sqlite3`); a URL -> network.
  `signing=True` loads the key (creating the paper key on a local venue on first use, with a
  notice on stderr).
- `rt.emit(data, columns=None, title=None)` renders one object or a list per `-o` and
  `--fields`: table (Rich, markup off), json (`[]` when empty, Decimals as strings), ndjson,
  csv (header row). `columns` (names or `render.tables.Column`) picks the table columns;
  json/ndjson/csv carry every field unless `--fields` selects.
- `rt.emit_event(obj, columns=None)` writes one record of a stream immediately (ndjson line
  under json/ndjson, a csv row, or one table-like line).
- `rt.confirm(summary)` asks on a TTY, refuses without `--yes` otherwise (UsageError, exit 2);
  `rt.confirm_write(summary)` does so only on live profiles (`live = true`).
- `rt.notice(msg)` (stderr, silenced by -q), `rt.info(msg)` (stderr, only with -v),
  `rt.warn(msg)` (stderr, always).
- `rt.output_format` -> "table" | "json" | "ndjson" | "csv" (auto already decided).
- `rt.keystore()` -> `KeyStore`; `rt.signing_seed()` -> the 32-byte seed of the active key.

Client error mapping (`translate`): AuthFailed -> 4; Rejected -> 5 (code = the venue's reject
code, details.order_id); Unavailable / ServerError -> 6; RateLimited -> 7; AmbiguousOutcome
-> 8 (details.order_id, hint to look it up); InvalidInput -> 2; NotFound -> 2 (the user named
something that does not exist: a symbol, an order id); any other ClientError -> 5 when the
venue answered 4xx (it refused the request), else 6.
"""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator, Coroutine, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

from tplus_cli.config import envvars, paths
from tplus_cli.config.profiles import EMBEDDED, ProfileStore
from tplus_cli.config.settings import PAPER_KEY, Flags, Settings, resolve
from tplus_cli.errors import (
    AmbiguousError,
    AuthError,
    Interrupted,
    RateLimitedError,
    RejectedError,
    TplusError,
    UnavailableError,
    UsageError,
)
from tplus_cli.render import console

if TYPE_CHECKING:
    from tplus_cli.client.api import TplusClient
    from tplus_cli.config.keystore import KeyStore
    from tplus_cli.render.tables import ColumnSpec

T = TypeVar("T")
EMBEDDED_BASE_URL = "http://embedded.tplus.invalid"
FORMATS = ("table", "json", "ndjson", "csv")


@dataclass
class GlobalOptions:
    """Root options as parsed (None = not given); per-command -o/--fields/--yes override."""

    profile: str | None = None
    endpoint: str | None = None
    key: str | None = None
    output: str | None = None
    fields: str | None = None
    verbose: int = 0
    quiet: bool = False
    debug: bool = False
    yes: bool = False


@dataclass
class _StreamState:
    header_written: bool = False
    columns: list[str] = field(default_factory=list)


class Runtime:
    """Everything a command needs, built once per invocation from the global options."""

    def __init__(self, options: GlobalOptions | None = None) -> None:
        self.options = options or GlobalOptions()
        self._settings: Settings | None = None
        self._store: ProfileStore | None = None
        self._keystore: KeyStore | None = None
        self._stream = _StreamState()

    # --- options and settings ------------------------------------------------------------

    def apply_command_options(
        self, *, output: str | None = None, fields: str | None = None, yes: bool = False
    ) -> None:
        """Per-command -o/--fields/--yes (after the subcommand) override the global ones."""
        if output is not None:
            self.options.output = output
            self._settings = None
        if fields is not None:
            self.options.fields = fields
        if yes:
            self.options.yes = True

    def select_profile(self, name: str) -> None:
        """Resolve settings for profile `name` from now on (as if --profile NAME were given)."""
        self.options.profile = name
        self._settings = None

    @property
    def profiles(self) -> ProfileStore:
        """The loaded profile store (built-in + user file)."""
        if self._store is None:
            self._store = ProfileStore.load()
        return self._store

    @property
    def settings(self) -> Settings:
        """Effective settings (flag > env > profile > built-in), resolved on first use."""
        if self._settings is None:
            o = self.options
            flags = Flags(profile=o.profile, endpoint=o.endpoint, key=o.key, output=o.output)
            self._settings = resolve(flags, os.environ, self.profiles)
        return self._settings

    @property
    def debug(self) -> bool:
        """Show tracebacks (--debug or TPLUS_DEBUG=1)."""
        return self.options.debug or envvars.truthy(os.environ.get(envvars.DEBUG))

    @property
    def yes(self) -> bool:
        """Whether --yes was given (globally or on the command)."""
        return self.options.yes

    @property
    def output_format(self) -> str:
        """table | json | ndjson | csv; `auto` is table on a TTY and json when piped."""
        # A flag is the top layer, so it needs no profile (keeps `profile list -o json` working
        # while the selected profile is broken).
        chosen = self.options.output or self.settings.output
        if chosen == "auto":
            return "table" if console.stdout_isatty() else "json"
        return chosen

    def wants_json_errors(self) -> bool:
        """Errors as a JSON object on stderr: json/ndjson chosen explicitly, or auto with
        neither stdout nor stderr a terminal (a human watching stderr gets a readable line)."""
        try:
            chosen = self.settings.output
        except TplusError:
            chosen = self.options.output or os.environ.get(envvars.OUTPUT, "") or "auto"
        return json_errors_for(chosen)

    # --- messages and confirmation -------------------------------------------------------

    def notice(self, message: str) -> None:
        """A one-line notice on stderr (silenced by -q)."""
        if not self.options.quiet:
            console.print_err(message)

    def info(self, message: str) -> None:
        """Detail on stderr shown only with -v."""
        if self.options.verbose > 0 and not self.options.quiet:
            console.print_err(message)

    def warn(self, message: str) -> None:
        """A warning on stderr, shown even with -q."""
        console.print_err(f"Warning: {message}")

    def confirm(self, summary: str) -> None:
        """Show what will happen and ask (TTY); without a TTY refuse unless --yes."""
        if self.yes:
            return
        if not console.stdin_isatty():
            raise UsageError(
                f"confirmation needed: {summary}",
                hint="pass --yes to confirm when not running on a terminal",
            )
        import typer

        console.print_err(summary)
        if not typer.confirm("Proceed?", default=False, err=True):
            raise TplusError("cancelled; nothing was done", code="CANCELLED")

    def confirm_write(self, summary: str) -> None:
        """On a live profile, confirm every write (naming the venue); otherwise do nothing."""
        s = self.settings
        if s.live:
            self.confirm(f"{summary}\n  on LIVE venue: profile {s.profile.name} ({s.endpoint})")

    # --- keys and client -----------------------------------------------------------------

    def keystore(self) -> KeyStore:
        """The key store (metadata in config_dir()/keys.toml, secrets in keyring or files)."""
        if self._keystore is None:
            from tplus_cli.config.keystore import KeyStore

            self._keystore = KeyStore(paths.config_dir(), prompt=self.prompt_secret)
        return self._keystore

    def prompt_secret(self, prompt: str, confirm: bool) -> str:
        """Hidden prompt on a terminal; refuses (AuthError) when stdin is not a TTY."""
        if not console.stdin_isatty():
            raise AuthError(
                f"cannot prompt for {prompt.lower()}: stdin is not a terminal",
                hint=f"set {envvars.PASSPHRASE_FILE} to a file holding the passphrase",
            )
        import typer

        value: str = typer.prompt(
            prompt, hide_input=True, confirmation_prompt=confirm, err=True, show_default=False
        )
        return value

    def signing_seed(self) -> bytes:
        """The active key's seed; on a paper venue the "paper" key is created on first use."""
        s = self.settings
        name = s.key_name
        if name is None:
            raise AuthError(
                f"no signing key for profile {s.profile.name!r}",
                hint="tplus keys new NAME, then tplus keys use NAME (or pass --key NAME)",
            )
        store = self.keystore()
        if name == PAPER_KEY and s.key is None and not store.has(name):
            record = store.create_paper(name)
            self.notice(
                f"Created paper key {name!r} ({record.public_key[:16]}…, {record.storage}) "
                "for the local venue."
            )
        return store.load_seed(name)

    @asynccontextmanager
    async def client(self, *, signing: bool = False) -> AsyncIterator[TplusClient]:
        """A TplusClient for the resolved endpoint (embedded venue or network), closed after."""
        from tplus_cli.client.api import TplusClient

        seed = self.signing_seed() if signing else None
        endpoint = self.settings.endpoint
        if endpoint != EMBEDDED:
            async with TplusClient(endpoint, seed=seed) as c:
                yield c
            return
        from tplus_cli.venue.embedded import open_embedded
        from tplus_cli.venue.owner import StoreOwnedError

        try:
            venue = open_embedded(paths.ensure_private_dir(paths.data_dir()))
        except StoreOwnedError as exc:
            raise UnavailableError(
                str(exc), code="STORE_OWNED", hint="use --profile localhost (or --endpoint URL)"
            ) from None
        try:
            async with TplusClient(
                EMBEDDED_BASE_URL,
                seed=seed,
                transport=venue.transport(),
                ws_connect=venue.ws_connect,
            ) as c:
                yield c
        finally:
            venue.close()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run one coroutine with a single asyncio.run; map Ctrl-C and client errors."""
        import asyncio

        try:
            return asyncio.run(coro)
        except KeyboardInterrupt:
            raise Interrupted("interrupted") from None
        except BrokenPipeError:
            reader_gone()
        except Exception as exc:
            mapped = translate(exc)
            if mapped is None:
                raise
            raise mapped from exc

    # --- output --------------------------------------------------------------------------

    def emit(
        self,
        data: object,
        *,
        columns: Sequence[ColumnSpec] | None = None,
        title: str | None = None,
    ) -> None:
        """Render a list of records or one record to stdout per -o and --fields."""
        from tplus_cli.render import jsonout

        fmt = self.output_format
        fields = jsonout.parse_fields(self.options.fields)
        many = jsonout.is_collection(data)
        rows = jsonout.to_rows(data)
        col_names = [c if isinstance(c, str) else c.key for c in (columns or [])]
        if fields is not None:
            rows = jsonout.select_fields(rows, fields, known=col_names)
        if fmt == "json":
            payload: object = rows if many else (rows[0] if rows else None)
            _write(jsonout.dumps_json(payload) + "\n")
        elif fmt == "ndjson":
            _write("".join(line + "\n" for line in jsonout.iter_ndjson(rows)))
        elif fmt == "csv":
            names = fields or jsonout.columns_of(rows) or col_names
            _write(jsonout.dumps_csv(rows, names))
        else:
            self._emit_table(rows, many, columns, fields, title)

    def _emit_table(
        self,
        rows: list[dict[str, Any]],
        many: bool,
        columns: Sequence[ColumnSpec] | None,
        fields: list[str] | None,
        title: str | None,
    ) -> None:
        from tplus_cli.render import jsonout, tables

        if fields is not None:
            specs = tables.as_columns(fields)
        elif columns:
            specs = tables.as_columns(columns)
        else:
            specs = tables.as_columns(jsonout.columns_of(rows))
        if many and not rows:
            self.notice(f"{title}: none." if title else "No results.")
            return
        out = console.make_console()
        if many:
            tables.print_wide(out, tables.build_table(rows, specs, title=title))
        else:
            out.print(tables.build_record(rows[0], specs, title=title))

    def emit_event(self, obj: object, *, columns: Sequence[str] | None = None) -> None:
        """Write one streamed record now (ndjson line, csv row, or one plain text line)."""
        from tplus_cli.render import jsonout, tables

        fmt = self.output_format
        fields = jsonout.parse_fields(self.options.fields)
        [row] = jsonout.to_rows([obj])
        if fields is not None:
            [row] = jsonout.select_fields([row], fields, known=columns or ())
        names = fields or list(columns or row)
        if fmt in ("json", "ndjson"):
            _write(next(jsonout.iter_ndjson([row])) + "\n")
        elif fmt == "csv":
            text = jsonout.dumps_csv([row], names)
            if self._stream.header_written:
                text = text.split("\n", 1)[1]
            self._stream.header_written = True
            _write(text)
        else:
            _write("  ".join(f"{n}={tables.cell_text(row.get(n))}" for n in names) + "\n")


def json_errors_for(chosen_output: str) -> bool:
    """Whether an error is reported as JSON for this (unresolved) output choice."""
    if chosen_output == "auto":
        return not console.stdout_isatty() and not console.stderr_isatty()
    return chosen_output in ("json", "ndjson")


def _write(text: str) -> None:
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        reader_gone()


def reader_gone() -> NoReturn:
    """The reader of stdout went away (`tplus stream … | head`): its choice, so exit 0.

    Caught here because Click turns a broken pipe into exit 1 before our boundary sees it.
    stdout is pointed at devnull so the interpreter's final flush cannot fail again.
    """
    import typer

    sys.stdout = open(os.devnull, "w")  # lives until the process exits
    raise typer.Exit(0)


def _rejected(code: str | None, message: str) -> str:
    """The human line names the venue's reject code, so it can be searched and scripted."""
    return f"rejected ({code}): {message}" if code else f"rejected: {message}"


_HINTS = {
    "ASSET_NOT_FOUND": "tplus markets lists the symbols this venue trades",
    "MARKET_NOT_FOUND": "tplus markets lists the symbols this venue trades",
    "ORDER_NOT_FOUND": "tplus order list shows your orders and their ids",
    "INSUFFICIENT_BALANCE": "tplus balances shows what is available",
    "INSUFFICIENT_MARGIN_BALANCE": "tplus balances shows what is available",
}
"""Next steps for venue codes a user can act on (the error line says what, the hint how)."""


def translate(exc: BaseException) -> TplusError | None:
    """Map a client error to the CLI error tree (None if `exc` is not a client error)."""
    if isinstance(exc, TplusError):
        return exc
    errors = sys.modules.get("tplus_cli.client.errors")
    if errors is None or not isinstance(exc, errors.ClientError):
        return None
    code: str | None = exc.code
    message: str = exc.message
    details: dict[str, Any] = dict(exc.details)
    hint = _HINTS.get(code or "")
    if isinstance(exc, errors.AuthFailed):
        return AuthError(
            message,
            code=code or "AUTH",
            hint="check the key and profile: tplus profile show --sources",
            details=details,
        )
    if isinstance(exc, errors.Rejected):
        if exc.order_id:
            details.setdefault("order_id", exc.order_id)
        return RejectedError(
            _rejected(code, message), code=code or "REJECTED", hint=hint, details=details
        )
    if isinstance(exc, errors.RateLimited):
        hint = f"retry after {exc.retry_after:g} s" if exc.retry_after else "retry later"
        return RateLimitedError(message, code=code or "RATE_LIMITED", hint=hint, details=details)
    if isinstance(exc, errors.AmbiguousOutcome):
        details["order_id"] = exc.order_id
        return AmbiguousError(
            f"outcome unknown for order {exc.order_id}: {message}",
            hint=f"look it up before retrying: tplus order show {exc.order_id}",
            details=details,
        )
    if isinstance(exc, errors.InvalidInput):
        return UsageError(message, code=code or "INVALID_INPUT", hint=hint, details=details)
    if isinstance(exc, errors.NotFound):
        return UsageError(message, code=code or "NOT_FOUND", hint=hint, details=details)
    if type(exc) is errors.ClientError and exc.status is not None and 400 <= exc.status < 500:
        # A 4xx that no §7.2 rule names (e.g. INSUFFICIENT_BALANCE): the venue said no.
        return RejectedError(
            _rejected(code, message), code=code or "REJECTED", hint=hint, details=details
        )
    if code == "STREAM_GAVE_UP":
        hint = "is the venue up? check `tplus profile show`; omit --max-retries to retry forever"
    else:
        hint = "check the endpoint (`tplus profile show --sources`) and retry"
    return UnavailableError(message, code=code or "UNAVAILABLE", hint=hint, details=details)
