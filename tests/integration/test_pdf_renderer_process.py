"""fir's PDF renderer child dies with fir: a parent killed with SIGKILL (which cannot stop
its children) leaves no renderer behind, adopted by init."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator

import pytest

from chaos.mesh import alive, children
from tests.waiting import until_exited

# A stand-in for the fir process: it renders one PDF (which spawns the child), says so,
# then waits to be killed.
PARENT = """
import asyncio
from datetime import UTC, datetime
from afirgen_fir.adapters.pdf_form import Fonts
from afirgen_fir.adapters.pdf_renderer import ProcessPdfRenderer
from afirgen_fir.domain.model import Complainant, Fir, Station

async def main() -> None:
    renderer = ProcessPdfRenderer(Fonts(None, None, None))
    fir = Fir(id="0b5c7a52-9f0e-4c53-9d35-8b1b1f2f7f1e", fir_number="DL-CP-01/2026/00007",
              station=Station("DL-CP-01", "Connaught Place", "New Delhi", "Delhi"),
              complainant=Complainant(name="Asha Verma"), summary="Phone snatched", revision=1,
              create_time=datetime.now(UTC))
    await renderer(fir)
    print("rendered", flush=True)
    await asyncio.sleep(3600)

asyncio.run(main())
"""


@pytest.fixture
def parent() -> Iterator[tuple[subprocess.Popen[str], list[int]]]:
    """The stand-in fir with its renderer child running; yields it and the pids of its children."""
    proc = subprocess.Popen([sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "rendered"
    started = children(proc.pid)
    yield proc, started
    proc.kill()
    proc.wait()
    for pid in started:
        if alive(pid):
            os.kill(pid, signal.SIGKILL)


@pytest.mark.skipif(sys.platform != "linux", reason="PR_SET_PDEATHSIG is Linux's")
async def test_the_renderer_child_dies_within_seconds_of_a_sigkill_of_its_parent(
    parent: tuple[subprocess.Popen[str], list[int]],
) -> None:
    proc, started = parent
    assert started and all(alive(pid) for pid in started)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    await until_exited(started, within=3, what="no child left")
