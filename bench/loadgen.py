"""The load generators, each run as a bounded subprocess and parsed into a :class:`Measurement`.

- ghz (gRPC, pinned in ``scripts/install/tools.sh``): closed-loop runs at a
  concurrency, or fixed-rate runs (``--rps``); warm-up requests skipped.
- wrk (REST, Debian): closed-loop maximum throughput over a rotating set of
  paths (``lua/report.lua``), stopped by a request budget or its duration.
- hey (REST, Debian): fixed-rate runs (``-q`` per worker) for latency at a
  given load.

Each run is bounded by a request count and by a time limit; past the limit the
generator gets SIGINT (ghz and hey still print their report) and then SIGKILL.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

from bench.results import Measurement
from scripts.devstack.config import REPO

LUA = Path(__file__).parent / "lua" / "report.lua"
# ghz cancels in-flight calls when it is interrupted; those are not failures of the mesh.
_CANCELLED = ("use of closed network connection", "context canceled", "grpc: the client connection is closing")


class LoadToolMissing(RuntimeError):
    """A load generator is not installed (``make install`` installs them)."""


def tool(name: str) -> str:
    """Path of a load generator: ``.tools/bin`` first, then ``PATH``."""
    local = REPO / ".tools" / "bin" / name
    if local.exists():
        return str(local)
    found = shutil.which(name)
    if not found:
        raise LoadToolMissing(f"{name} is not installed; run `make install`")
    return found


def _run(cmd: list[str], timeout: float, env: dict[str, str] | None = None) -> tuple[str, str, int]:
    """Run a generator (``env`` added to ours); SIGINT at ``timeout`` (it then reports), SIGKILL 10 s later."""
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ | env if env else None
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGINT)
        try:
            out, err = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
    return out, err, proc.returncode


@dataclass(frozen=True)
class GrpcCall:
    """One gRPC method with its request, at one address."""

    method: str
    """Full name, ``package.Service/Method``."""
    address: str
    data: object
    """A JSON request, or a list of them (ghz sends them round robin)."""
    protoset: Path
    metadata: dict[str, str] | list[dict[str, str]] | None = None
    """Metadata of every call (the caller's token or claims), or a list used round robin like ``data``:
    call N gets entry ``N mod len``, as a ``data`` list of the same length or ``{{mod .RequestNumber len}}``."""
    expected_codes: tuple[str, ...] = ("OK",)
    """Status codes that count as success (the no-op fallback expects InvalidArgument)."""


def _metadata_args(metadata: dict[str, str] | list[dict[str, str]] | None) -> tuple[list[str], dict[str, str]]:
    """ghz arguments and extra environment for ``metadata``.

    ghz v0.120.0 takes one metadata object only (an array is refused), but renders it as
    a template for every call with the call's ``.RequestNumber`` (the number that also
    picks the ``data`` entry and fills the ``data`` template) and sprig's ``env``. So a
    list becomes one object whose values read ``BENCH_MD_<key>_<N mod len>`` from the
    environment: a template of a few bytes instead of every token parsed on every call."""
    if not metadata:
        return [], {}
    if isinstance(metadata, dict):
        return ["-m", json.dumps(metadata)], {}
    keys = sorted(metadata[0])
    n = len(metadata)
    template = {key: f"{{{{env (printf `BENCH_MD_{k}_%d` (mod .RequestNumber {n}))}}}}" for k, key in enumerate(keys)}
    env = {f"BENCH_MD_{k}_{i}": entry[key] for i, entry in enumerate(metadata) for k, key in enumerate(keys)}
    return ["-m", json.dumps(template)], env


def _percentiles(report: dict[str, object], expected: tuple[str, ...]) -> dict[int, float]:
    """p50/p90/p99 (ms) of the successful calls, from ghz's per-call details.

    ghz's own latencyDistribution leaves out every call with a non-OK status,
    so it is empty for the no-op fallback (INVALID_ARGUMENT by design)."""
    details = report.get("details") or []
    lat = sorted(d["latency"] / 1e6 for d in details if d.get("status", "OK") in expected)  # type: ignore[union-attr]
    if not lat:
        return {int(p["percentage"]): p["latency"] / 1e6 for p in report.get("latencyDistribution") or []}  # type: ignore[union-attr]
    return {q: lat[min(len(lat) - 1, int(len(lat) * q / 100))] for q in (50, 90, 99)}


def ghz(
    call: GrpcCall,
    *,
    key: str,
    label: str,
    scenario: str,
    concurrency: int,
    requests: int,
    timeout: float,
    warmup: int = 0,
    connections: int = 4,
    rps: float = 0.0,
    work_dir: Path,
) -> Measurement:
    """One ghz run: ``requests`` calls (+ ``warmup`` skipped), at most ``timeout`` seconds."""
    data_file = work_dir / f"ghz-{key}.json"
    data_file.write_text(json.dumps(call.data))
    cmd = [
        tool("ghz"),
        "--insecure",
        "--protoset",
        str(call.protoset),
        "--call",
        call.method,
        "--data-file",
        str(data_file),
        "-n",
        str(requests + warmup),
        "-c",
        str(concurrency),
        "--connections",
        str(max(1, min(connections, concurrency))),
        "--skipFirst",
        str(warmup),
        "--timeout",
        "20s",
        "--format",
        "json",
    ]
    if rps:
        cmd += ["--rps", str(int(rps))]
    md_args, md_env = _metadata_args(call.metadata)
    out, err, _ = _run([*cmd, *md_args, call.address], timeout, md_env)
    try:
        report = json.loads(out)
    except json.JSONDecodeError:
        raise RuntimeError(f"ghz gave no report for {key}: {err.strip()[:400]}") from None
    codes: dict[str, int] = report.get("statusCodeDistribution") or {}
    cancelled = sum(
        n for text, n in (report.get("errorDistribution") or {}).items() if any(c in text for c in _CANCELLED)
    )
    total = sum(codes.values()) - cancelled
    good = sum(n for code, n in codes.items() if code in call.expected_codes)
    pct = _percentiles(report, call.expected_codes)
    return Measurement(
        scenario=scenario,
        key=key,
        label=label,
        tool="ghz",
        concurrency=concurrency,
        target_rps=rps,
        rps=float(report.get("rps", 0.0)),
        count=max(total, 0),
        errors=max(total - good, 0),
        p50_ms=pct.get(50, 0.0),
        p90_ms=pct.get(90, 0.0),
        p99_ms=pct.get(99, 0.0),
        max_ms=report.get("slowest", 0) / 1e6,
        extra={"codes": codes, "end": report.get("endReason", ""), "cancelled_at_end": cancelled},
    )


def wrk(
    base_url: str,
    paths: list[str],
    *,
    key: str,
    label: str,
    scenario: str,
    connections: int,
    seconds: float,
    max_requests: int,
    headers: dict[str, str] | None = None,
    work_dir: Path,
) -> Measurement:
    """Closed-loop REST load: ``connections`` keep-alive connections over ``paths``."""
    threads = 2 if connections >= 2 else 1
    paths_file = work_dir / f"wrk-{key}.paths"
    paths_file.write_text("\n".join(paths) + "\n")
    cmd = [
        tool("wrk"),
        "-t",
        str(threads),
        "-c",
        str(connections),
        "-d",
        f"{max(1, round(seconds))}s",
        "--timeout",
        "10s",
    ]
    for name, value in (headers or {}).items():
        cmd += ["-H", f"{name}: {value}"]
    cmd += ["-s", str(LUA), base_url, "--", str(paths_file), str(math.ceil(max_requests / threads))]
    out, err, _ = _run(cmd, seconds + 30)
    line = next((ln for ln in out.splitlines() if ln.startswith("BENCH_JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no report for {key}: {(out + err).strip()[:400]}")
    r = json.loads(line.removeprefix("BENCH_JSON "))
    errors = r["connect"] + r["read"] + r["write"] + r["status"] + r["timeout"]
    seconds_run = r["duration_us"] / 1e6 or 1.0
    return Measurement(
        scenario=scenario,
        key=key,
        label=label,
        tool="wrk",
        concurrency=connections,
        rps=r["requests"] / seconds_run,
        count=r["requests"],
        errors=errors,
        p50_ms=r["p50_us"] / 1000,
        p90_ms=r["p90_us"] / 1000,
        p99_ms=r["p99_us"] / 1000,
        max_ms=r["max_us"] / 1000,
        extra={"bytes_per_response": r["bytes"] / max(r["requests"], 1), "status_errors": r["status"]},
    )


_HEY_PCT = re.compile(r"^\s*(\d+)%+ in ([\d.]+) secs", re.M)
_HEY_STATUS = re.compile(r"^\s*\[(\d+)\]\s+(\d+) responses", re.M)
_HEY_ERRORS = re.compile(r"^\s*\[(\d+)\]\s+(?!.*responses)", re.M)


def hey(
    url: str,
    *,
    key: str,
    label: str,
    scenario: str,
    connections: int,
    rate: float,
    seconds: float,
    headers: dict[str, str] | None = None,
) -> Measurement:
    """Fixed-rate REST load: ``rate`` requests/s in total over ``connections`` workers for ``seconds``."""
    per_worker = max(1, round(rate / connections))
    total = max(connections, int(per_worker * connections * seconds))
    cmd = [tool("hey"), "-n", str(total), "-c", str(connections), "-q", str(per_worker), "-t", "10"]
    for name, value in (headers or {}).items():
        cmd += ["-H", f"{name}: {value}"]
    out, err, _ = _run([*cmd, url], seconds * 2 + 30)
    pct = {int(p): float(s) * 1000 for p, s in _HEY_PCT.findall(out)}
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not pct or not rps:
        raise RuntimeError(f"hey gave no report for {key}: {(out + err).strip()[:400]}")
    statuses = {int(code): int(n) for code, n in _HEY_STATUS.findall(out)}
    failed = (
        sum(int(m.group(1)) for m in _HEY_ERRORS.finditer(out.split("Error distribution:")[-1]))
        if ("Error distribution:" in out)
        else 0
    )
    ok = sum(n for code, n in statuses.items() if 200 <= code < 300)
    count = sum(statuses.values()) + failed
    slowest = re.search(r"Slowest:\s+([\d.]+)", out)
    return Measurement(
        scenario=scenario,
        key=key,
        label=label,
        tool="hey",
        concurrency=connections,
        target_rps=per_worker * connections,
        rps=float(rps.group(1)),
        count=count,
        errors=count - ok,
        p50_ms=pct.get(50, 0.0),
        p90_ms=pct.get(90, 0.0),
        p99_ms=pct.get(99, 0.0),
        max_ms=float(slowest.group(1)) * 1000 if slowest else 0.0,
    )
