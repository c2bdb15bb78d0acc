"""``python -m chaos [--short] [--only fir mariadb:kill ...] [--out DIR] [--keep-stack]``."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.target import UNTHROTTLED, Credentials
from chaos import faults, report
from chaos.audit import Auditor, Database
from chaos.episode import Episode, Fault, Outcome, Timing
from chaos.load import LoadShape
from chaos.mesh import Mesh
from chaos.webhooks import WebhookServer
from scripts.devstack.config import REPO, StackConfig
from scripts.devstack.stack import Stack

REPORTS = REPO / "chaos" / "reports"
MESH_PROGRAMS = (
    "services:fir",
    "services:fir-2",
    "services:inference",
    "services:inference-2",
    "services:cache",
    "services:jobs",
    "services:jobs-worker",
    "edge:envoy",
)
"""The mesh without model servers, databases and the identity provider (the idle RSS budget's scope)."""
ADDED = ("services:fir-2", "services:inference-2")
"""The second replicas."""


def rss_notes(mesh: Mesh) -> list[str]:
    """Idle resident memory of the mesh's processes, the second replicas' share named."""
    rss = {program: mesh.rss_mib(program) for program in MESH_PROGRAMS}
    lines = [f"| {program.split(':')[1]} | {mib:.0f} |" for program, mib in rss.items()]
    added = sum(rss[p] for p in ADDED)
    return [
        "## Resident memory, idle (before the faults)",
        "",
        "| process | RSS (MiB) |",
        "|---|---|",
        *lines,
        f"| **mesh** | **{sum(rss.values()):.0f}** |",
        "",
        f"The second fir and inference proxy replicas add {added:.0f} MiB.",
        "",
    ]


async def run_faults(
    stack: Stack,
    chosen: tuple[Fault, ...],
    credentials: Credentials,
    timing: Timing | None = None,
    shape: LoadShape | None = None,
    aborted: list[str] | None = None,
) -> list[Outcome]:
    """Each fault in turn, under load; prints a line per fault as it ends. A fault whose
    episode could not run (its target never served before it) is named in ``aborted``."""
    aborted = [] if aborted is None else aborted
    mesh = Mesh(stack)
    connect = {"host": "127.0.0.1", "port": stack.cfg.mysql_port, "user": "afirgen"}
    connect |= {"password": stack.cfg.mysql_password}
    outcomes = []
    with WebhookServer(stack.cfg.webhook_port, stack.cfg.webhook_secret) as webhooks:
        episode = Episode(mesh, credentials, Auditor(Database(connect), webhooks), timing, shape)
        for fault in chosen:
            started = time.monotonic()
            try:
                outcome = await episode.run(fault)
            except Exception as exc:  # one broken episode must not lose the others' results
                aborted.append(f"{fault.name}: {type(exc).__name__}: {exc}")
                print(f"{fault.name:<40} {time.monotonic() - started:5.0f} s  ABORTED: {exc}", flush=True)
                continue
            outcomes.append(outcome)
            broken = report.gates(outcome)
            verdict = "pass" if not broken else "FAIL: " + "; ".join(broken)
            print(f"{fault.name:<40} {time.monotonic() - started:5.0f} s  {verdict}", flush=True)
    return outcomes


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m chaos", description=__doc__)
    parser.add_argument("--short", action="store_true", help="the three faults make test runs")
    parser.add_argument("--only", nargs="+", metavar="TARGET[:ACTION]", help="e.g. fir mariadb:kill")
    parser.add_argument("--out", type=Path, help="report directory (default chaos/reports/<time>-<profile>)")
    parser.add_argument("--keep-stack", action="store_true", help="leave the stack running")
    args = parser.parse_args(argv)
    chosen = faults.select(args.only) if args.only else faults.SHORT if args.short else faults.FULL
    profile = "short" if args.short else "only" if args.only else "full"
    timing, shape = (faults.SHORT_TIMING, faults.SHORT_SHAPE) if args.short else (Timing(), LoadShape())
    out = args.out or REPORTS / f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{profile}"
    run_dir = Path(tempfile.mkdtemp(prefix="afirgen-chaos-"))
    stack = Stack(dataclasses.replace(StackConfig.for_tests(run_dir), rate_limits=UNTHROTTLED), owned=True)
    try:
        stack.up()
        notes = rss_notes(Mesh(stack))
        aborted: list[str] = []
        credentials = Credentials(stack.cfg.idp_url, stack.cfg.idp_admin_password)
        try:
            outcomes = asyncio.run(run_faults(stack, chosen, credentials, timing, shape, aborted))
        finally:
            credentials.close()
    finally:
        if args.keep_stack:
            stack.release()
            print(f"stack kept running: {stack.urls()}")
        else:
            stack.destroy()
            shutil.rmtree(run_dir, ignore_errors=True)
    if aborted:
        notes += ["## Faults that could not run", "", *(f"- {line}" for line in aborted), ""]
    path = report.write(out, outcomes, notes, timing, shape)
    broken = [o for o in outcomes if report.gates(o)]
    passed = len(outcomes) - len(broken)
    print(f"report: {path}; {passed} of {len(outcomes) + len(aborted)} faults passed every gate")
    return 1 if broken or aborted else 0
