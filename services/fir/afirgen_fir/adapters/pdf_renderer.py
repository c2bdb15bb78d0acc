"""The PDF renderer fir uses: child processes that lay out the printable FIR
(adapters/pdf_form.py) at a low CPU priority, so rendering never stalls requests.

This module does not import the layout: fir's own process never loads fpdf; each
child imports it when it renders its first document."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import multiprocessing
import os
import signal
import sys
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING

from afirgen_runtime.errors import Unavailable

from afirgen_fir.domain.model import Fir

if TYPE_CHECKING:
    from afirgen_fir.adapters.pdf_form import Fonts

PR_SET_PDEATHSIG = 1
"""prctl(2) option: the signal the kernel sends this process when its parent dies."""


def _die_with_parent(parent: int) -> None:
    """In a renderer child: the kernel kills it when the fir process dies.

    Without it a fir killed with SIGKILL (no chance to stop its pool) leaves the child behind,
    adopted by init and spinning on its dead parent's queue, where no ``make down`` finds it.
    The signal is armed first, then the parent checked: a parent that died in between would
    never send it."""
    if sys.platform == "linux":
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != parent:
        os._exit(1)


def _lower_priority(niceness: int) -> None:
    """Run in a child at start: make its CPU the scheduler's last choice. Laying out PDFs is
    batch work; requests of the parent (and every other service on the host) come first."""
    os.nice(niceness)
    with contextlib.suppress(AttributeError, OSError):  # SCHED_BATCH is Linux-only
        os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))


def _render(fir: Fir, fonts: Fonts | None) -> bytes:
    """Run in a child: lay out the PDF (the child imports fpdf here, on its first document)."""
    from afirgen_fir.adapters.pdf_form import render_fir_pdf

    return render_fir_pdf(fir, fonts)


def _start_child(parent: int, niceness: int) -> None:
    """Initializer of each renderer child: it dies with fir, and yields the CPU to requests."""
    _die_with_parent(parent)
    _lower_priority(niceness)


class ProcessPdfRenderer:
    """Renders in child processes, so laying out PDFs (CPU-bound Python that
    holds the GIL for a good part of a second) never stalls the requests the
    service's event loop is serving.

    ``workers`` children (spawned on first use) render at most that many documents
    at once; further renders wait their turn in this process, so a backlog of
    render jobs costs at most ``workers`` CPUs, and only what the scheduler leaves
    over: the children run at ``niceness`` (and ``SCHED_BATCH``). The children die
    with this process, however this process ends."""

    def __init__(self, fonts: Fonts | None = None, *, workers: int = 1, niceness: int = 15) -> None:
        self._fonts = fonts
        self._workers = max(1, workers)
        self._niceness = niceness
        self._pool: ProcessPoolExecutor | None = None

    async def __call__(self, fir: Fir) -> bytes:
        """The PDF of ``fir``; Unavailable (retry) if a child died."""
        if self._pool is None:
            # spawn, not fork: a forked child of a process running gRPC threads can deadlock.
            self._pool = ProcessPoolExecutor(
                max_workers=self._workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_child,
                initargs=(os.getpid(), self._niceness),
            )
        try:
            return await asyncio.get_running_loop().run_in_executor(self._pool, _render, fir, self._fonts)
        except BrokenProcessPool as exc:
            self._pool = None
            raise Unavailable("the PDF renderer process died; retry") from exc

    def close(self) -> None:
        """Stop the child processes."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
