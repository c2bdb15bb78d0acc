"""What scenarios measure, in one shape, so reports, gates and baselines share it."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Measurement:
    """One load run (or one timed statement): throughput and latency percentiles."""

    scenario: str
    """Scenario that produced it (``grpc``, ``rest``, ``database``...)."""
    key: str
    """Stable name used by gates and baselines, e.g. ``grpc.envoy.GetFir.c50``."""
    label: str
    """Human label for tables and charts."""
    tool: str
    """``ghz``, ``wrk``, ``hey``, ``python``..."""
    concurrency: int = 0
    target_rps: float = 0.0
    """Requested rate for fixed-rate runs; 0 for closed-loop runs."""
    rps: float = 0.0
    count: int = 0
    errors: int = 0
    p50_ms: float = 0.0
    p90_ms: float = 0.0
    p99_ms: float = 0.0
    max_ms: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_samples(
        cls, scenario: str, key: str, label: str, tool: str, samples_ms: list[float], **fields: Any
    ) -> Measurement:
        """A measurement of sequential calls timed one by one (``samples_ms``, at least one)."""
        ordered = sorted(samples_ms)

        def at(q: float) -> float:
            return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

        fields.setdefault("concurrency", 1)
        return cls(
            scenario,
            key,
            label,
            tool,
            count=len(ordered),
            p50_ms=at(0.5),
            p90_ms=at(0.9),
            p99_ms=at(0.99),
            max_ms=ordered[-1],
            **fields,
        )

    @property
    def error_rate(self) -> float:
        """Errors over all requests (0 when nothing ran)."""
        return self.errors / self.count if self.count else 0.0

    def metrics(self) -> dict[str, float]:
        """Flat ``<key>.<metric>`` values for gates and baselines."""
        out = {
            f"{self.key}.rps": self.rps,
            f"{self.key}.p50_ms": self.p50_ms,
            f"{self.key}.p90_ms": self.p90_ms,
            f"{self.key}.p99_ms": self.p99_ms,
            f"{self.key}.error_rate": self.error_rate,
        }
        return {k: v for k, v in out.items() if v or k.endswith("error_rate")}


@dataclass
class Results:
    """Everything one run produced."""

    profile: str
    measurements: list[Measurement] = field(default_factory=list)
    figures: dict[str, float] = field(default_factory=dict)
    """Derived numbers (ratios, hit ratio, rows...) named ``area.what``."""
    notes: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    """Scenario -> why it did not run."""
    failed: dict[str, str] = field(default_factory=dict)
    """Scenario -> the error that stopped it."""
    timings: dict[str, float] = field(default_factory=dict)
    """Wall-clock seconds per scenario."""
    environment: dict[str, Any] = field(default_factory=dict)

    def add(self, measurement: Measurement) -> Measurement:
        """Record and return ``measurement``."""
        self.measurements.append(measurement)
        return measurement

    def find(self, key: str) -> Measurement | None:
        """The last measurement named ``key``."""
        for m in reversed(self.measurements):
            if m.key == key:
                return m
        return None

    def metrics(self) -> dict[str, float]:
        """Every flat metric: measurements' and figures."""
        out: dict[str, float] = {}
        for m in self.measurements:
            out.update(m.metrics())
        out.update(self.figures)
        return out

    @classmethod
    def load(cls, path: Path) -> Results:
        """Read results written by :meth:`save`."""
        data = json.loads(path.read_text())
        data["measurements"] = [Measurement(**m) for m in data.get("measurements", [])]
        return cls(**data)

    def save(self, path: Path) -> None:
        """Write the raw results as JSON."""
        data = asdict(self)
        path.write_text(json.dumps(data, indent=2, default=str))
