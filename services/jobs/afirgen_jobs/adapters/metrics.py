"""Prometheus metrics of the workers (the jobs API gets RPC and SQL metrics from the runtime).

Labels stay bounded: the owning service (the first word of the job type), never
a job id or a full type name that a client could vary at will."""

from __future__ import annotations

from afirgen_runtime.metrics import LATENCY_BUCKETS
from prometheus_client import Counter, Gauge, Histogram

ATTEMPTS = Counter("afirgen_jobs_attempts_total", "Job attempts finished by this worker", ["service", "code", "status"])
ATTEMPT_DURATION = Histogram(
    "afirgen_jobs_attempt_duration_seconds", "Time of one job attempt", ["service"], buckets=LATENCY_BUCKETS
)
RUNNING = Gauge("afirgen_jobs_running", "Jobs this worker is running now")


def observe_attempt(job_type: str, code: str, status: str, seconds: float) -> None:
    """Record one finished attempt (``code``: the handler's status, ``status``: the job's new state)."""
    service = job_type.split(".", 1)[0]
    ATTEMPTS.labels(service, code, status).inc()
    ATTEMPT_DURATION.labels(service).observe(seconds)


def set_running(count: int) -> None:
    """Jobs in flight."""
    RUNNING.set(count)
