"""Flame graphs of the fir and cache processes under a cached GetFir load (``--only flame``).

wrk reads the hot FIRs (drafts and finalized, cached) through Envoy's REST side at 50
connections while py-spy samples fir and cache (``--nonblocking``: the processes are not
paused; idle threads are left out). The SVGs land in the report directory
(``flame-fir.svg``, ``flame-cache.svg``); the request rate of the load is a figure.
Envoy is C++ and is not sampled here.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from bench import loadgen
from bench.scenarios import Context, Skip

SECONDS = 15
PROCESSES = {"fir": "services:fir", "cache": "services:cache"}


def _py_spy() -> str:
    found = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(found).exists():
        raise Skip("py-spy is not installed (.venv/bin/pip install py-spy)")
    return found


def run(ctx: Context) -> None:
    """Sample fir and cache while wrk reads cached FIRs through Envoy."""
    py_spy = _py_spy()
    if not ctx.target.owned:
        raise Skip("flame graphs need the bench's own stack (its supervisor knows the processes)")
    out = ctx.work_dir.parent
    samplers = []
    for name, program in PROCESSES.items():
        pid = ctx.target.stack.ctl("pid", program).strip()
        if not pid.isdigit() or pid == "0":
            raise Skip(f"{program} is not running")
        cmd = [py_spy, "record", "--pid", pid, "--duration", str(SECONDS), "--rate", "200", "--nonblocking"]
        cmd += ["--format", "flamegraph", "--output", str(out / f"flame-{name}.svg")]
        samplers.append(subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
    paths = [f"/v1/firs/{i}" for i in (*ctx.hot.drafts, *ctx.hot.finalized)]
    m = loadgen.wrk(
        ctx.target.base_url,
        paths,
        key="flame.GetFir",
        label="GetFir REST, cached drafts and finalized, c=50 (sampled by py-spy)",
        scenario="flame",
        connections=50,
        seconds=SECONDS - 1,
        max_requests=ctx.profile.rest_max_requests,
        headers=ctx.target.headers() | {"Accept-Encoding": "identity"},
        work_dir=ctx.work_dir,
    )
    ctx.results.add(m)
    ctx.results.figures["flame.GetFir.rps"] = m.rps
    for sampler in samplers:
        _, err = sampler.communicate(timeout=SECONDS + 60)
        if sampler.returncode != 0:
            ctx.note(f"flame: py-spy failed: {err.decode(errors='replace')[-300:]}")
    ctx.log(f"  GetFir under py-spy: {m.rps:.0f} rps; flame graphs in {out}")
