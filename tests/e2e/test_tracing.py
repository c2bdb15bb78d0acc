"""One trace per REST call across every hop, and the trace id in every log line."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable

import httpx
import pytest

from scripts.devstack.stack import Stack
from tests.e2e.fir_helpers import fir_body
from tests.otlp_receiver import OtlpReceiver, ReceivedSpan
from tests.waiting import until

pytestmark = pytest.mark.e2e
SERVER, CLIENT = 2, 3  # OTLP span kinds


async def trace_of(otlp: OtlpReceiver, request_id: str) -> str:
    """The trace id of the edge's span for the request with ``request_id``."""

    def find() -> str:
        for span in otlp.spans():
            if span.service == "afirgen-edge" and request_id in span.attributes.get("guid:x-request-id", ""):
                return span.trace_id
        return ""

    return await until(find, every=0.2, what=f"an edge span carrying request id {request_id}")


async def spans_with(
    otlp: OtlpReceiver, trace_id: str, *wanted: Callable[[ReceivedSpan], bool], within: float = 30.0
) -> list[ReceivedSpan]:
    """The trace's spans once each ``wanted`` predicate matches one of them, and the whole tree is
    in (every span's parent has arrived: services export their spans in batches of their own)."""

    def complete(spans: list[ReceivedSpan]) -> bool:
        ids = {s.span_id for s in spans}
        rooted = any(not s.parent_span_id for s in spans)
        parents_in = all(s.parent_span_id in ids for s in spans if s.parent_span_id)
        return rooted and parents_in and all(any(w(s) for s in spans) for w in wanted)

    return await until(
        lambda: otlp.spans(trace_id), complete, within=within, every=0.2, what=f"the spans of trace {trace_id}"
    )


def assert_one_tree(spans: list[ReceivedSpan]) -> None:
    """Every span's parent is in the trace, except the edge's root."""
    ids = {s.span_id for s in spans}
    roots = [s for s in spans if not s.parent_span_id]
    assert [r.service for r in roots] == ["afirgen-edge"], [(r.service, r.name) for r in roots]
    orphans = [(s.service, s.name) for s in spans if s.parent_span_id and s.parent_span_id not in ids]
    assert not orphans, orphans


async def test_create_fir_is_one_trace_from_the_edge_to_sql_and_cache(
    rest: httpx.AsyncClient, otlp: OtlpReceiver, stack: Stack, station: str
) -> None:
    resp = await rest.post("/v1/firs", json=fir_body(station))
    assert resp.status_code == 200
    request_id = resp.headers["x-request-id"]

    # Find the trace by the edge's span for this request, then wait for the spans asserted on.
    trace_id = await trace_of(otlp, request_id)
    spans = await spans_with(
        otlp,
        trace_id,
        lambda s: s.service == "afirgen-fir" and s.kind == SERVER and s.name.endswith("CreateFir"),
        lambda s: s.name == "SQL fir.insert",
    )
    assert_one_tree(spans)
    for span in spans:  # no personal data in attributes
        assert "Asha" not in json.dumps(span.attributes) and "98100" not in json.dumps(span.attributes)

    # The same trace id is in the log lines of the fir replica that served the request
    # (fir.log or fir-2.log; access lines are written in batches, a tenth of a second apart).
    def lines_of_request() -> list[dict[str, str]]:
        logs = (path.read_text() for path in (stack.cfg.run_dir / "logs").glob("fir*.log"))
        return [json.loads(line) for log in logs for line in log.splitlines() if request_id in line and line[:1] == "{"]

    lines = await until(lines_of_request, what="the fir log lines of the request")
    assert all(line["trace_id"] == trace_id for line in lines)


@pytest.mark.timeout(600)
async def test_generation_is_one_trace_from_the_edge_to_the_model_servers(
    rest: httpx.AsyncClient, otlp: OtlpReceiver, station: str
) -> None:
    complaint = "Last night my motorcycle UP15 AB 4521 was stolen from outside my house. It is worth 55,000 rupees."
    resp = await rest.post(
        "/v1/firs:generate",
        json={
            "text": complaint,
            "language": "en",
            "station": {"code": station},
            "complainant": {"name": "Ravi Kumar"},
        },
    )
    assert resp.status_code == 200, resp.text
    request_id = resp.headers["x-request-id"]
    trace_id = await trace_of(otlp, request_id)
    spans = await spans_with(
        otlp,
        trace_id,
        lambda s: s.service == "afirgen-inference" and s.name == "model llm",
        lambda s: s.service == "afirgen-fir" and s.name.startswith("SQL fir."),
        lambda s: s.service == "afirgen-cache",
    )
    # fir called the proxy: its client span is the parent of the proxy's server span
    by_id = {s.span_id: s for s in spans}
    proxy_servers = [s for s in spans if s.service == "afirgen-inference" and s.kind == SERVER]
    assert proxy_servers and all(by_id[s.parent_span_id].service == "afirgen-fir" for s in proxy_servers)
    assert_one_tree(spans)


@pytest.mark.parametrize("client_id", ["abc-123", uuid.uuid4().hex], ids=["short", "32-hex"])
async def test_a_request_that_brings_its_own_request_id_is_one_trace(
    rest: httpx.AsyncClient, otlp: OtlpReceiver, station: str, client_id: str
) -> None:
    resp = await rest.post("/v1/firs", json=fir_body(station), headers={"x-request-id": client_id})
    assert resp.status_code == 200, resp.text
    trace_id = await trace_of(otlp, resp.headers["x-request-id"])
    spans = await spans_with(
        otlp, trace_id, lambda s: s.service == "afirgen-fir" and s.kind == SERVER and s.name.endswith("CreateFir")
    )
    assert_one_tree(spans)


async def test_the_job_an_fir_write_starts_runs_in_the_writes_trace(
    rest: httpx.AsyncClient, otlp: OtlpReceiver, station: str
) -> None:
    resp = await rest.post("/v1/firs", json=fir_body(station))
    assert resp.status_code == 200, resp.text
    trace_id = await trace_of(otlp, resp.headers["x-request-id"])
    # The outbox relay enqueues the render job, a worker runs it, fir renders the document:
    # all of it under the request's edge span.
    spans = await spans_with(
        otlp,
        trace_id,
        lambda s: s.service == "afirgen-jobs-worker" and s.name == "job fir.render_document",
        lambda s: s.service == "afirgen-fir" and s.kind == SERVER and s.name.endswith("HandleJob"),
        within=90,
    )
    assert_one_tree(spans)
