"""Time sources for the venue: the real clock in service, a stepped clock in tests."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    """Anything that tells the current Unix time in nanoseconds."""

    def now_ns(self) -> int:
        """Return the current Unix time in nanoseconds."""
        ...


class SystemClock:
    """The wall clock (time.time_ns), used by the running venue."""

    def now_ns(self) -> int:
        """Return the wall-clock Unix time in nanoseconds."""
        return time.time_ns()


class StepClock:
    """A deterministic clock that only moves when told to, so tests never depend on wall time."""

    def __init__(self, start_ns: int = 1_750_000_000_000_000_000, step_ns: int = 0) -> None:
        self._now = start_ns
        self._step = step_ns

    def now_ns(self) -> int:
        """Return the current time, then advance by the configured step (0 = frozen)."""
        now = self._now
        self._now += self._step
        return now

    def advance(self, delta_ns: int) -> int:
        """Move time forward by delta_ns (never backwards) and return the new time."""
        if delta_ns < 0:
            raise ValueError("a StepClock never goes backwards")
        self._now += delta_ns
        return self._now

    def set(self, now_ns: int) -> None:
        """Jump to now_ns, which must not be earlier than the current time."""
        if now_ns < self._now:
            raise ValueError("a StepClock never goes backwards")
        self._now = now_ns
