"""Periodic health probes of every replica, in the background."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from typing import Any

from loguru import logger

from afirgen_inference.service_layer.backend_pool import BackendPool


class HealthMonitor:
    """Probes each pool's replicas every ``probe_interval_seconds`` of its settings (one task per pool)."""

    def __init__(self, pools: Sequence[BackendPool[Any]]) -> None:
        self._pools = list(pools)
        self._tasks: list[asyncio.Task[None]] = []

    async def probe_once(self) -> None:
        """Probe every replica now (start-up, tests)."""
        await asyncio.gather(*(pool.probe(r) for pool in self._pools for r in pool.replicas))

    async def _loop(self, pool: BackendPool[Any]) -> None:
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            was = {r.name: r.available for r in pool.replicas}
            try:
                await asyncio.gather(*(pool.probe(r) for r in pool.replicas))
            except Exception:  # a bug here must not stop probing for good
                logger.opt(exception=True).error("health probe round failed", backend=pool.kind.value)
            for replica in pool.replicas:
                if was[replica.name] != replica.available:
                    logger.info(
                        "model server health changed",
                        replica=replica.name,
                        available=replica.available,
                        error=replica.last_error if not replica.available else "",
                    )
            # A round starts every interval, however long the last one took (a slow answer must
            # not push back the probe that notices a frozen server).
            await asyncio.sleep(max(0.0, pool.settings.probe_interval_seconds - (loop.time() - started)))

    def start(self) -> None:
        """Start probing in the background."""
        if not self._tasks:
            self._tasks = [asyncio.create_task(self._loop(pool)) for pool in self._pools]

    async def stop(self) -> None:
        """Stop probing."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
