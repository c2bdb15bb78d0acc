"""Composition root of the FIR service: the only place that wires adapters.

It wires what the service answers (FIRs, generation, legal sections) and its
background work: the outbox relay that hands FIR jobs to the jobs service, the
schedule of the retention purge, the handlers the jobs workers deliver ``fir.*``
jobs to, and document downloads.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import grpc
import httpx
from afirgen.fir.v1 import fir_pb2, fir_pb2_grpc
from afirgen.jobs.v1 import jobs_pb2, jobs_pb2_grpc
from afirgen_runtime.busy import HEALTH, CallRate, Pacer
from afirgen_runtime.cache_client import Cache, CacheClient
from afirgen_runtime.channels import create_channel
from afirgen_runtime.clock import utc_now
from afirgen_runtime.db import Database
from afirgen_runtime.near_cache import NearCache
from afirgen_runtime.pagination import PageTokens
from afirgen_runtime.server import ServiceApp
from loguru import logger

from afirgen_fir.adapters.cached_legal_repository import CachedLegalRepository
from afirgen_fir.adapters.cached_repository import NS_FIR, NS_LIST, NS_LIST_PAGES, NS_STATS, CachedFirRepository
from afirgen_fir.adapters.inference_client import GrpcInferenceClient
from afirgen_fir.adapters.jobs_client import GrpcJobQueue
from afirgen_fir.adapters.legal_repository import MySQLLegalRepository
from afirgen_fir.adapters.mysql_jobs import MySQLDailyCounts, MySQLDocumentStore, MySQLOutbox
from afirgen_fir.adapters.mysql_repository import MySQLFirRepository
from afirgen_fir.adapters.mysql_retention import MySQLRetentionStore
from afirgen_fir.adapters.pdf_renderer import ProcessPdfRenderer
from afirgen_fir.adapters.webhook import WebhookNotifier
from afirgen_fir.entrypoints.grpc_servicer import FirServicer, LegalSectionServicer
from afirgen_fir.entrypoints.job_handler import FirJobHandlerServicer
from afirgen_fir.entrypoints.rest_json import JsonBodies
from afirgen_fir.service_layer.fir_jobs import FirDocuments, FirJobHandlers
from afirgen_fir.service_layer.fir_service import FirService
from afirgen_fir.service_layer.generation_service import GenerationService
from afirgen_fir.service_layer.legal_service import LegalService
from afirgen_fir.service_layer.outbox_relay import OutboxRelay
from afirgen_fir.service_layer.ports import (
    FirRepository,
    InferenceClient,
    LegalRepository,
    SerializedFir,
    SerializedFirs,
)
from afirgen_fir.service_layer.retention import FirRetention, purge_schedule
from afirgen_fir.settings import FirSettings

SERVICES = fir_pb2.DESCRIPTOR.services_by_name
JOB_HANDLER_SERVICE = jobs_pb2.DESCRIPTOR.services_by_name["JobHandlerService"].full_name


@dataclass
class FirContainer:
    """What ``build`` wired, for the server and for tests."""

    app: ServiceApp
    service: FirService
    database: Database
    generation: GenerationService


def build(
    settings: FirSettings,
    *,
    repository: FirRepository | None = None,
    legal_repository: LegalRepository | None = None,
    clock: Callable[[], datetime] = utc_now,
    cache: Cache | None = None,
    inference: InferenceClient | None = None,
) -> FirContainer:
    """Wire the service. Tests pass fake repositories, a fake ``clock`` and a fake ``cache``.

    Without a ``cache`` and without ``AFIRGEN_CACHE_TARGET`` the service runs uncached;
    without ``AFIRGEN_JOBS_TARGET`` FIR jobs wait in the outbox. Nothing connects here."""
    owned = AsyncExitStack()  # what this root opened, closed in reverse order on stop
    utc_offset = timedelta(minutes=settings.numbering_utc_offset_minutes)  # FIR years, local days of counts
    database = Database(settings.mysql)  # opens its pool on first use only
    owned.push_async_callback(database.close)

    # Background work: the jobs service, the outbox relay, the purge schedule.
    queue, relay, purges = None, None, None
    if settings.jobs.target:
        jobs_channel = create_channel(settings.jobs)
        owned.push_async_callback(jobs_channel.close)
        queue = GrpcJobQueue(jobs_channel)
        relay = OutboxRelay(MySQLOutbox(database, clock), queue, settings.outbox)
        if settings.retention.period_seconds > 0:
            purges = purge_schedule(queue, clock, settings.retention.period_seconds)

    if repository is None:
        repository = MySQLFirRepository(
            database,
            clock=clock,
            numbering_utc_offset=utc_offset,
            on_commit=relay.nudge if relay is not None else None,
        )
    stored = repository  # job handlers and downloads read the database, never a cache
    if cache is None and settings.cache.target:
        client = CacheClient(settings.cache)
        owned.push_async_callback(client.close)
        cache = client
    legal_repo = legal_repository or MySQLLegalRepository(database)
    serialized: SerializedFirs | None = None
    near_caches: list[NearCache[Any]] = []
    if cache is not None:
        near: NearCache[SerializedFir] = NearCache(NS_FIR, settings.near_cache)
        generations: NearCache[str] = NearCache(NS_LIST, settings.near_cache)
        near_stats: NearCache[bytes] = NearCache(NS_STATS, settings.near_cache)
        near_caches += [near, generations, near_stats]
        repository = serialized = CachedFirRepository(
            repository,
            cache,
            utc_offset=utc_offset,
            finalized_ttl=settings.finalized_cache_ttl_seconds,
            near=near,
            generations=generations,
            pages=NearCache(NS_LIST_PAGES, settings.near_pages.near_cache()),
            stats=near_stats,
        )
        legal_repo = CachedLegalRepository(legal_repo, cache)
    # Without the cache service's feed the near cache keeps finalized FIRs only (they never change).
    feed: list[asyncio.Task[None]] = []

    service = FirService(repository, PageTokens(settings.page_token_secret.encode()), clock, serialized)
    if inference is None:
        inference_client = GrpcInferenceClient(settings.inference)
        owned.push_async_callback(inference_client.close)
        inference = inference_client
    generation = GenerationService(
        service,
        repository,
        legal_repo,
        inference,
        clock,
        utc_offset=utc_offset,
    )

    # What the jobs workers deliver back to this service, and document downloads.
    notifier = None
    if settings.webhook_url:
        http = httpx.AsyncClient(timeout=settings.webhook_timeout_seconds)
        owned.push_async_callback(http.aclose)
        notifier = WebhookNotifier(settings.webhook_url, settings.webhook_secret, http)
    # Background work yields while clients' calls are flowing; job deliveries from the workers are
    # background work themselves, so they do not count.
    calls = CallRate(ignored=(HEALTH, f"/{JOB_HANDLER_SERVICE}/"))

    def busy() -> bool:
        return calls.per_second() >= settings.busy.calls_per_second

    renderer = ProcessPdfRenderer(
        workers=settings.pdf_workers,
        niceness=settings.pdf_niceness,
        idle_seconds=settings.pdf_idle_seconds,
        cpu_share=settings.pdf_cpu_share,
        busy_cpu_share=settings.busy.pdf_cpu_share,
        busy=busy,
    )
    owned.push_async_callback(renderer.aclose)
    documents = MySQLDocumentStore(database, clock)
    retention = FirRetention(MySQLRetentionStore(database), settings.retention, clock)
    counts = MySQLDailyCounts(database, utc_offset=utc_offset)
    jobs_pace = Pacer(settings.busy.jobs_per_second, busy)
    handlers = FirJobHandlers(stored, documents, counts, renderer, notifier, retention, pace=jobs_pace.turn)

    json_bodies = JsonBodies(settings.near_cache)

    def register(server: grpc.aio.Server) -> None:
        servicer = FirServicer(service, FirDocuments(stored, documents), generation, json_bodies)
        fir_pb2_grpc.add_FirServiceServicer_to_server(servicer, server)
        fir_pb2_grpc.add_LegalSectionServiceServicer_to_server(LegalSectionServicer(LegalService(legal_repo)), server)
        jobs_pb2_grpc.add_JobHandlerServiceServicer_to_server(FirJobHandlerServicer(handlers), server)

    async def on_start() -> None:
        if isinstance(cache, CacheClient) and near_caches and settings.near_cache.max_entries > 0:
            feed.append(asyncio.create_task(cache.follow(near_caches), name="near-cache-feed"))
        if relay is None:
            logger.warning("AFIRGEN_JOBS_TARGET is not set: FIR jobs stay in the outbox until it is")
            return
        relay.start()
        if purges is not None:
            purges.start()

    async def on_stop() -> None:
        for task in feed:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if purges is not None:
            await purges.stop()
        if relay is not None:
            await relay.stop()
        await owned.aclose()

    app = ServiceApp(
        name="fir",
        # Calls that wait on model servers, or stay open, when their client set no deadline.
        deadlines={"GenerateFir": 180.0, "StreamGenerateFir": 180.0, "RegenerateFir": 180.0},
        register=register,
        service_names=[
            SERVICES["FirService"].full_name,
            SERVICES["LegalSectionService"].full_name,
            JOB_HANDLER_SERVICE,
        ],
        on_start=on_start,
        readiness=stored.ping,
        on_stop=on_stop,
        observers=(calls,),
    )
    return FirContainer(app=app, service=service, database=database, generation=generation)
