"""``afirgen.jobs.v1.JobHandlerService`` of the FIR service: the jobs workers
deliver ``fir.*`` jobs here. The status code returned decides the job's fate
(the shared interceptor maps domain errors: Unavailable retries, bad input
and missing FIRs fail the job for good)."""

from __future__ import annotations

from afirgen.jobs.v1 import jobs_pb2, jobs_pb2_grpc
from afirgen_runtime.interceptors import ServicerContext
from google.protobuf import json_format

from afirgen_fir.service_layer.fir_jobs import FirJobHandlers


class FirJobHandlerServicer(jobs_pb2_grpc.JobHandlerServiceServicer):
    """Runs one attempt of one FIR job."""

    def __init__(self, handlers: FirJobHandlers) -> None:
        self._handlers = handlers

    async def HandleJob(
        self, request: jobs_pb2.HandleJobRequest, context: ServicerContext
    ) -> jobs_pb2.HandleJobResponse:
        payload = json_format.MessageToDict(request.payload)
        detail = await self._handlers.handle(request.type, payload, request.idempotency_key)
        return jobs_pb2.HandleJobResponse(detail=detail)
