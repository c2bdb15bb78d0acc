"""Settings of the jobs service and its workers (``AFIRGEN_*`` environment variables)."""

from __future__ import annotations

from dataclasses import dataclass, field

from afirgen_runtime.channels import ChannelSettings
from afirgen_runtime.settings import LogSettings, MetricsSettings, MySQLSettings, ServerSettings, within

from afirgen_jobs.domain.retention import RetentionPolicy
from afirgen_jobs.domain.rules import EnqueueLimits
from afirgen_jobs.service_layer.worker_loop import WorkerConfig


@dataclass(frozen=True)
class PurgeScheduleSettings:
    """When the jobs service enqueues the purge of finished jobs (``AFIRGEN_RETENTION_*``,
    docs/runbooks/retention.md)."""

    period_seconds: float = 86_400.0
    """How often the purge job (``jobs.purge_finished``) runs; 0: never."""


@dataclass(frozen=True)
class JobsSettings(EnqueueLimits):
    """Everything the jobs API service reads from its environment: what may be enqueued
    (``EnqueueLimits``) and the fields below."""

    server: ServerSettings = field(default_factory=lambda: ServerSettings(port=50054))
    """gRPC server (``AFIRGEN_SERVER_*``)."""
    log: LogSettings = field(default_factory=LogSettings)
    """Logging (``AFIRGEN_LOG_*``)."""
    mysql: MySQLSettings = field(default_factory=lambda: MySQLSettings(database="jobs"))
    """The ``jobs`` schema (``AFIRGEN_MYSQL_*``)."""
    page_token_secret: str = ""
    """HMAC secret of page tokens (>= 24 bytes). Required."""
    routes: dict[str, str] = field(default_factory=dict)
    """Job type prefix -> owning service (``AFIRGEN_ROUTES=fir=127.0.0.1:50051``); other types are refused."""
    retention: PurgeScheduleSettings = field(default_factory=PurgeScheduleSettings)
    """The daily purge of finished jobs: this service schedules it, workers run it (``AFIRGEN_RETENTION_*``)."""


@dataclass(frozen=True)
class WorkerSettings(WorkerConfig):
    """Everything a worker process reads from its environment: how it runs jobs
    (``WorkerConfig``) and the fields below."""

    log: LogSettings = field(default_factory=LogSettings)
    """Logging (``AFIRGEN_LOG_*``)."""
    mysql: MySQLSettings = field(default_factory=lambda: MySQLSettings(database="jobs", pool_min=1, pool_max=10))
    """The ``jobs`` schema (``AFIRGEN_MYSQL_*``)."""
    routes: dict[str, str] = field(default_factory=dict)
    """Job type prefix -> owning service's gRPC target (same table as the service's)."""
    queue: ChannelSettings = field(default_factory=ChannelSettings)
    """The jobs service, for wake-up signals (``AFIRGEN_QUEUE_TARGET``); empty: poll only."""
    metrics: MetricsSettings = field(default_factory=MetricsSettings)
    """Prometheus endpoint of the worker (``AFIRGEN_METRICS_PORT``; 0: none)."""
    retention: RetentionPolicy = field(default_factory=RetentionPolicy)
    """Windows of the purge of finished jobs, which workers run (``AFIRGEN_RETENTION_*``)."""
    niceness: int = 10
    """CPU niceness of the worker process (0-19). Its jobs are background work: on a host whose
    cores also serve requests, the worker waits for what requests leave over."""
    max_jobs_per_second: float = 50.0
    """Most jobs this worker starts a second (0: no bound, 0-10000). The work a job hands to the
    services and the database runs at the priority of requests; this bounds what a backlog takes
    from them (in one bench run of finalization notices and roll-ups, 100 to 200 jobs a second took
    0.76 cores across the worker, fir and MariaDB)."""

    def __post_init__(self) -> None:
        within("AFIRGEN_NICENESS", self.niceness, 0, 19)
        within("AFIRGEN_MAX_JOBS_PER_SECOND", self.max_jobs_per_second, 0, 10000)
