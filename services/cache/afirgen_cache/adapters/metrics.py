"""Prometheus view of the cache: the per-namespace counters behind GetCacheStats
and the last Redis memory facts, read at scrape time (no second bookkeeping)."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from afirgen_cache.service_layer.cache_service import CacheService

COUNTERS = {
    "hits": "Reads that found an entry",
    "misses": "Reads that found none",
    "sets": "Entries written",
    "stale_sets": "Writes refused because their lease was stale",
    "deletes": "Keys deleted",
    "invalidations": "Namespace invalidations",
    "errors": "Redis failures",
    "early_refreshes": "Hits whose caller was chosen to refresh early",
    "fill_waits": "Misses that waited for another caller's fill",
}


class CacheCollector(Collector):
    """Collects from one :class:`CacheService`."""

    def __init__(self, service: CacheService) -> None:
        self._service = service

    def collect(self) -> Iterator[Metric]:
        """One family per counter, labelled by namespace, then Redis gauges."""
        books = dict(self._service.stats.by_namespace)
        for name, text in COUNTERS.items():
            family = CounterMetricFamily(f"afirgen_cache_{name}", text, labels=["namespace"])
            for namespace, counters in books.items():
                family.add_metric([namespace], getattr(counters, name))
            yield family
        ratio = GaugeMetricFamily("afirgen_cache_hit_ratio", "hits / reads since start", labels=["namespace"])
        for namespace, counters in books.items():
            ratio.add_metric([namespace], counters.hit_ratio)
        yield ratio
        server = self._service.last_server
        for name, value, text in (
            ("redis_used_memory_bytes", server.used_memory_bytes, "Redis memory in use"),
            ("redis_max_memory_bytes", server.max_memory_bytes, "Redis memory limit"),
            ("redis_evicted_keys", server.evicted_keys, "Keys Redis evicted since it started"),
            ("redis_keys", server.keys, "Keys in Redis"),
        ):
            yield GaugeMetricFamily(f"afirgen_cache_{name}", text, value=value)
        yield GaugeMetricFamily(
            "afirgen_cache_eviction_policy_ok",
            "1 when Redis has a memory limit and the expected eviction policy",
            value=1 if self._service.policy_ok(server) else 0,
        )
