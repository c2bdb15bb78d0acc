"""Scheduled purges of data past its retention window, shared by the services that own a schema.

A purge runs as a job of the jobs service, so it is retried, recorded and visible like any
other background work. Every replica of the owning service asks for it every few minutes
with an idempotency key that names the current period (``fir.purge_retention/2026-11-28``):
the jobs service keeps one job per key, so replicas, restarts and repeated asks never pile
up duplicates, and a period missed while everything was down is caught up at the next start.

The job deletes in batches (``DELETE ... ORDER BY <time> LIMIT n``), each statement its own
short transaction, so a purge never holds many locks for long, and it stops after a time
budget (well inside the job's deadline); whatever is left goes with the next period's run.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from loguru import logger

DAY_SECONDS = 86_400
MAX_CHECK_SECONDS = 600.0
"""The longest pause between two asks for the current period's job (a new day starts its job
within ten minutes)."""


def period_start(now: datetime, period_seconds: float) -> datetime:
    """Start of the period holding ``now``; periods are aligned to the Unix epoch (UTC midnight for days)."""
    if period_seconds <= 0:
        raise ValueError("period_seconds must be positive")
    epoch = now.astimezone(UTC).timestamp()
    return datetime.fromtimestamp(epoch - epoch % period_seconds, UTC)


def period_key(job_type: str, now: datetime, period_seconds: float) -> str:
    """The idempotency key of ``job_type``'s job for the period holding ``now``."""
    start = period_start(now, period_seconds)
    whole_days = period_seconds % DAY_SECONDS == 0
    label = start.date().isoformat() if whole_days else start.strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"{job_type}/{label}"


def cutoff(now: datetime, days: float) -> datetime:
    """The moment before which rows kept ``days`` days are due for deletion."""
    return now - timedelta(days=days)


@dataclass(frozen=True)
class Purged:
    """What one batched delete removed."""

    rows: int
    complete: bool
    """False when the time budget ran out with rows still due (the next run goes on)."""


async def delete_in_batches(
    delete: Callable[[int], Awaitable[int]],
    *,
    batch: int,
    budget_seconds: float,
    monotonic: Callable[[], float] = time.monotonic,
) -> Purged:
    """Call ``delete(batch)`` (one bounded statement; returns rows deleted) until a batch comes
    back short or ``budget_seconds`` have passed."""
    if batch <= 0:
        raise ValueError("batch must be positive")
    started, total = monotonic(), 0
    while True:
        deleted = await delete(batch)
        total += deleted
        if deleted < batch:
            return Purged(total, True)
        if monotonic() - started >= budget_seconds:
            return Purged(total, False)
        await asyncio.sleep(0)  # let the service's other work in between batches


async def delete_in_turn(
    deletes: Sequence[Callable[[int], Awaitable[int]]],
    *,
    batch: int,
    budget_seconds: float,
    monotonic: Callable[[], float] = time.monotonic,
) -> list[Purged]:
    """:func:`delete_in_batches` with each of ``deletes`` in turn, all within one time budget:
    each gets what the ones before it left."""
    started, purged = monotonic(), []
    for delete in deletes:
        left = max(0.0, budget_seconds - (monotonic() - started))
        purged.append(await delete_in_batches(delete, batch=batch, budget_seconds=left, monotonic=monotonic))
    return purged


@dataclass(frozen=True)
class Window:
    """Rows of one kind kept ``days`` days; ``delete(before, n)`` deletes at most ``n`` of them
    older than ``before`` (one bounded statement) and returns how many went."""

    what: str
    """What the rows are, as the purge's note names them (``sent outbox rows``)."""
    days: float
    delete: Callable[[datetime, int], Awaitable[int]]


class Purge:
    """One purge: each window's rows past it, in turn, in batches, within one time budget."""

    def __init__(
        self,
        windows: Sequence[Window],
        clock: Callable[[], datetime],
        *,
        batch: int,
        budget_seconds: float,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._windows = list(windows)
        self._clock = clock
        self._batch = batch
        self._budget = budget_seconds
        self._monotonic = monotonic

    async def purge(self) -> str:
        """Delete what is past its window; returns the note kept on the job's attempt."""
        now = self._clock()
        purged = await delete_in_turn(
            [functools.partial(w.delete, cutoff(now, w.days)) for w in self._windows],
            batch=self._batch,
            budget_seconds=self._budget,
            monotonic=self._monotonic,
        )
        parts = [f"{p.rows} {w.what} older than {w.days:g} days" for w, p in zip(self._windows, purged, strict=True)]
        listed = ", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else "".join(parts)
        note = f"deleted {listed}"
        return note if all(p.complete for p in purged) else note + "; more are due: the next run goes on"


class PeriodicJob:
    """Asks for the current period's job now and then (``ensure``: enqueue with the period's
    key), in the background, until :meth:`stop`. Failures are logged and retried at the next ask."""

    def __init__(self, name: str, ensure: Callable[[], Awaitable[object]], period_seconds: float) -> None:
        self.name = name
        self._ensure = ensure
        self.check_seconds = min(period_seconds, MAX_CHECK_SECONDS)
        self._stopped = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.asked = 0

    def start(self) -> None:
        """Run in the background (the first ask at once)."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"periodic-{self.name}")

    async def stop(self) -> None:
        """Stop asking (an ask in flight is cancelled: the next start asks again)."""
        self._stopped.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def ask_once(self) -> bool:
        """One ask; False when it failed (logged)."""
        try:
            await self._ensure()
        except Exception as exc:  # the schedule must outlive a jobs service that is down
            logger.warning("could not schedule {}; will ask again", self.name, error=f"{type(exc).__name__}: {exc}")
            return False
        self.asked += 1
        return True

    async def _run(self) -> None:
        while not self._stopped.is_set():
            await self.ask_once()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopped.wait(), self.check_seconds)
