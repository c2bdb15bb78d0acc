"""Per-namespace counters since the service started."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Counters:
    """What happened in one namespace."""

    hits: int = 0
    misses: int = 0
    sets: int = 0
    stale_sets: int = 0
    deletes: int = 0
    invalidations: int = 0
    errors: int = 0
    early_refreshes: int = 0
    fill_waits: int = 0

    @property
    def hit_ratio(self) -> float:
        """hits / (hits + misses); 0 without reads."""
        reads = self.hits + self.misses
        return self.hits / reads if reads else 0.0


@dataclass
class StatsBook:
    """Counters of every namespace."""

    by_namespace: dict[str, Counters] = field(default_factory=dict)

    def of(self, namespace: str) -> Counters:
        """The counters of ``namespace`` (created on first use)."""
        counters = self.by_namespace.get(namespace)
        if counters is None:
            counters = self.by_namespace[namespace] = Counters()
        return counters
