"""A real OTLP/gRPC trace receiver for tests: services and Envoy export to it. It can pass every
export on to another OTLP receiver as well (a Jaeger of tests/e2e/test_observe.py), as a
collector fanning out would."""

from __future__ import annotations

import threading
from concurrent import futures
from dataclasses import dataclass

import grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc


@dataclass(frozen=True)
class ReceivedSpan:
    """One exported span, flattened."""

    service: str
    name: str
    trace_id: str
    span_id: str
    parent_span_id: str
    kind: int
    attributes: dict[str, str]
    links: tuple[str, ...]


class _Collector(trace_service_pb2_grpc.TraceServiceServicer):  # type: ignore[misc]
    def __init__(self) -> None:
        self.spans: list[ReceivedSpan] = []
        self.lock = threading.Lock()
        self.downstream: trace_service_pb2_grpc.TraceServiceStub | None = None

    def Export(self, request, context):  # type: ignore[no-untyped-def]
        received = []
        for resource_spans in request.resource_spans:
            service = next(
                (a.value.string_value for a in resource_spans.resource.attributes if a.key == "service.name"), ""
            )
            for scope in resource_spans.scope_spans:
                for span in scope.spans:
                    received.append(
                        ReceivedSpan(
                            service=service,
                            name=span.name,
                            trace_id=span.trace_id.hex(),
                            span_id=span.span_id.hex(),
                            parent_span_id=span.parent_span_id.hex(),
                            kind=span.kind,
                            attributes={a.key: str(a.value).strip() for a in span.attributes},
                            links=tuple(link.trace_id.hex() for link in span.links),
                        )
                    )
        with self.lock:
            self.spans.extend(received)
            downstream = self.downstream
        if downstream is not None:
            downstream.Export(request, timeout=5)
        return trace_service_pb2.ExportTraceServiceResponse()


class OtlpReceiver:
    """Runs on a free loopback port until :meth:`stop`."""

    def __init__(self) -> None:
        self._collector = _Collector()
        self._downstream_channel: grpc.Channel | None = None
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        trace_service_pb2_grpc.add_TraceServiceServicer_to_server(self._collector, self._server)
        self.port = self._server.add_insecure_port("127.0.0.1:0")
        self._server.start()

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    def spans(self, trace_id: str | None = None) -> list[ReceivedSpan]:
        """Spans received so far (of one trace when given)."""
        with self._collector.lock:
            return [s for s in self._collector.spans if trace_id is None or s.trace_id == trace_id]

    def forward_to(self, endpoint: str | None) -> None:
        """Pass every export from now on to the OTLP/gRPC receiver at ``endpoint`` too (None: stop)."""
        channel = grpc.insecure_channel(endpoint) if endpoint else None
        stub = trace_service_pb2_grpc.TraceServiceStub(channel) if channel is not None else None
        with self._collector.lock:
            self._collector.downstream = stub
        previous, self._downstream_channel = self._downstream_channel, channel
        if previous is not None:
            previous.close()

    def stop(self) -> None:
        self.forward_to(None)
        self._server.stop(grace=None)
