"""Wiring of the FIR service's background work (part of the composition root):
the outbox relay to the jobs service, the retention purge's schedule, the job
handlers and document downloads."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import grpc
import httpx
from afirgen.jobs.v1 import jobs_pb2, jobs_pb2_grpc
from afirgen_runtime.channels import create_channel
from afirgen_runtime.db import Database
from loguru import logger

from afirgen_fir.adapters.jobs_client import GrpcJobQueue
from afirgen_fir.adapters.mysql_jobs import MySQLDocumentStore, MySQLOutbox
from afirgen_fir.adapters.mysql_retention import MySQLRetentionStore
from afirgen_fir.adapters.pdf_renderer import ProcessPdfRenderer
from afirgen_fir.adapters.webhook import WebhookNotifier
from afirgen_fir.entrypoints.job_handler import FirJobHandlerServicer
from afirgen_fir.service_layer.fir_jobs import FirDocuments, FirJobHandlers
from afirgen_fir.service_layer.job_ports import DocumentStore, JobQueue, Notifier, OutboxStore, RetentionStore
from afirgen_fir.service_layer.outbox_relay import OutboxRelay
from afirgen_fir.service_layer.ports import FirRepository
from afirgen_fir.service_layer.retention import FirRetention, purge_schedule
from afirgen_fir.settings import FirSettings

JOB_HANDLER_SERVICE = jobs_pb2.DESCRIPTOR.services_by_name["JobHandlerService"].full_name


class FirBackground:
    """The relay and the purge schedule (started with the server), the handlers and the documents."""

    def __init__(
        self,
        settings: FirSettings,
        database: Database,
        clock: Callable[[], datetime],
        *,
        outbox: OutboxStore | None = None,
        queue: JobQueue | None = None,
        documents: DocumentStore | None = None,
        notifier: Notifier | None = None,
        retention: RetentionStore | None = None,
    ) -> None:
        self._channel: grpc.aio.Channel | None = None
        self._http: httpx.AsyncClient | None = None
        if queue is None and settings.jobs.target:
            self._channel = create_channel(settings.jobs)
            queue = GrpcJobQueue(self._channel)
        self.relay = (
            OutboxRelay(
                outbox or MySQLOutbox(database, clock),
                queue,
                settings.outbox,
            )
            if queue is not None
            else None
        )
        if notifier is None and settings.webhook_url:
            self._http = httpx.AsyncClient(timeout=settings.webhook_timeout_seconds)
            notifier = WebhookNotifier(settings.webhook_url, settings.webhook_secret, self._http)
        self._notifier = notifier
        kept = settings.retention
        self.retention = FirRetention(retention or MySQLRetentionStore(database), kept, clock)
        self.purges = (
            purge_schedule(queue, clock, kept.period_seconds) if queue is not None and kept.period_seconds > 0 else None
        )
        self.store = documents or MySQLDocumentStore(database, clock)
        self._renderer = ProcessPdfRenderer()
        self.handlers: FirJobHandlers | None = None
        self.documents: FirDocuments | None = None

    def nudge(self) -> None:
        """An FIR change committed outbox rows: send them now."""
        if self.relay is not None:
            self.relay.nudge()

    def bind(self, firs: FirRepository) -> None:
        """Give the handlers and downloads the FIR repository."""
        self.handlers = FirJobHandlers(firs, self.store, self._renderer, self._notifier, self.retention)
        self.documents = FirDocuments(firs, self.store)

    def register(self, server: grpc.aio.Server) -> None:
        """Serve ``JobHandlerService``."""
        assert self.handlers is not None, "bind() first"
        jobs_pb2_grpc.add_JobHandlerServiceServicer_to_server(FirJobHandlerServicer(self.handlers), server)

    async def start(self) -> None:
        """Start the relay and the purge schedule (after the port is bound)."""
        if self.relay is None:
            logger.warning("AFIRGEN_JOBS_TARGET is not set: FIR jobs stay in the outbox until it is")
            return
        self.relay.start()
        if self.purges is not None:
            self.purges.start()

    async def stop(self) -> None:
        """Stop the schedule and the relay, and close clients."""
        if self.purges is not None:
            await self.purges.stop()
        if self.relay is not None:
            await self.relay.stop()
        if self._channel is not None:
            await self._channel.close()
        if self._http is not None:
            await self._http.aclose()
        self._renderer.close()
