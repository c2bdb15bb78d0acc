"""A circuit breaker per replica, on top of ``purgatory``'s state machine.

closed ──(``threshold`` counted failures in a row)──▶ open ──(``recovery``
seconds)──▶ half-open: exactly one call (or health probe) goes through; its
success closes the circuit, its failure opens it again for another period.

What this adds to purgatory: only one probe at a time in half-open (purgatory
lets every concurrent caller through), a state that reads "half-open" as soon
as a probe is allowed (purgatory switches only when a call arrives), a hung
server (its health probes stopped answering) that stays open, past its recovery period,
until a health probe answers again (a call let through as the half-open trial
would hang with it), and the
rule of what counts as a failure: a :class:`BackendError` whose ``counts`` is
set, or any unexpected exception; never a cancelled caller (or a closed stream), a refused input or
an error of our own making (:class:`AfirgenError`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from afirgen_runtime.errors import AfirgenError
from loguru import logger
from purgatory import AsyncCircuitBreakerFactory
from purgatory.domain.model import HALF_OPENED, OPENED, OpenedState
from purgatory.service._async.circuitbreaker import AsyncCircuitBreaker

from afirgen_inference.domain.errors import BackendError, CircuitOpen
from afirgen_inference.domain.model import CircuitState


def _not_a_failure(exc: BaseException) -> bool:
    return isinstance(exc, BackendError) and not exc.counts


class ProbeFailed(BackendError):
    """A health probe failed (fed into the breaker like a failed call)."""


class CircuitBreaker:
    """The breaker of one replica. Create it inside the running event loop's lifetime."""

    def __init__(self, name: str, threshold: int, recovery_seconds: float) -> None:
        self.name = name
        self.threshold = threshold
        self.recovery_seconds = recovery_seconds
        self.opened = 0
        """Times the circuit opened (for logs and tests)."""
        self._factory = AsyncCircuitBreakerFactory(
            default_threshold=threshold,
            default_ttl=recovery_seconds,
            exclude=[
                (BackendError, _not_a_failure),
                asyncio.CancelledError,
                GeneratorExit,
                AfirgenError,
            ],
        )
        self._factory.add_listener(self._on_event)
        self._breaker: AsyncCircuitBreaker | None = None
        self._hung = False
        """The last health probe timed out: no call goes through until one answers."""

    def _on_event(self, name: str, event_type: str, event: object) -> None:
        if event_type != "state_changed":
            return
        state = getattr(event, "state", "")
        if state == OPENED:
            self.opened += 1
            logger.warning("circuit opened", replica=self.name, recovery_seconds=self.recovery_seconds)
        elif state == "closed":
            logger.info("circuit closed", replica=self.name)

    async def _get(self) -> AsyncCircuitBreaker:
        if self._breaker is None:
            self._breaker = await self._factory.get_breaker(self.name)
        return self._breaker

    def retry_after(self) -> float:
        """Seconds until an open circuit lets a probe through (0 when closed or due)."""
        if self._breaker is None or self._breaker.context.state == "closed":
            return 0.0
        opened_at = self._breaker.context.opened_at if self._breaker else None
        if opened_at is None:
            return self.recovery_seconds
        return max(0.0, opened_at + self.recovery_seconds - time.time())

    @property
    def state(self) -> CircuitState:
        """Closed, open, or half-open (a probe is allowed or running)."""
        if self._breaker is None:
            return CircuitState.CLOSED
        context = self._breaker.context
        if self._hung and context.state != "closed":
            return CircuitState.OPEN
        if context.state == HALF_OPENED:
            return CircuitState.HALF_OPEN
        if context.state == OPENED:
            return CircuitState.HALF_OPEN if self.retry_after() <= 0 else CircuitState.OPEN
        return CircuitState.CLOSED

    def admits(self) -> bool:
        """A call would be let through now (closed, or a half-open probe is free)."""
        if self._breaker is None:
            return True
        context = self._breaker.context
        if context.state == HALF_OPENED or (self._hung and context.state != "closed"):
            return False  # the probe is running, or the server hangs
        return context.state != OPENED or self.retry_after() <= 0

    @asynccontextmanager
    async def guard(self) -> AsyncIterator[None]:
        """Run a call under the breaker; :class:`CircuitOpen` when it may not run."""
        breaker = await self._get()
        if breaker.context.state == HALF_OPENED or (self._hung and breaker.context.state != "closed"):
            raise CircuitOpen(self.name, self.retry_after())
        try:
            await breaker.__aenter__()
        except OpenedState:
            raise CircuitOpen(self.name, self.retry_after()) from None
        try:
            yield
        except BaseException as exc:
            await breaker.__aexit__(type(exc), exc, exc.__traceback__)
            raise
        await breaker.__aexit__(None, None, None)

    async def record_probe(self, error: str | None, *, hung: bool = False) -> None:
        """Feed a health probe's result: a failure counts while closed, and a success
        ends the run of failures (the circuit opens on failures *in a row*, not on a few
        slow probes spread over a long busy spell); a success closes an open circuit
        once its recovery period is over. A ``hung`` server (the pool's call: its probe timed
        out while it had no call to work on, or twice in a row) opens a closed circuit at once:
        every call sent to a frozen server would hang until its own timeout; and it keeps the
        circuit open until a probe answers, however long past its recovery period."""
        if error is None and self._hung:
            self._hung = False  # thawed: the half-open trial is this probe's success, below
        state = self.state
        if error is not None and hung:
            self._hung = True
        if error is not None and state is CircuitState.CLOSED:
            for _ in range(self.threshold if hung else 1):
                try:
                    async with self.guard():
                        raise ProbeFailed(error)
                except ProbeFailed:
                    continue
                except CircuitOpen:
                    break
        elif error is None and state in (CircuitState.CLOSED, CircuitState.HALF_OPEN):
            try:
                async with self.guard():
                    pass
            except CircuitOpen:
                pass
