"""The operator's /v1/jobs surface through Envoy, with its error paths. Jobs are
enqueued the way services enqueue them, straight to the jobs service over gRPC:
job creation is internal and the edge does not route it."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import grpc
import httpx
import pytest
from afirgen.jobs.v1 import jobs_pb2, jobs_pb2_grpc
from google.protobuf import json_format, struct_pb2, timestamp_pb2

from scripts.devstack.stack import Stack
from tests.e2e.fir_helpers import error_reason, grpc_violations
from tests.waiting import until

pytestmark = pytest.mark.e2e


@pytest.fixture
async def jobs(stack: Stack) -> AsyncIterator[jobs_pb2_grpc.JobServiceStub]:
    """The jobs service as the fir service calls it (inside the mesh, no token)."""
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{stack.cfg.jobs_port}")
    yield jobs_pb2_grpc.JobServiceStub(channel)
    await channel.close()


@pytest.fixture
def ops(client_as: Callable[..., httpx.AsyncClient]) -> httpx.AsyncClient:
    """The edge, signed in as an operator."""
    return client_as("operator")


def new_job(job_type: str, payload: dict[str, Any], **fields: Any) -> jobs_pb2.CreateJobRequest:
    struct = struct_pb2.Struct()
    struct.update(payload)
    return jobs_pb2.CreateJobRequest(job=jobs_pb2.Job(type=job_type, payload=struct, **fields))


async def _wait(ops: httpx.AsyncClient, job_id: str, status: str, within: float = 30) -> dict[str, Any]:
    async def job() -> dict[str, Any]:
        return dict((await ops.get(f"/v1/jobs/{job_id}")).json())

    return await until(job, lambda j: j.get("status") == status, within=within, every=0.1, what=f"job {status}")


async def test_an_operator_tracks_an_enqueued_job_to_success(
    jobs: jobs_pb2_grpc.JobServiceStub, ops: httpx.AsyncClient, station: str
) -> None:
    job = await jobs.CreateJob(new_job("fir.rollup_stats", {"day": "2026-11-28", "station": station}))
    done = await _wait(ops, job.id, "JOB_STATUS_SUCCEEDED")
    assert [a["outcome"] for a in done["attempts"]] == ["OK"]


async def test_the_same_idempotency_key_enqueues_one_job(jobs: jobs_pb2_grpc.JobServiceStub, station: str) -> None:
    key = f"e2e-{uuid.uuid4()}"
    request = new_job("fir.rollup_stats", {"day": "2026-11-28", "station": station}, idempotency_key=key)
    first, again = await jobs.CreateJob(request), await jobs.CreateJob(request)
    assert again.id == first.id


async def test_an_operator_pages_through_jobs(
    jobs: jobs_pb2_grpc.JobServiceStub, ops: httpx.AsyncClient, station: str
) -> None:
    for day in ("2026-11-27", "2026-11-28"):
        await jobs.CreateJob(new_job("fir.rollup_stats", {"day": day, "station": station}))
    first = (await ops.get("/v1/jobs", params={"filter": 'type = "fir.rollup_stats"', "page_size": 1})).json()
    params = {"filter": 'type = "fir.rollup_stats"', "page_size": 1, "page_token": first["next_page_token"]}
    second = (await ops.get("/v1/jobs", params=params)).json()
    assert second["jobs"][0]["id"] != first["jobs"][0]["id"]


async def test_an_operator_retries_a_dead_job(jobs: jobs_pb2_grpc.JobServiceStub, ops: httpx.AsyncClient) -> None:
    job = await jobs.CreateJob(new_job("fir.render_document", {"fir_id": "not-a-uuid"}))
    await _wait(ops, job.id, "JOB_STATUS_DEAD")
    assert (await ops.post(f"/v1/jobs/{job.id}:retry", json={})).status_code == 200
    dead_again = await _wait(ops, job.id, "JOB_STATUS_DEAD")
    assert dead_again["attempt_count"] == 2


async def test_a_dead_job_cannot_be_cancelled(jobs: jobs_pb2_grpc.JobServiceStub, ops: httpx.AsyncClient) -> None:
    job = await jobs.CreateJob(new_job("fir.render_document", {"fir_id": "not-a-uuid"}))
    await _wait(ops, job.id, "JOB_STATUS_DEAD")
    conflict = await ops.post(f"/v1/jobs/{job.id}:cancel", json={})
    assert (conflict.status_code, error_reason(conflict.json())) == (400, "JOB_STATE_CONFLICT")


async def test_an_operator_cancels_a_scheduled_job(jobs: jobs_pb2_grpc.JobServiceStub, ops: httpx.AsyncClient) -> None:
    later = timestamp_pb2.Timestamp(seconds=int(time.time()) + 3600)
    job = await jobs.CreateJob(new_job("fir.rollup_stats", {"day": "2026-11-28", "station": "X"}, run_time=later))
    cancelled = await ops.post(f"/v1/jobs/{job.id}:cancel", json={})
    assert cancelled.json()["status"] == "JOB_STATUS_CANCELLED"


@pytest.mark.parametrize(
    ("job", "field"),
    [
        ({"type": "nobody.handles_this"}, "job.type"),
        ({"type": "fir.render_document", "priority": -1}, "job.priority"),
        ({"type": "fir.render_document", "max_attempts": 99}, "job.max_attempts"),
        ({"type": "fir.render_document", "payload": {"x": "y" * 70_000}}, "job.payload"),
        ({"type": "fir.render_document", "run_time": "2001-01-01T00:00:00Z"}, "job.run_time"),
        ({"type": "fir.rollup_stats", "run_time": "2099-01-01T00:00:00Z"}, "job.run_time"),
    ],
)
async def test_bad_jobs_are_refused(jobs: jobs_pb2_grpc.JobServiceStub, job: dict[str, Any], field: str) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await jobs.CreateJob(jobs_pb2.CreateJobRequest(job=json_format.ParseDict(job, jobs_pb2.Job())))
    assert (refused.value.code(), grpc_violations(refused.value)) == (grpc.StatusCode.INVALID_ARGUMENT, [field])


async def test_jobs_cannot_be_created_through_the_edge(ops: httpx.AsyncClient) -> None:
    resp = await ops.post("/v1/jobs", json={"type": "fir.render_document", "priority": 9})
    assert resp.status_code == 404


async def test_an_officer_cannot_see_jobs(rest: httpx.AsyncClient) -> None:
    assert (await rest.get("/v1/jobs")).status_code == 403


@pytest.mark.parametrize(
    ("path", "status", "reason"),
    [
        ("/v1/jobs/not-a-uuid", 400, "INVALID_ARGUMENT"),
        (f"/v1/jobs/{uuid.uuid4()}", 404, "JOB_NOT_FOUND"),
        ("/v1/jobs?filter=owner%20%3D%20me", 400, "INVALID_FILTER"),
        ("/v1/jobs?page_token=forged", 400, "INVALID_PAGE_TOKEN"),
    ],
)
async def test_operator_error_paths(ops: httpx.AsyncClient, path: str, status: int, reason: str) -> None:
    resp = await ops.get(path)
    assert (resp.status_code, error_reason(resp.json())) == (status, reason)


async def test_an_unknown_job_cannot_be_retried(ops: httpx.AsyncClient) -> None:
    resp = await ops.post(f"/v1/jobs/{uuid.uuid4()}:retry", json={})
    assert resp.status_code == 404
