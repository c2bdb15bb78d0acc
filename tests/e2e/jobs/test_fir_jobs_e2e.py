"""FIR jobs end to end through Envoy: the PDF of a finalized FIR, its signed
webhook, the counts that need no job, and the outbox that survives a jobs outage."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import io
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pypdf
import pytest
from afirgen_runtime.db import Database, Statement

from scripts.devstack.stack import Stack
from tests.e2e.fir_helpers import create_fir, error_reason
from tests.e2e.jobs.conftest import Receiver

pytestmark = pytest.mark.e2e


async def _document(rest: httpx.AsyncClient, fir_id: str, want: str, within: float = 45) -> tuple[httpx.Response, str]:
    """Poll the download until it is a PDF whose text contains ``want``."""
    deadline = time.monotonic() + within
    while True:
        resp = await rest.get(f"/v1/firs/{fir_id}/document")
        if resp.status_code == 200:
            text = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(resp.content)).pages)
            if want in text:
                return resp, text
        else:
            assert resp.status_code == 400 and error_reason(resp.json()) == "DOCUMENT_NOT_READY", resp.text
        assert time.monotonic() < deadline, f"no document with {want!r} after {within}s: {resp.status_code}"
        await asyncio.sleep(0.2)


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
    draft, text = await _document(rest, fir["id"], fir["fir_number"])
    assert draft.headers["content-type"] == "application/pdf" and draft.content.startswith(b"%PDF")
    assert "FIRST INFORMATION REPORT" in text and "DRAFT" in text
    assert draft.headers["cache-control"] == "private, no-cache"

    resp = await rest.post(f"/v1/firs/{fir['id']}:finalize", json={"etag": fir["etag"]})
    assert resp.status_code == 200, resp.text
    final, text = await _document(rest, fir["id"], "Finalized")
    assert fir["fir_number"] in text and "NOT A REGISTERED FIR" not in text
    assert final.headers["content-disposition"] == f'inline; filename="FIR-{fir["fir_number"].replace("/", "-")}.pdf"'
    assert final.headers["cache-control"] == "private, max-age=86400, immutable"

    deadline = time.monotonic() + 30
    while not _for(webhook, fir["id"]):
        assert time.monotonic() < deadline, "the webhook never arrived"
        await asyncio.sleep(0.1)
    await asyncio.sleep(2.5)  # a duplicate would arrive by now (delivery is at least once)
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

    # Every job the FIR needed went through the outbox and succeeded.
    rows = await fir_db.fetch_all(
        Statement(
            "test.outbox",
            "SELECT o.job_type, o.job_id FROM fir_outbox o JOIN firs f ON f.pk = o.fir_pk WHERE f.id = %s",
        ),
        (fir["id"],),
    )
    assert sorted(t for t, _ in rows) == ["fir.notify_finalized", "fir.render_document", "fir.render_document"]
    for _, job_id in rows:
        job = (await ops.get(f"/v1/jobs/{job_id}")).json()
        assert job["status"] == "JOB_STATUS_SUCCEEDED", job

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
    rest: httpx.AsyncClient, stack: Stack, fir_db: Database, station: str
) -> None:
    pending = Statement(
        "test.pending",
        "SELECT COUNT(*) FROM fir_outbox o JOIN firs f ON f.pk = o.fir_pk WHERE f.id = %s AND o.sent_at IS NULL",
    )
    stack.ctl("stop", "services:jobs")
    try:
        started = time.monotonic()
        fir = await create_fir(rest, station)
        assert time.monotonic() - started < 5  # the user does not wait for the jobs service
        await asyncio.sleep(1.5)  # the relay tries, fails and backs off
        assert await fir_db.fetch_one(pending, (fir["id"],)) == (2,)
    finally:
        stack.ctl("start", "services:jobs")
        await asyncio.to_thread(stack._wait, lambda: stack.grpc_serving(stack.cfg.jobs_port), 60, "jobs")
    await _document(rest, fir["id"], fir["fir_number"], within=60)
    assert await fir_db.fetch_one(pending, (fir["id"],)) == (0,)
