"""Settings of the jobs service and its workers (``AFIRGEN_*`` environment variables)."""

from __future__ import annotations

from dataclasses import dataclass, field

from afirgen_runtime.channels import ChannelSettings
from afirgen_runtime.settings import LogSettings, MetricsSettings, MySQLSettings, ServerSettings


@dataclass(frozen=True)
class PurgeScheduleSettings:
    """When the jobs service enqueues the purge of finished jobs (``AFIRGEN_RETENTION_*``,
    docs/runbooks/retention.md)."""

    period_seconds: float = 86_400.0
    """How often the purge job (``jobs.purge_finished``) runs; 0: never."""


@dataclass(frozen=True)
class RetentionSettings:
    """How long finished jobs are kept, for the workers that run the purge (``AFIRGEN_RETENTION_*``,
    docs/runbooks/retention.md). Live jobs are never purged."""

    succeeded_days: float = 14.0
    """SUCCEEDED jobs, counted from when they finished."""
    cancelled_days: float = 14.0
    """CANCELLED jobs."""
    dead_days: float = 30.0
    """DEAD jobs: a month for an operator to read the error and retry."""
    batch_rows: int = 1000
    """Jobs deleted by one statement (one short transaction), with their attempts."""


@dataclass(frozen=True)
class JobsSettings:
    """Everything the jobs API service reads from its environment."""

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
    max_payload_bytes: int = 64 * 1024
    """Largest payload, as JSON."""
    max_run_time_past_seconds: float = 86_400.0
    """How far in the past a requested run time may be."""
    max_run_time_future_seconds: float = 30 * 86_400.0
    """How far in the future a requested run time may be."""
    retention: PurgeScheduleSettings = field(default_factory=PurgeScheduleSettings)
    """The daily purge of finished jobs: this service schedules it, workers run it (``AFIRGEN_RETENTION_*``)."""


@dataclass(frozen=True)
class WorkerSettings:
    """Everything a worker process reads from its environment."""

    log: LogSettings = field(default_factory=LogSettings)
    """Logging (``AFIRGEN_LOG_*``)."""
    mysql: MySQLSettings = field(default_factory=lambda: MySQLSettings(database="jobs", pool_min=1, pool_max=10))
    """The ``jobs`` schema (``AFIRGEN_MYSQL_*``)."""
    routes: dict[str, str] = field(default_factory=dict)
    """Job type prefix -> owning service's gRPC target (same table as the service's)."""
    queue: ChannelSettings = field(default_factory=ChannelSettings)
    """The jobs service, for wake-up signals (``AFIRGEN_QUEUE_TARGET``); empty: poll only."""
    name: str = ""
    """Worker name in attempts and logs; default ``host:pid``."""
    concurrency: int = 8
    """Jobs run at once by this process."""
    lease_seconds: float = 30.0
    """Lease length; renewed every third of it while a job runs. A dead worker's jobs rerun after this."""
    poll_seconds: float = 2.0
    """Longest idle sleep: bounds latency when a wake-up signal is missed."""
    job_timeout_seconds: float = 60.0
    """Deadline of one HandleJob call (DEADLINE_EXCEEDED retries)."""
    retry_base_seconds: float = 1.0
    """Backoff after the first failed attempt (doubles per attempt, half of it random)."""
    retry_cap_seconds: float = 300.0
    """Longest backoff."""
    shutdown_grace_seconds: float = 10.0
    """Time running jobs get to finish on SIGTERM before they are released."""
    metrics: MetricsSettings = field(default_factory=MetricsSettings)
    """Prometheus endpoint of the worker (``AFIRGEN_METRICS_PORT``; 0: none)."""
    retention: RetentionSettings = field(default_factory=RetentionSettings)
    """Windows of the purge of finished jobs, which workers run (``AFIRGEN_RETENTION_*``)."""
