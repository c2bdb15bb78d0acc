"""Composition root of the FIR service: the only place that wires adapters."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from afirgen.fir.v1 import fir_pb2, fir_pb2_grpc
from afirgen_runtime.cache_client import Cache, CacheClient
from afirgen_runtime.db import Database
from afirgen_runtime.pagination import PageTokens
from afirgen_runtime.server import ServiceApp

from afirgen_fir.adapters.cached_legal_repository import CachedLegalRepository
from afirgen_fir.adapters.cached_repository import CachedFirRepository
from afirgen_fir.adapters.inference_client import GrpcInferenceClient
from afirgen_fir.adapters.legal_repository import MySQLLegalRepository
from afirgen_fir.adapters.mysql_repository import MySQLFirRepository
from afirgen_fir.background import JOB_HANDLER_SERVICE, FirBackground
from afirgen_fir.entrypoints.grpc_servicer import FirServicer, LegalSectionServicer
from afirgen_fir.service_layer.fir_service import FirService
from afirgen_fir.service_layer.generation_service import GenerationService
from afirgen_fir.service_layer.legal_service import LegalService
from afirgen_fir.service_layer.ports import FirRepository, InferenceClient, LegalRepository
from afirgen_fir.settings import FirSettings


def utc_now() -> datetime:
    """The real clock."""
    return datetime.now(UTC)


@dataclass
class FirContainer:
    """What ``build`` wired, for the server and for tests."""

    app: ServiceApp
    service: FirService
    database: Database
    generation: GenerationService | None = None


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

    Without a ``cache`` and without ``AFIRGEN_CACHE_TARGET`` the service runs uncached."""
    database = Database(settings.mysql)  # opens its pool on first use only
    background = FirBackground(settings, database, clock)
    if repository is None:
        repository = MySQLFirRepository(
            database,
            clock=clock,
            numbering_utc_offset=timedelta(minutes=settings.numbering_utc_offset_minutes),
            on_commit=background.nudge,
        )
    background.bind(repository)  # job handlers read the database, never a cache
    owned_cache = CacheClient(settings.cache) if cache is None and settings.cache.target else None
    if cache is None:
        cache = owned_cache
    if cache is not None:
        repository = CachedFirRepository(repository, cache, finalized_ttl=settings.finalized_cache_ttl_seconds)
    legal_repo = legal_repository or MySQLLegalRepository(database)
    if cache is not None:
        legal_repo = CachedLegalRepository(legal_repo, cache)
    legal = LegalService(legal_repo)
    service = FirService(repository, PageTokens(settings.page_token_secret.encode()), clock)
    repo = repository
    owned_inference = GrpcInferenceClient(settings.inference) if inference is None else None
    generation = GenerationService(
        service,
        repository,
        legal_repo,
        inference or owned_inference,  # type: ignore[arg-type]
        clock,
        utc_offset=timedelta(minutes=settings.numbering_utc_offset_minutes),
    )

    def register(server: object) -> None:
        assert background.documents is not None, "bound above"
        fir_pb2_grpc.add_FirServiceServicer_to_server(FirServicer(service, background.documents, generation), server)
        background.register(server)
        fir_pb2_grpc.add_LegalSectionServiceServicer_to_server(LegalSectionServicer(legal), server)

    async def on_stop() -> None:
        await background.stop()
        if owned_inference is not None:
            await owned_inference.close()
        if owned_cache is not None:
            await owned_cache.close()
        await database.close()

    app = ServiceApp(
        name="fir",
        # Calls that wait on model servers, or stay open, when their client set no deadline.
        deadlines={"GenerateFir": 180.0, "StreamGenerateFir": 180.0, "RegenerateFir": 180.0},
        register=register,
        service_names=[
            fir_pb2.DESCRIPTOR.services_by_name["FirService"].full_name,
            fir_pb2.DESCRIPTOR.services_by_name["LegalSectionService"].full_name,
            JOB_HANDLER_SERVICE,
        ],
        on_start=background.start,
        readiness=repo.ping,
        on_stop=on_stop,
    )
    return FirContainer(app=app, service=service, database=database, generation=generation)
