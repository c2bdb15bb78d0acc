"""``python -m afirgen_fir.adapters.pdf_child PARENT_PID NICENESS FONTS``: one PDF renderer process
of fir (adapters/pdf_renderer.py starts it).

It reads FIRs to lay out on its stdin and writes each PDF to its stdout, one at a time, until
its stdin closes. A request is an FIR as the cache stores it (adapters/fir_codec.py) behind its
length; an answer is :data:`ANSWER` (laid out or not, the CPU seconds it took, the length),
then the PDF, or the error's text. ``FONTS`` is :func:`fonts_argument` of the fonts to use.

Before anything else it arms its death with its parent and lowers its CPU priority; it imports
the layout (fpdf, the fonts) only for its first document."""

from __future__ import annotations

import ctypes
import dataclasses
import json
import os
import signal
import struct
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

if TYPE_CHECKING:
    from afirgen_fir.adapters.pdf_form import Fonts

PR_SET_PDEATHSIG = 1
"""prctl(2) option: the signal the kernel sends this process when its parent dies."""
REQUEST = struct.Struct(">I")
"""A request's header: the length of the FIR that follows."""
ANSWER = struct.Struct(">?dI")
"""An answer's header: laid out (or failed), the CPU seconds it took, the length that follows."""


def die_with_parent(parent: int) -> None:
    """The kernel kills this process when fir dies.

    Without it a fir killed with SIGKILL (no chance to stop its renderer) leaves the child
    behind, adopted by init, where no ``make down`` finds it. The signal is armed first, then
    the parent checked: a parent that died in between would never send it."""
    if sys.platform == "linux":
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != parent:
        os._exit(1)


def lower_priority(niceness: int) -> None:
    """Make this process's CPU the scheduler's last choice. Laying out PDFs is background work;
    requests of the parent (and every other service on the host) come first.

    ``SCHED_IDLE`` (Linux): the child runs on a core nothing else wants, and a request's
    process waking up on that core takes it at once. A niceness alone is not enough: at 15
    (with ``SCHED_BATCH``) two children rendering a backlog took both cores and GetFir's p99
    went from 4 ms to 179 ms (bench ``backlog``). ``SCHED_IDLE`` alone is not enough either
    (the CPU share of ``ProcessPdfRenderer`` is the other half). The niceness still applies
    where there is no ``SCHED_IDLE``."""
    os.nice(niceness)
    set_idle(0, idle=True)


def set_idle(pid: int, *, idle: bool) -> bool:
    """Put process ``pid`` (0: this one) in ``SCHED_IDLE``, or back in the normal policy, where
    its niceness applies again. False where that is not allowed (an unprivileged process may not
    leave ``SCHED_IDLE`` when RLIMIT_NICE forbids its niceness) or not Linux."""
    try:
        os.sched_setscheduler(pid, os.SCHED_IDLE if idle else os.SCHED_OTHER, os.sched_param(0))
    except (AttributeError, OSError):
        return False
    return True


def fonts_argument(fonts: Fonts | None) -> str:
    """``fonts`` as the child's command line carries it (JSON; null: the system's fonts)."""
    if fonts is None:
        return "null"
    return json.dumps({name: str(path) if path else None for name, path in dataclasses.asdict(fonts).items()})


def _fonts(argument: str) -> Fonts | None:
    from afirgen_fir.adapters.pdf_form import Fonts

    paths = json.loads(argument)
    if paths is None:
        return None
    return Fonts(**{name: Path(path) if path else None for name, path in paths.items()})


def _read_exactly(stream: BinaryIO, size: int) -> bytes | None:
    """``size`` bytes, or None at the end of the stream."""
    chunks, left = [], size
    while left:
        chunk = stream.read(left)
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _lay_out(request: bytes, fonts: Fonts | None) -> bytes:
    """The answer to one request."""
    started = time.process_time()
    try:
        from afirgen_fir.adapters.fir_codec import decode_fir
        from afirgen_fir.adapters.pdf_form import render_fir_pdf

        content = render_fir_pdf(decode_fir(request), fonts)
    except Exception as exc:  # every failure goes back to the render that asked
        error = f"{type(exc).__name__}: {exc}".encode()
        return ANSWER.pack(False, time.process_time() - started, len(error)) + error
    return ANSWER.pack(True, time.process_time() - started, len(content)) + content


def serve(requests: BinaryIO, answers: BinaryIO, fonts: Fonts | None) -> None:
    """Answer every request until ``requests`` ends."""
    while (header := _read_exactly(requests, REQUEST.size)) is not None:
        request = _read_exactly(requests, REQUEST.unpack(header)[0])
        if request is None:
            return
        answers.write(_lay_out(request, fonts))
        answers.flush()


def main() -> None:
    parent, niceness, fonts = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    die_with_parent(parent)
    lower_priority(niceness)
    # The answers go to the pipe that is stdout now; anything else printed goes to stderr
    # (fir's log), so a stray print cannot corrupt a PDF.
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    serve(sys.stdin.buffer, answers, _fonts(fonts))


if __name__ == "__main__":
    main()
