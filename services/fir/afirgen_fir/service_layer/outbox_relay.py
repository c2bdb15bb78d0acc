"""Hands outbox rows to the jobs service, in the background.

The FIR repository writes an outbox row in the same transaction as every FIR
change that needs a job, so a stored FIR always has its jobs. This relay sends
pending rows with the row's idempotency key (a repeated send returns the same
job), marks the rows of a batch sent in one statement, and retries failures with capped
exponential backoff.
It runs in every fir replica: two replicas sending one row is harmless.
A nudge after each commit sends at once; the poll catches everything else
(rows of a replica that died, rows whose send failed).
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

from afirgen_runtime import tracing
from afirgen_runtime.backoff import Backoff
from afirgen_runtime.errors import AfirgenError
from loguru import logger

from afirgen_fir.service_layer.ports import JobQueue, OutboxEntry, OutboxStore


@dataclass(frozen=True)
class RelayConfig:
    """Pace of the relay (``AFIRGEN_OUTBOX_*``)."""

    poll_seconds: float = 2.0
    """How often the relay looks for rows it was not nudged about (failed sends, other replicas)."""
    batch: int = 50
    """Rows sent at once."""
    backoff: Backoff = field(default_factory=lambda: Backoff(base_seconds=0.5, cap_seconds=60.0))
    """Delays before a failed send is tried again (``AFIRGEN_OUTBOX_BACKOFF_*``)."""


class OutboxRelay:
    """The background sender of outbox rows."""

    def __init__(self, outbox: OutboxStore, queue: JobQueue, config: RelayConfig | None = None) -> None:
        self._outbox = outbox
        self._queue = queue
        self._config = config or RelayConfig()
        self._wake = asyncio.Event()
        self._stopped = False
        self._task: asyncio.Task[None] | None = None

    def nudge(self) -> None:
        """New rows were committed: send now."""
        self._wake.set()

    def start(self) -> None:
        """Run in the background until :meth:`stop`."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="outbox-relay")

    async def stop(self) -> None:
        """Stop after the send in progress (unsent rows stay for the next start)."""
        self._stopped = True
        self._wake.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(self._task, timeout=5)
            self._task = None

    async def _run(self) -> None:
        while not self._stopped:
            self._wake.clear()
            try:
                sent = await self.relay_once()
            except AfirgenError as exc:
                logger.warning("outbox relay paused: {}", exc.message)
                sent = 0
            except Exception:  # the relay must outlive any single failure
                logger.exception("outbox relay failed")
                sent = 0
            if sent >= self._config.batch:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._config.poll_seconds)

    async def relay_once(self) -> int:
        """Send one batch of due rows; returns how many were sent. The rows sent are marked
        together, in one statement."""
        entries = await self._outbox.pending(self._config.batch)
        results = await asyncio.gather(*(self._send(e) for e in entries), return_exceptions=True)
        sent = [(entry.pk, job_id) for entry, job_id in zip(entries, results, strict=True) if isinstance(job_id, str)]
        await self._outbox.mark_sent(sent)
        return len(sent)

    async def _send(self, entry: OutboxEntry) -> str | None:
        """The job id, or None when the send failed (the row is scheduled again)."""
        try:
            # The send joins the trace of the request that wrote the row: the jobs service
            # stores the call's trace context with the job, and the job's run continues it.
            with tracing.continued(entry.trace_parent):
                job_id = await self._queue.enqueue(entry.job, entry.idempotency_key)
        except AfirgenError as exc:
            delay = self._config.backoff.delay(entry.attempts + 1)
            logger.warning(
                "enqueue failed; will retry",
                job_type=entry.job.type,
                outbox=entry.pk,
                reason=exc.reason,
                retry_in=delay,
            )
            await self._outbox.mark_failed(entry.pk, f"{exc.reason}: {exc.message}", delay)
            return None
        return job_id
