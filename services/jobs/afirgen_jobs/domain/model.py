"""Jobs as the domain sees them: plain dataclasses, no I/O, no protobuf."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any


class JobStatus(str, Enum):
    """Lifecycle: QUEUED -> RUNNING -> SUCCEEDED | FAILED (will retry) | DEAD | CANCELLED."""

    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    DEAD = "DEAD"
    CANCELLED = "CANCELLED"


# Stored codes: the proto enum numbers.
STATUS_CODES = {
    JobStatus.QUEUED: 1,
    JobStatus.RUNNING: 2,
    JobStatus.SUCCEEDED: 3,
    JobStatus.FAILED: 4,
    JobStatus.DEAD: 5,
    JobStatus.CANCELLED: 6,
}
STATUS_BY_CODE = {code: status for status, code in STATUS_CODES.items()}

# Outcomes of attempts that did not end with a handler's status code.
LEASE_EXPIRED = "LEASE_EXPIRED"
RELEASED = "RELEASED"
CANCELLED = "CANCELLED"


@dataclass
class JobAttempt:
    """One attempt to run a job."""

    number: int = 0
    worker: str = ""
    start_time: datetime | None = None
    end_time: datetime | None = None
    outcome: str = ""
    error: str = ""
    detail: str = ""


@dataclass
class Job:
    """A stored job."""

    id: str = ""
    type: str = ""
    payload: dict[str, Any] = field(default_factory=dict)
    priority: int = 5
    run_time: datetime | None = None
    max_attempts: int = 5
    idempotency_key: str = ""
    status: JobStatus = JobStatus.QUEUED
    attempt_count: int = 0
    attempts: list[JobAttempt] = field(default_factory=list)
    last_error: str = ""
    create_time: datetime | None = None
    update_time: datetime | None = None
    trace_parent: str = ""


@dataclass(frozen=True)
class NewJob:
    """An enqueue request as received (unset optional fields are ``None``)."""

    type: str
    payload: dict[str, Any]
    priority: int | None = None
    run_time: datetime | None = None
    max_attempts: int | None = None
    idempotency_key: str = ""
    trace_parent: str = ""


@dataclass(frozen=True)
class ClaimedJob:
    """A job a worker holds under a lease, for one attempt."""

    pk: int
    id: str
    type: str
    payload: dict[str, Any]
    attempt: int
    """1-based number of this attempt."""
    attempts_used: int
    """Attempts that count against ``max_attempts``, this one included."""
    max_attempts: int
    idempotency_key: str
    lease_token: str
    trace_parent: str = ""


@dataclass(frozen=True)
class HandlerResult:
    """What the owning service answered: a gRPC status code name and text."""

    code: str
    message: str = ""
    detail: str = ""
