"""The PDF renderer fir uses: child processes that lay out the printable FIR
(adapters/pdf_form.py) at a low CPU priority, so rendering never stalls requests.

This module does not import the layout: fir's own process never loads fpdf; each
child (adapters/pdf_child.py) imports it when it renders its first document.

The children are plain subprocesses talking over their stdin and stdout, not a
``ProcessPoolExecutor``: a pool of spawned processes makes multiprocessing start its
resource tracker, one more Python process (13 MiB) that stays beside every fir for good."""

from __future__ import annotations

import asyncio
import functools
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from afirgen_runtime.errors import Unavailable
from loguru import logger

from afirgen_fir.adapters.child_process import ChildProcess
from afirgen_fir.adapters.fir_codec import encode_fir
from afirgen_fir.adapters.pdf_child import ANSWER, REQUEST, fonts_argument, set_idle
from afirgen_fir.domain.model import Fir

if TYPE_CHECKING:
    from afirgen_fir.adapters.pdf_form import Fonts


class _ChildDied(Exception):
    """The child's pipes closed before its answer."""


class RenderFailed(RuntimeError):
    """The layout of a document failed in the child (the error's text); the child itself is fine."""


class _Child:
    """One renderer process, one document at a time."""

    def __init__(self, process: ChildProcess) -> None:
        self.process = process
        self.promoted = False
        """Out of ``SCHED_IDLE`` for the document it is laying out (``ProcessPdfRenderer``)."""

    @classmethod
    async def start(cls, niceness: int, fonts: Fonts | None) -> _Child:
        process = await ChildProcess.spawn(
            sys.executable,
            "-m",
            "afirgen_fir.adapters.pdf_child",
            str(os.getpid()),
            str(niceness),
            fonts_argument(fonts),
        )
        return cls(process)

    async def render(self, fir: Fir) -> tuple[bool, float, bytes]:
        """Laid out or not, the CPU seconds the child spent, and the PDF or the error's text;
        raises _ChildDied when the child died."""
        if self.process.returncode is not None:
            raise _ChildDied  # its stdin is closed: uvloop would refuse the write (a RuntimeError)
        stdin, stdout = self.process.stdin, self.process.stdout
        request = encode_fir(fir)
        try:
            stdin.write(REQUEST.pack(len(request)) + request)
            await stdin.drain()
            ok, cpu, size = ANSWER.unpack(await stdout.readexactly(ANSWER.size))
            return ok, cpu, await stdout.readexactly(size)
        except (asyncio.IncompleteReadError, ConnectionError) as exc:
            raise _ChildDied from exc

    def stop(self) -> None:
        """Close its stdin: it exits once it has read to the end."""
        if self.process.returncode is None:
            self.process.stdin.close()

    async def wait(self, within: float) -> None:
        """Until it has exited, killing it after ``within`` seconds."""
        try:
            await asyncio.wait_for(self.process.wait(), within)
        except TimeoutError:
            self.kill()
            await self.process.wait()

    async def exit_status(self, within: float) -> int:
        """Its exit status (negative: the signal that killed it), killing it if it has not
        exited within ``within`` seconds."""
        await self.wait(within)
        assert self.process.returncode is not None
        return self.process.returncode

    def kill(self) -> None:
        if self.process.returncode is None:
            self.process.kill()


class ProcessPdfRenderer:
    """Renders in child processes, so laying out PDFs (CPU-bound Python, 90-130 ms of CPU a
    document in the Latin cut of the fonts, 230-350 ms with the whole fonts: pdf_form.py) never
    stalls the requests the service's event loop is serving.

    ``workers`` children (spawned on first use) render at most that many documents
    at once; further renders wait their turn in this process. Each child uses at most
    ``cpu_share`` of a core over a backlog: after a document that took it ``t`` seconds of
    CPU, its next one starts ``t * (1 / cpu_share - 1)`` seconds later. While ``busy()`` says
    requests are flowing, the rest after a document is reckoned with ``busy_cpu_share``
    instead: a backlog then yields more of the CPU to them, and drains at full share when the
    service is quiet. So a backlog of
    render jobs costs at most ``workers * cpu_share`` cores, and only what the scheduler
    leaves over: the children run at ``niceness`` and ``SCHED_IDLE``. (A low priority alone
    does not keep reads fast: on two cores, two children rendering flat out at ``SCHED_IDLE``
    raised GetFir's p99 more than 20 times; docs/architecture.md has the figures.)
    ``SCHED_IDLE`` gets no CPU at all while every core is busy, so a document still unanswered
    after ``patience`` seconds (20 s by default, some two hundred times a document's CPU)
    has its child moved back to the normal policy at its niceness until it answers: a host
    kept busy (a drafting model, a neighbour) delays documents but cannot starve them past a
    render job's deadline. ``promotions`` counts those documents.
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
        busy_cpu_share: float | None = None,
        busy: Callable[[], bool] = lambda: False,
        patience: float = 20.0,
    ) -> None:
        busy_cpu_share = cpu_share if busy_cpu_share is None else busy_cpu_share
        if not 0 < busy_cpu_share <= cpu_share <= 1:
            raise ValueError(f"want 0 < busy_cpu_share <= cpu_share <= 1, got {busy_cpu_share} and {cpu_share}")
        self._fonts = fonts
        self._workers = max(1, workers)
        self._slots = asyncio.Semaphore(self._workers)
        self._rest_per_cpu_second = 1 / cpu_share - 1
        self._busy_rest_per_cpu_second = 1 / busy_cpu_share - 1
        self._busy = busy
        self.cpu_seconds = 0.0
        """CPU the children spent on the documents rendered so far."""
        self._niceness = niceness
        self._patience = patience
        self.promotions = 0
        """Documents whose child left ``SCHED_IDLE`` because they waited past ``patience``."""
        self._idle_seconds = idle_seconds
        self._children: set[_Child] = set()
        self._stopping: set[_Child] = set()
        """Children told to stop that may not have exited yet."""
        self._idle: list[_Child] = []
        """Children waiting for a document (a child rests for its share before it is here)."""
        self._rendering = 0
        self._reaper: asyncio.TimerHandle | None = None

    @property
    def running(self) -> bool:
        """Whether children are up (between a render and ``idle_seconds`` after the last)."""
        return bool(self._children)

    @property
    def pids(self) -> list[int]:
        """The process ids of the children that are up."""
        return [child.process.pid for child in self._children]

    async def __call__(self, fir: Fir) -> bytes:
        """The PDF of ``fir``; Unavailable (retry) if a child died."""
        loop = asyncio.get_running_loop()
        if self._reaper is not None:
            self._reaper.cancel()
            self._reaper = None
        self._rendering += 1
        child: _Child | None = None
        rest = 0.0
        held = False
        try:
            # A slot per child: holding one, there is an idle child or room to start one.
            await self._slots.acquire()
            held = True
            if self._idle:
                child = self._idle.pop()
            else:
                child = await _Child.start(self._niceness, self._fonts)
                self._children.add(child)
            document = asyncio.ensure_future(self._render_on(child, fir))
            try:
                ok, cpu, content = await asyncio.shield(document)
            except asyncio.CancelledError:
                # The caller gave up mid-document (a job past its deadline): the child finishes
                # it, its answer is dropped, and the child stays warm for the retry.
                document.add_done_callback(functools.partial(self._abandoned, child))
                held = False  # the callback frees the slot
                raise
            except _ChildDied as exc:
                self._children.discard(child)
                status = await child.exit_status(within=1.0)
                child = None
                logger.warning("a PDF renderer process died before its answer (exit status {})", status)
                raise Unavailable(f"the PDF renderer process died (exit status {status}); retry") from exc
            except BaseException:
                self._children.discard(child)
                child.kill()
                child = None
                raise
            rest = self._spent(cpu)
            if not ok:
                raise RenderFailed(content.decode(errors="replace"))
            return content
        finally:
            # The child (and its slot) is free again once it has rested for its share; a render
            # cancelled while it waited for a slot holds none.
            if held and rest > 0:
                loop.call_later(rest, self._free, child)
            elif held:
                self._free(child)
            self._rendering -= 1
            if self._rendering == 0 and self._children:
                self._reaper = loop.call_later(self._idle_seconds, self._stop_idle)

    async def _render_on(self, child: _Child, fir: Fir) -> tuple[bool, float, bytes]:
        """``child.render``, with the child out of ``SCHED_IDLE`` past ``patience``."""
        promotion = asyncio.get_running_loop().call_later(self._patience, self._promote, child)
        try:
            return await child.render(fir)
        finally:
            promotion.cancel()
            if child.promoted:
                child.promoted = not set_idle(child.process.pid, idle=True)

    def _spent(self, cpu: float) -> float:
        """Count a document's CPU; the seconds its child rests before the next."""
        self.cpu_seconds += cpu
        return cpu * (self._busy_rest_per_cpu_second if self._busy() else self._rest_per_cpu_second)

    def _abandoned(self, child: _Child, document: asyncio.Future[tuple[bool, float, bytes]]) -> None:
        """A document its caller gave up on is done: free its child (after its rest) and slot."""
        if document.cancelled() or document.exception() is not None:
            self._children.discard(child)
            child.kill()
            self._free(None)
            return
        _, cpu, _ = document.result()
        asyncio.get_running_loop().call_later(self._spent(cpu), self._free, child)

    def _promote(self, child: _Child) -> None:
        if child.process.returncode is None and set_idle(child.process.pid, idle=False):
            child.promoted = True
            self.promotions += 1
            logger.warning(
                "a PDF starved at SCHED_IDLE for {:.0f} s; its child runs at its niceness until it answers",
                self._patience,
            )

    def _free(self, child: _Child | None) -> None:
        if child is not None and child in self._children:
            self._idle.append(child)
        self._slots.release()

    def _stop_idle(self) -> None:
        self._reaper = None
        if self._rendering == 0:
            self.close()

    def close(self) -> None:
        """Stop the child processes (a child still laying out a document finishes it first)."""
        if self._reaper is not None:
            self._reaper.cancel()
            self._reaper = None
        for child in self._children:
            child.stop()
        self._stopping = {child for child in self._stopping | self._children if child.process.returncode is None}
        self._children.clear()
        self._idle.clear()

    async def aclose(self, within: float = 5.0) -> None:
        """Stop the child processes and wait until they have exited (killed after ``within``
        seconds): their pipes close while the event loop still runs."""
        self.close()
        stopping, self._stopping = self._stopping, set()
        await asyncio.gather(*(child.wait(within) for child in stopping))
