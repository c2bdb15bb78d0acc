"""The /v1/jobs REST surface through Envoy, with its error paths."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import httpx
import pytest

from tests.conftest import unique_station
from tests.e2e.fir_helpers import error_reason, violations

pytestmark = pytest.mark.e2e


async def _wait(rest: httpx.AsyncClient, job_id: str, status: str, within: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + within
    while True:
        job = (await rest.get(f"/v1/jobs/{job_id}")).json()
        if job.get("status") == status:
            return dict(job)
        assert time.monotonic() < deadline, job
        await asyncio.sleep(0.1)


async def test_enqueue_track_and_page_through_jobs(rest: httpx.AsyncClient) -> None:
    station = unique_station()
    body = {
        "type": "fir.rollup_stats",
        "payload": {"day": "2026-11-28", "station": station},
        "priority": 3,
        "idempotency_key": f"e2e-{uuid.uuid4()}",
    }
    first = await rest.post("/v1/jobs", json=body)
    assert first.status_code == 200, first.text
    job = first.json()
    assert job["priority"] == 3 and job["max_attempts"] == 5 and job["idempotency_key"] == body["idempotency_key"]
    again = await rest.post("/v1/jobs", json=body)
    assert again.json()["id"] == job["id"]
    done = await _wait(rest, job["id"], "JOB_STATUS_SUCCEEDED")
    (attempt,) = done["attempts"]
    assert attempt["outcome"] == "OK" and attempt["number"] == 1 and "count rows" in attempt["detail"]
    assert attempt["start_time"] <= attempt["end_time"]

    page = await rest.get("/v1/jobs", params={"filter": 'type = "fir.rollup_stats"', "page_size": 1})
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    first_page = page.json()
    assert len(first_page["jobs"]) == 1 and int(first_page["total_size"]) >= 1
    if int(first_page["total_size"]) > 1:
        nxt = await rest.get(
            "/v1/jobs",
            params={"filter": 'type = "fir.rollup_stats"', "page_size": 1, "page_token": first_page["next_page_token"]},
        )
        assert nxt.status_code == 200 and nxt.json()["jobs"][0]["id"] != first_page["jobs"][0]["id"]


async def test_a_dead_job_is_kept_and_an_operator_can_retry_it(rest: httpx.AsyncClient) -> None:
    resp = await rest.post("/v1/jobs", json={"type": "fir.render_document", "payload": {"fir_id": "not-a-uuid"}})
    job = resp.json()
    dead = await _wait(rest, job["id"], "JOB_STATUS_DEAD")
    assert dead["last_error"].startswith("INVALID_ARGUMENT") and dead["attempt_count"] == 1
    retried = await rest.post(f"/v1/jobs/{job['id']}:retry", json={})
    assert retried.status_code == 200 and retried.json()["status"] in ("JOB_STATUS_QUEUED", "JOB_STATUS_RUNNING")
    await asyncio.sleep(0.2)
    dead_again = await _wait(rest, job["id"], "JOB_STATUS_DEAD")
    assert dead_again["attempt_count"] == 2 and len(dead_again["attempts"]) == 2
    listed = await rest.get("/v1/jobs", params={"filter": 'status = DEAD AND type = "fir.render_document"'})
    assert job["id"] in {j["id"] for j in listed.json()["jobs"]}
    conflict = await rest.post(f"/v1/jobs/{job['id']}:cancel", json={})
    assert conflict.status_code == 400 and error_reason(conflict.json()) == "JOB_STATE_CONFLICT"


async def test_cancel_a_scheduled_job(rest: httpx.AsyncClient) -> None:
    body = {
        "type": "fir.rollup_stats",
        "payload": {"day": "2026-11-28", "station": "X"},
        "run_time": "2099-01-01T00:00:00Z",
    }
    too_far = await rest.post("/v1/jobs", json=body)
    assert too_far.status_code == 400 and violations(too_far.json()) == ["job.run_time"]
    later = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
    job = (await rest.post("/v1/jobs", json=body | {"run_time": later})).json()
    assert job["status"] == "JOB_STATUS_QUEUED" and job["run_time"] == later
    cancelled = await rest.post(f"/v1/jobs/{job['id']}:cancel", json={})
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "JOB_STATUS_CANCELLED"


@pytest.mark.parametrize(
    ("body", "field", "reason"),
    [
        ({"type": "nobody.handles_this"}, "job.type", "UNKNOWN_JOB_TYPE"),
        ({"type": "fir.render_document", "priority": -1}, "job.priority", "INVALID_ARGUMENT"),
        ({"type": "fir.render_document", "max_attempts": 99}, "job.max_attempts", "INVALID_ARGUMENT"),
        ({"type": "fir.render_document", "payload": {"x": "y" * 70_000}}, "job.payload", "PAYLOAD_TOO_LARGE"),
        ({"type": "fir.render_document", "run_time": "2001-01-01T00:00:00Z"}, "job.run_time", "INVALID_ARGUMENT"),
    ],
)
async def test_bad_jobs_are_refused(rest: httpx.AsyncClient, body: dict[str, Any], field: str, reason: str) -> None:
    resp = await rest.post("/v1/jobs", json=body)
    assert resp.status_code == 400, resp.text
    assert violations(resp.json()) == [field] and error_reason(resp.json()) == reason


async def test_error_paths(rest: httpx.AsyncClient) -> None:
    resp = await rest.get("/v1/jobs/not-a-uuid")
    assert resp.status_code == 400 and violations(resp.json()) == ["id"]
    resp = await rest.get(f"/v1/jobs/{uuid.uuid4()}")
    assert resp.status_code == 404 and error_reason(resp.json()) == "JOB_NOT_FOUND"
    resp = await rest.post(f"/v1/jobs/{uuid.uuid4()}:retry", json={})
    assert resp.status_code == 404
    resp = await rest.get("/v1/jobs", params={"filter": "owner = me"})
    assert resp.status_code == 400 and error_reason(resp.json()) == "INVALID_FILTER"
    resp = await rest.get("/v1/jobs", params={"page_token": "forged"})
    assert resp.status_code == 400 and error_reason(resp.json()) == "INVALID_PAGE_TOKEN"
    resp = await rest.post("/v1/jobs", content=b"{not json", headers={"content-type": "application/json"})
    assert resp.status_code == 400
