"""``python -m scripts.devstack.reaper OWNER_PID SUPERVISORD_PID CONF``: shut a stack down when
the process that owns it exits, however it exits.

A stack the tests, the bench, the evaluation or chaos start belongs to that run, and the run
stops it on its way out. A run killed outright (SIGKILL, a cancelled CI job, the out-of-memory
killer, a SIGTERM nothing handles) never gets there, and its supervisord, a daemon, runs on with
MariaDB, the model servers and every service, taking the CPU and memory of the runs after it.
``Stack(owned=True)`` starts this process in a session of its own beside the stack's
supervisord. It waits for the first of the two to exit: the owner first, and it shuts the stack
down; supervisord first (the run stopped the stack), and there is nothing left to do.
"""

from __future__ import annotations

import os
import select
import subprocess
import sys

from scripts.devstack.config import VENV


def first_to_exit(*pids: int) -> int:
    """Block until one of ``pids`` has exited; return it (at once if one is already gone)."""
    handles: dict[int, int] = {}
    try:
        for pid in pids:
            try:
                handles[os.pidfd_open(pid)] = pid
            except ProcessLookupError:
                return pid
        ready, _, _ = select.select(list(handles), [], [])
        return handles[ready[0]]
    finally:
        for handle in handles:
            os.close(handle)


def main(argv: list[str]) -> int:
    owner, supervisord, conf = int(argv[0]), int(argv[1]), argv[2]
    if first_to_exit(owner, supervisord) == owner:
        subprocess.run([str(VENV / "bin" / "supervisorctl"), "-c", conf, "shutdown"], check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
