"""What the contract suites share: a clock the test moves by hand.

Each suite runs one set of tests against a hand-written fake (no I/O) and the
real MySQL adapter on the test stack's MariaDB, so the fakes the unit tests
use behave as the adapters do. Every test owns its data: its own station,
district or job type, never rows another test could write."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest


class Clock:
    """``clock()`` is the time the test set; ``advance`` moves it."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        """Move on by ``timedelta(**delta)``; returns the new time."""
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock() -> Clock:
    """Now (to the microsecond MariaDB keeps), moved only by the test."""
    return Clock(datetime.now(UTC).replace(microsecond=0))
