"""Real redis-server processes and cache services for the cache integration tests.

Each test builds its own cache service with namespaces no other test uses, so
tests share one Redis without flushing it and run in any order."""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
from afirgen_cache.bootstrap import CacheContainer, build
from afirgen_cache.settings import CacheSettings, RedisSettings
from afirgen_runtime.server import RunningServer
from afirgen_runtime.settings import ServerSettings

from scripts.devstack.config import free_port

REDIS_SERVER = "/usr/bin/redis-server"


@dataclass
class RedisProcess:
    """A redis-server of a test, on its own port and directory."""

    port: int
    directory: Path
    maxmemory: str
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start (or restart, on the same port) and wait until it answers."""
        self.proc = subprocess.Popen(
            [
                REDIS_SERVER,
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--dir",
                str(self.directory),
                "--save",
                "",
                "--appendonly",
                "no",
                "--maxmemory",
                self.maxmemory,
                "--maxmemory-policy",
                "allkeys-lru",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                if self.client().ping():
                    return
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)

    def stop(self) -> None:
        """Stop it (data is lost: no persistence)."""
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None

    def client(self) -> redis.Redis:
        """A plain synchronous client, to look at what the service stored."""
        return redis.Redis(port=self.port, socket_timeout=5)


def start_redis(directory: Path, maxmemory: str = "64mb") -> RedisProcess:
    """A started redis-server."""
    directory.mkdir(parents=True, exist_ok=True)
    server = RedisProcess(free_port(), directory, maxmemory)
    server.start()
    return server


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisProcess]:
    """One Redis shared by the tests (each uses its own namespaces)."""
    server = start_redis(tmp_path_factory.mktemp("redis"))
    yield server
    server.stop()


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisProcess]:
    """A Redis for one test that stops, restarts or fills it."""
    server = start_redis(tmp_path / "redis", maxmemory="64mb")
    yield server
    server.stop()


def unique_namespace() -> str:
    """A namespace no other test uses."""
    return "t" + uuid.uuid4().hex[:12]


def cache_settings(port: int, namespaces: dict[str, str], **overrides: object) -> CacheSettings:
    """Settings of a cache service on the Redis at ``port``."""
    return CacheSettings(
        server=ServerSettings(port=0, shutdown_grace_seconds=0.5),
        redis=RedisSettings(port=port),
        namespaces=namespaces,
        **overrides,  # type: ignore[arg-type]
    )


@pytest.fixture
async def ns() -> str:
    """This test's namespace."""
    return unique_namespace()


@pytest.fixture
async def cache(redis_server: RedisProcess, ns: str) -> AsyncIterator[CacheContainer]:
    """A cache service (no gRPC) on the shared Redis, with namespace ``ns`` (60 s)."""
    container = build(cache_settings(redis_server.port, {ns: "60"}))
    yield container
    await container.store.close()


async def serve(settings: CacheSettings, port: int = 0) -> tuple[RunningServer, CacheContainer]:
    """A started gRPC cache server (``port`` 0: any free one)."""
    container = build(settings)
    server_settings = ServerSettings(port=port, shutdown_grace_seconds=0.5)
    running = RunningServer(container.app, server_settings)
    await running.start()
    return running, container
