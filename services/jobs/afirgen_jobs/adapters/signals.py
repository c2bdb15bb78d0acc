"""Prompt wake-up of idle workers.

Service side, :class:`Broadcaster` fans a signal out to every worker streaming
``JobQueueService.WatchQueue`` from this replica. Worker side,
:func:`watch_queue` keeps one such stream open (reconnecting with backoff) and
calls ``on_signal`` for each message. Signals are hints: a lost one costs at
most the worker's poll interval, never a job.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

import grpc
from afirgen.jobs.v1 import jobs_pb2, jobs_pb2_grpc
from afirgen_runtime.backoff import Backoff
from loguru import logger

from afirgen_jobs.domain.model import Job

QUEUE_DEPTH = 16
STREAM_SECONDS = 300.0
RECONNECT = Backoff(base_seconds=0.2, cap_seconds=5.0)


class Broadcaster:
    """:class:`~afirgen_jobs.service_layer.ports.Publisher` to in-process subscribers."""

    def __init__(self) -> None:
        self._queues: set[asyncio.Queue[Job | None]] = set()
        self._closed = False

    @property
    def subscribers(self) -> int:
        """Streams open now."""
        return len(self._queues)

    def publish(self, job: Job) -> None:
        """Signal every subscriber; a subscriber that is behind already has a wake-up pending."""
        for queue in self._queues:
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(job)

    async def subscribe(self) -> AsyncIterator[Job | None]:
        """``None`` first (re-check now), then each published job, until :meth:`close`."""
        if self._closed:
            return
        queue: asyncio.Queue[Job | None] = asyncio.Queue(QUEUE_DEPTH)
        self._queues.add(queue)
        try:
            yield None
            while not self._closed:
                item = await queue.get()
                if self._closed:
                    break
                yield item
        finally:
            self._queues.discard(queue)

    def close(self) -> None:
        """End every stream (the server is draining)."""
        self._closed = True
        for queue in self._queues:
            while not queue.empty():
                queue.get_nowait()
            queue.put_nowait(None)


async def watch_queue(
    channel: grpc.aio.Channel, worker: str, on_signal: Callable[[], None], stop: asyncio.Event
) -> None:
    """Keep a WatchQueue stream open until ``stop``; call ``on_signal`` per message."""
    stub = jobs_pb2_grpc.JobQueueServiceStub(channel)
    failures = 0
    while not stop.is_set():
        call = stub.WatchQueue(jobs_pb2.WatchQueueRequest(worker=worker), timeout=STREAM_SECONDS)
        try:
            async for _ in call:
                failures = 0
                on_signal()
        except grpc.aio.AioRpcError as exc:
            if exc.code() != grpc.StatusCode.DEADLINE_EXCEEDED:
                logger.debug("queue watch interrupted: {}", exc.code().name)
        except asyncio.CancelledError:
            call.cancel()
            raise
        failures += 1
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), RECONNECT.delay(failures))
