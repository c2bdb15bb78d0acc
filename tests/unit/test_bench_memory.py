"""What the bench reads of a process's memory (this test's own process: a real one)."""

from __future__ import annotations

import os

from bench.processes import Memory, memory_kib


def test_pages_mapped_from_files_are_a_part_of_the_rss() -> None:
    held = memory_kib(os.getpid())
    assert 0 < held.file < held.rss


def test_a_process_that_is_gone_holds_nothing() -> None:
    assert memory_kib(2**22 + 1) == Memory(0, 0, 0)  # above the kernel's largest pid


def test_what_processes_hold_together_is_summed_column_by_column() -> None:
    assert Memory.total([Memory(10, 6, 4), Memory(5, 3, 1)]) == Memory(15, 9, 5)
