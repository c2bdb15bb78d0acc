"""The invalidation feed against a real Redis and two cache services (two replicas): a delete
made through one reaches a near cache that follows the other, and a near cache stops serving
drafts while Redis is away, then serves them again after a reset."""

from __future__ import annotations

import asyncio

import pytest
from afirgen_runtime.cache_client import CacheClient, CacheClientSettings
from afirgen_runtime.near_cache import NearCache, NearCacheSettings

from tests.integration.cache.conftest import RedisProcess, cache_settings, serve, unique_namespace
from tests.waiting import until

pytestmark = pytest.mark.integration


def client_for(port: int) -> CacheClient:
    return CacheClient(CacheClientSettings(target=f"127.0.0.1:{port}", timeout_seconds=1.0))


async def test_a_delete_through_one_replica_reaches_a_near_cache_following_another(
    redis_server: RedisProcess,
) -> None:
    ns = unique_namespace()
    first, _ = await serve(cache_settings(redis_server.port, {ns: "60"}))
    second, _ = await serve(cache_settings(redis_server.port, {ns: "60"}))
    writer, reader = client_for(first.port), client_for(second.port)
    near: NearCache[str] = NearCache(ns, NearCacheSettings(16, 1.0))
    follow = asyncio.create_task(reader.follow([near]))
    try:
        await until(lambda: near.live, what="the feed to be live")
        near.put("k", "old", near.epoch)
        await writer.delete(ns, "k")
        await until(lambda: near.get("k") is None, what="the delete to reach the near cache")
    finally:
        follow.cancel()
        await writer.close()
        await reader.close()
        await first.stop()
        await second.stop()


async def test_a_namespace_invalidation_empties_a_following_near_cache(redis_server: RedisProcess) -> None:
    ns = unique_namespace()
    running, _ = await serve(cache_settings(redis_server.port, {ns: "60"}))
    client = client_for(running.port)
    near: NearCache[str] = NearCache(ns, NearCacheSettings(16, 1.0))
    follow = asyncio.create_task(client.follow([near]))
    try:
        await until(lambda: near.live, what="the feed to be live")
        near.put("final", "f", near.epoch, immutable=True)
        await client.invalidate(ns)
        await until(lambda: len(near) == 0, what="the invalidation to reach the near cache")
    finally:
        follow.cancel()
        await client.close()
        await running.stop()


async def test_drafts_are_not_served_while_redis_is_away_and_are_again_after_a_reset(
    own_redis: RedisProcess,
) -> None:
    ns = unique_namespace()
    running, _ = await serve(cache_settings(own_redis.port, {ns: "60"}))
    client = client_for(running.port)
    near: NearCache[str] = NearCache(ns, NearCacheSettings(16, 1.0))
    follow = asyncio.create_task(client.follow([near]))
    try:
        await until(lambda: near.live, what="the feed to be live")
        near.put("draft", "d", near.epoch)
        own_redis.stop()
        await until(lambda: not near.live, what="the feed to fall silent")
        own_redis.start()
        await until(lambda: near.live, within=30, what="the feed to be live again")
        assert near.get("draft") is None  # the reset after the gap dropped it
    finally:
        follow.cancel()
        await client.close()
        await running.stop()
