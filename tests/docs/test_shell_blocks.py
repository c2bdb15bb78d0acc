"""Every documented command runs: the shell blocks of README.md, docs/ and the other READMEs
(tests/docs/shell_blocks.py), one bash process per file with its blocks in order, against
the session's test stack.

The blocks are written for `make up`'s stack, so each file runs in a sandbox that looks like
the repository root to them: every top-level entry is a link to the checkout, except
``.run/stack``, a link to the test stack's run directory (its secrets, sockets, logs and
supervisord), and ``backups/``, a fresh directory. The stack's default ports in the text
(``127.0.0.1:8080``, ``redis-cli -p 6380``, ``AFIRGEN_MYSQL_PORT=3307``...) become the test
stack's. ``make`` is a shell function doing what the Makefile target does for that stack
(``make -s token USER=si.a``, ``make status``, ``make backup``); any other target fails the
block, so a block that needs one is marked not run (tests/contracts/test_doc_blocks.py lists
those). ``curl`` fails on an HTTP error status unless the block expects errors, and the
script runs with ``set -eo pipefail``: a command that fails fails the file, naming its block.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import re
import secrets
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from afirgen.jobs.v1 import jobs_pb2, jobs_pb2_grpc
from google.protobuf import struct_pb2

from scripts.devstack.config import StackConfig
from scripts.devstack.stack import Stack
from tests.docs.shell_blocks import ROOT, Block, shell_blocks
from tests.waiting import until

pytestmark = pytest.mark.e2e

BY_FILE: dict[str, list[Block]] = {}
for _block in shell_blocks():
    if _block.runs:
        BY_FILE.setdefault(_block.path, []).append(_block)

STRICT_CURL = 'curl() { command curl --fail-with-body "$@"; }'
LOOSE_CURL = 'curl() { command curl "$@"; }'


def make_function(cfg: StackConfig) -> str:
    """``make`` for the test stack: the Makefile targets the runnable blocks use."""
    return f"""make() {{
  local target="" user=""
  for arg in "$@"; do
    case $arg in -s) ;; USER=*) user=${{arg#USER=}} ;; *) target=$arg ;; esac
  done
  case $target in
    token) .venv/bin/python -m scripts.devstack.identity token "$user" --port {cfg.idp_port} ;;
    status) .venv/bin/supervisorctl -c .run/stack/supervisord.conf status ;;
    backup) .venv/bin/python -m scripts.devstack.backup create --run-dir .run/stack --out backups ;;
    *) echo "doc test: 'make $target' does not run against the test stack; mark the block not run" >&2; return 97 ;;
  esac
}}"""


def for_test_stack(text: str, cfg: StackConfig) -> str:
    """``text`` with `make up`'s ports replaced by the test stack's."""
    defaults = StackConfig(run_dir=Path(".run/stack"))
    for field in dataclasses.fields(StackConfig):
        if not field.name.endswith("_port") or not getattr(defaults, field.name):
            continue
        default, actual = getattr(defaults, field.name), getattr(cfg, field.name)
        text = re.sub(rf"(?<=127\.0\.0\.1:){default}\b", str(actual), text)
        text = re.sub(rf"(?<=localhost:){default}\b", str(actual), text)
        text = re.sub(rf"(?<=-p ){default}\b", str(actual), text)
        text = re.sub(rf"(?<=_PORT=){default}\b", str(actual), text)
    return text


def script(blocks: list[Block], cfg: StackConfig) -> str:
    """One bash script running ``blocks`` in order, each announced on stderr."""
    parts = ["set -eo pipefail", make_function(cfg), STRICT_CURL]
    for block in blocks:
        parts.append(f"echo '### doc test: block {block.where}' >&2")
        parts.append(LOOSE_CURL if block.expects_http_errors else STRICT_CURL)
        parts.append(for_test_stack(block.text, cfg))
    parts.append("echo '### doc test: every block ran' >&2")
    return "\n".join(parts) + "\n"


@pytest.fixture(scope="module")
def sandbox(stack: Stack) -> Iterator[Path]:
    """A directory that looks like the repository root, with the test stack as `.run/stack`."""
    # Under /tmp and world-traversable: `make backup` starts a MariaDB as the mysql user on
    # the copy in backups/.
    root = Path(tempfile.mkdtemp(prefix="afirgen-doc-test-"))
    root.chmod(stat.S_IRWXU | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)
    for entry in ROOT.iterdir():
        if entry.name not in (".run", "backups", ".home"):
            (root / entry.name).symlink_to(entry)
    (root / ".run").mkdir()
    (root / ".run" / "stack").symlink_to(stack.cfg.run_dir)
    (root / "backups").mkdir()
    yield root
    shutil.rmtree(root, ignore_errors=True)


async def a_dead_job(stack: Stack) -> None:
    """What replaying-dead-letters.md starts from: a DEAD job (its FIR id is not an id)."""
    async with grpc.aio.insecure_channel(f"127.0.0.1:{stack.cfg.jobs_port}") as channel:
        jobs = jobs_pb2_grpc.JobServiceStub(channel)
        payload = struct_pb2.Struct()
        payload.update({"fir_id": "not-a-uuid"})
        job = await jobs.CreateJob(
            jobs_pb2.CreateJobRequest(job=jobs_pb2.Job(type="fir.render_document", payload=payload))
        )
        await until(
            lambda: jobs.GetJob(jobs_pb2.GetJobRequest(id=job.id)),
            lambda j: j.status == jobs_pb2.JOB_STATUS_DEAD,
            within=60,
            every=0.2,
            what="a DEAD job",
        )


SETUP = {"docs/runbooks/replaying-dead-letters.md": a_dead_job}
"""What a file's first block assumes that the test stack does not have yet."""


@pytest.mark.timeout(900)
@pytest.mark.parametrize("path", sorted(BY_FILE))
async def test_documented_commands_run(path: str, stack: Stack, sandbox: Path) -> None:
    if path in SETUP:
        await SETUP[path](stack)
    # A home of its own: kcadm.sh keeps its session in ~/.keycloak.
    home = sandbox / ".home"
    home.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AFIRGEN_")} | {"HOME": str(home)}
    process = await asyncio.create_subprocess_exec(
        "bash",
        "-c",
        script(BY_FILE[path], stack.cfg),
        cwd=sandbox,
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    # Answers for blocks that read from the terminal (a new officer's password).
    answers = f"{secrets.token_urlsafe(16)}\n".encode() * 4
    output, _ = await asyncio.wait_for(process.communicate(answers), timeout=840)
    text = output.decode(errors="replace")
    finished = process.returncode == 0 and text.rstrip().endswith("### doc test: every block ran")
    assert finished, f"exit {process.returncode}; the last lines:\n{text[-4000:]}"
