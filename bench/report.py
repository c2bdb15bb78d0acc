"""The Markdown report of a run: headline, gates, baseline ratios, every measurement, charts."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from bench.gates import GateResult
from bench.results import Measurement, Results

# (metric, what it is, issue 7 target or "")
HEADLINE: list[tuple[str, str, str]] = [
    ("fastapi.ratio", "GetFir via Envoy REST (finalized, cached) / FastAPI cache-aside, rps at 50 conns", ">= 1.0"),
    ("fastapi.ratio_drafts", "same, DRAFT FIRs / the baseline reading the same drafts", ">= 1.0"),
    ("fastapi.ratio_list_station", "ListFirs first page of a station (20, cached) / baseline keyset page", ">= 1.0"),
    ("fastapi.ratio_list_all", "ListFirs first page of every FIR (20, cached) / baseline keyset page", ">= 1.0"),
    ("fastapi.cpu_ratio", "CPU per read of the serving processes, mesh / baseline (GetFir, finalized)", ""),
    ("fastapi.cpu_us_per_read.mesh", "of the mesh, us per GetFir: Envoy, fir, cache, Redis, MariaDB", ""),
    ("fastapi.cpu_us_per_read.mesh.envoy", "of which Envoy (us per GetFir)", ""),
    ("fastapi.cpu_us_per_read.mesh.fir", "of which fir, replicas together (us per GetFir)", ""),
    ("fastapi.cpu_us_per_read.fastapi", "of the baseline, us per read: its process, Redis, MariaDB", ""),
    ("fastapi.cpu_ratio_list_station", "CPU per read, mesh / baseline (a station's first page)", ""),
    ("fastapi.max_rps.mesh", "GetFir via Envoy REST, finalized, max rps (median round)", ""),
    ("fastapi.max_rps.fastapi", "FastAPI baseline, max rps (median round)", ""),
    ("fastapi.p99_at_half_ms.mesh", "GetFir via Envoy REST p99 at half of its max rate (ms)", "< 10"),
    ("fastapi.p99_at_half_ms.fastapi", "FastAPI p99 at half of its max rate (ms)", ""),
    ("fastapi.p99_over_baseline_at_mesh_half", "GetFir p99 at half the mesh's max rate / FastAPI's", "<= 2"),
    ("grpc.envoy.GetFir_over_noop.c50", "GetFir / no-op through Envoy (gRPC), rps at c=50", ""),
    ("grpc.envoy_over_direct.GetFir.c50", "GetFir through Envoy / direct, rps at c=50", ""),
    ("grpc.envoy.GetFir.c50.p99_ms", "GetFir via Envoy (gRPC) p99 at c=50 (ms)", ""),
    ("grpc.envoy.GetFir.half.p99_ms", "GetFir via Envoy (gRPC) p99 at half of max rate (ms)", ""),
    ("codec.hit_path_over_raw", "cache hit CPU: the bytes hit path of one FIR / raw protobuf parse+serialize", ""),
    ("codec.decode_map_over_raw", "CPU of decode+map of one FIR (the hit path before bytes) / raw", ""),
    ("limit.max_rps", "limit search: highest GetFir rate within the p99 SLA and error budget", ""),
    ("db.rows", "rows in firs", ""),
    ("db.page.deepest", "deepest page timed (50 rows a page)", ""),
    ("db.page.offset_over_keyset.p1000", "OFFSET / keyset at page 1,000 (p50)", ">= 50"),
    ("db.page.keyset_over_page1.p1000", "keyset page 1,000 / keyset page 1 (p50)", "<= 1.0"),
    ("db.page.offset_over_keyset.deepest", "OFFSET / keyset at the deepest page timed", ""),
    ("db.page.keyset_deepest_over_page1", "keyset deepest page / keyset page 1", ""),
    ("cache.ListFirs.speedup", "ListFirs miss / hit p50 (station filter)", ">= 10"),
    ("cache.GetFirStats.speedup", "GetFirStats miss / hit p50 (station filter)", ">= 10"),
    ("cache.GetFirStats_all.speedup", "GetFirStats miss / hit p50 (whole table)", ">= 10"),
    ("cache.GetFir.hit_over_miss", "GetFir hit / miss p50", "<= 1.0"),
    ("cache.workload.hit_ratio", "hit ratio of the read-heavy workload", ">= 0.90"),
    ("generation.completed", "concurrent generations completed", ">= 150"),
    ("generation.read_p99_over_idle", "GetFir p99 during generation / idle", "<= 2.0"),
    ("generation.overhead_p99_ms", "backend overhead of a generation p99 (ms)", "< 25"),
    ("generation.drafting_p99_ms", "of that overhead, fir's drafting around the model calls p99 (ms)", ""),
    ("generation.storing_p99_ms", "of that overhead, storing the FIR, fir's gRPC server and Envoy p99 (ms)", ""),
    ("generation.queue_p99_ms", "queue wait of a generation for model slots p99 (ms)", ""),
]


def _num(value: float | None) -> str:
    if value is None:
        return "—"
    if value == 0:
        return "0"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def _table(header: Sequence[str], align: str, rows: Iterable[Sequence[object]]) -> list[str]:
    """A Markdown table; ``align`` holds ``l`` (text) or ``r`` (a number) for each column."""

    def line(cells: Sequence[object]) -> str:
        return "| " + " | ".join(str(c) for c in cells) + " |"

    rule = "|" + "|".join("---:" if a == "r" else "---" for a in align) + "|"
    return [line(header), rule, *(line(row) for row in rows)]


def _measurement_rows(ms: list[Measurement]) -> list[str]:
    return _table(
        ("run", "tool", "conc.", "asked rps", "rps", "p50 ms", "p90 ms", "p99 ms", "max ms", "errors"),
        "llrrrrrrrr",
        [
            (
                *(m.label, m.tool, m.concurrency or "", _num(m.target_rps) if m.target_rps else ""),
                *(_num(m.rps) if m.rps else "", _num(m.p50_ms), _num(m.p90_ms), _num(m.p99_ms), _num(m.max_ms)),
                f"{m.errors}/{m.count}",
            )
            for m in ms
        ],
    )


def _database_rows(ms: list[Measurement]) -> list[str]:
    return _table(
        ("statement", "samples", "server p50 ms", "server p90 ms", "server max ms", "client p50 ms"),
        "lrrrrr",
        [
            (m.label, m.count, _num(m.p50_ms), _num(m.p90_ms), _num(m.max_ms), _num(m.extra.get("client_p50_ms")))
            for m in ms
        ],
    )


def headline_table(results: Results, gates: list[GateResult], baseline: dict[str, float]) -> list[str]:
    """Headline metrics with their target, verdict and ratio to the baseline."""
    metrics = results.metrics()
    verdicts = {g.metric: g for g in gates}
    rows = []
    for name, what, target in HEADLINE:
        value = metrics.get(name)
        gate = verdicts.get(name)
        verdict = f"{gate.status} {gate.bound}" + (f" (off by {gate.by})" if gate.by else "") if gate else ""
        base = baseline.get(name)
        ratio = _num(value / base) if value is not None and base else "—"
        rows.append((f"{what} (`{name}`)", _num(value), target, verdict, _num(base), ratio))
    return _table(("figure", "value", "issue-7 target", "gate", "baseline", "run / baseline"), "lrllrr", rows)


def write(results: Results, gates: list[GateResult], baseline: dict[str, float], charts: list[Path], out: Path) -> Path:
    """Write ``report.md`` into ``out``."""
    env = results.environment
    failed = [g for g in gates if g.status == "FAIL"]
    lines = [
        f"# AFIRGen benchmark — profile `{results.profile}`",
        "",
        f"- started {env.get('started')}, {env.get('duration_s', 0):.0f} s; commit `{env.get('commit', '?')}`"
        f"{' (work tree has changes)' if env.get('dirty') else ''}",
        f"- machine: {env.get('cpus')} CPUs, load average {env.get('load_start')} at start,"
        f" {env.get('load_end')} at the end (shared and noisy: compare ratios from one run)",
        f"- target: {env.get('target')}",
        f"- gates: **{'FAILED' if failed or results.failed else 'passed'}** ({len(failed)} of {len(gates)} broken,"
        f" {sum(g.value is None for g in gates)} of them not measured)",
        "",
        "## Headline",
        "",
        *headline_table(results, gates, baseline),
        "",
        "## Gates (bench/sla.toml)",
        "",
        *_table(
            ("metric", "bound", "value", "verdict", "off by", "why"),
            "llrlrl",
            [(f"`{g.metric}`", g.bound, _num(g.value), g.status, g.by, g.why) for g in gates],
        ),
        "",
    ]
    if results.skipped or results.failed:
        lines += ["## Skipped and failed scenarios", ""]
        lines += [f"- **skipped** `{k}`: {v}" for k, v in results.skipped.items()]
        lines += [f"- **FAILED** `{k}`: {v}" for k, v in results.failed.items()]
        lines.append("")
    if results.notes:
        lines += ["## Notes", "", *[f"- {n}" for n in results.notes], ""]
    if charts:
        lines += ["## Charts", "", *[f"![{c.stem}]({c.name})" for c in charts], ""]
    scenarios = list(dict.fromkeys(m.scenario for m in results.measurements))
    for scenario in scenarios:
        took = results.timings.get(scenario)
        lines += [f"## {scenario}" + (f" ({took:.0f} s)" if took else ""), ""]
        rows = [m for m in results.measurements if m.scenario == scenario]
        lines += _database_rows(rows) if scenario == "database" else _measurement_rows(rows)
        lines.append("")
    figures = []
    for name, value in sorted(results.figures.items()):
        base = baseline.get(name)
        figures.append((f"`{name}`", _num(value), _num(base), _num(value / base) if base else "—"))
    lines += ["## All figures", "", *_table(("figure", "value", "baseline", "run / baseline"), "lrrr", figures)]
    path = out / "report.md"
    path.write_text("\n".join(lines) + "\n")
    return path
