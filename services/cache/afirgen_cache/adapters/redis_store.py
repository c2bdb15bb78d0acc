"""The cache store on Redis (redis-py asyncio, one blocking connection pool)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from afirgen_runtime.errors import Unavailable
from loguru import logger
from redis import asyncio as aioredis
from redis.exceptions import RedisError, ResponseError

from afirgen_cache.adapters import lua
from afirgen_cache.domain import invalidations
from afirgen_cache.domain.namespaces import Namespace
from afirgen_cache.service_layer.ports import ServerInfo, Slot, Snapshot, Write


@contextmanager
def _redis_errors() -> Iterator[None]:
    """The one place where Redis failures become :class:`Unavailable`."""
    try:
        yield
    except ResponseError as exc:  # e.g. OOM without an eviction policy; never personal data
        logger.warning("redis refused a command: {}", str(exc)[:200])
        raise Unavailable("the cache store refused the command") from exc
    except (TimeoutError, RedisError, OSError) as exc:
        raise Unavailable(f"the cache store is unreachable ({type(exc).__name__})") from exc


class _Reconnects:
    """Counts reconnections of a pub/sub connection (redis-py keeps connect callbacks as weak methods)."""

    def __init__(self) -> None:
        self.count = 0

    async def seen(self, connection: Any) -> None:
        self.count += 1


def _int(value: Any) -> int:
    return int(value.decode() if isinstance(value, bytes) else value)


class RedisStore:
    """:class:`~afirgen_cache.service_layer.ports.CacheStore` on Redis."""

    def __init__(self, client: aioredis.Redis) -> None:
        self._redis = client
        self._read = client.register_script(lua.READ)
        self._write = client.register_script(lua.WRITE)
        self._delete = client.register_script(lua.DELETE)
        self._invalidate = client.register_script(lua.INVALIDATE)

    async def read(self, space: Namespace, keys: Sequence[str], *, lock_ms: int = 0) -> Snapshot:
        with _redis_errors():
            reply = await self._read(
                keys=[space.version_key], args=[space.data_prefix, space.lock_prefix, lock_ms, *keys]
            )
        slots = [
            Slot(raw=reply[i], ttl_ms=int(reply[i + 1]), locked=bool(reply[i + 2])) for i in range(2, len(reply), 3)
        ]
        return Snapshot(version=_int(reply[0]), now_us=_int(reply[1]), slots=slots)

    async def lock(self, space: Namespace, version: int, key: str, lock_ms: int) -> bool:
        with _redis_errors():
            return bool(await self._redis.set(space.lock_key(version, key), b"1", nx=True, px=lock_ms))

    async def write(self, space: Namespace, writes: Sequence[Write], *, lease: int, lease_ttl_us: int) -> list[bool]:
        args: list[Any] = [space.data_prefix, space.lock_prefix, lease, lease_ttl_us]
        for w in writes:
            args += [w.key, w.ttl_ms, w.raw]
        with _redis_errors():
            reply = await self._write(keys=[space.version_key], args=args)
        return [bool(flag) for flag in reply]

    async def delete(self, space: Namespace, keys: Sequence[str], *, tombstone_ms: int) -> int:
        with _redis_errors():
            reply = await self._delete(
                keys=[space.version_key],
                args=[
                    space.data_prefix,
                    space.lock_prefix,
                    tombstone_ms,
                    invalidations.CHANNEL,
                    invalidations.keys_message(space.name, keys),
                    *keys,
                ],
            )
        return int(reply)

    async def invalidate(self, space: Namespace) -> int:
        with _redis_errors():
            message = invalidations.namespace_message(space.name)
            return _int(await self._invalidate(keys=[space.version_key], args=[invalidations.CHANNEL, message]))

    async def publish_heartbeat(self) -> None:
        with _redis_errors():
            await self._redis.publish(invalidations.CHANNEL, invalidations.heartbeat_message())

    async def invalidations(self) -> AsyncIterator[bytes]:
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        reconnects = _Reconnects()
        try:
            with _redis_errors():
                await pubsub.subscribe(invalidations.CHANNEL)
            if pubsub.connection is not None:
                pubsub.connection.register_connect_callback(reconnects.seen)
            while True:
                with _redis_errors():
                    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                if reconnects.count:
                    # redis-py reconnected and subscribed again by itself: what was published
                    # in between is lost, and the subscriber must hear of it.
                    raise Unavailable("the invalidation subscription reconnected; messages may have been lost")
                if message is not None and message.get("type") == "message":
                    yield message["data"]
        finally:
            with contextlib.suppress(Exception):  # the connection may be gone already
                await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def info(self) -> ServerInfo:
        with _redis_errors():
            pipe = self._redis.pipeline(transaction=False)
            pipe.info("memory")
            pipe.info("stats")
            pipe.info("server")
            pipe.dbsize()
            memory, stats, server, keys = await pipe.execute()
        return ServerInfo(
            used_memory_bytes=int(memory.get("used_memory", 0)),
            max_memory_bytes=int(memory.get("maxmemory", 0)),
            eviction_policy=str(memory.get("maxmemory_policy", "")),
            evicted_keys=int(stats.get("evicted_keys", 0)),
            expired_keys=int(stats.get("expired_keys", 0)),
            version=str(server.get("redis_version", "")),
            keys=int(keys),
        )

    async def ping(self) -> bool:
        with _redis_errors():
            return bool(await self._redis.ping())

    async def close(self) -> None:
        await self._redis.aclose()
        await self._redis.connection_pool.disconnect()
