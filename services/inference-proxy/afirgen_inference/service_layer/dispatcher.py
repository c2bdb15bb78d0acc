"""Concurrency limit, bounded wait queue and least-outstanding-requests balancing.

Each replica serves at most ``max_in_flight`` calls. A caller gets the
eligible replica with the fewest calls in flight (ties rotate, so equal
replicas share the load). When every eligible replica is full, the caller
waits in one FIFO queue per backend, at most ``max_queue`` callers deep; the
next caller is refused at once with RESOURCE_EXHAUSTED (reason OVERLOADED).
A freed slot is handed straight to the first waiter, so nobody overtakes.

A caller who would wait is also refused at once, with DEADLINE_EXCEEDED (reason
WOULD_MISS_DEADLINE), when its call could not end before its deadline even if
every call in a slot ended now, the waiting calls ahead shared the slots
perfectly, and every call took as little as the fastest tenth of the recent
calls of its size (:data:`FAST_PERCENTILE`; an LLM call's size is its
``max_tokens``, a short answer is far quicker than a draft): it would only wait
to fail. Without recent calls of its size to judge by, a caller waits; calls
ahead of a size not seen lately count as taking no time.

Eligible: the replica's circuit admits a call and, when at least one replica
passed its last health probe, the replica is one of those. (When none did, the
probes may simply not have run yet: the circuit breakers decide alone.) When no
replica's circuit admits a call, callers fail at once with UNAVAILABLE
(reason MODEL_UNAVAILABLE), waiting ones included.
"""

from __future__ import annotations

import asyncio
from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, TypeVar

from afirgen_runtime.errors import DeadlineExceeded, ModelUnavailable, ResourceExhausted

from afirgen_inference.domain.errors import WouldMissDeadline
from afirgen_inference.domain.latency import LatencyWindow
from afirgen_inference.service_layer.breaker import CircuitBreaker
from afirgen_inference.service_layer.deadline import Deadline

C = TypeVar("C")
FAST_PERCENTILE = 10.0
"""The pace a call is judged by: this percentile of the recent times of calls of its size."""


@dataclass
class Replica(Generic[C]):
    """One model server replica with its client, breaker and load."""

    name: str
    url: str
    client: C
    breaker: CircuitBreaker
    max_in_flight: int
    in_flight: int = 0
    available: bool | None = None
    """Result of the last health probe (``None``: not probed yet)."""
    last_error: str = ""
    last_probe_at: datetime | None = None
    probe_timeouts: int = 0
    """Health probes in a row that got no answer in time."""
    latencies: LatencyWindow = field(default_factory=LatencyWindow)


def pick_least_outstanding(replicas: Sequence[Replica[C]], start: int = 0) -> Replica[C] | None:
    """The eligible replica with a free slot and the fewest calls in flight.

    ``start`` rotates the order in which ties are broken."""
    admitted = [r for r in replicas if r.breaker.admits()]
    healthy = [r for r in admitted if r.available]
    pool = healthy or admitted
    free = [r for r in pool if r.in_flight < r.max_in_flight]
    if not free:
        return None
    n = len(free)
    rotated = [free[(start + i) % n] for i in range(n)]
    return min(rotated, key=lambda r: r.in_flight)


class Dispatcher(Generic[C]):
    """Hands out replica slots of one backend kind."""

    def __init__(self, backend: str, replicas: Sequence[Replica[C]], max_queue: int) -> None:
        self.backend = backend
        self.replicas = list(replicas)
        self.max_queue = max_queue
        self._waiters: deque[asyncio.Future[Replica[C]]] = deque()
        self._waiting_sizes: Counter[int] = Counter()
        """The sizes of the calls waiting now (a waiter leaves when its wait ends)."""
        self._turn = 0

    @property
    def queued(self) -> int:
        """Callers waiting for a slot now."""
        return sum(1 for w in self._waiters if not w.done())

    def _unavailable(self) -> ModelUnavailable:
        retry_after = min((r.breaker.retry_after() for r in self.replicas), default=0.0)
        return ModelUnavailable(
            f"model server {self.backend} is unavailable: "
            + ("no replica is configured" if not self.replicas else "its circuit is open after repeated failures"),
            metadata={"backend": self.backend, "retry_after_seconds": f"{retry_after:.1f}"},
        )

    def _claim(self) -> Replica[C] | None:
        replica = pick_least_outstanding(self.replicas, self._turn)
        if replica is not None:
            self._turn += 1
            replica.in_flight += 1
        return replica

    def _any_admits(self) -> bool:
        return any(r.breaker.admits() for r in self.replicas)

    async def acquire(self, deadline: Deadline, size: int = 0) -> Replica[C]:
        """A replica slot for a call of ``size``; release it with :meth:`release`."""
        while self._waiters and self._waiters[0].done():
            self._waiters.popleft()
        if not self._any_admits():
            raise self._unavailable()
        if not self.queued:
            replica = self._claim()
            if replica is not None:
                return replica
        if self.queued >= self.max_queue:
            raise ResourceExhausted(
                f"model server {self.backend} is at its concurrency limit "
                f"({sum(r.max_in_flight for r in self.replicas)} running, {self.max_queue} waiting); "
                "retry with backoff",
                metadata={"backend": self.backend},
            )
        self._refuse_if_too_late(deadline, size)
        waiter: asyncio.Future[Replica[C]] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        self._waiting_sizes[size] += 1
        try:
            return await asyncio.wait_for(asyncio.shield(waiter), deadline.remaining())
        except TimeoutError:
            self._give_back(waiter)
            raise DeadlineExceeded(
                f"the deadline passed while waiting for a free {self.backend} slot",
                metadata={"backend": self.backend},
            ) from None
        except asyncio.CancelledError:
            self._give_back(waiter)
            raise
        finally:
            self._waiting_sizes[size] -= 1
            if not self._waiting_sizes[size]:
                del self._waiting_sizes[size]

    def _soonest_end(self, size: int) -> float | None:
        """Seconds until a call of ``size`` queued now could end, at the soonest: every call in a
        slot ends now, the calls waiting ahead share the slots perfectly, and each call takes the
        :data:`FAST_PERCENTILE` time of recent calls of its size on the fastest replica; ``None``
        without recent calls of ``size``."""
        admitted = [r for r in self.replicas if r.breaker.admits()]
        slots = sum(r.max_in_flight for r in admitted)
        own = self._pace(admitted, size)
        if not slots or own is None:
            return None
        ahead = sum(count * (self._pace(admitted, other) or 0.0) for other, count in self._waiting_sizes.items())
        return ahead / slots + own

    @staticmethod
    def _pace(replicas: Sequence[Replica[C]], size: int) -> float | None:
        paces = [p for r in replicas if (p := r.latencies.percentile_of_size(FAST_PERCENTILE, size)) is not None]
        return min(paces, default=None)

    def _refuse_if_too_late(self, deadline: Deadline, size: int) -> None:
        left = deadline.remaining()
        soonest = self._soonest_end(size)
        if left is None or soonest is None or soonest <= left:
            return
        raise WouldMissDeadline(
            f"model server {self.backend} could not answer before the deadline: {self.queued} calls wait"
            f" for a slot, so this one would end in {soonest:.1f}s at the soonest and {left:.1f}s are left",
            metadata={"backend": self.backend, "soonest_seconds": f"{soonest:.1f}"},
        )

    def _give_back(self, waiter: asyncio.Future[Replica[C]]) -> None:
        """The caller stopped waiting: return a slot it was handed in the meantime."""
        if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
            self.release(waiter.result())
        else:
            waiter.cancel()

    def release(self, replica: Replica[C]) -> None:
        """Give a slot back and hand free slots to waiters."""
        replica.in_flight -= 1
        self.wake()

    def wake(self) -> None:
        """Serve waiters from free slots; fail them all when no circuit admits a call."""
        while self._waiters:
            head = self._waiters[0]
            if head.done():
                self._waiters.popleft()
                continue
            if not self._any_admits():
                error = self._unavailable()
                for waiter in self._waiters:
                    if not waiter.done():
                        waiter.set_exception(error)
                self._waiters.clear()
                return
            replica = self._claim()
            if replica is None:
                return
            self._waiters.popleft()
            head.set_result(replica)
