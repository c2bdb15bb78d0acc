"""Composition root of the FIR service: the only place that wires adapters."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from afirgen.fir.v1 import fir_pb2, fir_pb2_grpc
from afirgen_runtime.db import Database
from afirgen_runtime.pagination import PageTokens
from afirgen_runtime.server import ServiceApp

from afirgen_fir.adapters.legal_repository import MySQLLegalRepository
from afirgen_fir.adapters.mysql_repository import MySQLFirRepository
from afirgen_fir.entrypoints.grpc_servicer import FirServicer, LegalSectionServicer
from afirgen_fir.service_layer.fir_service import FirService
from afirgen_fir.service_layer.legal_service import LegalService
from afirgen_fir.service_layer.ports import FirRepository, LegalRepository
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


def build(
    settings: FirSettings,
    *,
    repository: FirRepository | None = None,
    legal_repository: LegalRepository | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> FirContainer:
    """Wire the service. Tests pass fake repositories and a fake ``clock``."""
    if len(settings.page_token_secret.encode()) < 16:
        raise ValueError("AFIRGEN_PAGE_TOKEN_SECRET must be set to at least 16 bytes")
    database = Database(settings.mysql)  # opens its pool on first use only
    if repository is None:
        repository = MySQLFirRepository(
            database,
            clock=clock,
            numbering_utc_offset=timedelta(minutes=settings.numbering_utc_offset_minutes),
        )
    legal = LegalService(legal_repository or MySQLLegalRepository(database))
    service = FirService(repository, PageTokens(settings.page_token_secret.encode()), clock)
    repo = repository

    def register(server: object) -> None:
        fir_pb2_grpc.add_FirServiceServicer_to_server(FirServicer(service), server)
        fir_pb2_grpc.add_LegalSectionServiceServicer_to_server(LegalSectionServicer(legal), server)

    async def on_stop() -> None:
        await database.close()

    app = ServiceApp(
        name="fir",
        register=register,
        service_names=[
            fir_pb2.DESCRIPTOR.services_by_name["FirService"].full_name,
            fir_pb2.DESCRIPTOR.services_by_name["LegalSectionService"].full_name,
        ],
        readiness=repo.ping,
        on_stop=on_stop,
    )
    return FirContainer(app=app, service=service, database=database)
