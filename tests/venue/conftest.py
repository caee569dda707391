"""Fixtures shared by the venue tests that drive `Venue.handle` directly (no sockets)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from service_helpers import SEED_A, SEED_B, T0, Caller, open_venue

from tplus_cli.venue.clock import StepClock
from tplus_cli.venue.handlers import Venue


@pytest.fixture
def clock() -> StepClock:
    """Venue time that moves only when a test moves it."""
    return StepClock(T0)


@pytest.fixture
def venue(tmp_path: Path, clock: StepClock) -> Iterator[Venue]:
    """A fresh venue on its own store, closed afterwards."""
    v = open_venue(tmp_path / "venue.sqlite3", clock)
    yield v
    v.store.close()


@pytest.fixture
def alice(venue: Venue) -> Caller:
    """A funded, logged-in account."""
    return Caller(venue, SEED_A).login()


@pytest.fixture
def bob(venue: Venue) -> Caller:
    """A second funded, logged-in account."""
    return Caller(venue, SEED_B).login()
