"""Exit codes and the error tree every layer above the client raises.

`app.main()` is the one place these become a message and an exit code. This module
imports nothing from tplus_cli so that any layer may raise these errors.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any


class ExitCode(IntEnum):
    """Process exit codes; scripts branch on these, so they never change meaning."""

    OK = 0
    ERROR = 1  # unexpected: a bug
    USAGE = 2  # usage or bad input (Typer's own code for usage errors too)
    CONFIG = 3  # config or profile problem
    AUTH = 4  # missing key, keyring unavailable, 401/403
    REJECTED = 5  # the venue said no (reject code in the error)
    UNAVAILABLE = 6  # network, timeout, 5xx, a stream that gave up
    RATE_LIMITED = 7
    AMBIGUOUS = 8  # a write whose outcome could not be confirmed
    INTERRUPTED = 130  # Ctrl-C (128 + SIGINT)


class TplusError(Exception):
    """Base of every error the CLI reports as a one-line message plus an optional hint."""

    exit_code: ExitCode = ExitCode.ERROR
    code: str = "ERROR"

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        code: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        if code is not None:
            self.code = code
        self.details: dict[str, Any] = dict(details or {})

    def to_json(self) -> dict[str, Any]:
        """The JSON error object written to stderr under json output."""
        err: dict[str, Any] = {
            "code": self.code,
            "message": self.message,
            "exit_code": int(self.exit_code),
        }
        if self.hint:
            err["hint"] = self.hint
        if self.details:
            err["details"] = self.details
        return {"error": err}


class UsageError(TplusError):
    exit_code = ExitCode.USAGE
    code = "USAGE"


class ConfigError(TplusError):
    exit_code = ExitCode.CONFIG
    code = "CONFIG"


class AuthError(TplusError):
    exit_code = ExitCode.AUTH
    code = "AUTH"


class RejectedError(TplusError):
    exit_code = ExitCode.REJECTED
    code = "REJECTED"


class UnavailableError(TplusError):
    exit_code = ExitCode.UNAVAILABLE
    code = "UNAVAILABLE"


class RateLimitedError(TplusError):
    exit_code = ExitCode.RATE_LIMITED
    code = "RATE_LIMITED"


class AmbiguousError(TplusError):
    exit_code = ExitCode.AMBIGUOUS
    code = "AMBIGUOUS_OUTCOME"


class Interrupted(TplusError):
    exit_code = ExitCode.INTERRUPTED
    code = "INTERRUPTED"
