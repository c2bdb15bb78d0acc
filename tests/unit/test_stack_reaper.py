"""The stack reaper's wait: whichever of two processes exits first (real processes)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest

from scripts.devstack.reaper import first_to_exit


@pytest.fixture
def sleepers() -> Iterator[tuple[subprocess.Popen[bytes], subprocess.Popen[bytes]]]:
    pair = (subprocess.Popen(["sleep", "60"]), subprocess.Popen(["sleep", "60"]))
    yield pair
    for process in pair:
        process.kill()
        process.wait()


def test_the_first_process_to_exit_is_the_one_named(
    sleepers: tuple[subprocess.Popen[bytes], subprocess.Popen[bytes]],
) -> None:
    owner, server = sleepers
    server.kill()
    assert first_to_exit(owner.pid, server.pid) == server.pid


def test_a_process_already_gone_is_named_at_once(
    sleepers: tuple[subprocess.Popen[bytes], subprocess.Popen[bytes]],
) -> None:
    owner, server = sleepers
    owner.kill()
    owner.wait()  # reaped: its pid names no process any more
    assert first_to_exit(owner.pid, server.pid) == owner.pid
