"""Every TPLUS_* environment variable the CLI reads, in one place (documented in --help)."""

from __future__ import annotations

from typing import Final

PROFILE: Final = "TPLUS_PROFILE"  # profile name, below --profile
ENDPOINT: Final = "TPLUS_ENDPOINT"  # "embedded" or an http(s) URL, overrides the profile
KEY: Final = "TPLUS_KEY"  # signing key name, overrides the profile
OUTPUT: Final = "TPLUS_OUTPUT"  # auto | table | json | ndjson | csv
DEBUG: Final = "TPLUS_DEBUG"  # "1": show tracebacks
CONFIG_DIR: Final = "TPLUS_CONFIG_DIR"  # default: $XDG_CONFIG_HOME/tplus or ~/.config/tplus
DATA_DIR: Final = "TPLUS_DATA_DIR"  # default: $XDG_DATA_HOME/tplus or ~/.local/share/tplus
PASSPHRASE_FILE: Final = "TPLUS_PASSPHRASE_FILE"  # file holding the encrypted-key passphrase (cron)
PASSWORD: Final = "TPLUS_PASSWORD"  # password of a tpluspy keyfile (`keys import --from-tpluspy`)
KEYSTORE: Final = "TPLUS_KEYSTORE"  # auto | keyring | file: force where new secrets go

ALL: Final = (
    PROFILE,
    ENDPOINT,
    KEY,
    OUTPUT,
    DEBUG,
    CONFIG_DIR,
    DATA_DIR,
    PASSPHRASE_FILE,
    PASSWORD,
    KEYSTORE,
)


def truthy(value: str | None) -> bool:
    """Whether an environment flag is set ("", "0", "false", "no" mean off)."""
    return (value or "").strip().lower() not in ("", "0", "false", "no", "off")
