"""Background work that yields to requests (afirgen_runtime.busy): the call rate and the pacer."""

from __future__ import annotations

from afirgen_runtime.busy import HEALTH, CallRate, Pacer
from prometheus_client import REGISTRY

GET = "/afirgen.fir.v1.FirService/GetFir"


class Clock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_calls_of_the_current_second_count_at_once() -> None:
    clock = Clock()
    rate = CallRate(clock=clock)
    for _ in range(3):
        rate(GET, "OK", 0.001)
    assert rate.per_second() == 3


def test_the_last_whole_second_counts_until_the_current_one_has_more() -> None:
    clock = Clock(1000.2)
    rate = CallRate(clock=clock)
    for _ in range(5):
        rate(GET, "OK", 0.001)
    clock.now = 1001.1
    rate(GET, "OK", 0.001)
    assert rate.per_second() == 5


def test_a_quiet_second_brings_the_rate_to_zero() -> None:
    clock = Clock()
    rate = CallRate(clock=clock)
    rate(GET, "OK", 0.001)
    clock.now += 2
    assert rate.per_second() == 0


def test_ignored_methods_are_not_counted() -> None:
    clock = Clock()
    rate = CallRate(clock=clock, ignored=(HEALTH, "/afirgen.jobs.v1.JobHandlerService/"))
    rate("/grpc.health.v1.Health/Check", "OK", 0.001)
    rate("/afirgen.jobs.v1.JobHandlerService/HandleJob", "OK", 0.1)
    assert rate.per_second() == 0


class Sleeps:
    """The pauses a pacer asked for, each passed on ``clock`` at once."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.asked: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.asked.append(round(seconds, 6))
        self.clock.now += seconds


def _pacer(busy: bool, work: str = "jobs") -> tuple[Pacer, Sleeps]:
    clock = Clock()
    sleeps = Sleeps(clock)
    return Pacer(5, busy=lambda: busy, work=work, clock=clock, sleep=sleeps), sleeps


async def test_while_busy_turns_come_at_most_at_the_pace() -> None:
    pacer, sleeps = _pacer(busy=True)
    for _ in range(3):
        await pacer.turn()
    assert sleeps.asked == [0.2, 0.2]


async def test_when_quiet_every_turn_comes_at_once() -> None:
    pacer, sleeps = _pacer(busy=False)
    for _ in range(3):
        await pacer.turn()
    assert sleeps.asked == []


async def test_a_turn_after_a_pause_longer_than_the_pace_comes_at_once() -> None:
    pacer, sleeps = _pacer(busy=True)
    await pacer.turn()
    sleeps.clock.now += 0.3
    await pacer.turn()
    assert sleeps.asked == []


async def test_turns_while_busy_and_their_waits_are_observed() -> None:
    def sample(name: str) -> float:
        return REGISTRY.get_sample_value(f"afirgen_paced_wait_seconds_{name}", {"work": "test-paced"}) or 0.0

    pacer, _ = _pacer(busy=True, work="test-paced")
    before = (sample("count"), sample("sum"))
    for _ in range(3):
        await pacer.turn()
    assert (sample("count") - before[0], round(sample("sum") - before[1], 6)) == (3, 0.4)
