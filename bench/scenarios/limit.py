"""Limit search: GetFir through Envoy (gRPC) at fixed rates stepped up until the p99
SLA or the error budget breaks, or the mesh no longer keeps up with the rate.
Reports the highest rate that passed (``limit.max_rps``)."""

from __future__ import annotations

from bench.scenarios import Context
from bench.scenarios.grpc_load import fixed_rate, read_calls

P99_MS = 50.0
"""Default p99 bound of a step; ``[limit] p99_ms`` in sla.toml overrides it."""
ERROR_BUDGET = 0.001
KEEP_UP = 0.9
"""A step fails when the achieved rate is below this share of the asked rate."""


def run(ctx: Context, p99_ms: float = P99_MS, error_budget: float = ERROR_BUDGET) -> None:
    """Step through the profile's rates; stop at the first broken step."""
    limits = ctx.results.environment.get("limit_sla", {})
    p99_ms = float(limits.get("p99_ms", p99_ms))
    error_budget = float(limits.get("error_rate", error_budget))
    call = read_calls(ctx, "envoy")["GetFir"]
    passed, broken_by = 0.0, "not broken up to the last step"
    for rate in ctx.profile.limit_steps:
        m = fixed_rate(ctx, call, f"limit.r{rate}", f"limit GetFir envoy @{rate} rps", rate, "limit")
        reasons = []
        if m.p99_ms > p99_ms:
            reasons.append(f"p99 {m.p99_ms:.1f} ms > {p99_ms:.0f} ms")
        if m.error_rate > error_budget:
            reasons.append(f"error rate {m.error_rate:.4f} > {error_budget}")
        if m.rps < KEEP_UP * rate:
            reasons.append(f"achieved {m.rps:.0f} < {KEEP_UP:.0%} of {rate}")
        if reasons:
            broken_by = f"{rate} rps: " + "; ".join(reasons)
            break
        passed = float(rate)
    ctx.results.figures["limit.max_rps"] = passed
    ctx.results.notes.append(f"limit search (GetFir via Envoy, c=50): max {passed:.0f} rps; broken at {broken_by}")
    ctx.log(f"  limit: {passed:.0f} rps ({broken_by})")
