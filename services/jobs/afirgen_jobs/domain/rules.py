"""Queue rules: routing, validation of new jobs, retry decisions (with the shared backoff).

Pure functions over domain values; the service layer and the worker apply them.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from afirgen_runtime.backoff import Backoff
from afirgen_runtime.errors import FieldViolation, InvalidArgument, PayloadTooLarge, UnknownJobType
from afirgen_runtime.ids import check_idempotency_key

from afirgen_jobs.domain.errors import JobStateConflict
from afirgen_jobs.domain.model import Job, JobStatus, NewJob

TYPE_PATTERN = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
MAX_TYPE_LENGTH = 128
DEFAULT_PRIORITY = 5
MAX_PRIORITY = 9
DEFAULT_MAX_ATTEMPTS = 5
MAX_ATTEMPTS = 25
# Handler status codes after which the job is tried again (with backoff).
RETRYABLE_CODES = frozenset({"UNAVAILABLE", "DEADLINE_EXCEEDED", "RESOURCE_EXHAUSTED", "ABORTED"})


INTERNAL_PREFIX = "jobs"
INTERNAL_TARGET = "in-process"
"""Route of the ``jobs.*`` types: they belong to the jobs service itself, whose workers run them."""


def is_internal(job_type: str) -> bool:
    """True for the jobs service's own types."""
    return job_type.startswith(INTERNAL_PREFIX + ".")


class Routes:
    """Job type prefix -> gRPC target of the service that owns those types; ``jobs.*`` types
    are always routed to the jobs service's own workers (:data:`INTERNAL_TARGET`)."""

    def __init__(self, table: Mapping[str, str]) -> None:
        self._table = {prefix.strip().rstrip("."): target.strip() for prefix, target in table.items() if target}
        self._table[INTERNAL_PREFIX] = INTERNAL_TARGET

    def target_for(self, job_type: str) -> str | None:
        """The owning service's target: longest prefix of whole words wins."""
        best: str | None = None
        for prefix in self._table:
            if (job_type == prefix or job_type.startswith(prefix + ".")) and (best is None or len(prefix) > len(best)):
                best = prefix
        return None if best is None else self._table[best]

    @property
    def prefixes(self) -> list[str]:
        """Known prefixes, for error messages."""
        return sorted(self._table)


@dataclass(frozen=True)
class EnqueueLimits:
    """Bounds on what may be enqueued."""

    max_payload_bytes: int = 64 * 1024
    """Largest payload, as JSON."""
    max_run_time_past_seconds: float = 86_400.0
    """How far in the past a requested run time may be."""
    max_run_time_future_seconds: float = 30 * 86_400.0
    """How far in the future a requested run time may be."""


@dataclass(frozen=True)
class ValidJob:
    """A checked enqueue request with defaults applied."""

    type: str
    payload_json: str
    priority: int
    run_time: datetime
    run_time_given: bool
    max_attempts: int
    idempotency_key: str
    trace_parent: str

    def queued(self, job_id: str, now: datetime) -> Job:
        """The job as it is stored when enqueued at ``now``: QUEUED, no attempt yet."""
        return Job(
            id=job_id,
            type=self.type,
            payload=json.loads(self.payload_json),
            priority=self.priority,
            run_time=self.run_time,
            max_attempts=self.max_attempts,
            idempotency_key=self.idempotency_key,
            status=JobStatus.QUEUED,
            create_time=now,
            update_time=now,
            trace_parent=self.trace_parent,
        )

    def request_hash(self) -> str:
        """Digest of what makes two requests with one idempotency key the same request."""
        parts = [self.type, self.payload_json, self.priority, self.max_attempts]
        if self.run_time_given:
            parts.append(self.run_time.isoformat())
        return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


def canonical_json(payload: object) -> str:
    """Compact JSON with sorted keys (what is stored, measured and hashed)."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def validate(new: NewJob, routes: Routes, limits: EnqueueLimits, now: datetime) -> ValidJob:
    """Check an enqueue request; every bad field is reported at once (INVALID_ARGUMENT)."""
    bad: list[FieldViolation] = []
    # The error to raise when the only violation has a reason of its own.
    kind: type[InvalidArgument] | None = None
    if not new.type:
        bad.append(FieldViolation("job.type", "is required"))
    elif len(new.type) > MAX_TYPE_LENGTH or not TYPE_PATTERN.match(new.type):
        bad.append(FieldViolation("job.type", "must be dot-separated lower-case words, e.g. fir.render_document"))
    elif routes.target_for(new.type) is None:
        known = ", ".join(routes.prefixes)
        bad.append(FieldViolation("job.type", f"no service handles {new.type!r} (known prefixes: {known})"))
        kind = UnknownJobType
    payload_json = canonical_json(new.payload)
    if len(payload_json.encode()) > limits.max_payload_bytes:
        bad.append(FieldViolation("job.payload", f"larger than {limits.max_payload_bytes} bytes as JSON"))
        kind = kind or PayloadTooLarge
    priority = DEFAULT_PRIORITY if new.priority is None else new.priority
    if not 0 <= priority <= MAX_PRIORITY:
        bad.append(FieldViolation("job.priority", f"must be between 0 and {MAX_PRIORITY}"))
    attempts = DEFAULT_MAX_ATTEMPTS if new.max_attempts is None else new.max_attempts
    if not 1 <= attempts <= MAX_ATTEMPTS:
        bad.append(FieldViolation("job.max_attempts", f"must be between 1 and {MAX_ATTEMPTS}"))
    run_time = new.run_time or now
    max_past = timedelta(seconds=limits.max_run_time_past_seconds)
    max_future = timedelta(seconds=limits.max_run_time_future_seconds)
    if run_time < now - max_past:
        bad.append(FieldViolation("job.run_time", f"more than {max_past} in the past"))
    elif run_time > now + max_future:
        bad.append(FieldViolation("job.run_time", f"more than {max_future} in the future"))
    try:
        check_idempotency_key(new.idempotency_key, "job.idempotency_key")
    except InvalidArgument as exc:
        bad += exc.violations
    if bad:
        message = "; ".join(f"{v.field}: {v.description}" for v in bad)
        error = kind if kind is not None and len(bad) == 1 else InvalidArgument
        raise error(message, violations=bad)
    return ValidJob(
        type=new.type,
        payload_json=payload_json,
        priority=priority,
        run_time=run_time,
        run_time_given=new.run_time is not None,
        max_attempts=attempts,
        idempotency_key=new.idempotency_key,
        trace_parent=new.trace_parent[:64],
    )


def ensure_cancellable(status: JobStatus) -> None:
    """Only jobs that have not finished can be cancelled."""
    if status in (JobStatus.SUCCEEDED, JobStatus.DEAD):
        raise JobStateConflict(f"a {status.value} job cannot be cancelled", metadata={"status": status.value})


def ensure_retryable(status: JobStatus) -> None:
    """Operators retry DEAD, FAILED or CANCELLED jobs."""
    if status not in (JobStatus.DEAD, JobStatus.FAILED, JobStatus.CANCELLED):
        raise JobStateConflict(
            f"a {status.value} job cannot be retried; only DEAD, FAILED or CANCELLED ones",
            metadata={"status": status.value},
        )


@dataclass(frozen=True)
class Decision:
    """What to do with a job after an attempt."""

    status: JobStatus
    retry_in: float = 0.0
    error: str = ""


def decide(
    code: str,
    message: str,
    *,
    attempts_used: int,
    max_attempts: int,
    backoff: Backoff,
    rand: Callable[[], float],
) -> Decision:
    """OK succeeds; a retryable code retries until attempts run out; anything else is DEAD at once."""
    if code == "OK":
        return Decision(JobStatus.SUCCEEDED)
    error = f"{code}: {message}" if message else code
    if code in RETRYABLE_CODES:
        if attempts_used < max_attempts:
            return Decision(JobStatus.FAILED, backoff.delay(attempts_used, rand), error)
        return Decision(JobStatus.DEAD, error=f"{error} (after {attempts_used} attempts)")
    return Decision(JobStatus.DEAD, error=error)
