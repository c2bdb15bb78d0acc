"""Delivery of one attempt to the owning service's ``JobHandlerService``."""

from __future__ import annotations

from dataclasses import replace

import grpc
from afirgen.jobs.v1 import jobs_pb2, jobs_pb2_grpc
from afirgen_runtime.channels import ChannelSettings, create_channel
from afirgen_runtime.proto_mapping import duration
from afirgen_runtime.tracing import TRACEPARENT_HEADER
from google.protobuf import struct_pb2

from afirgen_jobs.domain.model import ClaimedJob, HandlerResult
from afirgen_jobs.domain.rules import Routes

HANDLER_SERVICE = jobs_pb2.DESCRIPTOR.services_by_name["JobHandlerService"].full_name


class GrpcDelivery:
    """:class:`~afirgen_jobs.service_layer.ports.Delivery` over gRPC, one channel per target (which
    may name several replicas of the owning service). Handlers are idempotent by contract, so an
    attempt a replica could not take (it died, or refused it) goes to another at once."""

    def __init__(self, routes: Routes, channel: ChannelSettings | None = None) -> None:
        self._routes = routes
        self._channel_settings = channel or ChannelSettings()
        self._stubs: dict[str, jobs_pb2_grpc.JobHandlerServiceStub] = {}
        self._channels: list[grpc.aio.Channel] = []

    def _stub(self, target: str) -> jobs_pb2_grpc.JobHandlerServiceStub:
        stub = self._stubs.get(target)
        if stub is None:
            channel = create_channel(replace(self._channel_settings, target=target), idempotent=[HANDLER_SERVICE])
            self._channels.append(channel)
            stub = self._stubs[target] = jobs_pb2_grpc.JobHandlerServiceStub(channel)
        return stub

    async def deliver(self, job: ClaimedJob, deadline_seconds: float) -> HandlerResult:
        """Call ``HandleJob``; the status code decides the job's fate."""
        target = self._routes.target_for(job.type)
        if target is None:
            return HandlerResult("FAILED_PRECONDITION", f"no service is configured for job type {job.type!r}")
        payload = struct_pb2.Struct()
        payload.update(job.payload)
        request = jobs_pb2.HandleJobRequest(
            id=job.id,
            type=job.type,
            payload=payload,
            attempt=job.attempt,
            deadline=duration(deadline_seconds),
            idempotency_key=job.idempotency_key,
        )
        # With tracing on, the channel's interceptor replaces this with the context of the worker's
        # job span (a child of this one); without, the handler still joins the enqueuer's trace.
        metadata = ((TRACEPARENT_HEADER, job.trace_parent),) if job.trace_parent else None
        try:
            response = await self._stub(target).HandleJob(request, timeout=deadline_seconds, metadata=metadata)
        except grpc.aio.AioRpcError as exc:
            return HandlerResult(exc.code().name, exc.details() or "")
        return HandlerResult("OK", detail=response.detail)

    async def close(self) -> None:
        """Close every channel."""
        for channel in self._channels:
            await channel.close()
        self._channels.clear()
        self._stubs.clear()
