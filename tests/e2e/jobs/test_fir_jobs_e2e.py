"""FIR jobs end to end through Envoy: the PDF of a finalized FIR, its signed
webhook, the counts that need no job, and the outbox that survives a jobs outage."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import hmac
import io
import json
import os
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pypdf
import pytest
from afirgen_runtime.db import Database, Statement

from chaos.webhooks import Receiver
from scripts.devstack.stack import Stack
from tests.e2e.fir_helpers import create_fir, error_reason
from tests.waiting import until

pytestmark = pytest.mark.e2e

OUTBOX_JOBS = Statement(
    "test.outbox",
    "SELECT o.job_type, o.job_id FROM fir_outbox o JOIN firs f ON f.pk = o.fir_pk WHERE f.id = %s",
)
OUTBOX_STATE = Statement(
    "test.outbox_state",
    "SELECT COUNT(*), CAST(SUM(o.sent_at IS NULL) AS SIGNED), MIN(o.attempts)"
    " FROM fir_outbox o JOIN firs f ON f.pk = o.fir_pk WHERE f.id = %s",
)
FINAL_JOB_STATUSES = frozenset({"JOB_STATUS_SUCCEEDED", "JOB_STATUS_DEAD", "JOB_STATUS_CANCELLED"})


async def _document(
    rest: httpx.AsyncClient, jobs: Callable[[], Awaitable[Any]], fir_id: str, want: str, within: float = 45
) -> tuple[httpx.Response, str]:
    """Poll the download until it is a PDF whose text contains ``want``. A timeout names
    the FIR's jobs as ``jobs()`` finds them then (their status, attempts and last error)."""

    async def fetch() -> tuple[httpx.Response, str]:
        resp = await rest.get(f"/v1/firs/{fir_id}/document")
        if resp.status_code != 200:
            assert resp.status_code == 400 and error_reason(resp.json()) == "DOCUMENT_NOT_READY", resp.text
            return resp, ""
        return resp, "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(resp.content)).pages)

    try:
        return await until(
            fetch, lambda got: want in got[1], within=within, every=0.2, what=f"a document with {want!r}"
        )
    except AssertionError as timed_out:
        raise AssertionError(f"{timed_out}; the FIR's jobs then: {await jobs()}") from None


async def _jobs_of(ops: httpx.AsyncClient, fir_db: Database, fir_id: str) -> tuple[int, list[dict[str, Any]]]:
    """The FIR's outbox rows and the jobs of those already sent."""
    rows = await fir_db.fetch_all(OUTBOX_JOBS, (fir_id,))
    return len(rows), [(await ops.get(f"/v1/jobs/{job_id}")).json() for _, job_id in rows if job_id]


async def _settled_jobs(ops: httpx.AsyncClient, fir_db: Database, fir_id: str) -> list[dict[str, Any]]:
    """The jobs of the FIR's outbox rows, once every row is sent and every job has finished for good."""

    def settled(got: tuple[int, list[dict[str, Any]]]) -> bool:
        rows, found = got
        return len(found) == rows and all(j.get("status") in FINAL_JOB_STATUSES for j in found)

    _, found = await until(
        lambda: _jobs_of(ops, fir_db, fir_id), settled, within=60, every=0.2, what=f"the jobs of FIR {fir_id} to finish"
    )
    return found


def _for(receiver: Receiver, fir_id: str) -> list[Any]:
    return [d for d in receiver.snapshot() if json.loads(d.body).get("fir_id") == fir_id]


async def test_finalized_fir_has_a_pdf_and_one_signed_webhook(
    rest: httpx.AsyncClient,
    webhook: Receiver,
    fir_db: Database,
    station: str,
    client_as: Callable[..., httpx.AsyncClient],
) -> None:
    ops = client_as("operator")
    fir = await create_fir(rest, station)
    jobs = functools.partial(_jobs_of, ops, fir_db, fir["id"])
    draft, text = await _document(rest, jobs, fir["id"], fir["fir_number"])
    assert draft.headers["content-type"] == "application/pdf" and draft.content.startswith(b"%PDF")
    assert "FIRST INFORMATION REPORT" in text and "DRAFT" in text
    assert draft.headers["cache-control"] == "private, no-cache"

    resp = await rest.post(f"/v1/firs/{fir['id']}:finalize", json={"etag": fir["etag"]})
    assert resp.status_code == 200, resp.text
    final, text = await _document(rest, jobs, fir["id"], "Finalized")
    assert fir["fir_number"] in text and "NOT A REGISTERED FIR" not in text
    assert final.headers["content-disposition"] == f'inline; filename="FIR-{fir["fir_number"].replace("/", "-")}.pdf"'
    assert final.headers["cache-control"] == "private, max-age=86400, immutable"

    # Every job the FIR needed went through the outbox and succeeded; a SUCCEEDED
    # job is final, so once the notice's job succeeded no other delivery can follow.
    settled = await _settled_jobs(ops, fir_db, fir["id"])
    assert sorted((j["type"], j["status"]) for j in settled) == [
        ("fir.notify_finalized", "JOB_STATUS_SUCCEEDED"),
        ("fir.render_document", "JOB_STATUS_SUCCEEDED"),
        ("fir.render_document", "JOB_STATUS_SUCCEEDED"),
    ]
    (notice,) = (j for j in settled if j["type"] == "fir.notify_finalized")
    assert notice["attempt_count"] == 1, notice
    (delivery,) = _for(webhook, fir["id"])
    signed = delivery.headers["x-afirgen-timestamp"].encode() + b"." + delivery.body
    expected = "sha256=" + hmac.new(webhook.secret.encode(), signed, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(delivery.headers["x-afirgen-signature"], expected)
    assert abs(int(delivery.headers["x-afirgen-timestamp"]) - time.time()) < 120
    assert delivery.headers["idempotency-key"].startswith("fir-outbox-") and delivery.path == "/fir-events"
    body = json.loads(delivery.body)
    assert body["fir_number"] == fir["fir_number"] and body["status"] == "FINALIZED"
    assert body["station"]["code"] == station and body["event"] == "fir.finalized"
    for personal in ("Asha", "Verma", "98100", "asha@example.org", "Park Street"):
        assert personal not in delivery.body.decode()

    # The counts followed the writes in their own transactions: no roll-up job ran.
    counts = Statement(
        "test.counts",
        "SELECT grain, kind, act, section, drafts, finalized FROM fir_counts WHERE station_code = %s",
    )
    rows = await fir_db.fetch_all(counts, (station,))
    expected = sorted(
        (grain, kind, act, section, 0, 1)
        for grain in "DMY"
        for kind, act, section in ((0, "", ""), (1, "BNS", "304"), (2, "", "304"))
    )
    assert sorted(tuple(r) for r in rows) == expected


async def test_document_errors(rest: httpx.AsyncClient) -> None:
    resp = await rest.get(f"/v1/firs/{uuid.uuid4()}/document")
    assert resp.status_code == 404 and error_reason(resp.json()) == "FIR_NOT_FOUND"
    resp = await rest.get("/v1/firs/not-an-id/document")
    assert resp.status_code == 400


async def test_the_outbox_keeps_jobs_while_the_jobs_service_is_down(
    rest: httpx.AsyncClient,
    stack: Stack,
    fir_db: Database,
    station: str,
    client_as: Callable[..., httpx.AsyncClient],
) -> None:
    stack.ctl("stop", "services:jobs")
    try:
        fir = await create_fir(rest, station)  # answered without the jobs service
        # The relay tried every row, failed and backs off: the rows stay unsent.
        state = await until(
            lambda: fir_db.fetch_one(OUTBOX_STATE, (fir["id"],)),
            lambda row: row is not None and row[2] >= 1,
            what="the relay to try each outbox row once",
        )
        assert state[:2] == (1, 1)  # a create's one job (its document), unsent
    finally:
        stack.ctl("start", "services:jobs")
        await asyncio.to_thread(stack._wait, lambda: stack.grpc_serving(stack.cfg.jobs_port), 60, "jobs")
    # Each row is sent when its backoff (a few seconds after so short an outage) runs out.
    sent = await until(
        lambda: fir_db.fetch_one(OUTBOX_STATE, (fir["id"],)),
        lambda row: row is not None and row[1] == 0,
        within=60,
        every=0.5,
        what="the outbox rows to be sent",
    )
    assert sent[:2] == (1, 0)
    jobs = functools.partial(_jobs_of, client_as("operator"), fir_db, fir["id"])
    await _document(rest, jobs, fir["id"], fir["fir_number"], within=60)


def test_the_jobs_worker_runs_at_a_low_cpu_priority(stack: Stack) -> None:
    """Background work yields the CPU to requests (AFIRGEN_NICENESS, 10 by default)."""
    pid = int(stack.ctl("pid", "services:jobs-worker").strip())
    assert os.getpriority(os.PRIO_PROCESS, pid) == 10
