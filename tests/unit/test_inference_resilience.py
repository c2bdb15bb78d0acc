"""The inference proxy's resilience pieces, one at a time: breaker, dispatcher, retry, single flight."""

from __future__ import annotations

import asyncio

import pytest
from afirgen_inference.domain.errors import (
    BackendBusy,
    BackendFailed,
    BackendRejected,
    BackendTimeout,
    BackendUnreachable,
    CircuitOpen,
)
from afirgen_inference.domain.latency import LatencyWindow
from afirgen_inference.domain.model import BackendKind, CircuitState
from afirgen_inference.service_layer.backend_pool import BackendPool, BackendSettings, retrying
from afirgen_inference.service_layer.breaker import CircuitBreaker
from afirgen_inference.service_layer.deadline import Deadline
from afirgen_inference.service_layer.dispatcher import Dispatcher, Replica, pick_least_outstanding
from afirgen_runtime.errors import DeadlineExceeded, ResourceExhausted, Unavailable


async def _fail(breaker: CircuitBreaker, exc: BaseException) -> None:
    with pytest.raises(type(exc)):
        async with breaker.guard():
            raise exc


# --- circuit breaker ------------------------------------------------------------
async def test_breaker_opens_after_threshold_and_fails_fast() -> None:
    breaker = CircuitBreaker("llm-0", threshold=3, recovery_seconds=60)
    for _ in range(3):
        assert breaker.state is CircuitState.CLOSED
        await _fail(breaker, BackendUnreachable("down"))
    assert breaker.state is CircuitState.OPEN and not breaker.admits() and breaker.opened == 1
    with pytest.raises(CircuitOpen) as refused:  # refused before the guarded call runs
        async with breaker.guard():
            raise AssertionError("must not run")
    assert 59 < refused.value.retry_after <= 60


async def test_breaker_ignores_input_errors_429_and_cancellation() -> None:
    breaker = CircuitBreaker("llm-0", threshold=2, recovery_seconds=60)
    for exc in (
        BackendRejected("bad input", status=400),
        BackendBusy("slow down", status=429),
        asyncio.CancelledError(),
        BackendRejected("bad", status=422),
    ):
        await _fail(breaker, exc)
    assert breaker.state is CircuitState.CLOSED
    await _fail(breaker, BackendBusy("loading", status=503))
    await _fail(breaker, BackendTimeout("slow"))
    assert breaker.state is CircuitState.OPEN


async def test_breaker_half_open_lets_one_probe_through_then_closes() -> None:
    breaker = CircuitBreaker("asr-0", threshold=1, recovery_seconds=0.05)
    await _fail(breaker, BackendUnreachable("down"))
    assert breaker.state is CircuitState.OPEN
    await asyncio.sleep(0.06)
    assert breaker.state is CircuitState.HALF_OPEN and breaker.admits()
    probe_running = asyncio.Event()
    release = asyncio.Event()

    async def probe() -> None:
        async with breaker.guard():
            probe_running.set()
            await release.wait()

    task = asyncio.create_task(probe())
    await probe_running.wait()
    assert not breaker.admits()
    with pytest.raises(CircuitOpen):  # a second caller while the probe runs
        async with breaker.guard():
            pass
    release.set()
    await task
    assert breaker.state is CircuitState.CLOSED and breaker.admits()


async def test_breaker_failed_probe_reopens() -> None:
    breaker = CircuitBreaker("ocr-0", threshold=1, recovery_seconds=0.05)
    await _fail(breaker, BackendUnreachable("down"))
    await asyncio.sleep(0.06)
    await _fail(breaker, BackendUnreachable("still down"))
    assert breaker.state is CircuitState.OPEN and breaker.opened == 2


async def test_breaker_health_probes_open_and_close_it() -> None:
    breaker = CircuitBreaker("llm-0", threshold=2, recovery_seconds=0.05)
    await breaker.record_probe("connection refused")
    await breaker.record_probe("connection refused")
    assert breaker.state is CircuitState.OPEN
    await breaker.record_probe(None)  # too early: stays open
    assert breaker.state is CircuitState.OPEN
    await asyncio.sleep(0.06)
    await breaker.record_probe(None)
    assert breaker.state is CircuitState.CLOSED


async def test_a_probe_that_times_out_opens_the_circuit_at_once() -> None:
    breaker = CircuitBreaker("llm-0", threshold=4, recovery_seconds=60)
    await breaker.record_probe("no answer within 1 s", hung=True)
    assert breaker.state is CircuitState.OPEN


async def test_a_hung_server_admits_no_call_after_its_recovery_period() -> None:
    breaker = CircuitBreaker("llm-0", threshold=4, recovery_seconds=0)
    await breaker.record_probe("no answer within 1 s", hung=True)
    assert breaker.admits() is False


async def test_a_hung_server_refuses_a_call_after_its_recovery_period() -> None:
    breaker = CircuitBreaker("llm-0", threshold=4, recovery_seconds=0)
    await breaker.record_probe("no answer within 1 s", hung=True)
    with pytest.raises(CircuitOpen):
        async with breaker.guard():
            pass


async def test_a_hung_server_reads_open_after_its_recovery_period() -> None:
    breaker = CircuitBreaker("llm-0", threshold=4, recovery_seconds=0)
    await breaker.record_probe("no answer within 1 s", hung=True)
    assert breaker.state is CircuitState.OPEN


async def test_a_hung_server_closes_on_the_first_probe_that_answers_after_its_recovery_period() -> None:
    breaker = CircuitBreaker("llm-0", threshold=4, recovery_seconds=0)
    await breaker.record_probe("no answer within 1 s", hung=True)
    await breaker.record_probe(None)
    assert breaker.state is CircuitState.CLOSED


class _Frozen:
    """A model server client whose health probe never answers in time."""

    async def probe(self, seconds: float) -> None:
        raise BackendTimeout(f"no answer within {seconds:g} s")


def _frozen_pool(in_flight: int) -> tuple[BackendPool[_Frozen], Replica[_Frozen]]:
    replica = Replica("llm-0", "http://r0", _Frozen(), CircuitBreaker("llm-0", 4, 60), 2, in_flight=in_flight)
    return BackendPool(BackendKind.LLM, [replica], BackendSettings()), replica


async def test_an_idle_server_whose_probe_times_out_has_its_circuit_opened() -> None:
    pool, replica = _frozen_pool(in_flight=0)
    await pool.probe(replica)
    assert replica.breaker.state is CircuitState.OPEN


async def test_a_busy_server_whose_probe_times_out_once_keeps_its_circuit_closed() -> None:
    pool, replica = _frozen_pool(in_flight=1)
    await pool.probe(replica)
    assert replica.breaker.state is CircuitState.CLOSED


async def test_a_busy_server_whose_probes_time_out_twice_in_a_row_has_its_circuit_opened() -> None:
    pool, replica = _frozen_pool(in_flight=1)
    await pool.probe(replica)
    await pool.probe(replica)
    assert replica.breaker.state is CircuitState.OPEN


class _Stuck:
    """A model server client whose health probe waits far past its time limit."""

    async def probe(self, seconds: float) -> None:
        await asyncio.sleep(60 + seconds)


async def test_a_probe_that_outlasts_its_timeout_is_cut_off_and_opens_the_circuit() -> None:
    replica = Replica("llm-0", "http://r0", _Stuck(), CircuitBreaker("llm-0", 4, 60), 2)
    pool = BackendPool(BackendKind.LLM, [replica], BackendSettings(probe_timeout_seconds=0.05))
    await asyncio.wait_for(pool.probe(replica), timeout=5)
    assert replica.breaker.state is CircuitState.OPEN


async def test_a_good_probe_between_failed_ones_keeps_the_circuit_closed() -> None:
    breaker = CircuitBreaker("llm-0", threshold=2, recovery_seconds=5)
    for error in ("probe timed out", None, "probe timed out", None, "probe timed out"):
        await breaker.record_probe(error)
    assert breaker.state is CircuitState.CLOSED


# --- dispatcher: limit, queue, balancing -------------------------------------------
def _replicas(n: int, max_in_flight: int = 1) -> list[Replica[str]]:
    return [
        Replica(f"llm-{i}", f"http://r{i}", f"client{i}", CircuitBreaker(f"llm-{i}", 2, 60), max_in_flight)
        for i in range(n)
    ]


def test_least_outstanding_prefers_idle_healthy_replicas() -> None:
    a, b, c = _replicas(3, max_in_flight=4)
    a.in_flight, b.in_flight, c.in_flight = 3, 1, 2
    assert pick_least_outstanding([a, b, c]) is b
    b.available, a.available, c.available = False, True, True
    assert pick_least_outstanding([a, b, c]) is c  # b failed its probe
    c.in_flight = 4
    assert pick_least_outstanding([a, b, c]) is a  # c is full
    a.in_flight = 4
    assert pick_least_outstanding([a, b, c]) is None  # healthy ones full: b is not used


def test_least_outstanding_rotates_ties() -> None:
    replicas = _replicas(3, max_in_flight=2)
    picked = {pick_least_outstanding(replicas, start).name for start in range(3)}  # type: ignore[union-attr]
    assert picked == {"llm-0", "llm-1", "llm-2"}


async def test_dispatcher_spreads_load_and_refuses_beyond_the_queue() -> None:
    replicas = _replicas(2)
    dispatcher = Dispatcher("llm", replicas, max_queue=2)
    deadline = Deadline.after(5)
    first = await dispatcher.acquire(deadline)
    second = await dispatcher.acquire(deadline)
    assert {first.name, second.name} == {"llm-0", "llm-1"}
    waiters = [asyncio.create_task(dispatcher.acquire(deadline)) for _ in range(2)]
    await asyncio.sleep(0)
    assert dispatcher.queued == 2
    with pytest.raises(ResourceExhausted) as refused:  # at once: a wait would end in DeadlineExceeded
        await dispatcher.acquire(deadline)
    assert refused.value.reason == "OVERLOADED" and refused.value.metadata["backend"] == "llm"
    dispatcher.release(first)  # handed straight to the first waiter (FIFO)
    assert (await waiters[0]).name == first.name and not waiters[1].done()
    dispatcher.release(second)
    assert (await waiters[1]).name == second.name
    assert dispatcher.queued == 0


async def test_dispatcher_wait_respects_the_deadline_and_cancellation() -> None:
    (replica,) = _replicas(1)
    dispatcher = Dispatcher("asr", [replica], max_queue=4)
    held = await dispatcher.acquire(Deadline.after(5))
    with pytest.raises(DeadlineExceeded):
        await dispatcher.acquire(Deadline.after(0.02))
    waiter = asyncio.create_task(dispatcher.acquire(Deadline.after(5)))
    await asyncio.sleep(0)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    dispatcher.release(held)
    assert replica.in_flight == 0 and dispatcher.queued == 0


def _paced(seconds: float) -> Dispatcher[str]:
    """A dispatcher of one slot, taken, whose replica's recent calls each took ``seconds``."""
    (replica,) = _replicas(1)
    for _ in range(20):
        replica.latencies.add(seconds)
    replica.in_flight = 1
    return Dispatcher("llm", [replica], max_queue=8)


async def _queue(dispatcher: Dispatcher[str], waiting: int, size: int = 0) -> list[asyncio.Task[Replica[str]]]:
    waiters = [asyncio.create_task(dispatcher.acquire(Deadline.after(60), size)) for _ in range(waiting)]
    await asyncio.sleep(0)
    return waiters


async def _cancel(tasks: list[asyncio.Task[Replica[str]]]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def test_a_caller_who_could_not_be_answered_before_its_deadline_is_refused_at_once() -> None:
    dispatcher = _paced(1.0)
    waiters = await _queue(dispatcher, 3)  # four calls of at least 1 s before this one's could end
    with pytest.raises(DeadlineExceeded) as refused:
        await dispatcher.acquire(Deadline.after(3.5))
    assert (refused.value.reason, refused.value.metadata["soonest_seconds"]) == ("WOULD_MISS_DEADLINE", "4.0")
    await _cancel(waiters)


async def test_a_caller_who_could_be_answered_before_its_deadline_waits() -> None:
    dispatcher = _paced(1.0)
    waiters = await _queue(dispatcher, 2)  # three calls of at least 1 s: this one's could end in time
    caller = asyncio.create_task(dispatcher.acquire(Deadline.after(3.5)))
    await asyncio.sleep(0)
    assert dispatcher.queued == 3 and not caller.done()
    await _cancel([*waiters, caller])


async def test_without_recent_calls_every_caller_waits() -> None:
    (replica,) = _replicas(1)
    replica.in_flight = 1
    dispatcher = Dispatcher("llm", [replica], max_queue=8)
    waiters = await _queue(dispatcher, 3)
    caller = asyncio.create_task(dispatcher.acquire(Deadline.after(0.5)))
    await asyncio.sleep(0)
    assert dispatcher.queued == 4
    await _cancel([*waiters, caller])


def _two_sizes() -> Dispatcher[str]:
    """A dispatcher of one slot, taken, whose replica answered short calls (4 tokens) in 0.1 s
    and drafts (300 tokens) in 1 s."""
    (replica,) = _replicas(1)
    for _ in range(20):
        replica.latencies.add(0.1, 4)
        replica.latencies.add(1.0, 300)
    replica.in_flight = 1
    return Dispatcher("llm", [replica], max_queue=8)


async def test_a_draft_behind_short_calls_is_judged_by_their_time_not_its_own() -> None:
    dispatcher = _two_sizes()
    waiters = await _queue(dispatcher, 3, size=4)  # 0.3 s ahead, then its own 1 s: 1.3 s
    caller = asyncio.create_task(dispatcher.acquire(Deadline.after(1.5), 300))
    await asyncio.sleep(0)
    assert dispatcher.queued == 4 and not caller.done()
    await _cancel([*waiters, caller])


async def test_a_draft_behind_drafts_is_refused_when_they_take_its_time() -> None:
    dispatcher = _two_sizes()
    waiters = await _queue(dispatcher, 3, size=300)  # 3 s ahead, then its own 1 s
    with pytest.raises(DeadlineExceeded) as refused:
        await dispatcher.acquire(Deadline.after(1.5), 300)
    assert refused.value.metadata["soonest_seconds"] == "4.0"
    await _cancel(waiters)


async def test_a_caller_of_a_size_not_seen_lately_waits() -> None:
    dispatcher = _two_sizes()
    waiters = await _queue(dispatcher, 3, size=300)
    caller = asyncio.create_task(dispatcher.acquire(Deadline.after(0.5), 2000))
    await asyncio.sleep(0)
    assert dispatcher.queued == 4 and not caller.done()
    await _cancel([*waiters, caller])


async def test_dispatcher_fails_fast_when_every_circuit_is_open() -> None:
    replicas = _replicas(2)
    dispatcher = Dispatcher("llm", replicas, max_queue=4)
    held = [await dispatcher.acquire(Deadline.after(5)) for _ in range(2)]
    waiter = asyncio.create_task(dispatcher.acquire(Deadline.after(5)))
    await asyncio.sleep(0)
    for replica in replicas:
        for _ in range(2):
            await _fail(replica.breaker, BackendUnreachable("down"))
    for replica in held:
        dispatcher.release(replica)
    with pytest.raises(Unavailable) as queued_error:
        await waiter
    with pytest.raises(Unavailable) as new_error:
        await dispatcher.acquire(Deadline.after(5))
    for error in (queued_error.value, new_error.value):
        assert error.reason == "MODEL_UNAVAILABLE" and error.metadata["backend"] == "llm"


# --- retry --------------------------------------------------------------------------
async def _run(
    policy: BackendSettings, deadline: Deadline, failures: list[BaseException], slept: list[float] | None = None
) -> int:
    """Calls made until success (or the failure re-raised); the delays asked for go to ``slept``."""
    calls = 0
    loop = retrying(policy, deadline)

    async def sleep(seconds: float) -> None:  # the backoff, recorded instead of waited
        (slept if slept is not None else []).append(seconds)

    loop.sleep = sleep
    async for attempt in loop:
        with attempt:
            calls += 1
            if failures:
                raise failures.pop(0)
    return calls


async def test_retry_only_transient_failures_with_backoff() -> None:
    policy = BackendSettings(
        attempts=3, backoff_initial_seconds=0.02, backoff_max_seconds=0.05, backoff_jitter_seconds=0.01
    )
    slept: list[float] = []
    calls = await _run(policy, Deadline.after(5), [BackendUnreachable("x"), BackendBusy("y", status=503)], slept)
    assert calls == 3 and len(slept) == 2
    assert 0.02 <= slept[0] <= 0.03 and 0.04 <= slept[1] <= 0.05  # doubled, jittered, capped
    with pytest.raises(BackendRejected):
        await _run(policy, Deadline.after(5), [BackendRejected("bad", status=400)])
    with pytest.raises(BackendTimeout):
        await _run(policy, Deadline.after(5), [BackendTimeout("slow"), BackendUnreachable("x")])
    with pytest.raises(BackendUnreachable):
        await _run(policy, Deadline.after(5), [BackendUnreachable(str(i)) for i in range(3)])


async def test_retry_stops_before_the_deadline() -> None:
    policy = BackendSettings(attempts=10, backoff_initial_seconds=0.2, backoff_max_seconds=1, backoff_jitter_seconds=0)
    slept: list[float] = []
    with pytest.raises(BackendUnreachable):
        await _run(policy, Deadline.after(0.1), [BackendUnreachable(str(i)) for i in range(10)], slept)
    assert slept == []  # no 0.2 s wait that would outlive the deadline


class _Server:
    """A replica client whose calls fail with ``failures`` (in order), then answer "ok"."""

    def __init__(self, failures: list[BaseException]) -> None:
        self.url = "http://r0"
        self.failures = failures

    async def probe(self, time_limit: float) -> None:
        return None

    async def answer(self, time_limit: float) -> str:
        if self.failures:
            raise self.failures.pop(0)
        return "ok"


def _pool(server: _Server) -> BackendPool[_Server]:
    replica = Replica("llm-0", server.url, server, CircuitBreaker("llm-0", 5, 60), 1)
    policy = BackendSettings(attempts=3, backoff_initial_seconds=0, backoff_max_seconds=0, backoff_jitter_seconds=0)
    return BackendPool(BackendKind.LLM, [replica], policy)


async def test_a_call_retried_after_a_transient_failure_counts_both_attempts() -> None:
    pool = _pool(_Server([BackendUnreachable("down")]))
    outcome = await pool.call(lambda client, limit: client.answer(limit), Deadline.after(5))
    assert (outcome.value, outcome.attempts) == ("ok", 2)


async def test_a_call_frees_its_slot_on_every_attempt() -> None:
    pool = _pool(_Server([BackendUnreachable("down")]))
    await pool.call(lambda client, limit: client.answer(limit), Deadline.after(5))
    assert pool.replicas[0].in_flight == 0


async def test_a_stream_opened_after_a_transient_failure_counts_both_attempts() -> None:
    pool = _pool(_Server([BackendBusy("busy", status=503)]))
    lease = await pool.open_stream(lambda client, limit: client.answer(limit), Deadline.after(5))
    await lease.close()
    assert (lease.value, lease.attempts) == ("ok", 2)


async def test_an_open_stream_holds_its_slot_until_closed() -> None:
    pool = _pool(_Server([BackendBusy("busy", status=503)]))
    lease = await pool.open_stream(lambda client, limit: client.answer(limit), Deadline.after(5))
    held = pool.replicas[0].in_flight
    await lease.close()
    assert (held, pool.replicas[0].in_flight) == (1, 0)


async def test_a_failure_retries_do_not_cure_becomes_the_mesh_error() -> None:
    pool = _pool(_Server([BackendUnreachable(str(i)) for i in range(3)]))
    with pytest.raises(Unavailable) as raised:
        await pool.call(lambda client, limit: client.answer(limit), Deadline.after(5))
    assert raised.value.reason == "MODEL_UNAVAILABLE"


async def test_a_stream_that_ended_well_counts_among_its_replicas_recent_call_times() -> None:
    pool = _pool(_Server([]))
    lease = await pool.open_stream(lambda client, limit: client.answer(limit), Deadline.after(5))
    await lease.close()
    assert pool.replicas[0].latencies.percentile(50) is not None


async def test_a_stream_that_failed_does_not_count_among_its_replicas_call_times() -> None:
    pool = _pool(_Server([]))
    lease = await pool.open_stream(lambda client, limit: client.answer(limit), Deadline.after(5))
    await lease.close(BackendFailed("dropped"))
    assert pool.replicas[0].latencies.percentile(50) is None


def test_latency_percentiles_of_a_size_count_only_calls_of_that_power_of_two() -> None:
    window = LatencyWindow(size=100)
    for tokens, seconds in ((4, 0.1), (7, 0.2), (300, 1.0), (400, 2.0)):
        window.add(seconds, tokens)
    assert (window.percentile_of_size(100, 5), window.percentile_of_size(100, 256)) == (0.2, 2.0)


def test_latency_percentiles() -> None:
    window = LatencyWindow(size=100)
    assert window.percentile(50) is None
    for ms in range(1, 201):
        window.add(ms / 1000)
    assert window.percentile(50) == 0.150 and window.percentile(99) == 0.199
