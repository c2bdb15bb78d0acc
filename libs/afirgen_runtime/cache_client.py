"""Client of the cache service for every other service: a cache failure is a miss.

Rules it keeps, so that no request ever fails or hangs because of the cache:

- every call has a tight deadline (``timeout_seconds``, 50 ms by default);
  an error, a timeout or an open circuit is answered as a miss, never raised;
- a circuit breaker (``purgatory``) opens after ``failure_threshold`` failures
  in a row: while it is open the cache is not called at all, so a dead cache
  adds no latency; after ``recovery_seconds`` one call probes it and, if it
  answers, the circuit closes again. Transitions are logged and counted;
- an invalidation that could not be delivered is remembered per namespace:
  until a whole-namespace invalidation has gone through, reads of that
  namespace bypass the cache, so an entry a write made stale is never served
  once the cache is back;
- :meth:`CacheClient.get_or_load` runs one load per key at a time in this
  process (single flight). Across processes the cache service hands the fill
  lock of a missing key to one reader; the others wait for its value in a
  second call (up to ``fill_wait_seconds``) instead of loading it again. The
  result is stored with the read's lease, so a value computed from data older
  than a concurrent write is refused by the cache;
- :meth:`CacheClient.follow` keeps near caches (:mod:`afirgen_runtime.near_cache`)
  coherent with the cache service's invalidation feed, reconnecting when it breaks.

Only this module touches the cache's generated gRPC types; services depend on
the :class:`Cache` protocol.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import grpc
from afirgen.cache.v1 import cache_pb2, cache_pb2_grpc
from loguru import logger
from prometheus_client import Counter, Gauge
from purgatory import AsyncCircuitBreakerFactory
from purgatory.domain.model import OpenedState

from afirgen_runtime.channels import ChannelSettings, create_channel
from afirgen_runtime.errors import InvalidArgument
from afirgen_runtime.grpc_errors import translate_rpc_errors
from afirgen_runtime.near_cache import NearCache
from afirgen_runtime.proto_mapping import duration
from afirgen_runtime.single_flight import SingleFlight

T = TypeVar("T")
CIRCUIT = "cache"
FOLLOW_SECONDS = 86400.0
CLIENT_EVENTS = Counter(
    "afirgen_cache_client_events_total",
    "What cache clients saw (hits, misses, loads, errors, short_circuits, bypasses, lost_invalidations...)",
    ["namespace", "event"],
)
CLIENT_CIRCUIT_OPEN = Gauge("afirgen_cache_client_circuit_open", "1 while the cache circuit is open (cache skipped)")
# gRPC's default reconnect backoff grows to 120 s: after a long outage the
# cache would stay unused for minutes after it is back. Probe every <= 2 s.
RECONNECT_OPTIONS = (
    ("grpc.initial_reconnect_backoff_ms", 250),
    ("grpc.min_reconnect_backoff_ms", 250),
    ("grpc.max_reconnect_backoff_ms", 2000),
)


@dataclass(frozen=True)
class CacheClientSettings(ChannelSettings):
    """How a service reaches the cache (``AFIRGEN_CACHE_*``); an empty ``target`` turns caching off."""

    timeout_seconds: float = 0.05
    """Deadline of one cache call: a slower answer is a miss."""
    fill_wait_seconds: float = 0.1
    """On a miss that another process is filling (holds the fill lock), wait this
    long for its value in a second call; 0: load at once."""
    failure_threshold: int = 5
    """Failures in a row that open the circuit."""
    recovery_seconds: float = 2.0
    """Time the circuit stays open before one call probes the cache again."""


@dataclass(frozen=True)
class Fill:
    """What a loader may return instead of plain bytes: the value and its own TTL."""

    value: bytes
    ttl: float | None = None
    """Seconds; ``None``: the TTL given to ``get_or_load`` (or the namespace default)."""


Loader = Callable[[], Awaitable[bytes | Fill | None]]
"""Computes a value on a miss; ``None`` means "nothing to cache" (e.g. not found)."""


class Cache(Protocol):
    """What services need from a cache. Implementations never raise for cache failures."""

    async def get(self, namespace: str, key: str) -> bytes | None:
        """The cached value, or ``None`` on a miss or any failure."""
        ...

    async def get_or_load(self, namespace: str, key: str, loader: Loader, ttl: float | None = None) -> bytes | None:
        """The cached value, or the loader's (stored for the next reader)."""
        ...

    async def delete(self, namespace: str, *keys: str) -> None:
        """Make ``keys`` stale before the caller answers its own client."""
        ...

    async def invalidate(self, namespace: str) -> None:
        """Make every entry of ``namespace`` stale."""
        ...

    async def close(self) -> None:
        """Release the connection."""
        ...


def _delete(namespace: str, *keys: str) -> cache_pb2.DeleteEntriesRequest:
    return cache_pb2.DeleteEntriesRequest(namespace=namespace, keys=list(keys))


def _fill(result: bytes | Fill | None, ttl: float | None) -> Fill | None:
    if result is None or isinstance(result, Fill):
        return result
    return Fill(result, ttl)


class CacheClient:
    """:class:`Cache` over the cache service's gRPC API."""

    def __init__(
        self, settings: CacheClientSettings, *, channel: grpc.aio.Channel | None = None, stub: Any = None
    ) -> None:
        """``channel`` or ``stub`` replace the channel to ``settings.target`` (tests)."""
        self._settings = settings
        self._timeout = settings.timeout_seconds
        self._channel: grpc.aio.Channel | None = None
        if stub is None:
            self._channel = channel if channel is not None else create_channel(settings, RECONNECT_OPTIONS)
            stub = cache_pb2_grpc.CacheServiceStub(self._channel)
        self._owns_channel = channel is None and self._channel is not None
        self._stub: cache_pb2_grpc.CacheServiceStub = stub
        # purgatory counts every exception raised inside the breaker as a
        # failure, except these: bad input is our bug, not the cache's health,
        # and a cancelled caller says nothing about the cache either.
        self._breakers = AsyncCircuitBreakerFactory(
            default_threshold=settings.failure_threshold,
            default_ttl=settings.recovery_seconds,
            exclude=[InvalidArgument, asyncio.CancelledError],
        )
        self._breakers.add_listener(self._on_breaker_event)
        # A fill nobody waits for any more still fills the cache for the next reader.
        self._flights: SingleFlight[tuple[str, str], bytes | None] = SingleFlight(cancel_when_abandoned=False)
        self._background: set[asyncio.Task[Any]] = set()
        self._owed: set[str] = set()
        self.counters: collections.Counter[str] = collections.Counter()
        """What this client saw, by event (the names of :data:`CLIENT_EVENTS`' ``event`` label)."""
        self.circuit_state = "closed"

    # --- the safety net -------------------------------------------------------
    def _count(self, event: str, namespace: str = "") -> None:
        self.counters[event] += 1
        CLIENT_EVENTS.labels(namespace, event).inc()

    def _on_breaker_event(self, name: str, event_type: str, event: Any) -> None:
        if event_type != "state_changed":
            return
        self.circuit_state = str(event.state)
        if event.state == "opened":
            self._count("circuit_opened")
            CLIENT_CIRCUIT_OPEN.set(1)
            logger.warning(
                "cache circuit opened: cache calls are skipped (answered as misses) for {}s",
                self._settings.recovery_seconds,
            )
        elif event.state == "closed":
            self._count("circuit_closed")
            CLIENT_CIRCUIT_OPEN.set(0)
            logger.info("cache circuit closed: the cache answers again")

    async def _call(self, rpc: Callable[..., Awaitable[T]], request: Any, seconds: float) -> T | None:
        """One guarded call: the reply, or ``None`` for any failure (never raises, except cancellation)."""
        try:
            breaker = await self._breakers.get_breaker(CIRCUIT)
            async with breaker:
                with translate_rpc_errors():
                    return await rpc(request, timeout=seconds)
        except OpenedState:
            self._count("short_circuits", request.namespace)
        except InvalidArgument as exc:
            self._count("errors", request.namespace)
            logger.warning("cache refused a request: {}", exc.message)
        except Exception as exc:  # a cache failure is a miss, whatever it is
            self._count("errors", request.namespace)
            logger.debug("cache call failed: {}", type(exc).__name__, reason=getattr(exc, "reason", ""))
        return None

    async def _settle_debts(self, namespace: str) -> bool:
        """True when no invalidation of ``namespace`` is owed (paying it now if possible)."""
        if namespace not in self._owed:
            return True
        reply = await self._call(
            self._stub.InvalidateNamespace,
            cache_pb2.InvalidateNamespaceRequest(namespace=namespace),
            self._timeout,
        )
        if reply is None:
            self._count("bypasses", namespace)
            return False
        self._owed.discard(namespace)
        logger.info("owed cache invalidation delivered", namespace=namespace)
        return True

    def _owe(self, namespace: str) -> None:
        self._count("lost_invalidations", namespace)
        if namespace not in self._owed:
            logger.warning(
                "cache invalidation lost; the namespace is bypassed until it can be invalidated whole",
                namespace=namespace,
            )
        self._owed.add(namespace)

    # --- reads ----------------------------------------------------------------
    async def get(self, namespace: str, key: str) -> bytes | None:
        """The cached value, or ``None`` on a miss or any failure."""
        if not await self._settle_debts(namespace):
            return None
        reply = await self._get_entry(namespace, key)
        if reply is None or not reply.found:
            self._count("misses", namespace)
            return None
        self._count("hits", namespace)
        return bytes(reply.value)

    async def get_or_load(self, namespace: str, key: str, loader: Loader, ttl: float | None = None) -> bytes | None:
        """The cached value; on a miss the loader's, stored for the next reader.

        Concurrent callers for one key in this process share one load; the
        loader's exceptions reach every one of them (a cache failure never does).
        """
        if (namespace, key) in self._flights:
            self._count("coalesced", namespace)
        value, _ = await self._flights.run((namespace, key), lambda: self._read_through(namespace, key, loader, ttl))
        return value

    async def _get_entry(self, namespace: str, key: str, wait: float = 0.0) -> cache_pb2.GetEntryResponse | None:
        request = cache_pb2.GetEntryRequest(namespace=namespace, key=key)
        if wait > 0:
            request.max_wait.CopyFrom(duration(wait))
        return await self._call(self._stub.GetEntry, request, self._timeout + wait)

    async def _read_through(self, namespace: str, key: str, loader: Loader, ttl: float | None) -> bytes | None:
        reply = None
        if await self._settle_debts(namespace):
            # The first read has the tight deadline: a slow cache is a miss.
            reply = await self._get_entry(namespace, key)
            if reply is not None and not reply.found and not reply.should_refresh and self._settings.fill_wait_seconds:
                # Another process holds the fill lock: it is loading this very
                # value. Waiting briefly for it beats loading it once more.
                waited = await self._get_entry(namespace, key, self._settings.fill_wait_seconds)
                reply = waited if waited is not None else reply
        if reply is not None and reply.found:
            self._count("hits", namespace)
            if reply.should_refresh:
                self._refresh_in_background(namespace, key, loader, ttl, reply.lease)
            return bytes(reply.value)
        self._count("misses", namespace)
        fill, elapsed = await self._load(namespace, loader, ttl)
        if fill is None:
            if reply is not None and reply.should_refresh:
                # Nothing to store, but this caller holds the fill lock: release
                # it, or other readers would wait for a value that never comes.
                self._in_background(self._call(self._stub.DeleteEntries, _delete(namespace, key), self._timeout))
            return None
        if reply is not None:
            # The cache answered: store with the read's lease, off the request
            # path (the fill lock makes concurrent readers wait for this value,
            # and the lease refuses it if a write overtook it).
            self._in_background(self._store(namespace, key, fill, elapsed, reply.lease))
        return fill.value

    async def _load(self, namespace: str, loader: Loader, ttl: float | None) -> tuple[Fill | None, float]:
        self._count("loads", namespace)
        started = time.perf_counter()
        fill = _fill(await loader(), ttl)
        return fill, time.perf_counter() - started

    async def _store(self, namespace: str, key: str, fill: Fill, compute_time: float, lease: int) -> bool:
        request = cache_pb2.SetEntryRequest(
            namespace=namespace, key=key, value=fill.value, compute_time=duration(compute_time), lease=lease
        )
        if fill.ttl is not None:
            request.ttl.CopyFrom(duration(fill.ttl))
        reply = await self._call(self._stub.SetEntry, request, self._timeout)
        if reply is None:
            return False
        if reply.stored:
            self._count("sets", namespace)
        else:
            self._count("stale_sets", namespace)
        return bool(reply.stored)

    def _refresh_in_background(self, namespace: str, key: str, loader: Loader, ttl: float | None, lease: int) -> None:
        """Early refresh (XFetch): this caller already has a value; recompute it off the request path."""

        async def refresh() -> None:
            try:
                fill, elapsed = await self._load(namespace, loader, ttl)
                if fill is not None:
                    await self._store(namespace, key, fill, elapsed, lease)
            except Exception as exc:  # the entry simply expires later
                logger.debug("early cache refresh failed: {}", type(exc).__name__)

        self._count("early_refreshes", namespace)
        self._in_background(refresh())

    def _in_background(self, work: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def flush(self) -> None:
        """Wait for background writes (fills, early refreshes) to finish."""
        while self._background:
            await asyncio.gather(*self._background, return_exceptions=True)

    # --- writes ---------------------------------------------------------------
    async def delete(self, namespace: str, *keys: str) -> None:
        """Make ``keys`` stale; if the cache cannot be told, the namespace is owed an invalidation."""
        if not keys:
            return
        for key in keys:  # a fill running now may have read before the write: later readers load anew
            self._flights.forget((namespace, key))
        if namespace in self._owed and not await self._settle_debts(namespace):
            return  # still owed: the whole namespace goes once the cache is back
        reply = await self._call(self._stub.DeleteEntries, _delete(namespace, *keys), self._timeout)
        if reply is None:
            self._owe(namespace)

    async def invalidate(self, namespace: str) -> None:
        """Make every entry of ``namespace`` stale (or owe it, see :meth:`delete`)."""
        reply = await self._call(
            self._stub.InvalidateNamespace,
            cache_pb2.InvalidateNamespaceRequest(namespace=namespace),
            self._timeout,
        )
        if reply is None:
            self._owe(namespace)
        else:
            self._owed.discard(namespace)

    # --- near caches ------------------------------------------------------------------
    async def follow(self, caches: list[NearCache[Any]], *, retry_seconds: float = 0.5) -> None:
        """Apply the cache service's invalidation feed to ``caches`` until cancelled.

        While the stream is down the caches are told so (their mutable entries are
        not served); each new stream starts with a reset."""
        by_name = {near.namespace: near for near in caches}
        request = cache_pb2.WatchInvalidationsRequest(namespaces=list(by_name))
        kinds = cache_pb2.InvalidationEvent
        while True:
            try:
                # The stream stays open: a day's deadline, then it is simply opened again.
                async for event in self._stub.WatchInvalidations(request, timeout=FOLLOW_SECONDS):
                    if event.kind == kinds.KIND_RESET:
                        for near in caches:
                            near.connected()
                            near.reset()
                    elif event.kind in (kinds.KIND_KEYS, kinds.KIND_NAMESPACE):
                        target = by_name.get(event.namespace)
                        if target is not None:
                            target.apply(event.keys, event.kind == kinds.KIND_NAMESPACE)
                    for near in caches:
                        near.heard()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the cache is down or restarting: a near cache without its feed
                logger.debug("invalidation feed broke: {}", type(exc).__name__)
            for near in caches:
                near.disconnected()
            self._count("feed_breaks")
            await asyncio.sleep(retry_seconds)

    async def close(self) -> None:
        """Stop background refreshes and close the channel (if this client opened it)."""
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        if self._owns_channel and self._channel is not None:
            await self._channel.close()


async def invalidate_namespaces(settings: CacheClientSettings, *namespaces: str) -> bool:
    """Invalidate ``namespaces`` once, for a command run beside the services (it waits at least 2 s
    for the cache service); ``False`` when the cache service could not be told of one of them."""
    client = CacheClient(dataclasses.replace(settings, timeout_seconds=max(settings.timeout_seconds, 2.0)))
    try:
        for namespace in namespaces:
            await client.invalidate(namespace)
    finally:
        await client.close()
    return not client.counters["lost_invalidations"]
