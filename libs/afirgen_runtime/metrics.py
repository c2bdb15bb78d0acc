"""Prometheus metrics shared by every service, and the ``/metrics`` endpoint.

Metric families that more than one service emits are defined here once
(RPC server and client, SQL, database pool); a service defines its own
families beside its code with the same conventions: ``afirgen_`` prefix, base
units in the name (``_seconds``, ``_bytes``), ``_total`` counters, and labels
with bounded values only (a method or statement name, never an id).

Process resources (CPU seconds, resident memory, open and maximum file
descriptors) are prometheus_client's own process collector (``process_*``),
exported by every process; the alert rules in ``ops/prometheus`` judge them.
"""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import Counter, Gauge, Histogram, disable_created_metrics, start_http_server

from afirgen_runtime.settings import MetricsSettings

disable_created_metrics()  # type: ignore[no-untyped-call]  # *_created series double the output and nobody graphs them

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)

RPC_SERVER_REQUESTS = Counter("afirgen_rpc_server_requests_total", "gRPC calls served", ["service", "method", "code"])
RPC_SERVER_DURATION = Histogram(
    "afirgen_rpc_server_duration_seconds", "Time to serve a gRPC call", ["service", "method"], buckets=LATENCY_BUCKETS
)
RPC_CLIENT_REQUESTS = Counter(
    "afirgen_rpc_client_requests_total", "gRPC calls made to other services", ["service", "method", "code"]
)
RPC_CLIENT_DURATION = Histogram(
    "afirgen_rpc_client_duration_seconds",
    "Time of a gRPC call to another service",
    ["service", "method"],
    buckets=LATENCY_BUCKETS,
)
SQL_DURATION = Histogram(
    "afirgen_db_query_duration_seconds", "SQL statement time by statement name", ["statement"], buckets=LATENCY_BUCKETS
)
SQL_SLOW = Counter("afirgen_db_slow_queries_total", "Statements slower than the slow-query threshold", ["statement"])
DB_POOL_SIZE = Gauge("afirgen_db_pool_connections", "Connections in the pool", ["database"])
DB_POOL_IN_USE = Gauge("afirgen_db_pool_connections_in_use", "Connections handed out", ["database"])
DB_POOL_WAITING = Gauge("afirgen_db_pool_waiting_acquirers", "Callers waiting for a connection", ["database"])
DB_POOL_MAX = Gauge("afirgen_db_pool_connections_max", "Pool size limit", ["database"])
DB_ACQUIRE = Histogram(
    "afirgen_db_pool_acquire_duration_seconds", "Time to get a pooled connection", ["database"], buckets=LATENCY_BUCKETS
)


def observe_server_call(service: str) -> Callable[[str, str, float], None]:
    """A CallObserver for :class:`~afirgen_runtime.server.ServiceApp` recording RPC metrics."""

    # The labelled series of each method and code, looked up once (``labels`` validates and locks).
    requests: dict[tuple[str, str], Counter] = {}
    durations: dict[str, Histogram] = {}

    def observe(method: str, code: str, seconds: float) -> None:
        counter = requests.get((method, code))
        if counter is None:
            counter = requests[method, code] = RPC_SERVER_REQUESTS.labels(service, method, code)
        histogram = durations.get(method)
        if histogram is None:
            histogram = durations[method] = RPC_SERVER_DURATION.labels(service, method)
        counter.inc()
        histogram.observe(seconds)

    return observe


def serve(settings: MetricsSettings) -> int:
    """Start the ``/metrics`` HTTP endpoint (a daemon thread); returns its port (0 when off)."""
    if not settings.port:
        return 0
    server, _thread = start_http_server(settings.port, addr=settings.host)
    return int(server.server_port)
