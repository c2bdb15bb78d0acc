"""Every call to one kind of model server goes through its :class:`BackendPool`.

Per call: a slot from the :class:`Dispatcher` (limit, queue, balancing), the
replica's circuit breaker, a timeout capped by the caller's deadline, retries
of transient failures (each retry takes a new slot, so it may land on another
replica), latency bookkeeping, and, in :func:`to_mesh_error`, the one place
where model-server failures become the mesh's errors. :class:`BackendSettings`
configures one pool (``AFIRGEN_LLM_*``, ``AFIRGEN_ASR_*``, ``AFIRGEN_OCR_*``).

Retries (tenacity): only failures that are transient and safe to repeat (the
server did not process the call: connect errors, 429, 502, 503, 504), never a
refused input, a timeout or a broken answer. Delays grow exponentially with
random jitter, and no retry starts that could not finish before the caller's
deadline.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, NoReturn, TypeVar

from afirgen_runtime import tracing
from afirgen_runtime.errors import AfirgenError, DeadlineExceeded, InvalidArgument, ModelUnavailable
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt, wait_exponential_jitter
from tenacity.stop import stop_base

from afirgen_inference.domain.errors import BackendError, BackendRejected, BackendTimeout, CircuitOpen
from afirgen_inference.domain.model import BackendKind, BackendStatus
from afirgen_inference.service_layer.deadline import Deadline
from afirgen_inference.service_layer.dispatcher import Dispatcher, Replica
from afirgen_inference.service_layer.ports import Clock, ModelServer

C = TypeVar("C", bound=ModelServer)
T = TypeVar("T")
R = TypeVar("R")
MIN_USEFUL_SECONDS = 0.05
"""A retry with less time left than this before the deadline is not started."""


@dataclass(frozen=True)
class BackendSettings:
    """One kind of model server (LLM, ASR or OCR) and its replicas.

    Environment: ``AFIRGEN_LLM_*``, ``AFIRGEN_ASR_*``, ``AFIRGEN_OCR_*``, e.g.
    ``AFIRGEN_LLM_URLS=http://127.0.0.1:8090,http://127.0.0.1:8093``.
    """

    urls: tuple[str, ...] = ()
    """Base URLs of the replicas (comma separated); none: every call is UNAVAILABLE."""
    model: str = ""
    """Name of the model the replicas serve (callers may name it or leave the field empty)."""
    max_in_flight: int = 1
    """Calls one replica serves at once (llama-server: its ``--parallel`` slots)."""
    max_queue: int = 8
    """Callers that may wait for a free slot; more are refused at once with RESOURCE_EXHAUSTED."""
    timeout_seconds: float = 120.0
    """Upper bound of one call to a model server (the caller's deadline caps it further)."""
    connect_timeout_seconds: float = 1.0
    """TCP connect timeout: a dead server is noticed in at most this long."""
    attempts: int = 3
    """Attempts for a transient failure (connect error, 429, 502, 503, 504)."""
    backoff_initial_seconds: float = 0.05
    """First retry delay; it doubles per attempt."""
    backoff_max_seconds: float = 1.0
    """Longest retry delay."""
    backoff_jitter_seconds: float = 0.05
    """Random delay added to each retry delay, so retries of many callers spread out."""
    failure_threshold: int = 4
    """Failures in a row (calls or health probes) that open a replica's circuit."""
    recovery_seconds: float = 5.0
    """Time an open circuit refuses calls before one probe may close it."""
    probe_interval_seconds: float = 2.0
    """Health probe period per replica."""
    probe_timeout_seconds: float = 1.0
    """Timeout of one health probe. A probe that times out while the replica has no call in flight,
    or right after another one that timed out, opens its circuit at once (see ``silent_while_busy``):
    a frozen server is refused within one probe interval plus this when idle, plus twice this when
    busy (one slow probe of a busy server on a starved CPU is only counted as a failure)."""
    silent_while_busy: bool = False
    """True for a server that answers no health probe while it works (faster-whisper-server): a probe
    timeout during a call is then not a failure. The stack's servers all answer while busy, so
    probes that keep timing out mean a hung server (frozen, swapping), which opens its circuit."""


def is_transient(exc: BaseException) -> bool:
    """The failure may pass if the same call is made again."""
    return isinstance(exc, BackendError) and exc.transient


class _DeadlineStop(stop_base):
    def __init__(self, deadline: Deadline) -> None:
        self._deadline = deadline

    def __call__(self, state: RetryCallState) -> bool:
        left = self._deadline.remaining()
        return left is not None and left - state.upcoming_sleep < MIN_USEFUL_SECONDS


def retrying(settings: BackendSettings, deadline: Deadline) -> AsyncRetrying:
    """A tenacity loop: ``async for attempt in retrying(...): with attempt: ...``.

    The last failure is re-raised as it is."""
    return AsyncRetrying(
        stop=stop_after_attempt(max(1, settings.attempts)) | _DeadlineStop(deadline),
        wait=wait_exponential_jitter(
            multiplier=settings.backoff_initial_seconds,
            max=settings.backoff_max_seconds,
            jitter=settings.backoff_jitter_seconds,
        ),
        retry=retry_if_exception(is_transient),
        reraise=True,
    )


def to_mesh_error(exc: BackendError, backend: str) -> AfirgenError:
    """The error the caller gets for a model-server failure that retries did not cure."""
    metadata = {"backend": backend}
    if isinstance(exc, BackendRejected):
        return InvalidArgument(f"model server {backend} refused the input: {exc.message}", metadata=metadata)
    if isinstance(exc, BackendTimeout):
        return DeadlineExceeded(f"model server {backend} did not answer in time", metadata=metadata)
    if isinstance(exc, CircuitOpen):
        metadata["retry_after_seconds"] = f"{exc.retry_after:.1f}"
    if exc.status is not None:
        metadata["http_status"] = str(exc.status)
    return ModelUnavailable(f"model server {backend} is unavailable: {exc.message}", metadata=metadata)


@dataclass(frozen=True)
class Outcome(Generic[T]):
    """A successful call and what it cost."""

    value: T
    replica: str
    model_seconds: float
    queue_seconds: float
    attempts: int


class StreamLease(Generic[T]):
    """An open stream holding a slot and the breaker until :meth:`close`."""

    def __init__(
        self,
        value: T,
        replica: Replica[Any],
        queue_seconds: float,
        attempts: int,
        stack: AsyncExitStack,
        started: float,
        clock: Clock,
        size: int = 0,
    ) -> None:
        self.value = value
        self.replica = replica.name
        self.queue_seconds = queue_seconds
        self.attempts = attempts
        self._stack = stack
        self._latencies = replica.latencies
        self._clock = clock
        self._size = size
        self.started = started
        """When the attempt that opened the stream began on its slot: the model's time counts
        from here (opening the stream included: a model server may answer its headers only once
        it has read the prompt)."""

    async def close(self, error: BaseException | None = None) -> None:
        """Free the slot; ``error`` (how the stream ended) feeds the breaker. A stream that ended
        well counts among the replica's recent call times, as a whole call does."""
        if error is None:
            self._latencies.add(self._clock() - self.started, self._size)
            await self._stack.__aexit__(None, None, None)
        else:
            await self._stack.__aexit__(type(error), error, error.__traceback__)


class BackendPool(Generic[C]):
    """The replicas of one backend kind and the policies around calling them."""

    def __init__(
        self,
        kind: BackendKind,
        replicas: list[Replica[C]],
        settings: BackendSettings,
        *,
        clock: Clock = time.monotonic,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.kind = kind
        self.model = settings.model
        self.replicas = replicas
        self.settings = settings
        self.dispatcher: Dispatcher[C] = Dispatcher(kind.value, replicas, settings.max_queue)
        self._clock = clock
        self._now = now

    async def _acquire(self, deadline: Deadline, size: int) -> tuple[Replica[C], float]:
        started = self._clock()
        replica = await self.dispatcher.acquire(deadline, size)
        return replica, self._clock() - started

    def _timeout(self, deadline: Deadline) -> tuple[float, bool]:
        """The timeout of one call and whether the caller's deadline set it."""
        return deadline.cap(self.settings.timeout_seconds), deadline.caps(self.settings.timeout_seconds)

    def _reraise(self, replica: Replica[C], exc: BaseException, by_caller: bool) -> NoReturn:
        if isinstance(exc, BackendTimeout) and by_caller:
            # The caller's short deadline, not the server's health: not counted.
            raise DeadlineExceeded(
                f"the caller's deadline passed while {self.kind.value} was working",
                metadata={"backend": self.kind.value},
            ) from exc
        if isinstance(exc, BackendError):
            replica.last_error = exc.message
        raise exc

    async def _invoke(self, replica: Replica[C], op: Callable[[C, float], Awaitable[T]], deadline: Deadline) -> T:
        """``op(client, timeout)`` on ``replica``, its failure recorded on the replica."""
        timeout, by_caller = self._timeout(deadline)
        try:
            return await op(replica.client, timeout)
        except BaseException as exc:
            self._reraise(replica, exc, by_caller)

    async def _retried(
        self, attempt_on: Callable[[Replica[C]], Awaitable[R]], deadline: Deadline, size: int
    ) -> tuple[R, float, int]:
        """``attempt_on(replica)`` on a newly acquired slot per attempt, retried by policy.

        The attempt owns the slot it is given (it releases it or hands it on). Returns its
        result, the seconds spent queued over all attempts and the attempts made; a failure
        that retries did not cure becomes the mesh's error (:func:`to_mesh_error`)."""
        attempts, queued = 0, 0.0
        try:
            async for attempt in retrying(self.settings, deadline):
                with attempt:
                    attempts += 1
                    replica, waited = await self._acquire(deadline, size)
                    queued += waited
                    result = await attempt_on(replica)
        except BackendError as exc:
            raise to_mesh_error(exc, self.kind.value) from exc
        return result, queued, attempts

    async def call(self, op: Callable[[C, float], Awaitable[T]], deadline: Deadline, size: int = 0) -> Outcome[T]:
        """Run ``op(client, timeout)`` on a replica, with every policy applied; ``size`` is what the
        call asks for (an LLM call's ``max_tokens``), which its wait is judged by."""

        async def once(replica: Replica[C]) -> tuple[T, str, float]:
            try:
                started = self._clock()
                async with replica.breaker.guard():
                    with tracing.span(f"model {self.kind.value}", **{"model.backend": replica.name}):
                        value = await self._invoke(replica, op, deadline)
                elapsed = self._clock() - started
            finally:
                self.dispatcher.release(replica)
            replica.latencies.add(elapsed, size)
            return value, replica.name, elapsed

        (value, name, elapsed), queued, attempts = await self._retried(once, deadline, size)
        return Outcome(value, name, elapsed, queued, attempts)

    async def open_stream(
        self, op: Callable[[C, float], Awaitable[T]], deadline: Deadline, size: int = 0
    ) -> StreamLease[T]:
        """Open a stream with ``op(client, timeout)`` (``size`` as in :meth:`call`); failures before
        it opens are retried."""

        async def once(replica: Replica[C]) -> tuple[T, Replica[C], AsyncExitStack, float]:
            started = self._clock()
            stack = AsyncExitStack()
            stack.callback(self.dispatcher.release, replica)
            try:
                await stack.enter_async_context(replica.breaker.guard())
                value = await self._invoke(replica, op, deadline)
            except BaseException as exc:
                await stack.__aexit__(type(exc), exc, exc.__traceback__)
                raise
            return value, replica, stack, started

        (value, replica, stack, started), queued, attempts = await self._retried(once, deadline, size)
        return StreamLease(value, replica, queued, attempts, stack, started, self._clock, size)

    async def probe(self, replica: Replica[C]) -> None:
        """Health-probe one replica; the result feeds ListModels, balancing and the breaker."""
        error: str | None = None
        hung = False
        timeouts_before, replica.probe_timeouts = replica.probe_timeouts, 0
        try:
            await self._probe_within(replica, self.settings.probe_timeout_seconds)
        except BackendTimeout as exc:
            if replica.in_flight and self.settings.silent_while_busy:
                # Busy, not dead: this server answers /health only between calls.
                # The calls in flight will tell whether it is alive.
                replica.last_error = f"{exc.message} (while busy with {replica.in_flight} calls)"
                replica.last_probe_at = self._now()
                return
            replica.probe_timeouts = timeouts_before + 1
            # An idle server that cannot answer /health in time hangs (frozen, swapping). A busy one
            # may only be slow (a starved CPU): it hangs when the next probe times out too.
            hung = not self.settings.silent_while_busy and (not replica.in_flight or timeouts_before > 0)
            error = exc.message
        except BackendError as exc:
            error = exc.message
        except Exception as exc:  # a probe never fails the prober
            error = f"probe failed: {type(exc).__name__}"
        replica.available = error is None
        replica.last_probe_at = self._now()
        if error is not None:
            replica.last_error = error
        await replica.breaker.record_probe(error, hung=hung)
        self.dispatcher.wake()  # a circuit may have closed: serve waiters

    @staticmethod
    async def _probe_within(replica: Replica[C], seconds: float) -> None:
        """The replica's health probe, bounded as a whole: the HTTP client's timeout applies to
        each phase (a free connection, connecting, sending, the answer), so alone a probe of a
        server that hangs with calls in flight can take several times ``seconds``."""
        try:
            async with asyncio.timeout(seconds):
                await replica.client.probe(seconds)
        except TimeoutError:
            raise BackendTimeout(f"{replica.name}: no answer to the health probe within {seconds:g} s") from None

    def status(self) -> list[BackendStatus]:
        """Every replica as ListModels shows it (``queued`` is the backend's queue)."""
        queued = self.dispatcher.queued
        return [
            BackendStatus(
                name=r.name,
                kind=self.kind,
                model=self.model,
                url=r.url,
                available=bool(r.available),
                circuit=r.breaker.state,
                in_flight=r.in_flight,
                queued=queued,
                max_in_flight=r.max_in_flight,
                max_queue=self.dispatcher.max_queue,
                latency_p50=r.latencies.percentile(50),
                latency_p99=r.latencies.percentile(99),
                last_error=r.last_error,
                last_probe_at=r.last_probe_at,
            )
            for r in self.replicas
        ]
