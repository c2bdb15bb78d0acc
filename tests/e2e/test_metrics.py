"""Every service exposes Prometheus metrics for its concerns, named by convention,
with no unbounded label values; Envoy's own stats are on its loopback admin."""

from __future__ import annotations

import re
import urllib.request

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from scripts.devstack.stack import Stack
from tests.e2e.fir_helpers import create_fir

pytestmark = pytest.mark.e2e
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
COMMON = {"afirgen_rpc_server_requests", "afirgen_rpc_server_duration_seconds"}
# prometheus_client's process collector, which the resource alerts of ops/prometheus read.
PROCESS = {"process_cpu_seconds", "process_resident_memory_bytes", "process_open_fds", "process_max_fds"}
EXPECTED = {
    "fir": COMMON
    | {
        "afirgen_db_query_duration_seconds",
        "afirgen_db_pool_connections_in_use",
        "afirgen_db_pool_waiting_acquirers",
        "afirgen_db_pool_acquire_duration_seconds",
        "afirgen_rpc_client_requests",
        "afirgen_cache_client_events",
    },
    "inference": COMMON
    | {
        "afirgen_model_backend_up",
        "afirgen_model_circuit_state",
        "afirgen_model_in_flight_calls",
        "afirgen_model_queued_calls",
    },
    "cache": COMMON
    | {
        "afirgen_cache_hits",
        "afirgen_cache_misses",
        "afirgen_cache_hit_ratio",
        "afirgen_cache_redis_used_memory_bytes",
        "afirgen_cache_redis_evicted_keys",
    },
    "jobs": COMMON | {"afirgen_db_query_duration_seconds"},
}


def scrape(port: int) -> dict[str, list[tuple[str, dict[str, str], float]]]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
        text = resp.read().decode()
    families: dict[str, list[tuple[str, dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        families[family.name] = [(s.name, s.labels, s.value) for s in family.samples]
    return families


async def test_every_service_exposes_its_metrics(stack: Stack, rest: httpx.AsyncClient, station: str) -> None:
    fir = await create_fir(rest, station)
    await rest.get(f"/v1/firs/{fir['id']}")
    await rest.get("/v1/models")
    for service, expected in EXPECTED.items():
        families = scrape(getattr(stack.cfg, f"{service}_metrics_port"))
        ours = {name for name in families if name.startswith("afirgen_")}
        assert expected <= ours, (service, sorted(expected - ours))
        assert set(families) >= PROCESS, (service, sorted(PROCESS - set(families)))
        for name, samples in families.items():
            if not name.startswith("afirgen_"):
                continue
            for sample_name, labels, _ in samples:
                for key, value in labels.items():
                    assert not UUID.search(value), (service, sample_name, key, value)
                if families[name] and sample_name.startswith(name) and "duration" in name:
                    assert name.endswith("_seconds"), name  # base units in the name
    fir_metrics = scrape(stack.cfg.fir_metrics_port)
    methods = {labels["method"] for _, labels, _ in fir_metrics["afirgen_rpc_server_requests"]}
    assert "/afirgen.fir.v1.FirService/CreateFir" in methods
    statements = {labels["statement"] for _, labels, _ in fir_metrics["afirgen_db_query_duration_seconds"]}
    assert "fir.insert" in statements


def test_the_worker_exports_its_job_metrics(stack: Stack) -> None:
    worker = scrape(stack.cfg.jobs_worker_metrics_port)
    ours = {name for name in worker if name.startswith("afirgen_jobs_")}
    assert ours == {
        "afirgen_jobs_attempts",
        "afirgen_jobs_attempt_duration_seconds",
        "afirgen_jobs_running",
        "afirgen_jobs_queue_depth",
        "afirgen_jobs_oldest_queued_age_seconds",
        "afirgen_jobs_dead",
    }


def test_the_worker_exports_the_process_metrics_the_alerts_read(stack: Stack) -> None:
    worker = scrape(stack.cfg.jobs_worker_metrics_port)
    assert set(worker) >= PROCESS, sorted(PROCESS - set(worker))


def envoy_counter(stack: Stack, sample: str) -> float:
    """One counter of Envoy's loopback admin, e.g. ``envoy_cluster_upstream_rq_total{envoy_cluster_name="fir"}``.

    Read from the text as it is: Envoy exports ``upstream_rq`` (by response code) and
    ``upstream_rq_total`` side by side, which a Prometheus parser folds into one family."""
    url = f"http://127.0.0.1:{stack.cfg.envoy_admin_port}/stats/prometheus"
    with urllib.request.urlopen(url, timeout=5) as resp:
        text = resp.read().decode()
    values = [float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(sample + " ")]
    assert len(values) == 1, f"{sample} is not exported once"
    return values[0]


async def test_envoy_counts_each_call_it_routes(stack: Stack, rest: httpx.AsyncClient, station: str) -> None:
    fir = await create_fir(rest, station)
    samples = (
        'envoy_cluster_upstream_rq_total{envoy_cluster_name="fir"}',
        'envoy_http_downstream_rq_total{envoy_http_conn_manager_prefix="edge"}',
    )
    before = [envoy_counter(stack, s) for s in samples]
    resp = await rest.get(f"/v1/firs/{fir['id']}")
    assert resp.status_code == 200, resp.text
    after = [envoy_counter(stack, s) for s in samples]
    assert [a - b for a, b in zip(after, before, strict=True)] == [1, 1]
