"""How long the FIR service keeps its own bookkeeping, and the job that purges it. No I/O.

FIRs, their audit trail (``fir_events``), sections, counters and documents are the police
station's records and are never purged. Two tables only serve a moment and are purged by the
daily ``fir.purge_retention`` job (docs/runbooks/retention.md):

- ``fir_idempotency_keys`` after 7 days: a client that retries a create or generate request
  with the same ``Idempotency-Key`` later than that gets a new FIR, with a new number, not the
  first one. Retries happen within seconds or minutes; a week covers any client outage.
- ``fir_outbox`` rows already handed to the jobs service (``sent_at`` set) after 7 days: the
  jobs service has the job and keeps its own record; the row only served the hand-over.
  Unsent rows are never purged (they are jobs still owed).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from afirgen_runtime.retention import period_key

from afirgen_fir.domain.jobs import PRIORITIES, PURGE_RETENTION, JobRequest

MIN_DAYS = 1.0


@dataclass(frozen=True)
class RetentionPolicy:
    """How long the FIR service keeps its bookkeeping (``AFIRGEN_RETENTION_*``, docs/runbooks/retention.md).
    FIRs, their audit trail, sections, counters and documents are never purged."""

    period_seconds: float = 86_400.0
    """How often the purge job (``fir.purge_retention``) runs; 0: never."""
    idempotency_days: float = 7.0
    """Idempotency keys of create/generate requests; a retry later than this makes a new FIR."""
    outbox_days: float = 7.0
    """Outbox rows already handed to the jobs service."""
    batch_rows: int = 1000
    """Rows deleted by one statement (one short transaction)."""

    def __post_init__(self) -> None:
        if min(self.idempotency_days, self.outbox_days) < MIN_DAYS:
            raise ValueError(f"retention windows must be at least {MIN_DAYS:g} day")
        if self.batch_rows < 1:
            raise ValueError("the purge batch must hold at least one row")


def purge_job(now: datetime, period_seconds: float) -> tuple[JobRequest, str]:
    """The purge job of the period holding ``now`` and its idempotency key (one job per period)."""
    key = period_key(PURGE_RETENTION, now, period_seconds)
    payload = {"period": key.split("/", 1)[1]}
    return JobRequest(PURGE_RETENTION, payload, PRIORITIES[PURGE_RETENTION]), key
