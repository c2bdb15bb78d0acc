"""Background jobs an FIR change needs, and what they carry. No I/O.

Every job is idempotent: rendering stores the current FIR's document only if
it is not older than the stored one, the notification carries an idempotency
key the receiver uses to drop repeats, the count repair recomputes a whole
station and day, and the retention purge deletes only what is past its window
(``domain/retention.py``).

FIR counts (``domain/counts.py``) change in the FIR change's own transaction, so
no change needs a roll-up job: ``fir.rollup_stats`` only repairs the counts of a
station and local day when asked (an operator, or a job queued before counts
followed the writes).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date
from typing import Any

from afirgen_runtime.errors import InvalidArgument

from afirgen_fir.domain.model import Fir, FirStatus

RENDER_DOCUMENT = "fir.render_document"
NOTIFY_FINALIZED = "fir.notify_finalized"
ROLLUP_STATS = "fir.rollup_stats"
PURGE_RETENTION = "fir.purge_retention"
# A finalized FIR's document and notification matter to people waiting on
# them; a count repair only feeds statistics; the daily purge can always wait.
PRIORITIES = {RENDER_DOCUMENT: 5, NOTIFY_FINALIZED: 7, ROLLUP_STATS: 2, PURGE_RETENTION: 1}
FINAL_RENDER_PRIORITY = 6


@dataclass(frozen=True)
class JobRequest:
    """A job to enqueue for an FIR."""

    type: str
    payload: dict[str, Any]
    priority: int


def jobs_for_change(action: str, fir: Fir, changed_fields: list[str]) -> list[JobRequest]:
    """The jobs a stored change of ``fir`` needs (``action`` as in the audit trail)."""
    render = JobRequest(RENDER_DOCUMENT, {"fir_id": fir.id, "revision": fir.revision}, PRIORITIES[RENDER_DOCUMENT])
    if action == "FINALIZED":
        final_render = JobRequest(render.type, render.payload, FINAL_RENDER_PRIORITY)
        notify = JobRequest(NOTIFY_FINALIZED, {"fir_id": fir.id}, PRIORITIES[NOTIFY_FINALIZED])
        return [final_render, notify]
    return [render]


def notification_for(fir: Fir) -> dict[str, Any]:
    """The webhook body for a finalized FIR: identifiers and status, no personal data."""
    return {
        "event": "fir.finalized",
        "fir_id": fir.id,
        "fir_number": fir.fir_number,
        "status": fir.status.value,
        "station": {
            "code": fir.station.code,
            "name": fir.station.name,
            "district": fir.station.district,
            "state": fir.station.state,
        },
        "finalize_time": fir.finalize_time.astimezone(UTC).isoformat() if fir.finalize_time else None,
    }


def ensure_finalized(fir: Fir) -> None:
    """A finalization notice is only ever sent for a finalized FIR."""
    if fir.status is not FirStatus.FINALIZED:
        raise InvalidArgument.for_field("payload.fir_id", "the FIR is not finalized")


def payload_str(payload: dict[str, Any], key: str) -> str:
    """A required string argument of a job."""
    value = payload.get(key)
    if not isinstance(value, str) or not value:
        raise InvalidArgument.for_field(f"payload.{key}", "is required (a string)")
    return value


def payload_day(payload: dict[str, Any]) -> date:
    """The ``day`` argument of a roll-up job."""
    try:
        return date.fromisoformat(payload_str(payload, "day"))
    except ValueError:
        raise InvalidArgument.for_field("payload.day", "must be an ISO date (YYYY-MM-DD)") from None
