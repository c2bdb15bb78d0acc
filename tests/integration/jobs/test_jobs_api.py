"""The jobs API against a real jobs service and MariaDB (no worker running)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import pytest
from afirgen.jobs.v1 import jobs_pb2
from afirgen_runtime.migrate import apply, status
from google.protobuf import timestamp_pb2
from google.rpc import error_details_pb2, status_pb2

from scripts.devstack.stack import Stack
from tests.conftest import mysql_settings
from tests.integration.jobs.conftest import JOB, JobsCluster, create_jobs_schema, drop_schema

pytestmark = pytest.mark.integration


def _details(exc: grpc.aio.AioRpcError) -> tuple[str, list[str]]:
    """(ErrorInfo reason, BadRequest fields) of a failed call."""
    reason, fields = "", []
    for key, value in exc.trailing_metadata() or ():
        if key == "grpc-status-details-bin":
            for detail in status_pb2.Status.FromString(value).details:
                if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
                    info = error_details_pb2.ErrorInfo()
                    detail.Unpack(info)
                    reason = info.reason
                elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
                    bad = error_details_pb2.BadRequest()
                    detail.Unpack(bad)
                    fields = [v.field for v in bad.field_violations]
    return reason, fields


def _ts(when: datetime) -> timestamp_pb2.Timestamp:
    ts = timestamp_pb2.Timestamp()
    ts.FromDatetime(when)
    return ts


async def test_enqueued_job_is_durable_and_readable(cluster: JobsCluster) -> None:
    created = await cluster.enqueue({"n": 1, "nested": {"ok": True}}, priority=0, max_attempts=3)
    assert created.status == JOB.JOB_STATUS_QUEUED and uuid.UUID(created.id)
    assert (created.priority, created.max_attempts, created.attempt_count) == (0, 3, 0)
    read = await cluster.get(created.id)
    assert read.type == "test.work" and dict(read.payload)["n"] == 1 and read.priority == 0
    assert read.create_time.ToDatetime() == created.create_time.ToDatetime()


async def test_defaults_when_priority_and_attempts_are_unset(cluster: JobsCluster) -> None:
    job = await cluster.enqueue({})
    assert (job.priority, job.max_attempts) == (5, 5)


async def test_same_idempotency_key_returns_the_same_job(cluster: JobsCluster) -> None:
    key = f"k-{uuid.uuid4()}"
    first = await cluster.enqueue({"fir": 1}, idempotency_key=key)
    again = await cluster.enqueue({"fir": 1}, idempotency_key=key)
    assert again.id == first.id and again.idempotency_key == key
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await cluster.enqueue({"fir": 2}, idempotency_key=key)
    assert caught.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert _details(caught.value)[0] == "IDEMPOTENCY_KEY_REUSED"
    listed = await cluster.stub.ListJobs(jobs_pb2.ListJobsRequest(filter='type = "test.work"'))
    assert listed.total_size == 1


async def test_concurrent_enqueues_with_one_key_create_one_job(cluster: JobsCluster) -> None:
    key = f"race-{uuid.uuid4()}"
    jobs = await asyncio.gather(*(cluster.enqueue({"x": 1}, idempotency_key=key) for _ in range(8)))
    assert len({j.id for j in jobs}) == 1


@pytest.mark.parametrize(
    ("fields", "payload", "field", "reason"),
    [
        ({"type": "unknown.kind"}, {}, "job.type", "UNKNOWN_JOB_TYPE"),
        ({"type": "Not A Type"}, {}, "job.type", "INVALID_ARGUMENT"),
        ({}, {"blob": "x" * 70_000}, "job.payload", "PAYLOAD_TOO_LARGE"),
        ({"priority": -1}, {}, "job.priority", "INVALID_ARGUMENT"),
        ({"max_attempts": -2}, {}, "job.max_attempts", "INVALID_ARGUMENT"),
        ({"run_time": _ts(datetime.now(UTC) - timedelta(days=3))}, {}, "job.run_time", "INVALID_ARGUMENT"),
        ({"run_time": _ts(datetime.now(UTC) + timedelta(days=60))}, {}, "job.run_time", "INVALID_ARGUMENT"),
    ],
)
async def test_bad_input_is_invalid_argument(
    cluster: JobsCluster, fields: dict[str, object], payload: dict[str, object], field: str, reason: str
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await cluster.enqueue(payload, **fields)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert _details(caught.value) == (reason, [field])
    empty = await cluster.stub.ListJobs(jobs_pb2.ListJobsRequest())
    assert empty.total_size == 0


async def test_list_filters_and_pages_newest_first(cluster: JobsCluster) -> None:
    ids = [(await cluster.enqueue({"i": i}, type="test.listed")).id for i in range(5)]
    await cluster.enqueue({}, type="test.other")
    seen: list[str] = []
    token = ""
    while True:
        page = await cluster.stub.ListJobs(
            jobs_pb2.ListJobsRequest(page_size=2, page_token=token, filter='type = "test.listed" AND status = QUEUED')
        )
        assert page.total_size == 5 and all(not j.attempts for j in page.jobs)
        seen += [j.id for j in page.jobs]
        token = page.next_page_token
        if not token:
            break
    assert seen == list(reversed(ids))
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await cluster.stub.ListJobs(jobs_pb2.ListJobsRequest(page_token="forged", filter=""))
    assert _details(caught.value)[0] == "INVALID_PAGE_TOKEN"
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await cluster.stub.ListJobs(jobs_pb2.ListJobsRequest(filter="status = SLEEPY"))
    assert _details(caught.value)[0] == "INVALID_FILTER"


async def test_get_cancel_retry_errors(cluster: JobsCluster) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await cluster.get("nope")
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await cluster.get(str(uuid.uuid4()))
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND and _details(caught.value)[0] == "JOB_NOT_FOUND"
    queued = await cluster.enqueue({})
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await cluster.stub.RetryJob(jobs_pb2.RetryJobRequest(id=queued.id))
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert _details(caught.value)[0] == "JOB_STATE_CONFLICT"


async def test_cancel_a_queued_job_then_retry_it(cluster: JobsCluster) -> None:
    later = datetime.now(UTC) + timedelta(hours=1)
    job = await cluster.enqueue({}, run_time=_ts(later))
    assert job.run_time.ToDatetime(tzinfo=UTC) == later.replace(microsecond=later.microsecond)
    cancelled = await cluster.stub.CancelJob(jobs_pb2.CancelJobRequest(id=job.id))
    assert cancelled.status == JOB.JOB_STATUS_CANCELLED
    again = await cluster.stub.CancelJob(jobs_pb2.CancelJobRequest(id=job.id))
    assert again.status == JOB.JOB_STATUS_CANCELLED
    retried = await cluster.stub.RetryJob(jobs_pb2.RetryJobRequest(id=job.id))
    assert retried.status == JOB.JOB_STATUS_QUEUED


async def test_the_jobs_migration_rolls_back_and_reapplies(stack: Stack, tmp_path: Path) -> None:
    schema = f"jobs_mig_{uuid.uuid4().hex[:8]}"
    await asyncio.to_thread(create_jobs_schema, stack, schema, tmp_path)
    settings = mysql_settings(stack, schema)
    try:
        assert all(ok for _, ok in status(settings, schema, root=tmp_path))
        assert apply(settings, schema, down=True, root=tmp_path) == ["0001_jobs"]
        root = stack.root_connection()
        try:
            with root.cursor() as cur:
                cur.execute(
                    "SELECT COUNT(*) FROM information_schema.tables"
                    " WHERE table_schema = %s AND table_name IN ('jobs', 'job_attempts')",
                    (schema,),
                )
                (tables,) = cur.fetchone()
        finally:
            root.close()
        assert tables == 0
        assert apply(settings, schema, root=tmp_path) == ["0001_jobs"]
    finally:
        await asyncio.to_thread(drop_schema, stack, schema)
