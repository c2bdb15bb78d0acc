"""The mesh's processes as the bench's own stack runs them: which they are (from supervisord),
their descendants, and what they use (CPU time, memory), read from ``/proc``."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import NamedTuple

from bench.target import Target

TICKS = os.sysconf("SC_CLK_TCK")
MESH_GROUPS = ("services", "edge")
"""supervisord groups of the mesh proper: the four services, the jobs worker, Envoy. Not the
databases, the identity provider or the model servers."""


def _each_process(name: str) -> Iterator[tuple[int, bytes]]:
    """``(pid, /proc/<pid>/<name>)`` of every process now (one that exits meanwhile is left out)."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                yield int(entry.name), (entry / name).read_bytes()
            except OSError:
                continue


def tree() -> dict[int, list[int]]:
    """Parent pid -> child pids, for every process now."""
    children: dict[int, list[int]] = {}
    for pid, stat in _each_process("stat"):
        fields = stat.rsplit(b")", 1)[1].split()
        children.setdefault(int(fields[1]), []).append(pid)
    return children


def with_descendants(pid: int, children: dict[int, list[int]]) -> list[int]:
    """``pid`` and every process below it (a fir's PDF children, a script's server)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def cpu_seconds(pid: int, children: dict[int, list[int]]) -> float:
    """User + system CPU of ``pid`` and every process below it."""
    total = 0.0
    for current in with_descendants(pid, children):
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime
    return total


class Memory(NamedTuple):
    """What one process holds, in KiB (all 0 if it is gone)."""

    rss: int
    """Every page the process maps, shared libraries included (what ``ps`` shows)."""
    pss: int
    """A shared page divided among its sharers: over a set of processes, PSS sums to the memory
    they take from the machine."""
    file: int
    """Of ``rss``, the pages mapped from files (program and library code and data, shared memory):
    a page of ``libpython`` counts in every process that maps it."""

    @classmethod
    def total(cls, memories: Iterable[Memory]) -> Memory:
        """What ``memories`` hold together."""
        held = list(memories)
        return cls(sum(m.rss for m in held), sum(m.pss for m in held), sum(m.file for m in held))


def memory_kib(pid: int) -> Memory:
    """What process ``pid`` holds, from ``/proc/<pid>/smaps_rollup``."""
    try:
        rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return Memory(0, 0, 0)
    found = {name: int(kib) for name, kib in re.findall(r"^(Rss|Pss|Anonymous):\s+(\d+)", rollup, re.M)}
    rss = found.get("Rss", 0)
    return Memory(rss, found.get("Pss", 0), rss - found.get("Anonymous", 0))


def other_stacks(own: Path) -> list[str]:
    """The configuration files of the AFIRGen stacks running on this machine besides the one in
    ``own``, from their supervisord command lines. Another run's stack (a test session, a second
    bench) takes CPU the bench then counts against the mesh it measures."""
    found = []
    for _, cmdline in _each_process("cmdline"):
        argv = cmdline.split(b"\0")
        if any(arg.endswith(b"/supervisord") for arg in argv[:2]) and b"-c" in argv[:-1]:
            conf = Path(argv[argv.index(b"-c") + 1].decode(errors="replace"))
            if conf.parent != own:
                found.append(str(conf))
    return sorted(found)


def program_pids(target: Target, groups: tuple[str, ...] = MESH_GROUPS) -> dict[str, int]:
    """``group:program`` -> pid of every running program of ``groups`` in the stack."""
    pids = {}
    for line in target.stack.ctl("status", check=False).splitlines():
        match = re.match(r"(\S+):(\S+)\s+RUNNING\s+pid (\d+)", line)
        if match and match.group(1) in groups:
            pids[f"{match.group(1)}:{match.group(2)}"] = int(match.group(3))
    return pids


def supervisor_pid(target: Target) -> int | None:
    """The stack's supervisord (it runs the mesh, so its memory is the mesh's too)."""
    try:
        return int((target.stack.cfg.run_dir / "supervisord.pid").read_text().strip())
    except (OSError, ValueError):
        return None


ALL_GROUPS = ("edge", "services", "infra", "models", "identity")
"""Every supervisord group of the stack."""


def program_cpu(target: Target, groups: tuple[str, ...] = ALL_GROUPS) -> dict[str, float]:
    """CPU seconds so far of each running program of ``groups``, and of its descendants apart
    (``services:fir/children``: the PDF renderer's children)."""
    children = tree()
    used: dict[str, float] = {}
    for program, pid in program_pids(target, groups).items():
        own = cpu_seconds(pid, {})
        used[program] = own
        if children.get(pid):
            used[f"{program}/children"] = cpu_seconds(pid, children) - own
    return used


def cores_between(before: dict[str, float], after: dict[str, float], seconds: float) -> dict[str, float]:
    """Cores each program of two :func:`program_cpu` readings used over ``seconds``. A program
    that started in between counts all its CPU; one whose descendant exited or that restarted
    counts nothing rather than less than nothing."""
    return {p: max(0.0, used - before.get(p, 0.0)) / max(seconds, 1e-3) for p, used in after.items()}


QUIET_CORES = 0.15
"""The mesh, MariaDB and Redis together below this many cores: no background work is running
(idle, they use about 0.04: health probes, the invalidation feed's heartbeat)."""


def wait_quiet(target: Target, *, window_s: float = 2.0, within_s: float = 120.0) -> tuple[float, float]:
    """Wait until the work an earlier scenario left behind is done (MariaDB purging and flushing
    after thousands of writes, fir's outbox relay handing their jobs on): until the programs of
    the edge, the services and the infrastructure use under :data:`QUIET_CORES` together over
    ``window_s``, or ``within_s`` has passed. Returns the seconds waited and the last window's cores."""
    groups = ("edge", "services", "infra")
    started = time.monotonic()
    while True:
        before = program_cpu(target, groups)
        time.sleep(window_s)
        cores = sum(cores_between(before, program_cpu(target, groups), window_s).values())
        waited = time.monotonic() - started
        if cores < QUIET_CORES or waited >= within_s:
            return waited, cores
