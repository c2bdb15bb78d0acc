"""What a dead cache costs a read: GetFir of never-read FIRs through Envoy, one at a time,
first with the cache up (every read a miss), then with Redis stopped once every fir replica's
cache circuit is open. An open circuit skips the cache, so the second should cost what the
first does (``tests/e2e/cache`` checks that the cache is not asked; this measures the cost).

It stops and starts Redis, so it needs the bench's own stack: attached to ``make up``'s it
skips (and its gates fail): leave it out there with ``--skip cache_outage``.
"""

from __future__ import annotations

import time

import httpx
from prometheus_client.parser import text_string_to_metric_families

from bench.loadgen import GrpcCall
from bench.scenarios import Context, Skip
from bench.scenarios.cache import FIR, one_by_one

REDIS = "infra:redis"


def circuits_open(ctx: Context) -> bool:
    """Every fir replica's cache circuit is open (their metrics say so)."""
    opened = 0
    for port in ctx.target.cfg.fir_metrics_ports:
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == "afirgen_cache_client_circuit_open" and sample.value == 1:
                    opened += 1
    return opened == len(ctx.target.cfg.fir_metrics_ports)


def _open_the_circuits(ctx: Context, fir_ids: list[str], within: float) -> None:
    """Read until the failures have opened every replica's circuit (RuntimeError after ``within``
    seconds). The edge sends a FIR's REST reads to the replica its id hashes to: reading each of
    ``fir_ids`` in turn reaches every replica."""
    deadline = time.monotonic() + within
    turn = 0
    while not circuits_open(ctx):
        if time.monotonic() > deadline:
            raise RuntimeError(f"the fir replicas' cache circuits did not open within {within:.0f}s")
        fir_id = fir_ids[turn % len(fir_ids)]
        turn += 1
        httpx.get(f"{ctx.target.base_url}/v1/firs/{fir_id}", headers=ctx.target.headers(), timeout=10)
        time.sleep(0.05)  # pacing: one read at a time until the breakers have seen enough failures


def run(ctx: Context) -> None:
    """GetFir misses with the cache up, then with Redis down; their p50 ratio."""
    target = ctx.target
    if not target.owned:
        raise Skip("stops Redis: needs the bench's own stack (run with --skip cache_outage when attached)")
    k = ctx.profile.cache_samples
    reader = target.metadata(target.envoy)

    def reads(ids: list[str]) -> GrpcCall:
        return GrpcCall(f"{FIR}/GetFir", target.envoy, [{"id": i} for i in ids], ctx.protoset, reader)

    label = "GetFir, cache up (miss)"
    miss = one_by_one(ctx, reads(ctx.take_miss_ids(k)), "cache_outage.GetFir.miss", label, "cache_outage")
    target.stack.ctl("stop", REDIS)
    try:
        _open_the_circuits(ctx, ctx.hot.drafts, ctx.profile.run_timeout_s)
        label = "GetFir, Redis down (circuit open)"
        down = one_by_one(ctx, reads(ctx.take_miss_ids(k)), "cache_outage.GetFir.down", label, "cache_outage")
    finally:
        target.stack.ctl("start", REDIS)
    ctx.results.figures["cache_outage.down_over_miss"] = down.p50_ms / max(miss.p50_ms, 1e-3)
