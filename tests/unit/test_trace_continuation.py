"""Work done later for a request (the outbox send, the job run) continues the request's trace.

The tracer provider here is the SDK's with an in-memory exporter, installed for one test
(no collector, no I/O)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence

import pytest
from afirgen_fir.domain.jobs import JobRequest
from afirgen_fir.service_layer.outbox_relay import OutboxRelay
from afirgen_fir.service_layer.ports import OutboxEntry
from afirgen_jobs.domain.model import ClaimedJob, HandlerResult
from afirgen_jobs.service_layer.worker_loop import Worker, WorkerConfig
from afirgen_runtime import tracing
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tests.unit.test_jobs_worker import FakeQueue
from tests.waiting import until

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
SPAN_ID = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE_ID}-{SPAN_ID}-01"


@pytest.fixture
def spans(monkeypatch: pytest.MonkeyPatch) -> Iterator[InMemorySpanExporter]:
    """Tracing on, into memory, for this test only."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setattr(tracing, "_provider", provider)
    monkeypatch.setattr(tracing.trace, "get_tracer", lambda name, *a, **k: provider.get_tracer(name))
    yield exporter
    provider.shutdown()


class _Outbox:
    def __init__(self, entry: OutboxEntry) -> None:
        self.entry = entry
        self.sent: dict[int, str] = {}

    async def pending(self, limit: int) -> list[OutboxEntry]:
        return [] if self.sent else [self.entry]

    async def mark_sent(self, sent: Sequence[tuple[int, str]]) -> None:
        self.sent.update(sent)

    async def mark_failed(self, pk: int, error: str, retry_in_seconds: float) -> None:
        raise AssertionError(error)


class _ContextRecordingQueue:
    """Records the trace context each enqueue runs in (what its gRPC call would carry)."""

    def __init__(self) -> None:
        self.traceparents: list[str] = []

    async def enqueue(self, job: JobRequest, idempotency_key: str) -> str:
        self.traceparents.append(tracing.inject())
        return "job-1"


async def test_an_outbox_send_carries_the_trace_of_the_request_that_wrote_the_row(
    spans: InMemorySpanExporter,
) -> None:
    entry = OutboxEntry(1, JobRequest("fir.render_document", {"fir_id": "x"}, 5), "fir-outbox-1", 0, TRACEPARENT)
    queue = _ContextRecordingQueue()
    await OutboxRelay(_Outbox(entry), queue).relay_once()
    assert queue.traceparents == [TRACEPARENT]


class _Delivery:
    async def deliver(self, job: ClaimedJob, deadline_seconds: float) -> HandlerResult:
        return HandlerResult("OK")

    async def close(self) -> None:
        return None


def _claimed(trace_parent: str) -> ClaimedJob:
    return ClaimedJob(
        pk=1,
        id="job-1",
        type="fir.render_document",
        payload={},
        attempt=1,
        attempts_used=1,
        max_attempts=3,
        idempotency_key="",
        lease_token="token-1",
        trace_parent=trace_parent,
    )


async def _run_one(job: ClaimedJob, spans: InMemorySpanExporter) -> list[ReadableSpan]:
    """Run ``job`` through a worker; the spans named after its run."""
    queue, delivery = FakeQueue([job]), _Delivery()
    worker = Worker(queue, delivery, WorkerConfig(name="w1", poll_seconds=0.05))
    task = asyncio.create_task(worker.run())
    await until(lambda: job.id in queue.finished, every=0.005, what="the job to finish")
    worker.stop()
    await task
    return [s for s in spans.get_finished_spans() if s.name == f"job {job.type}"]


async def test_a_job_run_is_a_span_of_the_trace_that_enqueued_the_job(spans: InMemorySpanExporter) -> None:
    [run] = await _run_one(_claimed(TRACEPARENT), spans)
    assert run.context is not None and run.parent is not None
    assert (format(run.context.trace_id, "032x"), format(run.parent.span_id, "016x")) == (TRACE_ID, SPAN_ID)


async def test_a_job_without_a_trace_context_runs_in_a_trace_of_its_own(spans: InMemorySpanExporter) -> None:
    [run] = await _run_one(_claimed("not-a-traceparent"), spans)
    assert run.parent is None and run.context is not None and format(run.context.trace_id, "032x") != TRACE_ID
