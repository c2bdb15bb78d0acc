"""REST load through Envoy's transcoder with wrk: GetFir, ListFirs and stats,
with and without gzip (Envoy compresses answers over 1 KB when asked), with an
auditor's access token on every request."""

from __future__ import annotations

from urllib.parse import quote

from bench import loadgen
from bench.scenarios import Context


def _station(code: str) -> str:
    return quote(f'station = "{code}"')


def rest_paths(ctx: Context) -> dict[str, list[str]]:
    """Endpoint -> the paths wrk rotates over (all served from cache once warm)."""
    stations = [f"BN-{i:03d}" for i in range(1, 11)]
    return {
        "GetFir": [f"/v1/firs/{i}" for i in ctx.hot.drafts + ctx.hot.finalized],
        "ListFirs": [f"/v1/firs?page_size=20&filter={_station(s)}" for s in stations],
        "stats": [f"/v1/firs:stats?days=30&filter={_station(s)}" for s in stations],
    }


def run(ctx: Context) -> None:
    """Every endpoint x {identity, gzip} x the profile's connection counts."""
    p = ctx.profile
    reader = ctx.target.headers()
    for endpoint, paths in rest_paths(ctx).items():
        for encoding in ("identity", "gzip"):
            for conns in p.rest_concurrency:
                key = f"rest.{endpoint}.{encoding}.c{conns}"
                m = loadgen.wrk(
                    ctx.target.base_url,
                    paths,
                    key=key,
                    label=f"{endpoint} REST {encoding} c={conns}",
                    scenario="rest",
                    connections=conns,
                    seconds=p.rest_seconds,
                    max_requests=p.rest_max_requests,
                    headers=reader | {"Accept-Encoding": encoding},
                    work_dir=ctx.work_dir,
                )
                ctx.results.add(m)
                ctx.log(
                    f"  {m.label}: {m.rps:.0f} rps, p99 {m.p99_ms:.1f} ms, "
                    f"{m.extra['bytes_per_response']:.0f} B/response, errors {m.errors}"
                )
        c = p.rest_concurrency[-1]
        plain, gz = ctx.results.find(f"rest.{endpoint}.identity.c{c}"), ctx.results.find(f"rest.{endpoint}.gzip.c{c}")
        if plain and gz and plain.rps:
            ctx.results.figures[f"rest.{endpoint}.gzip_over_identity_rps"] = gz.rps / plain.rps
            ctx.results.figures[f"rest.{endpoint}.gzip_bytes_ratio"] = gz.extra["bytes_per_response"] / max(
                plain.extra["bytes_per_response"], 1
            )
