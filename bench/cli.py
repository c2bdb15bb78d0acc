"""``python -m bench run --profile short|full [--attach] [--only ...] [--update-baseline]``.

Exit status: 0 when every gate passed, 1 when a gate is broken or a scenario
crashed, 2 for bad usage. A gate whose metric was not measured (its scenario
skipped or crashed) is broken. A run narrowed with ``--only``/``--skip`` checks
the gates of the scenarios it ran and says how many it left unchecked.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import tempfile
import time
import traceback
import uuid
from datetime import UTC, datetime
from pathlib import Path

from bench import charts, gates, processes, report
from bench.profiles import PROFILES, Profile
from bench.results import Results
from bench.scenarios import Context, Skip, registry
from bench.seed import create_hot_set, sample_ids, seed_table
from bench.target import ATTACHED_LIMITS_NOTE, Target, build_protoset, running_target
from scripts.devstack.config import REPO

REPORTS = Path(__file__).parent / "reports"
AUTH_NOTE = (
    "every request carries an identity: through Envoy an OIDC access token (reads as an auditor, writes as the"
    " station house officer of the FIR's station, cache stats as an operator), verified by the edge;"
    " straight to a service the claims header the edge would forward. The FastAPI baseline has no auth."
)


def _log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def _git(*args: str) -> str:
    proc = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=False)
    return proc.stdout.strip()


def _environment(target: Target) -> dict[str, object]:
    return {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": _git("rev-parse", "--short", "HEAD"),
        "dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
        "cpus": os.cpu_count(),
        "load_start": " ".join(f"{x:.1f}" for x in os.getloadavg()),
        "target": ("own stack on free ports" if target.owned else "attached to make up's stack")
        + f", Envoy {target.envoy}, fir {target.fir}",
    }


def prepare(target: Target, profile: Profile, results: Results, work: Path) -> Context:
    """Seed the large table and the hot set; pause background jobs in our own stack."""
    if target.owned:
        # Render and roll-up jobs of the FIRs the bench creates would run under
        # the measurements; the outbox still feeds the jobs service.
        target.stack.ctl("stop", "services:jobs-worker", check=False)
        results.notes.append("the jobs worker of the bench's own stack was stopped: no document rendering under load")
    else:
        results.notes.append(ATTACHED_LIMITS_NOTE)
    results.notes.append(AUTH_NOTE)
    _log(f"seeding {profile.seed_rows:,} FIRs into MariaDB")
    results.figures.update(seed_table(target.mysql_args(), profile.seed_rows, log=lambda m: _log("  " + m)))
    _log(f"creating {profile.hot_firs} FIRs through the API (half finalized)")
    hot = asyncio.run(create_hot_set(target, profile.hot_firs, uuid.uuid4().hex[:8]))
    results.figures["seed.hot_fir_bytes"] = float(hot.response_bytes)
    misses = sample_ids(target.mysql_args(), 2000)
    return Context(
        target=target,
        profile=profile,
        results=results,
        work_dir=work,
        protoset=build_protoset(work / "afirgen-with-health.pb"),
        hot=hot,
        miss_ids=misses,
        log=_log,
    )


def run_scenarios(ctx: Context, names: list[str]) -> None:
    """Each scenario in order; a crash is recorded and the next one runs."""
    scenarios = registry()
    for name in names:
        _log(f"scenario {name}")
        started = time.monotonic()
        try:
            scenarios[name](ctx)
        except Skip as skip:
            ctx.results.skipped[name] = str(skip)
            _log(f"  skipped: {skip}")
        except Exception as exc:
            ctx.results.failed[name] = f"{type(exc).__name__}: {exc}"
            _log(f"  FAILED: {traceback.format_exc()}")
        ctx.results.timings[name] = time.monotonic() - started


def run(args: argparse.Namespace) -> int:
    """One benchmark run; returns the exit status."""
    profile = PROFILES[args.profile]
    chosen = [n for n in registry() if n in args.only] if args.only else list(profile.scenarios)
    names = [n for n in chosen if n not in (args.skip or [])]
    sla = gates.load_sla(profile.name)
    out = Path(args.out) if args.out else REPORTS / f"{datetime.now().strftime('%Y%m%d-%H%M%S')}-{profile.name}"
    work = out / "work"
    work.mkdir(parents=True, exist_ok=True)
    results = Results(profile=profile.name)
    results.environment["limit_sla"] = sla.get("limit", {})
    started = time.monotonic()
    stack_dir = Path(tempfile.mkdtemp(prefix="afirgen-bench-"))
    try:
        with running_target(stack_dir, attach=args.attach, keep=args.keep_stack) as target:
            results.environment.update(_environment(target))
            others = set(processes.other_stacks(target.stack.cfg.run_dir))
            ctx = prepare(target, profile, results, work)
            run_scenarios(ctx, names)
            others |= set(processes.other_stacks(target.stack.cfg.run_dir))
        if others:
            named = ", ".join(sorted(others))
            results.notes.append(
                f"other stacks ran on this machine during the run; their CPU is in the figures: {named}"
            )
            _log(f"note: {results.notes[-1]}")
    finally:
        if not args.keep_stack:
            shutil.rmtree(stack_dir, ignore_errors=True)
    results.environment["duration_s"] = time.monotonic() - started
    results.environment["load_end"] = " ".join(f"{x:.1f}" for x in os.getloadavg())
    narrowed = bool(args.only or args.skip)
    verdicts = gates.evaluate(results, sla, names if narrowed else None)
    unchecked = len(gates.gates_of(sla)) - len(gates.gates_of(sla, names)) if narrowed else 0
    if unchecked:
        results.notes.append(f"{unchecked} gates of scenarios left out of this run (--only/--skip) were not checked")
    baseline = gates.load_baseline(profile.name)
    made = charts.draw_all(results, out)
    results.save(out / "results.json")
    path = report.write(results, verdicts, baseline, made, out)
    broken = [g for g in verdicts if g.status == "FAIL"]
    if args.update_baseline:
        update_baseline(out / "results.json")
    _log(f"report: {path}")
    for g in broken:
        value = "not measured" if g.value is None else f"{g.value:.4g}"
        off = f" (off by {g.by})" if g.by else ""
        _log(f"GATE BROKEN: {g.metric} = {value}, wanted {g.bound}{off} {g.why}")
    for name, error in results.failed.items():
        _log(f"SCENARIO FAILED: {name}: {error}")
    return 1 if broken or results.failed else 0


def update_baseline(results_file: Path) -> int:
    """Write the headline metrics, gated metrics and figures of a run to bench/baseline.json."""
    results = Results.load(results_file)
    sla = gates.load_sla(results.profile)
    keep = {name for name, _, _ in report.HEADLINE} | {g["metric"] for g in sla.get("gates", [])}
    metrics = {k: v for k, v in results.metrics().items() if k in keep or k in results.figures}
    env = results.environment
    gates.save_baseline(results.profile, metrics, f"{env.get('started')} commit {env.get('commit')}")
    _log(f"baseline of profile {results.profile} written to {gates.BASELINE_FILE}")
    return 0


def main(argv: list[str]) -> int:
    """Parse the command line and run."""
    parser = argparse.ArgumentParser(prog="python -m bench", description="AFIRGen benchmark harness (issue 7)")
    sub = parser.add_subparsers(dest="command", required=True)
    cmd = sub.add_parser("run", help="run a profile and write a report")
    cmd.add_argument("--profile", choices=sorted(PROFILES), default="short")
    cmd.add_argument("--attach", action="store_true", help="use `make up`'s stack instead of starting one")
    cmd.add_argument("--keep-stack", action="store_true", help="leave the bench's own stack running")
    cmd.add_argument(
        "--only", type=lambda s: s.split(","), help="comma-separated scenarios to run (even outside the profile)"
    )
    cmd.add_argument("--skip", type=lambda s: s.split(","), help="comma-separated scenarios to leave out")
    cmd.add_argument("--out", help="report directory (default bench/reports/<timestamp>-<profile>)")
    cmd.add_argument("--update-baseline", action="store_true", help="write this run's figures to bench/baseline.json")
    base = sub.add_parser("baseline", help="make a report's figures the baseline of its profile")
    base.add_argument("report_dir", help="a report directory (it holds results.json)")
    args = parser.parse_args(argv)
    if args.command == "baseline":
        return update_baseline(Path(args.report_dir) / "results.json")
    unknown = set(args.only or []) | set(args.skip or [])
    if unknown - set(registry()):
        parser.error(f"unknown scenario(s): {', '.join(sorted(unknown - set(registry())))}")
    return run(args)
