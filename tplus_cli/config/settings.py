"""Resolve the effective settings: flag > env > profile > built-in default, with provenance.

`resolve()` is pure given its inputs (flags, an environment mapping and a ProfileStore), so
precedence is unit-tested without a CLI. Each resolved value records where it came from;
`tplus profile show --sources` prints that.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from tplus_cli.config import envvars
from tplus_cli.config.profiles import (
    FALLBACK_PROFILE,
    OUTPUT_FORMATS,
    Profile,
    ProfileStore,
    check_endpoint,
    is_paper_endpoint,
)
from tplus_cli.errors import ConfigError

PAPER_KEY = "paper"


@dataclass(frozen=True)
class Flags:
    """Global options as given on the command line (None = not given)."""

    profile: str | None = None
    endpoint: str | None = None
    key: str | None = None
    output: str | None = None


@dataclass(frozen=True)
class Settings:
    """The effective profile, endpoint, key and output format, and where each came from."""

    profile: Profile
    endpoint: str
    key: str | None
    output: str
    sources: Mapping[str, str] = field(default_factory=dict)

    @property
    def is_paper(self) -> bool:
        """Whether the endpoint is the local paper venue (embedded or loopback)."""
        return is_paper_endpoint(self.endpoint)

    @property
    def live(self) -> bool:
        """Whether writes need confirmation (the profile says `live = true`)."""
        return self.profile.live

    @property
    def key_name(self) -> str | None:
        """The key to sign with: the resolved key, or "paper" on a paper venue."""
        if self.key:
            return self.key
        return PAPER_KEY if self.is_paper else None


def _pick(
    name: str, flag: str | None, env: Mapping[str, str], env_name: str
) -> tuple[str | None, str]:
    if flag is not None and flag != "":
        return flag, "flag --" + name
    value = env.get(env_name, "")
    if value:
        return value, f"env {env_name}"
    return None, ""


def resolve(flags: Flags, env: Mapping[str, str], store: ProfileStore) -> Settings:
    """Apply flag > env > profile > built-in for profile, endpoint, key and output."""
    sources: dict[str, str] = {}
    # 1. Which profile: --profile, TPLUS_PROFILE, default_profile in profiles.toml, "local".
    name, src = _pick("profile", flags.profile, env, envvars.PROFILE)
    if name is None and store.default_profile:
        name, src = store.default_profile, f"{store.user_path} default_profile"
    if name is None:
        name, src = FALLBACK_PROFILE, "built-in default"
    profile = store.get(name)
    sources["profile"] = src

    def from_profile(key: str) -> str:
        origin = profile.origins.get(key, "built-in")
        return f"profile {profile.name} ({origin})"

    # 2. Endpoint: --endpoint, TPLUS_ENDPOINT, the profile.
    endpoint, src = _pick("endpoint", flags.endpoint, env, envvars.ENDPOINT)
    if endpoint is not None:
        problem = check_endpoint(endpoint)
        if problem:
            raise ConfigError(f"{src}: {endpoint!r}: {problem}")
    else:
        endpoint, src = profile.endpoint, from_profile("endpoint")
    sources["endpoint"] = src

    # 3. Key: --key, TPLUS_KEY, the profile, else none ("paper" on a paper venue).
    key, src = _pick("key", flags.key, env, envvars.KEY)
    if key is None and profile.key:
        key, src = profile.key, from_profile("key")
    if key is None:
        src = "built-in default (paper key on a local venue)" if is_paper_endpoint(endpoint) else ""
    sources["key"] = src or "not set"

    # 4. Output: -o, TPLUS_OUTPUT, the profile, "auto".
    output, src = _pick("output", flags.output, env, envvars.OUTPUT)
    if output is not None and output not in OUTPUT_FORMATS:
        raise ConfigError(f"{src}: {output!r}: must be one of {', '.join(OUTPUT_FORMATS)}")
    if output is None and profile.output:
        output, src = profile.output, from_profile("output")
    if output is None:
        output, src = "auto", "built-in default"
    sources["output"] = src
    sources["live"] = from_profile("live") if "live" in profile.origins else "built-in default"
    return Settings(profile=profile, endpoint=endpoint, key=key, output=output, sources=sources)
