"""Retention: the shared schedule and batch helpers, and the FIR service's purge of idempotency
keys and sent outbox rows, with hand-written fakes (no I/O)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from afirgen_fir.domain import jobs
from afirgen_fir.domain.retention import RetentionPolicy
from afirgen_fir.service_layer.fir_jobs import FirJobHandlers
from afirgen_fir.service_layer.retention import FirRetention, purge_schedule
from afirgen_runtime.errors import Unavailable
from afirgen_runtime.retention import PeriodicJob, Purged, delete_in_batches, delete_in_turn, period_key

from tests.unit.fakes import FakeFirRepository

NOW = datetime(2026, 11, 28, 6, 0, tzinfo=UTC)
DAY = timedelta(days=1)


class FakeRetentionStore:
    """Idempotency keys and sent outbox rows as their times; deletes the oldest first."""

    def __init__(self, keys: Sequence[datetime] = (), sent: Sequence[datetime] = ()) -> None:
        self.keys = list(keys)
        self.sent = list(sent)
        self.limits: list[tuple[str, int]] = []

    @staticmethod
    def _delete(rows: list[datetime], before: datetime, limit: int) -> int:
        due = sorted(t for t in rows if t < before)[:limit]
        for when in due:
            rows.remove(when)
        return len(due)

    async def delete_idempotency_keys(self, before: datetime, limit: int) -> int:
        self.limits.append(("keys", limit))
        return self._delete(self.keys, before, limit)

    async def delete_sent_outbox(self, before: datetime, limit: int) -> int:
        self.limits.append(("outbox", limit))
        return self._delete(self.sent, before, limit)


class FakeJobQueue:
    """The jobs service's idempotency: one job per key."""

    def __init__(self) -> None:
        self.jobs: dict[str, jobs.JobRequest] = {}

    async def enqueue(self, job: jobs.JobRequest, idempotency_key: str) -> str:
        self.jobs.setdefault(idempotency_key, job)
        return idempotency_key


class Ticks:
    """A monotonic clock that advances ``step`` seconds per reading."""

    def __init__(self, step: float) -> None:
        self.step, self.now = step, 0.0

    def __call__(self) -> float:
        self.now += self.step
        return self.now


def _retention(store: FakeRetentionStore, **policy: Any) -> FirRetention:
    return FirRetention(store, RetentionPolicy(**policy), lambda: NOW)


# --- shared helpers -------------------------------------------------------------


def test_a_daily_period_is_named_by_its_utc_day() -> None:
    late_evening = datetime(2026, 11, 28, 23, 59, 59, tzinfo=UTC)
    assert period_key("fir.purge_retention", late_evening, 86_400) == "fir.purge_retention/2026-11-28"


def test_a_shorter_period_is_named_by_its_start() -> None:
    assert period_key("x.y", datetime(2026, 11, 28, 10, 59, tzinfo=UTC), 3600) == "x.y/2026-11-28T10:00:00Z"


async def test_batches_end_with_the_first_short_batch() -> None:
    answers = iter([3, 3, 1, 3])

    async def delete(limit: int) -> int:
        return next(answers)

    assert await delete_in_batches(delete, batch=3, budget_seconds=60) == Purged(7, True)


async def test_batches_end_when_the_time_budget_is_spent() -> None:
    async def delete(limit: int) -> int:
        return limit

    purged = await delete_in_batches(delete, batch=10, budget_seconds=5, monotonic=Ticks(2.0))
    assert purged == Purged(30, False)


async def test_deletes_in_turn_share_one_time_budget() -> None:
    async def full(n: int) -> int:
        return n

    async def short(n: int) -> int:
        return n - 1

    # each batch takes 2 s: the first delete spends the whole 5 s budget, the next gets one batch
    purged = await delete_in_turn([full, full, short], batch=10, budget_seconds=5, monotonic=Ticks(2.0))
    assert purged == [Purged(20, False), Purged(10, False), Purged(9, True)]


async def test_a_failed_ask_is_logged_and_retried_later_not_raised() -> None:
    async def jobs_service_down() -> None:
        raise Unavailable("jobs service down")

    assert await PeriodicJob("t", jobs_service_down, 86_400).ask_once() is False


async def test_the_schedule_asks_as_soon_as_it_starts() -> None:
    asked = asyncio.Event()

    async def ensure() -> None:
        asked.set()

    schedule = PeriodicJob("t", ensure, 86_400)
    schedule.start()
    try:
        await asyncio.wait_for(asked.wait(), 2)
    finally:
        await schedule.stop()
    assert schedule.asked == 1


# --- the FIR service's purge ----------------------------------------------------


def test_a_window_shorter_than_a_day_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1 day"):
        RetentionPolicy(idempotency_days=0.5)


async def test_the_purge_deletes_only_rows_past_their_windows() -> None:
    store = FakeRetentionStore(keys=[NOW - 8 * DAY, NOW - 6 * DAY], sent=[NOW - 8 * DAY, NOW - DAY])
    await _retention(store).purge()
    assert (store.keys, store.sent) == ([NOW - 6 * DAY], [NOW - DAY])


async def test_the_purge_deletes_in_batches_of_the_policy_size() -> None:
    store = FakeRetentionStore(keys=[NOW - 10 * DAY - timedelta(seconds=i) for i in range(2500)])
    await _retention(store, batch_rows=1000).purge()
    assert store.limits == [("keys", 1000)] * 3 + [("outbox", 1000)]


async def test_the_purge_note_counts_what_went() -> None:
    store = FakeRetentionStore(keys=[NOW - 8 * DAY] * 3, sent=[NOW - 9 * DAY])
    note = await _retention(store).purge()
    assert note == "deleted 3 idempotency keys older than 7 days and 1 sent outbox rows older than 7 days"


async def test_a_purge_out_of_time_says_more_are_due() -> None:
    store = FakeRetentionStore(keys=[NOW - 8 * DAY - timedelta(seconds=i) for i in range(50)])
    purge = FirRetention(store, RetentionPolicy(batch_rows=10), lambda: NOW, budget_seconds=1, monotonic=Ticks(2.0))
    assert (await purge.purge()).endswith("more are due: the next run goes on")


async def test_asking_all_day_long_makes_one_purge_job_a_day() -> None:
    queue, now = FakeJobQueue(), [NOW]
    schedule = purge_schedule(queue, lambda: now[0], 86_400)
    for when in (NOW, NOW + timedelta(hours=6), NOW + timedelta(hours=17, minutes=59), NOW + DAY):
        now[0] = when
        await schedule.ask_once()
    assert sorted(queue.jobs) == ["fir.purge_retention/2026-11-28", "fir.purge_retention/2026-11-29"]


async def test_the_purge_job_is_low_priority_and_names_its_day() -> None:
    queue = FakeJobQueue()
    await purge_schedule(queue, lambda: NOW, 86_400).ask_once()
    assert list(queue.jobs.values()) == [jobs.JobRequest("fir.purge_retention", {"period": "2026-11-28"}, 1)]


async def test_the_job_handler_runs_the_purge() -> None:
    async def no_pdf(fir: object) -> bytes:
        return b""

    store = FakeRetentionStore(keys=[NOW - 8 * DAY])
    handlers = FirJobHandlers(FakeFirRepository(lambda: NOW), None, None, no_pdf, None, _retention(store))  # type: ignore[arg-type]
    await handlers.handle("fir.purge_retention", {"period": "2026-11-28"}, "fir.purge_retention/2026-11-28")
    assert store.keys == []
