"""Prometheus metrics shared by every service, and the ``/metrics`` endpoint.

Metric families that more than one service emits are defined here once
(RPC server and client, SQL, database pool, process resources, threshold
alerts); a service defines its own families beside its code with the same
conventions: ``afirgen_`` prefix, base units in the name (``_seconds``,
``_bytes``), ``_total`` counters, and labels with bounded values only (a
method or statement name, never an id).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable

import psutil
from loguru import logger
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
PROCESS_CPU = Gauge("afirgen_process_cpu_ratio", "CPU used by the process over the last interval (1.0 = one core)")
PROCESS_RSS = Gauge("afirgen_process_resident_memory_bytes", "Resident memory of the process")
PROCESS_FDS = Gauge("afirgen_process_open_fds", "Open file descriptors of the process")
PROCESS_IO_READ = Gauge("afirgen_process_io_read_bytes", "Bytes read from storage by the process since it started")
PROCESS_IO_WRITE = Gauge("afirgen_process_io_write_bytes", "Bytes written to storage by the process since it started")
RESOURCE_ALERTS = Counter("afirgen_resource_alerts_total", "Times a resource crossed its alert threshold", ["resource"])
RESOURCE_ALERT_ACTIVE = Gauge("afirgen_resource_alert_active", "1 while a resource is over its threshold", ["resource"])


def observe_server_call(service: str) -> Callable[[str, str, float], None]:
    """A CallObserver for :class:`~afirgen_runtime.server.ServiceApp` recording RPC metrics."""

    def observe(method: str, code: str, seconds: float) -> None:
        RPC_SERVER_REQUESTS.labels(service, method, code).inc()
        RPC_SERVER_DURATION.labels(service, method).observe(seconds)

    return observe


class ResourceSampler:
    """Samples this process with psutil and raises alert events on thresholds.

    An alert is a WARNING log line and a counter increment when a resource
    crosses its threshold (and an INFO line when it recovers), so a
    deployment without Prometheus still sees it in the logs.
    """

    def __init__(self, settings: MetricsSettings) -> None:
        self._settings = settings
        self._process = psutil.Process(os.getpid())
        self._active: dict[str, bool] = {}
        self._task: asyncio.Task[None] | None = None

    def sample(self) -> dict[str, float]:
        """Take one sample now and update gauges and alerts."""
        proc = self._process
        with proc.oneshot():
            cpu = proc.cpu_percent(interval=None) / 100.0
            rss = float(proc.memory_info().rss)
            fds = float(proc.num_fds())
            try:
                io = proc.io_counters()
                read, write = float(io.read_bytes), float(io.write_bytes)
            except (psutil.AccessDenied, AttributeError):
                read = write = 0.0
        PROCESS_CPU.set(cpu)
        PROCESS_RSS.set(rss)
        PROCESS_FDS.set(fds)
        PROCESS_IO_READ.set(read)
        PROCESS_IO_WRITE.set(write)
        s = self._settings
        self._check("cpu", cpu, s.cpu_alert_ratio)
        self._check("memory", rss, float(s.memory_alert_bytes))
        self._check("fds", fds, float(s.fds_alert))
        return {"cpu": cpu, "rss": rss, "fds": fds, "read": read, "write": write}

    def _check(self, resource: str, value: float, limit: float) -> None:
        over = value > limit
        if over and not self._active.get(resource):
            RESOURCE_ALERTS.labels(resource).inc()
            logger.warning("resource over threshold", alert=resource, value=value, threshold=limit)
        elif not over and self._active.get(resource):
            logger.info("resource back under threshold", alert=resource, value=value, threshold=limit)
        self._active[resource] = over
        RESOURCE_ALERT_ACTIVE.labels(resource).set(1 if over else 0)

    async def _loop(self) -> None:
        while True:
            try:
                self.sample()
            except psutil.Error as exc:  # a failed sample must not stop sampling
                logger.warning("resource sample failed: {}", type(exc).__name__)
            await asyncio.sleep(self._settings.sample_interval_seconds)

    def start(self) -> None:
        """Sample in the background of the running event loop."""
        self._process.cpu_percent(interval=None)  # prime the CPU counter
        self._task = asyncio.get_running_loop().create_task(self._loop())

    def stop(self) -> None:
        """Stop sampling."""
        if self._task is not None:
            self._task.cancel()


def serve(settings: MetricsSettings) -> int:
    """Start the ``/metrics`` HTTP endpoint (a daemon thread); returns its port (0 when off)."""
    if not settings.port:
        return 0
    server, _thread = start_http_server(settings.port, addr=settings.host)
    return int(server.server_port)
