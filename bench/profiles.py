"""The two profiles: ``short`` (inside ``make test``, a couple of minutes) and ``full`` (``make bench``).

Every load loop is bounded twice: by a request count and by a time limit.
"""

from __future__ import annotations

from dataclasses import dataclass

GRPC_READS = ("GetFir", "ListFirs", "GetFirStats")
READS = ("database", "codec", "cache", "grpc", "rest", "fastapi", "memory")
"""Scenarios that read, first: they see a quiet mesh."""
WRITES = ("cache_outage", "inference", "jobs", "grpc_writes", "cores")
"""Scenarios that stop parts of the stack, run background work or write, last (CreateFir at the very end)."""


@dataclass(frozen=True)
class Profile:
    """Sizes and bounds of one benchmark run."""

    name: str
    scenarios: tuple[str, ...]
    """Scenarios in run order (writes last, so reads see a quiet mesh)."""
    seed_rows: int
    """FIRs inserted straight into MariaDB (the large table)."""
    hot_firs: int
    """~2 KB FIRs created through the API (half finalized): the read working set."""
    grpc_methods: tuple[str, ...]
    grpc_paths: tuple[str, ...]
    """``direct`` (the fir service's port) and/or ``envoy`` (gRPC passthrough)."""
    concurrency: tuple[int, ...]
    grpc_requests: int
    """Requests per ghz run (warm-up requests come on top)."""
    warmup_requests: int
    connections: int
    """TCP connections a load generator opens (at most the concurrency)."""
    run_timeout_s: float
    """Hard time limit of one load run."""
    fixed_rate_s: float
    """Length of a fixed-rate run (at half of the measured maximum)."""
    rest_seconds: float
    rest_concurrency: tuple[int, ...]
    rest_max_requests: int
    db_repeats: int
    deep_pages: tuple[int, ...]
    """Page numbers (page size 50) timed with keyset and OFFSET pagination."""
    cache_samples: int
    workload_requests: int
    fastapi_rounds: int
    fastapi_seconds: float
    limit_steps: tuple[int, ...]
    """Request rates tried by the limit search, in order."""
    limit_step_s: float
    generation_requests: int
    """Generations started at once (the queue, shedding, reads beside them)."""
    generation_steady: int
    """Generations run one after another first (the mesh's overhead with nothing queued)."""
    inference_calls: int
    """Calls of each model kind straight to the inference proxy (its own overhead)."""
    jobs_per_run: int
    """Jobs enqueued, then drained by the worker (the throughput run)."""
    jobs_wake_samples: int
    """Single jobs given to the idle worker (enqueue-to-start latency)."""
    backlog_jobs: int
    """Mixed FIR jobs enqueued for the ``backlog`` scenario (reads while they drain)."""
    wide_pages: int
    """Pages of 500 FIRs listed one after another by the ``memory`` scenario (an export)."""


SHORT = Profile(
    name="short",
    scenarios=READS + WRITES,
    seed_rows=20_000,
    hot_firs=20,
    grpc_methods=("noop", "GetFir", "ListFirs", "GetFirStats"),
    grpc_paths=("direct", "envoy"),
    concurrency=(1, 10, 50),
    grpc_requests=300,
    warmup_requests=30,
    connections=4,
    run_timeout_s=20,
    fixed_rate_s=2,
    rest_seconds=2,
    rest_concurrency=(10,),
    rest_max_requests=20_000,
    db_repeats=5,
    deep_pages=(1, 10, 100),
    cache_samples=15,
    workload_requests=400,
    fastapi_rounds=1,
    fastapi_seconds=3,
    limit_steps=(),
    limit_step_s=0,
    generation_requests=4,
    generation_steady=3,
    inference_calls=5,
    jobs_per_run=300,
    jobs_wake_samples=10,
    backlog_jobs=0,
    wide_pages=60,
)

FULL = Profile(
    name="full",
    scenarios=(*READS, "limit", *WRITES, "generation", "backlog"),
    seed_rows=1_000_000,
    hot_firs=100,
    grpc_methods=("noop", "GetFir", "ListFirs", "GetFirStats"),
    grpc_paths=("direct", "envoy"),
    concurrency=(1, 10, 50, 200),
    grpc_requests=3000,
    warmup_requests=200,
    connections=4,
    run_timeout_s=40,
    fixed_rate_s=8,
    rest_seconds=6,
    rest_concurrency=(10, 50),
    rest_max_requests=200_000,
    db_repeats=15,
    deep_pages=(1, 10, 100, 1000, 10_000),
    cache_samples=60,
    workload_requests=4000,
    fastapi_rounds=3,
    fastapi_seconds=6,
    limit_steps=(50, 100, 150, 200, 300, 400, 600, 800, 1000, 1500, 2000, 3000, 4000, 6000),
    limit_step_s=5,
    generation_requests=200,
    generation_steady=20,
    inference_calls=20,
    jobs_per_run=2000,
    jobs_wake_samples=40,
    backlog_jobs=1000,
    wide_pages=600,
)

PROFILES = {p.name: p for p in (SHORT, FULL)}
