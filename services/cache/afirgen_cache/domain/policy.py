"""Expiry policy: TTL jitter and probabilistic early refresh (XFetch)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

Random = Callable[[], float]
"""Returns a float in [0, 1), like :func:`random.random`."""


def jittered_ttl(ttl: float, jitter: float, rand: Random) -> float:
    """``ttl`` shortened by a random fraction of at most ``jitter``.

    Keys written together then expire spread over ``[ttl·(1-jitter), ttl]``.
    Jitter only shortens: the TTL a writer asks for stays an upper bound on how
    stale an entry can get.
    """
    return ttl * (1.0 - jitter * rand())


def should_refresh_early(compute_seconds: float, remaining_seconds: float, beta: float, rand: Random) -> bool:
    """XFetch (Vattani, Chierichetti, Lowenstein, "Optimal Probabilistic Cache
    Stampede Prevention", VLDB 2015): refresh when ``-delta·beta·ln(U) >= time left``.

    ``delta`` is how long the value took to compute; entries that are cheap to
    recompute or far from expiry are almost never refreshed early, expensive
    ones close to expiry almost always, and the expected number of early
    refreshes per expiry stays about one. ``beta > 1`` favours earlier refreshes.
    """
    if compute_seconds <= 0 or remaining_seconds <= 0 or beta <= 0:
        return False
    u = 1.0 - rand()  # in (0, 1]: log(0) is undefined
    return -compute_seconds * beta * math.log(u) >= remaining_seconds


@dataclass(frozen=True)
class Policy:
    """How entries expire, refresh and get filled."""

    ttl_jitter: float = 0.1
    """Fraction by which a TTL is randomly shortened (0 disables jitter)."""
    early_refresh_beta: float = 1.0
    """XFetch beta; 0 disables early refresh."""
    fill_lock_seconds: float = 2.0
    """Lifetime of a fill lock: how long others defer to a filler that died."""
    max_fill_wait_seconds: float = 1.0
    """Longest a reader may wait for another caller's fill (GetEntryRequest.max_wait is capped by it)."""
    lease_seconds: float = 30.0
    """Lifetime of a lease and of a delete's tombstone."""
    expected_eviction_policy: str = "allkeys-lru"
    """The Redis eviction policy the service expects (checked at start-up, reported in stats)."""
