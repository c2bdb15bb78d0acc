"""The running stack as the fault suite sees it: its processes, their signals and whether
each one serves again (scripts/devstack runs them under supervisord)."""

from __future__ import annotations

import os
import signal
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from scripts.devstack.stack import Stack


@dataclass(frozen=True)
class Target:
    """A process a fault hits: its supervisord name and how to tell it serves."""

    name: str
    """Short name in the report (``fir``, ``llm``...)."""
    program: str
    """``group:program`` in supervisord."""
    replicated: bool = False
    """Another replica serves while this one is down: no request may fail."""
    model: str = ""
    """The inference backend kind (``llm``, ``asr``, ``ocr``) of a model server."""


class Mesh:
    """Signals and probes of one stack's processes."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.cfg = stack.cfg

    def pid(self, target: Target) -> int:
        """The process id supervisord knows for the target (0 while it is not running)."""
        out = self.stack.ctl("pid", target.program, check=False).strip()
        return int(out) if out.isdigit() else 0

    def signal(self, target: Target, sig: signal.Signals) -> int:
        """Send ``sig`` to the target's process; returns its pid."""
        pid = self.pid(target)
        if not pid:
            raise RuntimeError(f"{target.program} is not running")
        os.kill(pid, sig)
        return pid

    @staticmethod
    def signal_pid(pid: int, sig: signal.Signals) -> None:
        """Send ``sig`` to ``pid`` (a process signalled before, e.g. SIGCONT after SIGSTOP)."""
        os.kill(pid, sig)

    def restart(self, target: Target) -> None:
        """Stop (SIGTERM, graceful) and start the target through supervisord."""
        self.stack.ctl("restart", target.program)

    def serving(self, target: Target) -> bool:
        """True when the target's process answers as it should (its health, or its port)."""
        try:
            return self._probe(target)()
        except Exception:
            return False

    def _probe(self, target: Target) -> Callable[[], bool]:
        c, stack = self.cfg, self.stack
        ports = stack.service_ports()
        program = target.program.split(":")[1]
        if program in ports:
            return lambda: stack.grpc_serving(ports[program])
        if target.model:
            return lambda: stack.http_ok(f"http://127.0.0.1:{getattr(c, f'{target.model}_port')}/health")
        probes: dict[str, Callable[[], bool]] = {
            "mariadb": lambda: stack.root_connection().close() is None,
            "redis": lambda: _redis_ping(c.redis_port, c.redis_password),
            "envoy": stack.envoy_ready,
            "jobs-worker": lambda: stack.http_ok(f"http://127.0.0.1:{c.jobs_worker_metrics_port}/metrics"),
        }
        return probes[program]

    def rss_mib(self, program: str) -> float:
        """Resident memory of a program's process (``group:program``) and its children, in MiB."""
        pid = self.pid(Target(program, program))
        return sum(_rss_kib(p) for p in (pid, *children(pid))) / 1024 if pid else 0.0


def children(pid: int) -> list[int]:
    """The processes ``pid`` started that still have it as their parent (every thread's)."""
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except FileNotFoundError:
        return []
    found: list[int] = []
    for task in tasks:
        try:
            found += [int(child) for child in (task / "children").read_text().split()]
        except FileNotFoundError:
            continue
    return found


def alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie (a dead child nobody reaped yet)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def _rss_kib(pid: int) -> int:
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except FileNotFoundError:
        return 0
    return next((int(line.split()[1]) for line in lines if line.startswith("VmRSS:")), 0)


def _redis_ping(port: int, password: str) -> bool:
    """True when Redis answers PING (after AUTH) within a second."""
    with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
        sock.sendall(f"AUTH {password}\r\nPING\r\n".encode())
        answer = b""
        while b"PONG" not in answer and (chunk := sock.recv(256)):
            answer += chunk
        return b"+PONG" in answer
