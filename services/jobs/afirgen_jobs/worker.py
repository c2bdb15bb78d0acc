"""``python -m afirgen_jobs.worker``: a worker process until SIGTERM.

Run any number of them. Each claims due jobs from MySQL, delivers them to the
owning service and records the outcome; a SIGTERM lets running jobs finish
(or releases them after the grace period).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys

import grpc
from afirgen_runtime import logging, metrics, secrets, settings
from afirgen_runtime.channels import create_channel

from afirgen_jobs.adapters.signals import watch_queue
from afirgen_jobs.bootstrap import WorkerContainer, build_worker
from afirgen_jobs.settings import WorkerSettings


async def run(config: WorkerSettings) -> None:
    """Run one worker until SIGTERM/SIGINT, then shut down gracefully."""
    container = build_worker(config)
    worker = container.worker
    metrics.serve(config.metrics)
    sampler = metrics.ResourceSampler(config.metrics)
    sampler.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    channel: grpc.aio.Channel | None = create_channel(config.queue) if config.queue.target else None
    watcher = None
    if channel is not None:
        watcher = asyncio.create_task(watch_queue(channel, worker.config.name, worker.wake, stop))
    runner = asyncio.create_task(worker.run())
    stopper = asyncio.create_task(stop.wait())
    # A crashed loop ends the process too (the supervisor restarts it).
    await asyncio.wait({runner, stopper}, return_when=asyncio.FIRST_COMPLETED)
    worker.stop()
    stop.set()
    try:
        await runner
    finally:
        sampler.stop()
        await _close(watcher, channel, container)


async def _close(
    watcher: asyncio.Task[None] | None, channel: grpc.aio.Channel | None, container: WorkerContainer
) -> None:
    if watcher is not None:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
    if channel is not None:
        await channel.close()
    await container.delivery.close()
    if container.database is not None:
        await container.database.close()


def main() -> None:
    """Entry point."""
    import uvloop

    config = settings.load(WorkerSettings)
    logging.configure("jobs-worker", config.log)
    environment = settings.load(settings.ServerSettings, prefix="AFIRGEN_SERVER").environment
    try:
        secrets.check("AFIRGEN_MYSQL_PASSWORD", config.mysql.password, environment=environment)
    except secrets.WeakSecret as refused:
        print(f"refusing to start: {refused}", file=sys.stderr)
        raise SystemExit(2) from None
    uvloop.run(run(config))


if __name__ == "__main__":
    main()
