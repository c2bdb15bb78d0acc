"""gRPC servicers of the jobs service: proto -> use case -> proto.

Domain errors are mapped to ``google.rpc.Status`` by the shared interceptor.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC

from afirgen.jobs.v1 import jobs_pb2, jobs_pb2_grpc
from afirgen_runtime.errors import InvalidArgument
from afirgen_runtime.identity import ensure_internal, ensure_operator
from afirgen_runtime.ids import IDEMPOTENCY_HEADER
from afirgen_runtime.interceptors import NO_STORE, ServicerContext, invocation_header, set_response_header
from afirgen_runtime.proto_mapping import timestamp
from afirgen_runtime.tracing import TRACEPARENT_HEADER
from google.protobuf import json_format

from afirgen_jobs.adapters.signals import Broadcaster
from afirgen_jobs.domain.model import STATUS_CODES, Job, NewJob
from afirgen_jobs.service_layer.job_service import JobService


def job_to_proto(job: Job) -> jobs_pb2.Job:
    """Domain job -> message."""
    message = jobs_pb2.Job(
        id=job.id,
        type=job.type,
        priority=job.priority,
        max_attempts=job.max_attempts,
        idempotency_key=job.idempotency_key,
        status=jobs_pb2.JobStatus.ValueType(STATUS_CODES[job.status]),  # the stored code is the enum number
        attempt_count=job.attempt_count,
        last_error=job.last_error,
        trace_parent=job.trace_parent,
        run_time=timestamp(job.run_time),
        create_time=timestamp(job.create_time),
        update_time=timestamp(job.update_time),
        attempts=[
            jobs_pb2.JobAttempt(
                number=attempt.number,
                worker=attempt.worker,
                start_time=timestamp(attempt.start_time),
                end_time=timestamp(attempt.end_time),
                outcome=attempt.outcome,
                error=attempt.error,
                detail=attempt.detail,
            )
            for attempt in job.attempts
        ],
    )
    message.payload.update(job.payload)
    return message


def new_job_from_proto(job: jobs_pb2.Job, context: ServicerContext) -> NewJob:
    """Request message -> domain request (unset optional fields stay ``None``)."""
    return NewJob(
        type=job.type,
        payload=json_format.MessageToDict(job.payload) if job.HasField("payload") else {},
        priority=job.priority if job.HasField("priority") else None,
        run_time=job.run_time.ToDatetime(tzinfo=UTC) if job.HasField("run_time") else None,
        max_attempts=job.max_attempts if job.HasField("max_attempts") else None,
        idempotency_key=job.idempotency_key or invocation_header(context, IDEMPOTENCY_HEADER),
        trace_parent=invocation_header(context, TRACEPARENT_HEADER),
    )


class JobServicer(jobs_pb2_grpc.JobServiceServicer):
    """``afirgen.jobs.v1.JobService``."""

    def __init__(self, service: JobService) -> None:
        self._svc = service

    async def CreateJob(self, request: jobs_pb2.CreateJobRequest, context: ServicerContext) -> jobs_pb2.Job:
        ensure_internal()
        if not request.HasField("job"):
            raise InvalidArgument.for_field("job", "is required")
        job, _ = await self._svc.enqueue(new_job_from_proto(request.job, context))
        set_response_header("cache-control", NO_STORE)
        return job_to_proto(job)

    async def GetJob(self, request: jobs_pb2.GetJobRequest, context: ServicerContext) -> jobs_pb2.Job:
        ensure_operator()
        job = await self._svc.get(request.id)
        set_response_header("cache-control", NO_STORE)
        return job_to_proto(job)

    async def ListJobs(self, request: jobs_pb2.ListJobsRequest, context: ServicerContext) -> jobs_pb2.ListJobsResponse:
        ensure_operator()
        page = await self._svc.list(size=request.page_size, token=request.page_token, filter_text=request.filter)
        set_response_header("cache-control", NO_STORE)
        return jobs_pb2.ListJobsResponse(
            jobs=[job_to_proto(j) for j in page.jobs],
            next_page_token=page.next_page_token,
            total_size=page.total_size,
        )

    async def CancelJob(self, request: jobs_pb2.CancelJobRequest, context: ServicerContext) -> jobs_pb2.Job:
        ensure_operator()
        return job_to_proto(await self._svc.cancel(request.id))

    async def RetryJob(self, request: jobs_pb2.RetryJobRequest, context: ServicerContext) -> jobs_pb2.Job:
        ensure_operator()
        return job_to_proto(await self._svc.retry(request.id))


class JobQueueServicer(jobs_pb2_grpc.JobQueueServiceServicer):
    """``afirgen.jobs.v1.JobQueueService``: wake-up signals for workers."""

    def __init__(self, broadcaster: Broadcaster) -> None:
        self._broadcaster = broadcaster

    async def WatchQueue(
        self, request: jobs_pb2.WatchQueueRequest, context: ServicerContext
    ) -> AsyncIterator[jobs_pb2.WatchQueueResponse]:
        async for job in self._broadcaster.subscribe():
            yield _signal(job)


def _signal(job: Job | None) -> jobs_pb2.WatchQueueResponse:
    if job is None:
        return jobs_pb2.WatchQueueResponse()
    return jobs_pb2.WatchQueueResponse(type=job.type, priority=job.priority, run_time=timestamp(job.run_time))
