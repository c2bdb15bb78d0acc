"""Composition root of the cache service: the only place that wires adapters."""

from __future__ import annotations

import asyncio
import contextlib
import random
from dataclasses import dataclass

import grpc
from afirgen.cache.v1 import cache_pb2, cache_pb2_grpc
from afirgen_runtime.errors import Unavailable
from afirgen_runtime.server import ServiceApp
from loguru import logger
from prometheus_client import REGISTRY
from redis import asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from afirgen_cache.adapters.metrics import CacheCollector
from afirgen_cache.adapters.redis_store import RedisStore
from afirgen_cache.domain.namespaces import parse_namespaces
from afirgen_cache.domain.policy import Random
from afirgen_cache.entrypoints.grpc_servicer import CacheServicer
from afirgen_cache.service_layer.cache_service import CacheService
from afirgen_cache.service_layer.invalidation_feed import InvalidationFeed
from afirgen_cache.service_layer.ports import CacheStore
from afirgen_cache.settings import CacheSettings, RedisSettings

SERVICE_NAME = cache_pb2.DESCRIPTOR.services_by_name["CacheService"].full_name
SERVER_FACTS_SECONDS = 15.0


@dataclass
class CacheContainer:
    """What ``build`` wired, for the server and for tests."""

    app: ServiceApp
    service: CacheService
    store: CacheStore
    feed: InvalidationFeed


def redis_client(settings: RedisSettings) -> aioredis.Redis:
    """A client on a blocking pool: beyond ``max_connections`` calls wait (up to
    ``pool_timeout_seconds``) instead of failing as the default pool does.

    One retry without backoff reconnects a pooled connection that Redis closed
    (e.g. after a restart); more retries would only make a dead Redis slower."""
    pool = aioredis.BlockingConnectionPool(
        host=settings.host,
        port=settings.port,
        db=settings.db,
        password=settings.password or None,
        max_connections=settings.max_connections,
        timeout=settings.pool_timeout_seconds,
        socket_timeout=settings.socket_timeout_seconds,
        socket_connect_timeout=settings.connect_timeout_seconds,
        retry=Retry(NoBackoff(), 1),
    )
    return aioredis.Redis(connection_pool=pool)


def build(settings: CacheSettings, *, store: CacheStore | None = None, rand: Random = random.random) -> CacheContainer:
    """Wire the service. Tests may pass their own ``store`` and ``rand``."""
    spaces = parse_namespaces(settings.namespaces)
    if store is None:
        store = RedisStore(redis_client(settings.redis))
    service = CacheService(store, spaces, limits=settings, policy=settings, rand=rand)
    feed = InvalidationFeed(store, settings.feed)
    owned_store = store

    def register(server: grpc.aio.Server) -> None:
        cache_pb2_grpc.add_CacheServiceServicer_to_server(CacheServicer(service, feed), server)

    collector = CacheCollector(service)
    refresher: list[asyncio.Task[None]] = []

    async def refresh_server_facts() -> None:
        while True:  # Redis memory facts for the metrics endpoint
            await asyncio.sleep(SERVER_FACTS_SECONDS)
            await service.report()

    async def on_start() -> None:
        try:
            await service.check_memory_policy()
        except Unavailable:
            logger.warning("redis is unreachable at start-up; memory policy not checked yet")
        try:
            REGISTRY.register(collector)
        except ValueError:  # another cache service in this process (tests) exports already
            logger.info("cache metrics already exported by another instance in this process")
        refresher.append(asyncio.create_task(refresh_server_facts()))
        feed.start()

    async def on_drain() -> None:
        await feed.stop()  # ends the watch streams, which would hold the shutdown otherwise

    async def on_stop() -> None:
        for task in refresher:
            task.cancel()
        with contextlib.suppress(KeyError):
            REGISTRY.unregister(collector)
        await owned_store.close()

    async def readiness() -> bool:
        return await owned_store.ping()

    app = ServiceApp(
        name="cache",
        register=register,
        service_names=[SERVICE_NAME],
        readiness=readiness,
        on_start=on_start,
        on_drain=on_drain,
        on_stop=on_stop,
        deadlines={"WatchInvalidations": 0.0},  # a stream that stays open
    )
    return CacheContainer(app=app, service=service, store=store, feed=feed)
