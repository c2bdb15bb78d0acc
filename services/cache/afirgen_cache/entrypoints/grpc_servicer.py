"""gRPC servicer of ``afirgen.cache.v1.CacheService``: proto -> use case -> proto."""

from __future__ import annotations

from collections.abc import AsyncIterator

from afirgen.cache.v1 import cache_pb2, cache_pb2_grpc
from afirgen_runtime.identity import ensure_internal, ensure_operator
from afirgen_runtime.interceptors import ServicerContext
from afirgen_runtime.proto_mapping import duration, to_message
from google.protobuf import duration_pb2

from afirgen_cache.domain.invalidations import Kind
from afirgen_cache.domain.namespaces import resolve
from afirgen_cache.service_layer.cache_service import CacheService
from afirgen_cache.service_layer.invalidation_feed import InvalidationFeed

# Answer a waiting GetEntry this long before the caller's deadline.
DEADLINE_MARGIN_SECONDS = 0.01
_KINDS = {
    Kind.HEARTBEAT: cache_pb2.InvalidationEvent.KIND_HEARTBEAT,
    Kind.KEYS: cache_pb2.InvalidationEvent.KIND_KEYS,
    Kind.NAMESPACE: cache_pb2.InvalidationEvent.KIND_NAMESPACE,
    Kind.RESET: cache_pb2.InvalidationEvent.KIND_RESET,
}


def _seconds(value: duration_pb2.Duration) -> float:
    return value.seconds + value.nanos / 1e9


class CacheServicer(cache_pb2_grpc.CacheServiceServicer):
    """``afirgen.cache.v1.CacheService``."""

    def __init__(self, service: CacheService, feed: InvalidationFeed) -> None:
        self._svc = service
        self._feed = feed

    async def GetEntry(
        self, request: cache_pb2.GetEntryRequest, context: ServicerContext
    ) -> cache_pb2.GetEntryResponse:
        ensure_internal()
        wait = _seconds(request.max_wait)
        left = context.time_remaining()
        if wait > 0 and left is not None:
            wait = max(0.0, min(wait, left - DEADLINE_MARGIN_SECONDS))
        found = await self._svc.get(request.namespace, request.key, wait)
        return cache_pb2.GetEntryResponse(
            found=found.found, value=found.value, should_refresh=found.should_refresh, lease=found.lease
        )

    async def BatchGetEntries(
        self, request: cache_pb2.BatchGetEntriesRequest, context: ServicerContext
    ) -> cache_pb2.BatchGetEntriesResponse:
        ensure_internal()
        values, lease = await self._svc.batch_get(request.namespace, list(request.keys))
        return cache_pb2.BatchGetEntriesResponse(values=values, lease=lease)

    async def SetEntry(
        self, request: cache_pb2.SetEntryRequest, context: ServicerContext
    ) -> cache_pb2.SetEntryResponse:
        ensure_internal()
        stored = await self._svc.set(
            request.namespace,
            request.key,
            request.value,
            ttl=_seconds(request.ttl),
            compute_time=_seconds(request.compute_time),
            lease=request.lease,
        )
        return cache_pb2.SetEntryResponse(stored=stored)

    async def BatchSetEntries(
        self, request: cache_pb2.BatchSetEntriesRequest, context: ServicerContext
    ) -> cache_pb2.BatchSetEntriesResponse:
        ensure_internal()
        stored = await self._svc.batch_set(
            request.namespace, dict(request.values), ttl=_seconds(request.ttl), lease=request.lease
        )
        return cache_pb2.BatchSetEntriesResponse(stored=stored)

    async def DeleteEntries(
        self, request: cache_pb2.DeleteEntriesRequest, context: ServicerContext
    ) -> cache_pb2.DeleteEntriesResponse:
        ensure_internal()
        deleted = await self._svc.delete(request.namespace, list(request.keys))
        return cache_pb2.DeleteEntriesResponse(deleted=deleted)

    async def InvalidateNamespace(
        self, request: cache_pb2.InvalidateNamespaceRequest, context: ServicerContext
    ) -> cache_pb2.InvalidateNamespaceResponse:
        ensure_internal()
        version = await self._svc.invalidate(request.namespace)
        return cache_pb2.InvalidateNamespaceResponse(version=version)

    async def WatchInvalidations(
        self, request: cache_pb2.WatchInvalidationsRequest, context: ServicerContext
    ) -> AsyncIterator[cache_pb2.InvalidationEvent]:
        ensure_internal()
        if not request.namespaces:
            resolve(self._svc.namespaces, "")  # INVALID_ARGUMENT: namespace is required
        names = frozenset(resolve(self._svc.namespaces, name).name for name in request.namespaces)
        async for event in self._feed.watch(names):
            yield cache_pb2.InvalidationEvent(kind=_KINDS[event.kind], namespace=event.namespace, keys=event.keys)

    async def GetCacheStats(
        self, request: cache_pb2.GetCacheStatsRequest, context: ServicerContext
    ) -> cache_pb2.CacheStats:
        ensure_operator()
        report = await self._svc.report()
        # Counters and ServerInfo mirror their messages field for field; the rest is named here.
        namespaces = [
            to_message(
                c,
                cache_pb2.NamespaceStats(
                    namespace=space.name, hit_ratio=c.hit_ratio, default_ttl=duration(space.default_ttl)
                ),
            )
            for space, c in report.namespaces
        ]
        return to_message(
            report.server,
            cache_pb2.CacheStats(
                namespaces=namespaces,
                eviction_policy_ok=report.eviction_policy_ok,
                redis_version=report.server.version,
            ),
        )
