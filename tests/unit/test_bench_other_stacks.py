"""The bench names the other stacks running beside its own (real processes named like supervisord)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bench.processes import other_stacks
from tests.waiting import until


@pytest.fixture
async def stack_dir(tmp_path: Path) -> AsyncIterator[Path]:
    """A directory whose "supervisord" (a sleeping script of that name) runs with its config."""
    program = tmp_path / "supervisord"
    program.write_text("import time\ntime.sleep(60)\n")
    running = await asyncio.create_subprocess_exec(
        sys.executable, str(program), "-c", str(tmp_path / "supervisord.conf")
    )
    # The call can return before the kernel shows the new command line.
    await until(Path(f"/proc/{running.pid}/cmdline").read_bytes, what="the process's command line")
    yield tmp_path
    running.kill()
    await running.wait()


def test_a_stack_of_another_run_is_named(stack_dir: Path) -> None:
    assert str(stack_dir / "supervisord.conf") in other_stacks(Path("/nonexistent"))


def test_the_bench_own_stack_is_not(stack_dir: Path) -> None:
    assert str(stack_dir / "supervisord.conf") not in other_stacks(stack_dir)
