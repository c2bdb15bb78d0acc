"""Delivery of the jobs service's own job types (``jobs.*``): the worker runs them itself,
in-process, with the same deadline and outcome rules as a delivered job; every other job
goes on to the owning service."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from afirgen_runtime.errors import AfirgenError

from afirgen_jobs.domain.model import ClaimedJob, HandlerResult
from afirgen_jobs.domain.rules import is_internal
from afirgen_jobs.service_layer.ports import Delivery

InProcessHandler = Callable[[dict[str, Any]], Awaitable[str]]
"""Runs one job from its payload; returns the note kept on the attempt."""


class InProcessDelivery:
    """:class:`~afirgen_jobs.service_layer.ports.Delivery` of ``jobs.*`` types, delegating the rest."""

    def __init__(self, handlers: Mapping[str, InProcessHandler], delegate: Delivery) -> None:
        self._handlers = dict(handlers)
        self._delegate = delegate

    async def deliver(self, job: ClaimedJob, deadline_seconds: float) -> HandlerResult:
        """Run a ``jobs.*`` job here; hand any other to the delegate."""
        if not is_internal(job.type):
            return await self._delegate.deliver(job, deadline_seconds)
        handler = self._handlers.get(job.type)
        if handler is None:
            return HandlerResult("INVALID_ARGUMENT", f"the jobs service has no job {job.type!r}")
        try:
            detail = await asyncio.wait_for(handler(job.payload), deadline_seconds)
        except TimeoutError:
            return HandlerResult("DEADLINE_EXCEEDED", f"{job.type} took longer than {deadline_seconds:g}s")
        except AfirgenError as exc:  # Unavailable (database down) retries, like a delivered job's
            return HandlerResult(exc.code_name, exc.message)
        return HandlerResult("OK", detail=detail)

    async def close(self) -> None:
        """Close the delegate's channels."""
        await self._delegate.close()
