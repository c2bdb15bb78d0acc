"""A stack owned by a run stops when the run is killed outright (scripts/devstack/reaper.py):
a SIGKILL leaves no chance to call ``Stack.down``, and the stack's daemonized supervisord
would otherwise keep MariaDB and every service running."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from scripts.devstack.config import REPO, VENV
from tests.waiting import until_exited

pytestmark = pytest.mark.integration

OWNER = """
import sys, time
from pathlib import Path
from scripts.devstack.config import StackConfig
from scripts.devstack.stack import Stack
run_dir = Path(sys.argv[1])
Stack(StackConfig.for_tests(run_dir), owned=True).up(database_only=True)
pids = [(run_dir / name).read_text().strip() for name in ("supervisord.pid", "mariadb/mariadbd.pid")]
print("PIDS", *pids, flush=True)
time.sleep(600)
"""


@pytest.mark.timeout(240)
async def test_an_owned_stack_shuts_down_when_its_owner_is_killed() -> None:
    # Under /tmp itself: MariaDB runs as the mysql user and must pass through the run dir's parents.
    run_dir = Path(tempfile.mkdtemp(prefix="afirgen-test-owned-"))
    owner = await asyncio.create_subprocess_exec(
        sys.executable, "-c", OWNER, str(run_dir), cwd=REPO, stdout=asyncio.subprocess.PIPE
    )
    try:
        assert owner.stdout is not None
        line = b""
        while not line.startswith(b"PIDS "):
            line = await owner.stdout.readline()
            assert line, "the owner exited before its stack was up"
        stack = [int(pid) for pid in line.split()[1:]]  # supervisord and MariaDB below it
        owner.kill()
        await owner.wait()
        left = await until_exited(stack, within=60, what="the stack's supervisord and MariaDB to exit")
        assert stack and left == []
    finally:
        if owner.returncode is None:
            owner.kill()
            await owner.wait()
        shutdown = [str(VENV / "bin" / "supervisorctl"), "-c", str(run_dir / "supervisord.conf"), "shutdown"]
        await asyncio.to_thread(subprocess.run, shutdown, capture_output=True, check=False)
        shutil.rmtree(run_dir, ignore_errors=True)
