"""gRPC load with ghz: every read RPC and CreateFir, direct to the fir service and through
Envoy (gRPC passthrough), at each concurrency level, plus a fixed-rate run at half of
the maximum measured at concurrency 50.

The mesh's own ceiling is a trivial RPC through Envoy: ``grpc.health.v1.Health/Check``
when Envoy routes it; otherwise the cheapest routed RPC, ``GetFir`` with an empty id
(answered INVALID_ARGUMENT by the servicer with no I/O; counted as success here).

Reads are made as an auditor (reads every station); CreateFir as the station house
officer of each FIR's station. Every call carries the caller: a token through Envoy
(verified by its jwt_authn filter; health checks need none and Envoy ignores it), the
claims header straight to the service.
"""

from __future__ import annotations

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from bench import loadgen
from bench.loadgen import GrpcCall
from bench.results import Measurement
from bench.scenarios import Context
from bench.target import WRITER

FIR = "afirgen.fir.v1.FirService"
HEALTH = "grpc.health.v1.Health/Check"
WRITE_STATIONS = 50


def envoy_routes_health(address: str) -> bool:
    """True when Envoy passes ``grpc.health.v1.Health/Check`` to a service."""
    try:
        with grpc.insecure_channel(address) as channel:
            reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=2)
            return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)
    except grpc.RpcError:
        return False


def _address(ctx: Context, path: str) -> str:
    return ctx.target.envoy if path == "envoy" else ctx.target.fir


def _noop(ctx: Context, path: str) -> GrpcCall:
    address = _address(ctx, path)
    reader = ctx.target.metadata(address)
    if path == "direct" or envoy_routes_health(address):
        return GrpcCall(HEALTH, address, {}, ctx.protoset, reader)
    ctx.note(
        "Envoy has no route for grpc.health.v1.Health/Check, so the no-op ceiling through Envoy is GetFir with an"
        " empty id (INVALID_ARGUMENT from the servicer, no I/O, one INFO log line). Proposed route for"
        ' edge/envoy.yaml.tmpl: `- match: {prefix: "/grpc.health.v1.Health/"}  route: {cluster: fir, timeout: 2s}`.'
    )
    return GrpcCall(
        f"{FIR}/GetFir", address, {"id": ""}, ctx.protoset, reader, expected_codes=("OK", "InvalidArgument")
    )


def read_calls(ctx: Context, path: str) -> dict[str, GrpcCall]:
    """The read RPCs with their requests (rotating over the hot set and ten stations), as an auditor."""
    address = _address(ctx, path)
    reader = ctx.target.metadata(address)
    stations = [f"BN-{i:03d}" for i in range(1, 11)]
    hot = ctx.hot.drafts + ctx.hot.finalized
    lists = [{"filter": f'station = "{s}"', "page_size": 20} for s in stations]
    stats = [{"filter": f'station = "{s}"', "days": 30} for s in stations]
    return {
        "noop": _noop(ctx, path),
        "GetFir": GrpcCall(f"{FIR}/GetFir", address, [{"id": i} for i in hot], ctx.protoset, reader),
        "ListFirs": GrpcCall(f"{FIR}/ListFirs", address, lists, ctx.protoset, reader),
        "GetFirStats": GrpcCall(f"{FIR}/GetFirStats", address, stats, ctx.protoset, reader),
    }


def create_call(ctx: Context, path: str) -> GrpcCall:
    """CreateFir spread over 50 stations (numbering locks one counter row per station), each call
    made by the station house officer of its FIR's station: metadata entry N goes with station
    ``BW-N`` (ghz picks both by the call's request number mod 50)."""
    address = _address(ctx, path)
    officers = [ctx.target.metadata(address, WRITER, f"BW-{i}") for i in range(WRITE_STATIONS)]
    fir = {
        "station": {
            "code": f"BW-{{{{mod .RequestNumber {WRITE_STATIONS}}}}}",
            "name": "Bench Writes",
            "district": "Bench",
        },
        "complainant": {"name": "Bench Complainant", "phone": "+91 98100 12345"},
        "summary": "Bench write",
        "narrative": "Created by the benchmark harness.",
        "legal_sections": [{"act": "BNS", "section": "303", "title": "Theft"}],
    }
    return GrpcCall(f"{FIR}/CreateFir", address, {"fir": fir}, ctx.protoset, officers)


def level(ctx: Context, call: GrpcCall, key: str, label: str, concurrency: int, scenario: str) -> Measurement:
    """A closed-loop run of the profile's size at ``concurrency``."""
    p = ctx.profile
    requests = p.grpc_requests if concurrency > 1 else max(100, p.grpc_requests // 3)
    m = loadgen.ghz(
        call,
        key=key,
        label=label,
        scenario=scenario,
        concurrency=concurrency,
        requests=max(requests, concurrency * 5),
        warmup=p.warmup_requests,
        connections=p.connections,
        timeout=p.run_timeout_s,
        work_dir=ctx.work_dir,
    )
    ctx.log(f"  {label}: {m.rps:.0f} rps, p50 {m.p50_ms:.1f} ms, p99 {m.p99_ms:.1f} ms, errors {m.errors}/{m.count}")
    return ctx.results.add(m)


def fixed_rate(ctx: Context, call: GrpcCall, key: str, label: str, rate: float, scenario: str) -> Measurement:
    """``rate`` requests/s at concurrency 50 for the profile's fixed-rate time."""
    requests = max(50, int(rate * ctx.profile.fixed_rate_s))
    m = loadgen.ghz(
        call,
        key=key,
        label=label,
        scenario=scenario,
        concurrency=50,
        requests=requests,
        warmup=0,
        connections=ctx.profile.connections,
        rps=rate,
        timeout=ctx.profile.fixed_rate_s * 3 + 10,
        work_dir=ctx.work_dir,
    )
    ctx.log(f"  {label}: {m.rps:.0f}/{rate:.0f} rps, p50 {m.p50_ms:.1f} ms, p99 {m.p99_ms:.1f} ms")
    return ctx.results.add(m)


def _matrix(ctx: Context, calls: dict[str, dict[str, GrpcCall]], scenario: str) -> None:
    for path, by_method in calls.items():
        for method, call in by_method.items():
            for c in ctx.profile.concurrency:
                level(ctx, call, f"grpc.{path}.{method}.c{c}", f"{method} {path} c={c}", c, scenario)
            top = ctx.results.find(f"grpc.{path}.{method}.c50")
            if top and top.rps and ctx.profile.fixed_rate_s:
                half = max(10.0, top.rps / 2)
                fixed_rate(ctx, call, f"grpc.{path}.{method}.half", f"{method} {path} @{half:.0f} rps", half, scenario)


def run_reads(ctx: Context) -> None:
    """Read RPCs and the no-op at every level, direct and through Envoy."""
    methods = [m for m in ctx.profile.grpc_methods if m != "CreateFir"]
    calls = {path: {m: read_calls(ctx, path)[m] for m in methods} for path in ctx.profile.grpc_paths}
    _matrix(ctx, calls, "grpc")
    r, f = ctx.results, ctx.results.figures
    for c in ctx.profile.concurrency:
        noop, get = r.find(f"grpc.envoy.noop.c{c}"), r.find(f"grpc.envoy.GetFir.c{c}")
        if noop and get and noop.rps:
            f[f"grpc.envoy.GetFir_over_noop.c{c}"] = get.rps / noop.rps
        direct = r.find(f"grpc.direct.GetFir.c{c}")
        if direct and get and direct.rps:
            f[f"grpc.envoy_over_direct.GetFir.c{c}"] = get.rps / direct.rps


def run_writes(ctx: Context) -> None:
    """CreateFir at every level (last: writes invalidate caches and queue background jobs)."""
    calls = {path: {"CreateFir": create_call(ctx, path)} for path in ctx.profile.grpc_paths}
    _matrix(ctx, calls, "grpc_writes")
