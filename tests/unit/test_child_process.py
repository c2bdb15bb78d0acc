"""fir's child processes joined to the event loop: a spawn that fails half way leaves nothing open."""

from __future__ import annotations

import asyncio
import os
import subprocess
from typing import Any

import pytest
from afirgen_fir.adapters.child_process import ChildProcess


def _open_fds() -> set[str]:
    return set(os.listdir("/proc/self/fd"))


async def _spawn_failing_at_the_write_pipe(monkeypatch: pytest.MonkeyPatch) -> subprocess.Popen[bytes]:
    """``cat`` spawned while joining its stdin to the loop fails (its stdout is joined by then);
    returns the child's ``Popen``."""
    loop = asyncio.get_running_loop()
    started: list[subprocess.Popen[bytes]] = []

    def popen(*args: Any, **kwargs: Any) -> subprocess.Popen[bytes]:
        started.append(real_popen(*args, **kwargs))
        return started[-1]

    async def refuse(*_: Any, **__: Any) -> Any:
        raise OSError("no more watchers")

    real_popen = subprocess.Popen
    monkeypatch.setattr(subprocess, "Popen", popen)
    monkeypatch.setattr(loop, "connect_write_pipe", refuse)
    with pytest.raises(OSError, match="no more watchers"):
        await ChildProcess.spawn("cat")
    await asyncio.sleep(0)  # a transport closes its pipe on the loop's next turn
    return started[0]


async def test_a_spawn_that_fails_after_joining_one_pipe_leaves_no_descriptor_open(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = _open_fds()
    await _spawn_failing_at_the_write_pipe(monkeypatch)
    assert _open_fds() - before == set()


async def test_a_spawn_that_fails_after_joining_one_pipe_leaves_no_child_behind(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    child = await _spawn_failing_at_the_write_pipe(monkeypatch)
    assert child.returncode is not None  # killed and reaped, not left running or a zombie
