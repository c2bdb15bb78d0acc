"""Once a process has started, what it built stays out of the garbage collector's walks: a full
collection of a service's heap (some 50,000 objects in fir) stalled its event loop for 20-35 ms.
And once a server is quiet, the memory its calls freed goes back to the machine."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator

import pytest
from afirgen_runtime.heap import LastCall, give_back_when_quiet
from afirgen_runtime.server import freeze_startup_heap


@pytest.fixture
def frozen_heap() -> Iterator[None]:
    freeze_startup_heap()
    yield
    gc.unfreeze()


def test_a_full_collection_after_startup_walks_only_what_came_after(frozen_heap: None) -> None:
    made_after = [[index] for index in range(1_000)]
    walked = len(gc.get_objects())
    assert walked < 2 * len(made_after) + 1_000


class Timeline:
    """A clock that the trimmer's sleep moves on; ``calls`` maps a time to the method of a call
    finishing then. The trimmer stops after ``until``."""

    def __init__(self, calls: dict[float, str], until: float) -> None:
        self.now = 0.0
        self.calls = calls
        self.until = until
        self.trims: list[float] = []
        self.last = LastCall(clock=lambda: self.now)

    async def sleep(self, seconds: float) -> None:
        end = self.now + seconds
        for at in sorted(self.calls):
            if self.now < at <= end:
                self.now = at
                self.last(self.calls[at], "OK", 0.001)
        self.now = end
        if self.now > self.until:
            raise asyncio.CancelledError

    async def run(self) -> list[float]:
        with pytest.raises(asyncio.CancelledError):
            await give_back_when_quiet(self.last, 10, lambda: self.trims.append(self.now), self.sleep)
        return self.trims


async def test_a_quiet_server_gives_its_free_memory_back_once_per_quiet_spell() -> None:
    timeline = Timeline({5.0: "/afirgen.fir.v1.FirService/GetFir"}, until=60)
    assert await timeline.run() == [20.0]


async def test_a_server_with_calls_flowing_keeps_its_free_memory() -> None:
    calls = {float(at): "/afirgen.fir.v1.FirService/GetFir" for at in range(1, 60, 3)}
    timeline = Timeline(calls, until=60)
    assert await timeline.run() == []


async def test_a_new_quiet_spell_after_calls_gives_back_again() -> None:
    timeline = Timeline({5.0: "/x.S/A", 25.0: "/x.S/A"}, until=60)
    assert await timeline.run() == [20.0, 40.0]


async def test_health_probes_do_not_keep_a_server_from_being_quiet() -> None:
    probes = {float(at): "/grpc.health.v1.Health/Check" for at in range(1, 60, 2)}
    timeline = Timeline(probes, until=30)
    assert await timeline.run() == [10.0]
