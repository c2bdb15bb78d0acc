"""PNG charts of a run (matplotlib, no display needed)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from bench.results import Results


def _saved(fig: Figure, path: Path) -> list[Path]:
    """Write ``fig`` to ``path`` as a PNG and free it."""
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return [path]


def _levels(results: Results, path: str, method: str) -> list[tuple[int, float, float, float]]:
    rows = []
    for m in results.measurements:
        if m.key.startswith(f"grpc.{path}.{method}.c") and m.scenario in ("grpc", "grpc_writes"):
            rows.append((m.concurrency, m.p50_ms, m.p99_ms, m.rps))
    return sorted(rows)


def latency_and_throughput(results: Results, out: Path) -> list[Path]:
    """p50/p99 and throughput by concurrency, per method, direct and through Envoy."""
    methods = sorted({m.key.split(".")[2] for m in results.measurements if m.key.startswith("grpc.")})
    if not methods:
        return []
    fig_lat, axes = plt.subplots(1, 2, figsize=(12, 4.5), sharey=True)
    fig_rps, ax_rps = plt.subplots(figsize=(7, 4.5))
    for ax, path in zip(axes, ("direct", "envoy"), strict=True):
        for method in methods:
            rows = _levels(results, path, method)
            if not rows:
                continue
            levels = [r[0] for r in rows]
            line = ax.plot(levels, [r[1] for r in rows], marker="o", label=f"{method} p50")[0]
            ax.plot(
                levels, [r[2] for r in rows], marker="x", linestyle="--", color=line.get_color(), label=f"{method} p99"
            )
            ax_rps.plot(
                levels,
                [r[3] for r in rows],
                marker="o",
                label=f"{method} {path}",
                linestyle="-" if path == "envoy" else ":",
            )
        ax.set(title=f"gRPC {path}", xlabel="concurrency", ylabel="latency (ms)", xscale="log", yscale="log")
        ax.grid(True, which="both", alpha=0.3)
    axes[1].legend(fontsize=7, ncol=2)
    ax_rps.set(title="gRPC throughput by concurrency", xlabel="concurrency", ylabel="requests/s", xscale="log")
    ax_rps.grid(True, alpha=0.3)
    ax_rps.legend(fontsize=7)
    return _saved(fig_lat, out / "latency_by_level.png") + _saved(fig_rps, out / "throughput.png")


def hit_vs_miss(results: Results, out: Path) -> list[Path]:
    """p50 of each read with a cold (miss) and a warm (hit) cache."""
    names = [
        m.key.split(".")[1] for m in results.measurements if m.key.startswith("cache.") and m.key.endswith(".miss")
    ]
    pairs = [(n, results.find(f"cache.{n}.miss"), results.find(f"cache.{n}.hit")) for n in names]
    pairs = [(n, a, b) for n, a, b in pairs if a and b]
    if not pairs:
        return []
    fig, ax = plt.subplots(figsize=(8, 4.5))
    xs = range(len(pairs))
    ax.bar([x - 0.2 for x in xs], [a.p50_ms for _, a, _ in pairs], width=0.4, label="miss (cold)")
    ax.bar([x + 0.2 for x in xs], [b.p50_ms for _, _, b in pairs], width=0.4, label="hit (warm)")
    ax.set_xticks(list(xs), [n for n, _, _ in pairs], fontsize=8)
    ax.set(title="Cache: p50 latency, miss vs hit", ylabel="ms", yscale="log")
    ax.legend()
    return _saved(fig, out / "cache_hit_vs_miss.png")


def pagination(results: Results, out: Path) -> list[Path]:
    """Keyset vs OFFSET p50 by page number."""
    pages = sorted(int(m.key.rsplit(".p", 1)[1]) for m in results.measurements if m.key.startswith("db.page.keyset.p"))
    if not pages:
        return []
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for kind in ("offset", "keyset"):
        values = [results.find(f"db.page.{kind}.p{p}") for p in pages]
        ax.plot(
            pages,
            [v.p50_ms if v else 0 for v in values],
            marker="o",
            label=kind.upper() if kind == "offset" else "keyset",
        )
    ax.set(title="Pagination: page latency (p50)", xlabel="page (50 rows)", ylabel="ms", xscale="log", yscale="log")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    return _saved(fig, out / "pagination.png")


def comparison(results: Results, out: Path) -> list[Path]:
    """REST throughput: mesh vs FastAPI, and every REST endpoint with and without gzip."""
    names = {
        "mesh": "mesh: GetFir REST, finalized (c=50)",
        "mesh_drafts": "mesh: GetFir REST, drafts (c=50)",
        "fastapi": "FastAPI baseline (c=50)",
    }
    rows = [
        (names.get(k.removeprefix("fastapi.max_rps."), k), v)
        for k, v in results.figures.items()
        if k.startswith("fastapi.max_rps.")
    ]
    rows += [(m.label, m.rps) for m in results.measurements if m.scenario == "rest"]
    if not rows:
        return []
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(rows) + 1.5))
    ax.barh([r[0] for r in rows], [r[1] for r in rows])
    ax.set(title="REST throughput (requests/s)", xlabel="requests/s")
    ax.tick_params(axis="y", labelsize=7)
    return _saved(fig, out / "rest_throughput.png")


def draw_all(results: Results, out: Path) -> list[Path]:
    """Every chart that has data."""
    made: list[Path] = []
    for chart in (latency_and_throughput, comparison, hit_vs_miss, pagination):
        made += chart(results, out)
    return made
