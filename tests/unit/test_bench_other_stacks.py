"""The bench names the other stacks running beside its own (real processes named like supervisord)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.processes import other_stacks


@pytest.fixture
def stack_dir(tmp_path: Path) -> Iterator[Path]:
    """A directory whose "supervisord" (a sleeping script of that name) runs with its config."""
    program = tmp_path / "supervisord"
    program.write_text("import time\ntime.sleep(60)\n")
    running = subprocess.Popen([sys.executable, str(program), "-c", str(tmp_path / "supervisord.conf")])
    yield tmp_path
    running.kill()
    running.wait()


def test_a_stack_of_another_run_is_named(stack_dir: Path) -> None:
    assert str(stack_dir / "supervisord.conf") in other_stacks(Path("/nonexistent"))


def test_the_bench_own_stack_is_not(stack_dir: Path) -> None:
    assert str(stack_dir / "supervisord.conf") not in other_stacks(stack_dir)
