"""gRPC servicers of the FIR service: proto -> use case -> proto.

Errors are raised as domain errors and mapped to ``google.rpc.Status`` by the
shared interceptor; nothing here builds a status by hand.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from typing import Literal, get_args

from afirgen.fir.v1 import fir_pb2, fir_pb2_grpc
from afirgen_runtime.context import current_request_id
from afirgen_runtime.errors import AfirgenError, FieldViolation, InvalidArgument
from afirgen_runtime.grpc_errors import to_status
from afirgen_runtime.identity import current_caller
from afirgen_runtime.ids import IDEMPOTENCY_HEADER, check_idempotency_key
from afirgen_runtime.interceptors import NO_STORE, ServicerContext, invocation_header, set_response_header
from afirgen_runtime.proto_mapping import from_message, timestamp, to_message
from google.api import httpbody_pb2
from google.protobuf import field_mask_pb2

from afirgen_fir.adapters.fir_codec import fir_message, stats_message
from afirgen_fir.domain.model import (
    ALL_FIELDS,
    Complainant,
    ComplaintSource,
    Fir,
    FirStatus,
    Officer,
    Station,
    etag_for,
)
from afirgen_fir.domain.validation import size_violations
from afirgen_fir.entrypoints.rest_json import JsonBodies, wants_json
from afirgen_fir.service_layer.fir_jobs import FirDocuments
from afirgen_fir.service_layer.fir_service import FirService, ListRequest
from afirgen_fir.service_layer.generation_service import GenerationRequest, GenerationService
from afirgen_fir.service_layer.legal_service import LegalService
from afirgen_fir.service_layer.ports import Change, IdempotencyKey

REGENERABLE = {
    fir_pb2.FIR_PART_SUMMARY: "summary",
    fir_pb2.FIR_PART_LEGAL_SECTIONS: "legal_sections",
    fir_pb2.FIR_PART_NARRATIVE: "narrative",
}
PART_NAMES = [fir_pb2.FirPart.Name(number) for number in REGENERABLE]
OutputOnlyField = Literal[
    "id", "fir_number", "status", "generation", "facts", "create_time", "update_time", "finalize_time"
]
# Fields of a Fir that only the service sets: whatever a client sends in them is dropped.
OUTPUT_ONLY: tuple[OutputOnlyField, ...] = get_args(OutputOnlyField)
# Drafts change: clients must revalidate. Finalized FIRs never change. Both hold
# personal data, so only the client may store them, never a shared cache.
CACHE_DRAFT = "private, no-cache"
CACHE_FINALIZED = "private, max-age=86400, immutable"


def fir_to_proto(fir: Fir, mask: field_mask_pb2.FieldMask | None = None) -> fir_pb2.Fir:
    """Domain FIR -> message, trimmed to ``mask`` when it has paths."""
    message = fir_message(fir)
    if mask is None or not mask.paths:
        return message
    trimmed = fir_pb2.Fir()
    mask.MergeMessage(message, trimmed)
    return trimmed


def mask_fields(mask: field_mask_pb2.FieldMask, field: str) -> frozenset[str]:
    """Check a read/update mask; returns its top-level field names."""
    if not mask.paths:
        return frozenset()
    if not mask.IsValidForDescriptor(fir_pb2.Fir.DESCRIPTOR):
        bad = [p for p in mask.paths if p.split(".", 1)[0] not in ALL_FIELDS]
        detail = f"unknown field(s): {', '.join(bad)}" if bad else "names a field FIRs do not have"
        raise InvalidArgument.for_field(field, detail)
    return frozenset(p.split(".", 1)[0] for p in mask.paths)


def _change() -> Change:
    return Change.by(current_caller(), current_request_id())


def check_sizes(message: fir_pb2.Fir, path: str) -> None:
    """List sizes checked on the message itself, before any conversion (a body of 400,000 empty
    entries is refused in microseconds instead of converted)."""
    counts = {name: len(getattr(message, name)) for name in ("accused", "witnesses", "properties", "legal_sections")}
    found = [FieldViolation(f"{path}.{v.field}", v.description) for v in size_violations(counts)]
    if found:
        raise InvalidArgument(f"the FIR is not valid: {found[0].field}: {found[0].description}", violations=found)


def _without_output_only(message: fir_pb2.Fir) -> fir_pb2.Fir:
    """A copy of a client's FIR without the fields only the service sets."""
    clean = fir_pb2.Fir()
    clean.CopyFrom(message)
    for name in OUTPUT_ONLY:
        clean.ClearField(name)
    clean.etag = ""
    return clean


class FirServicer(fir_pb2_grpc.FirServiceServicer):
    """``afirgen.fir.v1.FirService``."""

    def __init__(
        self,
        service: FirService,
        documents: FirDocuments,
        generation: GenerationService,
        json_bodies: JsonBodies,
    ) -> None:
        self._svc = service
        self._documents = documents
        self._generation = generation
        self._json = json_bodies

    async def CreateFir(self, request: fir_pb2.CreateFirRequest, context: ServicerContext) -> fir_pb2.Fir:
        if not request.HasField("fir"):
            raise InvalidArgument.for_field("fir", "is required")
        check_sizes(request.fir, "fir")
        submitted = _without_output_only(request.fir)
        key = request.request_id or invocation_header(context, IDEMPOTENCY_HEADER)
        idempotency = None
        if key:
            digest = hashlib.sha256(submitted.SerializeToString(deterministic=True)).hexdigest()
            idempotency = IdempotencyKey(key, digest)
        fir = from_message(submitted, Fir, path="fir")
        fir.complaint.source = ComplaintSource.MANUAL  # a hand-entered FIR, whatever the client claims
        fir, _ = await self._svc.create(fir, change=_change(), idempotency=idempotency)
        self._headers(fir.etag, fir.status)
        return fir_to_proto(fir)

    # Returns the serialized Fir as bytes when it has it: the shared interceptor sends bytes as they
    # are (the generated base declares only the message, hence the ignore). A REST call through the
    # edge gets the serialized google.api.HttpBody of its JSON instead (rest_json).
    async def GetFir(  # type: ignore[override]
        self, request: fir_pb2.GetFirRequest, context: ServicerContext
    ) -> fir_pb2.Fir | bytes:
        if not request.id:
            raise InvalidArgument.for_field("id", "is required")
        fields = mask_fields(request.read_mask, "read_mask")
        reply = await self._get(request, fields)
        return await self._json.fir(reply) if wants_json(context) else reply

    async def _get(self, request: fir_pb2.GetFirRequest, fields: frozenset[str]) -> fir_pb2.Fir | bytes:
        found = await self._svc.get_serialized(request.id, caller=current_caller())
        if found is not None:
            self._headers(found.etag, found.status)
            if not request.read_mask.paths:
                return found.data  # a cache hit: no decode, no mapping, no re-serialization
            trimmed = fir_pb2.Fir()
            request.read_mask.MergeMessage(fir_pb2.Fir.FromString(found.data), trimmed)
            return trimmed
        fir = await self._svc.get(request.id, fields, caller=current_caller())
        self._headers(fir.etag, fir.status)
        return fir_to_proto(fir, request.read_mask)

    # Returns the serialized response as bytes when the page is cached in its wire form (see GetFir).
    async def ListFirs(  # type: ignore[override]
        self, request: fir_pb2.ListFirsRequest, context: ServicerContext
    ) -> fir_pb2.ListFirsResponse | bytes:
        asked = ListRequest(
            page_size=request.page_size,
            page_token=request.page_token,
            filter=request.filter,
            order_by=request.order_by,
            fields=mask_fields(request.read_mask, "read_mask"),
        )
        rest = wants_json(context)
        serialized = await self._svc.list_serialized(asked, caller=current_caller())
        set_response_header("cache-control", NO_STORE)
        if serialized is not None:
            response = fir_pb2.ListFirsResponse(
                next_page_token=serialized.next_page_token, total_size=serialized.total_size
            )
            if not request.read_mask.paths:
                if rest:  # the FIRs' JSON as kept, then the token and total
                    return await self._json.page(serialized.data, response.next_page_token, response.total_size)
                return serialized.data + response.SerializeToString()  # the FIRs as cached, then the rest
            for fir in fir_pb2.ListFirsResponse.FromString(serialized.data).firs:
                request.read_mask.MergeMessage(fir, response.firs.add())
        else:
            page = await self._svc.list_firs(asked, caller=current_caller())
            response = fir_pb2.ListFirsResponse(
                firs=[fir_to_proto(f, request.read_mask) for f in page.firs],
                next_page_token=page.next_page_token,
                total_size=page.total_size,
            )
        return await self._json.page_message(response) if rest else response

    async def UpdateFir(self, request: fir_pb2.UpdateFirRequest, context: ServicerContext) -> fir_pb2.Fir:
        if not request.HasField("fir"):
            raise InvalidArgument.for_field("fir", "is required")
        check_sizes(request.fir, "fir")
        mask_fields(request.update_mask, "update_mask")
        patch = request.fir

        def apply(current: Fir) -> Fir:
            message = to_message(current, fir_pb2.Fir())
            request.update_mask.MergeMessage(patch, message, replace_message_field=True, replace_repeated_field=True)
            return from_message(message, Fir, path="fir")

        fir = await self._svc.update(
            request.fir.id, request.fir.etag, list(request.update_mask.paths), apply, change=_change()
        )
        self._headers(fir.etag, fir.status)
        return fir_to_proto(fir)

    async def FinalizeFir(self, request: fir_pb2.FinalizeFirRequest, context: ServicerContext) -> fir_pb2.Fir:
        fir = await self._svc.finalize(request.id, request.etag, change=_change())
        self._headers(fir.etag, fir.status)
        return fir_to_proto(fir)

    # Returns the serialized statistics as bytes when they are cached in their wire form (see GetFir).
    async def GetFirStats(  # type: ignore[override]
        self, request: fir_pb2.GetFirStatsRequest, context: ServicerContext
    ) -> fir_pb2.FirStats | bytes:
        serialized = await self._svc.stats_serialized(request.filter, request.days, caller=current_caller())
        set_response_header("cache-control", NO_STORE)
        if serialized is not None:
            return serialized
        return stats_message(await self._svc.stats(request.filter, request.days, caller=current_caller()))

    async def ListFirEvents(
        self, request: fir_pb2.ListFirEventsRequest, context: ServicerContext
    ) -> fir_pb2.ListFirEventsResponse:
        events, token = await self._svc.events(
            request.id, request.page_size, request.page_token, caller=current_caller()
        )
        set_response_header("cache-control", NO_STORE)
        return fir_pb2.ListFirEventsResponse(
            events=[
                fir_pb2.FirEvent(
                    action=e.action,
                    actor=e.actor,
                    changed_fields=e.changed_fields,
                    time=timestamp(e.time),
                    etag=etag_for(request.id, e.revision),
                    request_id=e.request_id,
                )
                for e in events
            ],
            next_page_token=token,
        )

    @staticmethod
    def _generation_request(request: fir_pb2.GenerateFirRequest) -> GenerationRequest:
        return GenerationRequest(
            station=from_message(request.station, Station, path="station"),
            complainant=from_message(request.complainant, Complainant, path="complainant"),
            officer=from_message(request.investigating_officer, Officer, path="investigating_officer"),
            text=request.text,
            audio=request.audio,
            image=request.image,
            language=request.language,
        )

    @staticmethod
    def _generation_key(request: fir_pb2.GenerateFirRequest, context: ServicerContext) -> IdempotencyKey | None:
        key = request.request_id or invocation_header(context, IDEMPOTENCY_HEADER)
        if not key:
            return None
        check_idempotency_key(key, "request_id")
        unkeyed = fir_pb2.GenerateFirRequest()
        unkeyed.CopyFrom(request)
        unkeyed.request_id = ""
        return IdempotencyKey(key, hashlib.sha256(unkeyed.SerializeToString(deterministic=True)).hexdigest())

    async def GenerateFir(self, request: fir_pb2.GenerateFirRequest, context: ServicerContext) -> fir_pb2.Fir:
        fir = await self._generation.generate(
            self._generation_request(request), change=_change(), idempotency=self._generation_key(request, context)
        )
        self._headers(fir.etag, fir.status)
        return fir_to_proto(fir)

    async def StreamGenerateFir(
        self, request: fir_pb2.GenerateFirRequest, context: ServicerContext
    ) -> AsyncIterator[fir_pb2.GenerateFirEvent]:
        stream = self._generation.stream(
            self._generation_request(request), change=_change(), idempotency=self._generation_key(request, context)
        )
        sent = False
        try:
            async for event in stream:
                yield fir_pb2.GenerateFirEvent(
                    stage=event.stage,
                    text_delta=event.text_delta,
                    fir=fir_to_proto(event.fir) if event.fir is not None else None,
                )
                sent = True
        except AfirgenError as exc:
            if not sent:
                raise  # the call's own status: an HTTP error status through the edge
            # Headers (HTTP 200) are gone: the error travels as the last event.
            yield fir_pb2.GenerateFirEvent(stage="error", error=to_status(exc, "fir.afirgen"))

    async def RegenerateFir(self, request: fir_pb2.RegenerateFirRequest, context: ServicerContext) -> fir_pb2.Fir:
        if request.part not in REGENERABLE:
            raise InvalidArgument.for_field("part", f"choose {', '.join(PART_NAMES[:-1])} or {PART_NAMES[-1]}")
        fir = await self._generation.regenerate(
            request.id, REGENERABLE[request.part], request.guidance, request.etag, change=_change()
        )
        self._headers(fir.etag, fir.status)
        return fir_to_proto(fir)

    async def GetFirDocument(
        self, request: fir_pb2.GetFirDocumentRequest, context: ServicerContext
    ) -> httpbody_pb2.HttpBody:
        await self._svc.get(request.id, frozenset({"station"}), caller=current_caller())
        document = await self._documents.fetch(request.id)
        set_response_header("content-disposition", f'inline; filename="{document.filename}"')
        set_response_header("cache-control", CACHE_FINALIZED if document.finalized else CACHE_DRAFT)
        return httpbody_pb2.HttpBody(content_type="application/pdf", data=document.content)

    @staticmethod
    def _headers(etag: str, status: FirStatus) -> None:
        set_response_header("etag", f'"{etag}"')
        set_response_header("cache-control", CACHE_FINALIZED if status is FirStatus.FINALIZED else CACHE_DRAFT)


class LegalSectionServicer(fir_pb2_grpc.LegalSectionServiceServicer):
    """``afirgen.fir.v1.LegalSectionService``."""

    def __init__(self, service: LegalService) -> None:
        self._svc = service

    async def SearchLegalSections(
        self, request: fir_pb2.SearchLegalSectionsRequest, context: ServicerContext
    ) -> fir_pb2.SearchLegalSectionsResponse:
        found = await self._svc.search(request.query, request.page_size)
        return fir_pb2.SearchLegalSectionsResponse(sections=[to_message(s, fir_pb2.LegalSection()) for s in found])
