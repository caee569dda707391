"""`tplus profile`: list, show, select, add, change and remove venue profiles.

Profiles never hold secrets, only a key *name*. Edits go to config_dir()/profiles.toml
(atomic write); built-in profiles (local, localhost, remote-example) are overlaid, not edited.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from tplus_cli.commands import _options
from tplus_cli.errors import ConfigError, TplusError, UsageError

if TYPE_CHECKING:
    from tplus_cli.config.profiles import Profile
    from tplus_cli.runtime import Runtime

profile_app = typer.Typer(help="List, select and edit venue profiles.", no_args_is_help=True)
LIST_COLUMNS = ("name", "current", "endpoint", "key", "live", "origin", "description")
SHOW_COLUMNS = ("name", "endpoint", "key", "live", "output", "description", "origin")
SETTABLE = ("endpoint", "key", "live", "description", "output")


def _complete_profile(incomplete: str) -> list[str]:
    from tplus_cli.config.profiles import ProfileStore

    try:
        names = ProfileStore.load().names()
    except TplusError:
        return []
    return [n for n in names if n.startswith(incomplete)]


ProfileArg = Annotated[str, typer.Argument(help="Profile name.", autocompletion=_complete_profile)]


def _current(rt: Runtime) -> str | None:
    try:
        return rt.settings.profile.name
    except ConfigError:
        return None


def _origin(p: Profile) -> str:
    origins = set(p.origins.values())
    if p.builtin:
        return "built-in" if origins == {"built-in"} else "built-in + profiles.toml"
    return "profiles.toml"


def _row(p: Profile, current: str | None) -> dict[str, object]:
    return {
        "name": p.name,
        "current": p.name == current,
        "endpoint": p.endpoint,
        "key": p.key,
        "live": p.live,
        "output": p.output,
        "description": p.description,
        "origin": _origin(p),
    }


@profile_app.command("list")
@_options.command_options
def list_profiles(ctx: typer.Context) -> None:
    """List profiles; the current one is marked.

    Example: tplus profile list -o json
    """
    rt = _options.runtime(ctx)
    store = rt.profiles
    current = _current(rt)
    rows = [_row(store.get(n), current) for n in store.names()]
    rt.emit(rows, columns=LIST_COLUMNS, title="Profiles")


@profile_app.command("show")
@_options.command_options
def show_profile(
    ctx: typer.Context,
    name: Annotated[
        str | None,
        typer.Argument(
            help="Profile (default: the current one).", autocompletion=_complete_profile
        ),
    ] = None,
    sources: Annotated[
        bool, typer.Option("--sources", help="Show each effective setting and where it came from.")
    ] = False,
) -> None:
    """Show a profile, or with --sources the effective settings and their origin.

    Example: tplus --endpoint http://127.0.0.1:9000 profile show --sources
    """
    rt = _options.runtime(ctx)
    if name is not None:
        rt.select_profile(name)
    s = rt.settings
    if not sources:
        rt.emit(_row(s.profile, _current(rt)), columns=SHOW_COLUMNS)
        return
    values: dict[str, object] = {
        "profile": s.profile.name,
        "endpoint": s.endpoint,
        "key": s.key_name,
        "output": s.output,
        "live": s.live,
    }
    rows = [{"setting": k, "value": v, "source": s.sources.get(k, "")} for k, v in values.items()]
    rt.emit(
        rows, columns=("setting", "value", "source"), title=f"Effective settings ({s.profile.name})"
    )


@profile_app.command("use")
@_options.command_options
def use_profile(ctx: typer.Context, name: ProfileArg) -> None:
    """Make NAME the default profile (TPLUS_PROFILE and --profile still win).

    Example: tplus profile use localhost
    """
    rt = _options.runtime(ctx)
    rt.profiles.set_default(name)
    rt.notice(f"Default profile is now {name!r}.")


@profile_app.command("add")
@_options.command_options
def add_profile(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="New profile name.")],
    endpoint: Annotated[
        str, typer.Option("--endpoint", help='"embedded" or an http(s) URL.', show_default=False)
    ],
    key: Annotated[str | None, typer.Option("--key", help="Key name to sign with.")] = None,
    live: Annotated[bool, typer.Option("--live", help="Real money: confirm every write.")] = False,
    description: Annotated[str | None, typer.Option("--description", help="Free text.")] = None,
) -> None:
    """Add (or replace) a user profile.

    Example: tplus profile add prod --endpoint https://gw.example --key main --live
    """
    rt = _options.runtime(ctx)
    store = rt.profiles
    if name in store.builtins:
        raise UsageError(
            f"{name!r} is a built-in profile",
            hint=f"change it with: tplus -p {name} profile set KEY VALUE",
        )
    if name in store.user:
        rt.confirm(f"Replace the existing profile {name!r}?")
    store.add(name, {"endpoint": endpoint, "key": key, "live": live, "description": description})
    rt.notice(f"Added profile {name!r} ({endpoint}{', live' if live else ''}).")


@profile_app.command("set")
@_options.command_options
def set_setting(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help=f"One of: {', '.join(SETTABLE)}.")],
    value: Annotated[str, typer.Argument(help="New value (live: true/false).")],
) -> None:
    """Change one setting of the current profile (or --profile NAME).

    Example: tplus -p prod profile set endpoint https://gw2.example
    """
    from tplus_cli.config.profiles import parse_value

    rt = _options.runtime(ctx)
    if key not in SETTABLE:
        raise UsageError(f"unknown setting {key!r}", hint=f"one of: {', '.join(SETTABLE)}")
    name = rt.settings.profile.name
    rt.profiles.set_field(name, key, parse_value(key, value))
    rt.notice(f"Profile {name!r}: {key} = {value}")


@profile_app.command("remove")
@_options.command_options
def remove_profile(ctx: typer.Context, name: ProfileArg) -> None:
    """Remove a user profile (for a built-in: drop your changes to it).

    Example: tplus profile remove staging --yes
    """
    rt = _options.runtime(ctx)
    store = rt.profiles
    store.get(name)
    if name not in store.user:
        raise UsageError(f"{name!r} is a built-in profile with no changes to remove")
    rt.confirm(f"Remove profile {name!r} from {store.user_path}?")
    store.remove(name)
    rt.notice(f"Removed profile {name!r}.")


def register(app: typer.Typer) -> None:
    """Attach `tplus profile` to the root app."""
    app.add_typer(profile_app, name="profile")
