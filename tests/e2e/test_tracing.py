"""One trace per REST call across every hop, and the trace id in every log line."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest

from scripts.devstack.stack import Stack
from tests.e2e.fir_helpers import fir_body
from tests.otlp_receiver import OtlpReceiver, ReceivedSpan

pytestmark = pytest.mark.e2e
SERVER, CLIENT = 2, 3  # OTLP span kinds


async def wait_for_spans(otlp: OtlpReceiver, trace_id: str, services: set[str], wait: float = 30) -> list[ReceivedSpan]:
    deadline = time.monotonic() + wait
    while True:
        spans = otlp.spans(trace_id)
        if services <= {s.service for s in spans} or time.monotonic() > deadline:
            return spans
        await asyncio.sleep(0.5)


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

    # Find the trace by the fir service's server span for this request.
    deadline = time.monotonic() + 30
    trace_id = ""
    while not trace_id and time.monotonic() < deadline:
        for span in otlp.spans():
            if span.service == "afirgen-edge" and request_id in span.attributes.get("guid:x-request-id", ""):
                trace_id = span.trace_id
        await asyncio.sleep(0.5)
    assert trace_id, "no edge span carried the request id"
    spans = await wait_for_spans(otlp, trace_id, {"afirgen-edge", "afirgen-fir"})
    services = {s.service for s in spans}
    assert {"afirgen-edge", "afirgen-fir"} <= services
    fir_server = [s for s in spans if s.service == "afirgen-fir" and s.kind == SERVER]
    assert any(s.name.endswith("CreateFir") for s in fir_server)
    assert any(s.name == "SQL fir.insert" for s in spans)
    assert_one_tree(spans)
    for span in spans:  # no personal data in attributes
        assert "Asha" not in json.dumps(span.attributes) and "98100" not in json.dumps(span.attributes)

    # The same trace id is in the fir service's log lines for this request.
    log = (stack.cfg.run_dir / "logs" / "fir.log").read_text()
    lines = [json.loads(line) for line in log.splitlines() if request_id in line and line.startswith("{")]
    assert lines and all(line["trace_id"] == trace_id for line in lines)


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
    deadline = time.monotonic() + 30
    trace_id = ""
    while not trace_id and time.monotonic() < deadline:
        for span in otlp.spans():
            if span.service == "afirgen-edge" and request_id in span.attributes.get("guid:x-request-id", ""):
                trace_id = span.trace_id
        await asyncio.sleep(0.5)
    assert trace_id
    hops = {"afirgen-edge", "afirgen-fir", "afirgen-inference", "afirgen-cache"}
    spans = await wait_for_spans(otlp, trace_id, hops)
    assert hops <= {s.service for s in spans}, sorted({s.service for s in spans})
    assert any(s.service == "afirgen-inference" and s.name == "model llm" for s in spans)
    assert any(s.service == "afirgen-fir" and s.name.startswith("SQL fir.") for s in spans)
    # fir called the proxy: its client span is the parent of the proxy's server span
    by_id = {s.span_id: s for s in spans}
    proxy_servers = [s for s in spans if s.service == "afirgen-inference" and s.kind == SERVER]
    assert proxy_servers and all(by_id[s.parent_span_id].service == "afirgen-fir" for s in proxy_servers)
    assert_one_tree(spans)
