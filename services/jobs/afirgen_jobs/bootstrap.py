"""Composition roots of the jobs package's two processes: :func:`build` wires the jobs API
service (``python -m afirgen_jobs``), :func:`build_worker` a worker (``python -m afirgen_jobs.worker``)
that claims jobs, delivers them and records their outcome."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import grpc
from afirgen.jobs.v1 import jobs_pb2, jobs_pb2_grpc
from afirgen_runtime.channels import create_channel
from afirgen_runtime.clock import utc_now
from afirgen_runtime.db import Database
from afirgen_runtime.pagination import PageTokens
from afirgen_runtime.server import ServiceApp, WorkerApp
from loguru import logger

from afirgen_jobs.adapters import metrics
from afirgen_jobs.adapters.grpc_delivery import GrpcDelivery
from afirgen_jobs.adapters.mysql_queue import MySQLQueue
from afirgen_jobs.adapters.mysql_retention import MySQLFinishedJobs
from afirgen_jobs.adapters.mysql_store import MySQLJobStore
from afirgen_jobs.adapters.queue_gauges import QueueGauges
from afirgen_jobs.adapters.signals import Broadcaster, watch_queue
from afirgen_jobs.domain.retention import PURGE_FINISHED, RetentionPolicy
from afirgen_jobs.domain.rules import Routes
from afirgen_jobs.entrypoints.grpc_servicer import JobQueueServicer, JobServicer
from afirgen_jobs.service_layer.in_process import InProcessDelivery, InProcessHandler
from afirgen_jobs.service_layer.job_service import JobService
from afirgen_jobs.service_layer.ports import Delivery, JobStore, Queue
from afirgen_jobs.service_layer.retention import FinishedJobsPurge, purge_schedule
from afirgen_jobs.service_layer.worker_loop import Worker
from afirgen_jobs.settings import JobsSettings, WorkerSettings

PURGE_SHARE_OF_DEADLINE = 2 / 3
"""Time budget of the purge, as a share of a job attempt's deadline (what is left goes the next day)."""


@dataclass
class JobsContainer:
    """What :func:`build` wired."""

    app: ServiceApp
    service: JobService
    broadcaster: Broadcaster
    database: Database | None


def build(
    settings: JobsSettings,
    *,
    store: JobStore | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> JobsContainer:
    """Wire the jobs API service. Tests may pass a fake ``store`` and ``clock``."""
    if not settings.routes:
        logger.warning("AFIRGEN_ROUTES is empty: every job type will be refused")
    database = None
    if store is None:
        database = Database(settings.mysql)
        store = MySQLJobStore(database)
    broadcaster = Broadcaster()
    service = JobService(
        store,
        Routes(settings.routes),
        settings,
        PageTokens(settings.page_token_secret.encode()),
        broadcaster,
        clock,
    )
    repo = store

    def register(server: grpc.aio.Server) -> None:
        jobs_pb2_grpc.add_JobServiceServicer_to_server(JobServicer(service), server)
        jobs_pb2_grpc.add_JobQueueServiceServicer_to_server(JobQueueServicer(broadcaster), server)

    gauges = QueueGauges(database) if database is not None else None
    period = settings.retention.period_seconds
    purges = purge_schedule(service, clock, period) if period > 0 else None

    async def on_start() -> None:
        if gauges is not None:
            await gauges.start()
        if purges is not None:
            purges.start()

    async def on_drain() -> None:
        broadcaster.close()
        if purges is not None:
            await purges.stop()

    async def on_stop() -> None:
        if gauges is not None:
            await gauges.stop()
        if database is not None:
            await database.close()

    app = ServiceApp(
        name="jobs",
        # Calls that wait on model servers, or stay open, when their client set no deadline.
        deadlines={"WatchQueue": 0.0},
        register=register,
        service_names=[
            jobs_pb2.DESCRIPTOR.services_by_name["JobService"].full_name,
            jobs_pb2.DESCRIPTOR.services_by_name["JobQueueService"].full_name,
        ],
        readiness=repo.ping,
        on_start=on_start,
        on_drain=on_drain,
        on_stop=on_stop,
    )
    return JobsContainer(app=app, service=service, broadcaster=broadcaster, database=database)


@dataclass
class WorkerContainer:
    """What :func:`build_worker` wired."""

    app: WorkerApp
    worker: Worker


def build_worker(
    settings: WorkerSettings, *, queue: Queue | None = None, delivery: Delivery | None = None
) -> WorkerContainer:
    """Wire a worker. Tests may pass a fake ``queue`` and ``delivery``.

    Besides polling, the worker watches the jobs service's queue signals (``AFIRGEN_QUEUE_TARGET``)
    to claim new work at once."""
    if not settings.routes:
        logger.warning("AFIRGEN_ROUTES is empty: every job will fail for want of a handler")
    owned = contextlib.AsyncExitStack()  # what this root opened, closed in reverse order on stop
    database = None
    if queue is None:
        database = Database(settings.mysql)
        owned.push_async_callback(database.close)
        queue = MySQLQueue(database)
    if delivery is None:
        own: dict[str, InProcessHandler] = {}
        if database is not None:
            own[PURGE_FINISHED] = _finished_jobs_purge(database, settings.retention, settings.job_timeout_seconds).run
        delivery = InProcessDelivery(own, GrpcDelivery(Routes(settings.routes)))
    owned.push_async_callback(delivery.close)
    config = dataclasses.replace(
        settings,
        name=settings.name or f"{socket.gethostname()}:{os.getpid()}",
        concurrency=max(1, settings.concurrency),
    )
    worker = Worker(queue, delivery, config, observe=metrics.observe_attempt, on_running=metrics.set_running)
    watching = asyncio.Event()  # set: stop watching

    async def run() -> None:
        watcher = None
        if settings.queue.target:
            channel = create_channel(settings.queue)
            owned.push_async_callback(channel.close)
            watcher = asyncio.create_task(watch_queue(channel, config.name, worker.wake, watching))
        try:
            await worker.run()
        finally:
            watching.set()
            if watcher is not None:
                watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watcher

    def stop() -> None:
        worker.stop()
        watching.set()

    app = WorkerApp(name="jobs-worker", run=run, stop=stop, metrics=settings.metrics, on_stop=owned.aclose)
    return WorkerContainer(app=app, worker=worker)


def _finished_jobs_purge(database: Database, policy: RetentionPolicy, job_timeout_seconds: float) -> FinishedJobsPurge:
    """The worker's runner of ``jobs.purge_finished``."""
    return FinishedJobsPurge(
        MySQLFinishedJobs(database), policy, utc_now, budget_seconds=job_timeout_seconds * PURGE_SHARE_OF_DEADLINE
    )
