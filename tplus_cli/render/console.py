"""Terminal facts and consoles: data goes to stdout, everything else to stderr.

TTY and colour are probed lazily (never at import). Consoles are built with Rich markup,
emoji and highlighting OFF, because venue-supplied strings are data, not markup; NO_COLOR
(any non-empty value) turns colour off. Rich is imported only when a console is built.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from rich.console import Console


def _isatty(stream: TextIO | None) -> bool:
    try:
        return bool(stream is not None and stream.isatty())
    except (ValueError, OSError):  # closed or detached stream
        return False


def stdout_isatty() -> bool:
    """Whether stdout is a terminal (decides `-o auto`: table on a TTY, json when piped)."""
    return _isatty(sys.stdout)


def stdin_isatty() -> bool:
    """Whether stdin is a terminal (decides whether we may prompt)."""
    return _isatty(sys.stdin)


def stderr_isatty() -> bool:
    """Whether stderr is a terminal."""
    return _isatty(sys.stderr)


def no_color() -> bool:
    """Whether colour is disabled by the NO_COLOR convention (https://no-color.org)."""
    return bool(os.environ.get("NO_COLOR", ""))


def make_console(*, stderr: bool = False, file: TextIO | None = None) -> Console:
    """A Rich console on the current stdout/stderr with markup off and NO_COLOR honoured."""
    from rich.console import Console

    stream = file if file is not None else (sys.stderr if stderr else sys.stdout)
    return Console(
        file=stream,
        markup=False,
        emoji=False,
        highlight=False,
        no_color=no_color(),
        soft_wrap=False,
    )


def print_err(line: str) -> None:
    """Write one plain line to stderr (notices, errors); never interpreted as markup."""
    sys.stderr.write(line.rstrip("\n") + "\n")
    sys.stderr.flush()
