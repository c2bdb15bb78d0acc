"""The real clock, for the composition roots to inject where a ``clock`` is taken (tests pass their own)."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)
