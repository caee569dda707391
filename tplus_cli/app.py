"""Root Typer app, the global options, and the one error boundary, `main()`.

Importing this module must stay cheap: only typer, the stdlib and tplus_cli.errors /
commands._options at module level. Sub-apps are registered here via each command module's
`register(app)`; their heavy imports happen inside their commands.

Error boundary (`run`): TplusError -> "Error: ..." + "Hint: ..." on stderr (a JSON object under
json/ndjson output) and its ExitCode; Typer usage errors -> exit 2 with one line; client
errors -> mapped by `runtime.translate`; Ctrl-C -> 130; anything else -> exit 1 with a one-line
message suggesting --debug. Tracebacks only with --debug or TPLUS_DEBUG=1.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tplus_cli import __version__
from tplus_cli.commands._options import FIELDS_HELP, OUTPUT_HELP, YES_HELP, OutputFormat
from tplus_cli.errors import ExitCode, TplusError, UsageError

if TYPE_CHECKING:
    from tplus_cli.runtime import Runtime


def _plain_values_skip_pydantic() -> None:
    """Let None and exact str/int/bool values bypass Typer's pydantic coercion.

    Typer 0.29 builds a pydantic TypeAdapter for every parameter it processes, even a None
    default, which imports pydantic (~90 ms) on every command and every TAB completion.
    Such values need no coercion, and a str naming an Enum member maps to that member;
    anything else (ranges, custom parsers, invalid choices) still goes through Typer. If Typer's internals move, this silently does nothing
    (tests/test_imports.py then reports pydantic on the completion path).
    """
    from typer import _coercion, core

    param_cls: Any = getattr(core, "_TyperParameter", None)
    build_runtime_param: Any = getattr(_coercion, "build_runtime_param", None)
    if param_cls is None or build_runtime_param is None:
        return
    if not hasattr(param_cls, "get_runtime_param"):
        return

    class _Lazy:
        def __init__(self) -> None:
            self.real: Any = None

        def coerce(self, value: Any, param: Any, ctx: Any) -> Any:
            multi = param.multiple or param.nargs == -1
            if value is None:  # exactly what Typer's RuntimeParam.coerce does for None
                return () if multi else None
            desc = param.type_descriptor
            info = desc.parameter_info
            simple = (
                desc.annotation in (str, int, bool)
                and desc.file_annotation is None
                and getattr(info, "parser", None) is None
                and getattr(info, "click_type", None) is None
                and not multi
            )
            if simple and type(value) is desc.annotation:
                low, high = getattr(info, "min", None), getattr(info, "max", None)
                if (low is None or value >= low) and (high is None or value <= high):
                    return value  # out of range: Typer reports (or clamps) it below
            ann = desc.annotation
            if (
                isinstance(ann, type)
                and issubclass(ann, Enum)
                and isinstance(value, str)
                and not multi
            ):
                wanted = value if info.case_sensitive else value.lower()
                for member in ann:
                    label = str(member.value)
                    if (label if info.case_sensitive else label.lower()) == wanted:
                        return member
            if self.real is None:
                self.real = build_runtime_param(desc)
            return self.real.coerce(value, param=param, ctx=ctx)

    def get_runtime_param(self: Any) -> Any:
        if self._runtime_param is None:
            self._runtime_param = _Lazy()
        return self._runtime_param

    param_cls.get_runtime_param = get_runtime_param


_plain_values_skip_pydantic()

app = typer.Typer(
    name="tplus",
    help="Trade on T+ from the command line (a local paper venue is built in).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@dataclass
class RuntimeSlot:
    """Passed as ctx.obj by `run()` so the boundary can see the Runtime the callback built."""

    runtime: Runtime | None = None


def _version(value: bool) -> None:
    if value:
        typer.echo(f"tplus {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    profile: Annotated[
        str | None,
        typer.Option(
            "--profile", "-p", help="Profile to use. \\[env: TPLUS_PROFILE]", show_default=False
        ),
    ] = None,
    endpoint: Annotated[
        str | None,
        typer.Option(
            "--endpoint",
            help='"embedded" or an http(s) URL; overrides the profile. \\[env: TPLUS_ENDPOINT]',
            show_default=False,
        ),
    ] = None,
    key: Annotated[
        str | None,
        typer.Option(
            "--key", "-k", help="Signing key name. \\[env: TPLUS_KEY]", show_default=False
        ),
    ] = None,
    output: Annotated[
        OutputFormat | None,
        typer.Option("-o", "--output", help=OUTPUT_HELP, case_sensitive=False, show_default=False),
    ] = None,
    fields: Annotated[
        str | None, typer.Option("--fields", help=FIELDS_HELP, metavar="A,B,C")
    ] = None,
    verbose: Annotated[
        int, typer.Option("-v", "--verbose", count=True, help="More detail on stderr.")
    ] = 0,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="Only data and errors.")] = False,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show tracebacks. \\[env: TPLUS_DEBUG=1]")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help=YES_HELP)] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Trade on T+ from the command line; the local paper venue works offline."""
    from tplus_cli.runtime import GlobalOptions, Runtime

    options = GlobalOptions(
        profile=profile,
        endpoint=endpoint,
        key=key,
        output=output.value if output is not None else None,
        fields=fields,
        verbose=verbose,
        quiet=quiet,
        debug=debug,
        yes=yes,
    )
    rt = Runtime(options)
    if isinstance(ctx.obj, RuntimeSlot):
        ctx.obj.runtime = rt
    ctx.obj = rt


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


# --- the error boundary --------------------------------------------------------------------


def _argv_output(args: Sequence[str]) -> str | None:
    """The last -o/--output value on the command line (None if not given)."""
    value: str | None = None
    for i, arg in enumerate(args):
        if arg == "--":
            break
        if arg in ("-o", "--output") and i + 1 < len(args):
            value = args[i + 1]
        elif arg.startswith("--output="):
            value = arg.split("=", 1)[1]
        elif arg.startswith("-o") and len(arg) > 2:
            value = arg[2:]
    return value.lower() if value else None


def _report(err: TplusError, as_json: bool) -> int:
    if as_json:
        sys.stderr.write(json.dumps(err.to_json(), ensure_ascii=False) + "\n")
    else:
        sys.stderr.write(f"Error: {err.message}\n")
        if err.hint:
            sys.stderr.write(f"Hint: {err.hint}\n")
    sys.stderr.flush()
    return int(err.exit_code)


def _usage_error(exc: typer.TyperException) -> TplusError:
    message = exc.format_message()
    ctx = getattr(exc, "ctx", None)
    path = ctx.command_path if ctx is not None else "tplus"
    err = UsageError(message, hint=f"{path} --help")
    err.exit_code = ExitCode(exc.exit_code) if exc.exit_code in (1, 2) else ExitCode.USAGE
    return err


def run(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return the exit code; the single place errors become messages."""
    args = list(sys.argv[1:] if argv is None else argv)
    slot = RuntimeSlot()
    debug = "--debug" in args or os.environ.get("TPLUS_DEBUG", "") not in ("", "0")

    def wants_json() -> bool:
        # An explicit -o on the command line decides, even if parsing failed before the
        # command could apply it; then the Runtime (env, profile); then TPLUS_OUTPUT/auto.
        from tplus_cli.runtime import json_errors_for

        explicit = _argv_output(args)
        if explicit is not None:
            return json_errors_for(explicit)
        if slot.runtime is not None:
            return slot.runtime.wants_json_errors()
        return json_errors_for(os.environ.get("TPLUS_OUTPUT") or "auto")

    try:
        rv = app(args=args, prog_name="tplus", standalone_mode=False, obj=slot)
        if rv == ExitCode.INTERRUPTED:  # Typer turns Ctrl-C into Exit(130) silently
            sys.stderr.write("Interrupted.\n")
        return rv if isinstance(rv, int) else 0
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except KeyboardInterrupt:
        sys.stderr.write("Interrupted.\n")
        return int(ExitCode.INTERRUPTED)
    except typer.Abort:
        sys.stderr.write("Aborted.\n")
        return int(ExitCode.ERROR)
    except typer.TyperException as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":  # `tplus keys`: help was the answer
            if exc.format_message():  # plain (non-Rich) help comes back as the message
                sys.stderr.write(exc.format_message() + "\n")
            return int(ExitCode.USAGE)
        return _report(_usage_error(exc), wants_json())
    except BrokenPipeError:
        # The reader went away (`tplus stream ... | head`): its choice, like --count; stop
        # quietly and point stdout at devnull so the interpreter's final flush cannot fail.
        sys.stdout = open(os.devnull, "w")
        return int(ExitCode.OK)
    except Exception as exc:
        from tplus_cli.runtime import translate

        err = translate(exc)
        if debug:
            import traceback

            traceback.print_exc()
        if err is None:
            err = TplusError(
                f"unexpected {type(exc).__name__}: {exc}",
                hint="run again with --debug (or TPLUS_DEBUG=1) for a traceback",
                code="INTERNAL",
            )
        if isinstance(err, TplusError) and err.exit_code == ExitCode.INTERRUPTED:
            sys.stderr.write("Interrupted.\n")
            return int(ExitCode.INTERRUPTED)
        return _report(err, wants_json())


def main() -> None:
    """Console-script entry point: `tplus`."""
    raise SystemExit(run())


if __name__ == "__main__":
    main()
