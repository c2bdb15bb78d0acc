"""The jobs service as seen from the FIR service (``afirgen.jobs.v1.JobService``)."""

from __future__ import annotations

import grpc
from afirgen.jobs.v1 import jobs_pb2, jobs_pb2_grpc
from afirgen_runtime.grpc_errors import translate_rpc_errors
from google.protobuf import struct_pb2

from afirgen_fir.domain.jobs import JobRequest


class GrpcJobQueue:
    """:class:`~afirgen_fir.service_layer.ports.JobQueue` over gRPC."""

    def __init__(self, channel: grpc.aio.Channel) -> None:
        self._stub = jobs_pb2_grpc.JobServiceStub(channel)

    async def enqueue(self, job: JobRequest, idempotency_key: str) -> str:
        """CreateJob with the outbox row's idempotency key; returns the job id."""
        payload = struct_pb2.Struct()
        payload.update(job.payload)
        request = jobs_pb2.CreateJobRequest(
            job=jobs_pb2.Job(type=job.type, payload=payload, priority=job.priority, idempotency_key=idempotency_key)
        )
        with translate_rpc_errors():
            created = await self._stub.CreateJob(request)
        return str(created.id)
