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
import time
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
    background work; requests of the parent (and every other service on the host) come first.

    ``SCHED_IDLE`` (Linux): the child runs on a core nothing else wants, and a request's
    process waking up on that core takes it at once. A niceness alone is not enough: at 15
    (with ``SCHED_BATCH``) two children rendering a backlog took both cores and GetFir's p99
    went from 4 ms to 179 ms (bench ``backlog``). ``SCHED_IDLE`` alone is not enough either
    (the CPU share of :class:`ProcessPdfRenderer` is the other half). The niceness still applies
    where there is no ``SCHED_IDLE``."""
    os.nice(niceness)
    with contextlib.suppress(AttributeError, OSError):  # SCHED_IDLE is Linux-only
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))


def _render(fir: Fir, fonts: Fonts | None) -> tuple[bytes, float]:
    """Run in a child: lay out the PDF (the child imports fpdf here, on its first document);
    returns it with the CPU seconds the child spent on it."""
    from afirgen_fir.adapters.pdf_form import render_fir_pdf

    started = time.process_time()
    content = render_fir_pdf(fir, fonts)
    return content, time.process_time() - started


def _start_child(parent: int, niceness: int) -> None:
    """Initializer of each renderer child: it dies with fir, and yields the CPU to requests."""
    _die_with_parent(parent)
    _lower_priority(niceness)


class ProcessPdfRenderer:
    """Renders in child processes, so laying out PDFs (CPU-bound Python, about
    80 ms of CPU a document, two thirds of it reading the fonts) never stalls the requests the
    service's event loop is serving.

    ``workers`` children (spawned on first use) render at most that many documents
    at once; further renders wait their turn in this process. Each child uses at most
    ``cpu_share`` of a core over a backlog: after a document that took it ``t`` seconds of
    CPU, its next one starts ``t * (1 / cpu_share - 1)`` seconds later. So a backlog of
    render jobs costs at most ``workers * cpu_share`` cores, and only what the scheduler
    leaves over: the children run at ``niceness`` and ``SCHED_IDLE``. (A low priority alone
    does not keep reads fast: on two cores, two children rendering flat out at ``SCHED_IDLE``
    raised GetFir's p99 more than 20 times; docs/architecture.md has the figures.)
    The children die
    with this process, however this process ends, and exit once no document has been
    asked for in ``idle_seconds``: a child holds about 80 MiB, and renders come in bursts
    (finalizations), so between bursts fir does not keep them. The next render spawns
    them again (about a second, in a background job)."""

    def __init__(
        self,
        fonts: Fonts | None = None,
        *,
        workers: int = 1,
        niceness: int = 15,
        idle_seconds: float = 30.0,
        cpu_share: float = 1.0,
    ) -> None:
        if not 0 < cpu_share <= 1:
            raise ValueError(f"cpu_share must be in (0, 1], got {cpu_share}")
        self._fonts = fonts
        self._workers = max(1, workers)
        self._slots = asyncio.Semaphore(self._workers)
        self._rest_per_cpu_second = 1 / cpu_share - 1
        self.cpu_seconds = 0.0
        """CPU the children spent on the documents rendered so far."""
        self._niceness = niceness
        self._idle_seconds = idle_seconds
        self._pool: ProcessPoolExecutor | None = None
        self._rendering = 0
        self._reaper: asyncio.TimerHandle | None = None

    @property
    def running(self) -> bool:
        """Whether the children are up (between a render and ``idle_seconds`` after the last)."""
        return self._pool is not None

    async def __call__(self, fir: Fir) -> bytes:
        """The PDF of ``fir``; Unavailable (retry) if a child died."""
        loop = asyncio.get_running_loop()
        if self._reaper is not None:
            self._reaper.cancel()
            self._reaper = None
        self._rendering += 1
        rest = 0.0
        await self._slots.acquire()
        try:
            # The pool is made (again) once a slot is held: a render that waited while a child died
            # (the pool reset below) must not hand None to run_in_executor, which would lay the
            # document out in a thread of this process.
            if self._pool is None:
                # spawn, not fork: a forked child of a process running gRPC threads can deadlock.
                self._pool = ProcessPoolExecutor(
                    max_workers=self._workers,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_start_child,
                    initargs=(os.getpid(), self._niceness),
                )
            content, cpu = await loop.run_in_executor(self._pool, _render, fir, self._fonts)
            self.cpu_seconds += cpu
            rest = cpu * self._rest_per_cpu_second
            return content
        except BrokenProcessPool as exc:
            self._pool = None
            raise Unavailable("the PDF renderer process died; retry") from exc
        finally:
            # The slot frees once the child has rested for its share (at once if it rests none).
            if rest > 0:
                loop.call_later(rest, self._slots.release)
            else:
                self._slots.release()
            self._rendering -= 1
            if self._rendering == 0 and self._pool is not None:
                self._reaper = loop.call_later(self._idle_seconds, self._stop_idle)

    def _stop_idle(self) -> None:
        self._reaper = None
        if self._rendering == 0:
            self.close()

    def close(self) -> None:
        """Stop the child processes."""
        if self._reaper is not None:
            self._reaper.cancel()
            self._reaper = None
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
