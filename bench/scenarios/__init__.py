"""Scenarios: each is ``run(ctx)``; it records measurements and figures in ``ctx.results``
or raises :class:`Skip` with the reason it cannot run on this mesh yet."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from bench import processes
from bench.profiles import Profile
from bench.results import Results
from bench.seed import HotSet
from bench.target import Target


class Skip(Exception):
    """The scenario cannot run here (a service or model server it needs is not running); the message says why."""


@dataclass
class Context:
    """What every scenario gets."""

    target: Target
    profile: Profile
    results: Results
    work_dir: Path
    """Scratch files of the load generators."""
    protoset: Path
    hot: HotSet
    miss_ids: list[str] = field(default_factory=list)
    """Seeded DRAFT ids that no scenario read yet (cache misses), consumed as used."""
    log: Callable[[str], None] = print

    def note(self, text: str) -> None:
        """Add a note to the report once."""
        if text not in self.results.notes:
            self.results.notes.append(text)

    def fir_samples(self, name: str) -> Iterator[Sample]:
        """The samples ``name`` of every fir replica's ``/metrics`` (none of a replica that does not answer)."""
        for port in self.target.cfg.fir_metrics_ports:
            try:
                text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
            except httpx.HTTPError:
                continue
            for family in text_string_to_metric_families(text):
                yield from (sample for sample in family.samples if sample.name == name)

    @contextlib.contextmanager
    def cores_used(self, key: str) -> Iterator[None]:
        """Figures ``<key>.<program>``: the cores each program of the stack used while the block
        ran, a program's descendants apart (``services:fir/children``); the busiest are logged."""
        before, started = processes.program_cpu(self.target), time.monotonic()
        yield
        used = processes.cores_between(before, processes.program_cpu(self.target), time.monotonic() - started)
        for program, cores in used.items():
            self.results.figures[f"{key}.{program}"] = round(cores, 3)
        busiest = sorted(used.items(), key=lambda item: -item[1])[:6]
        self.log(f"  cores used ({key}): " + ", ".join(f"{p.split(':')[-1]} {c:.2f}" for p, c in busiest))

    def take_miss_ids(self, count: int) -> list[str]:
        """``count`` never-read ids (each id is handed out once)."""
        taken, self.miss_ids = self.miss_ids[:count], self.miss_ids[count:]
        if len(taken) < count:
            raise Skip(f"only {len(taken)} unread FIR ids left, {count} needed")
        return taken


def registry() -> dict[str, Callable[[Context], None]]:
    """Scenario name -> its ``run``."""
    from bench.scenarios import (
        backlog,
        cache,
        cache_outage,
        codec,
        cores,
        database,
        fastapi_compare,
        flame,
        generation,
        grpc_load,
        inference,
        jobs,
        limit,
        memory,
        rest,
    )

    return {
        "database": database.run,
        "codec": codec.run,
        "cache": cache.run,
        "grpc": grpc_load.run_reads,
        "rest": rest.run,
        "fastapi": fastapi_compare.run,
        "memory": memory.run,
        "limit": limit.run,
        "cores": cores.run,
        "cache_outage": cache_outage.run,
        "inference": inference.run,
        "jobs": jobs.run,
        "grpc_writes": grpc_load.run_writes,
        "generation": generation.run,
        "backlog": backlog.run,
        "flame": flame.run,
    }
