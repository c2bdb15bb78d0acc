"""OpenTelemetry tracing: one trace across every hop, exported over OTLP.

With no collector endpoint configured nothing is installed: the API's no-op
tracer is used and tracing costs next to nothing. With one, every service
exports spans over OTLP/gRPC in batches; gRPC servers and clients are
instrumented (W3C ``traceparent`` travels in metadata, also through Envoy),
and the code adds spans for SQL statements, cache calls, model-server calls
and job runs. Span attributes are names, codes and sizes, never payloads: no
personal data reaches a trace.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace

from afirgen_runtime import logging as runtime_logging
from afirgen_runtime.settings import TracingSettings

TRACEPARENT_HEADER = "traceparent"
"""W3C trace context of a call (gRPC metadata), and of the enqueue that made a job."""
_provider: Any = None


def enabled() -> bool:
    """True once :func:`configure` installed an exporter."""
    return _provider is not None


def current_trace_id() -> str:
    """Hex trace id of the active span, or ``""``."""
    ctx = trace.get_current_span().get_span_context()
    return format(ctx.trace_id, "032x") if ctx.is_valid else ""


def configure(service: str, settings: TracingSettings) -> None:
    """Install the tracer provider of ``service`` (no-op without an endpoint)."""
    global _provider
    runtime_logging.set_trace_id_provider(current_trace_id)
    if not settings.otlp_endpoint or _provider is not None:
        return
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

    provider = TracerProvider(
        resource=Resource.create({"service.name": f"afirgen-{service}", "service.namespace": "afirgen"}),
        sampler=ParentBased(TraceIdRatioBased(settings.sample_ratio)),
    )
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=settings.otlp_endpoint, insecure=True)))
    trace.set_tracer_provider(provider)
    _provider = provider


def shutdown() -> None:
    """Flush and stop the exporter (on graceful shutdown)."""
    if _provider is not None:
        _provider.shutdown()


def server_interceptors() -> list[Any]:
    """Interceptors that open a server span per call (empty when tracing is off)."""
    if _provider is None:
        return []
    from opentelemetry.instrumentation.grpc import aio_server_interceptor

    return [aio_server_interceptor()]  # type: ignore[no-untyped-call]


def client_interceptors() -> list[Any]:
    """Interceptors that open a client span per call and propagate the context."""
    if _provider is None:
        return []
    from opentelemetry.instrumentation.grpc import aio_client_interceptors

    return list(aio_client_interceptors())  # type: ignore[no-untyped-call]


@contextmanager
def span(name: str, **attributes: str | int | float | bool) -> Iterator[Any]:
    """A child span around a piece of work (no-op when tracing is off)."""
    if _provider is None:
        yield None
        return
    with trace.get_tracer("afirgen").start_as_current_span(name, attributes=attributes) as current:
        yield current


def inject() -> str:
    """The current context as a W3C ``traceparent`` (for jobs enqueued now)."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier.get(TRACEPARENT_HEADER, "")


@contextmanager
def continued(traceparent: str) -> Iterator[None]:
    """Make the trace that ``traceparent`` names the current one (work done later for a
    request: an outbox send, a job run), so the spans opened inside join that trace.
    A missing or malformed ``traceparent`` leaves the context as it is."""
    if _provider is None or not traceparent:
        yield
        return
    extracted = propagate.extract({TRACEPARENT_HEADER: traceparent})
    if not trace.get_current_span(extracted).get_span_context().is_valid:
        yield
        return
    token = otel_context.attach(extracted)
    try:
        yield
    finally:
        otel_context.detach(token)


@contextmanager
def continued_span(name: str, traceparent: str, **attributes: str | int | float | bool) -> Iterator[Any]:
    """A span around work done later for a request, a child of the span ``traceparent``
    names (a new root span without one)."""
    with continued(traceparent), span(name, **attributes) as current:
        yield current
