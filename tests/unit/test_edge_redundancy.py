"""The local stack's edge: replicas behind health checks and outlier detection, and retries
only where a repeat is harmless (scripts/devstack renders it; no Envoy runs here)."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import yaml

from scripts.devstack.config import StackConfig
from scripts.devstack.supervisor import programs, render_envoy

FIR = "/afirgen.fir.v1.FirService/"
CONFIG = StackConfig(run_dir=Path("/nonexistent/afirgen-unit"))


@functools.cache
def envoy() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(render_envoy(CONFIG))
    return loaded


def _find(node: Any, key: str) -> Any:
    """The first value of ``key`` anywhere under ``node`` (depth first)."""
    if isinstance(node, dict):
        if key in node:
            return node[key]
        children = list(node.values())
    elif isinstance(node, list):
        children = node
    else:
        return None
    for child in children:
        found = _find(child, key)
        if found is not None:
            return found
    return None


def route(path: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    """The first route of the served host that a gRPC call to ``path`` with ``headers`` takes."""
    hosts = _find(envoy(), "route_config")["virtual_hosts"]
    for candidate in hosts[0]["routes"]:
        match = candidate["match"]
        if "path" in match and match["path"] != path:
            continue
        if "prefix" in match and not path.startswith(match["prefix"]):
            continue
        if not all(h["name"] in (headers or {}) for h in match.get("headers", [])):
            continue
        return dict(candidate["route"])
    raise AssertionError(f"no route for {path}")


def retried_on(path: str, headers: dict[str, str] | None = None) -> set[str]:
    policy = route(path, headers).get("retry_policy", {})
    return set(str(policy.get("retry_on", "")).split(","))


def cluster(name: str) -> dict[str, Any]:
    clusters = envoy()["static_resources"]["clusters"]
    return dict(next(c for c in clusters if c["name"] == name))


def endpoints(name: str) -> list[int]:
    lb = cluster(name)["load_assignment"]["endpoints"][0]["lb_endpoints"]
    return [e["endpoint"]["address"]["socket_address"]["port_value"] for e in lb]


def test_the_fir_cluster_has_an_endpoint_per_replica() -> None:
    assert endpoints("fir") == list(CONFIG.fir_ports)


def test_the_inference_cluster_has_an_endpoint_per_replica() -> None:
    assert endpoints("inference") == list(CONFIG.inference_ports)


def test_the_stack_runs_a_process_per_fir_and_inference_replica() -> None:
    names = {p.name for p in programs(CONFIG)}
    assert {"fir", "fir-2", "inference", "inference-2"} <= names


def test_the_fir_cluster_health_checks_over_grpc_health() -> None:
    assert "grpc_health_check" in cluster("fir")["health_checks"][0]


def test_the_fir_cluster_ejects_a_replica_after_its_own_failures_only() -> None:
    detection = cluster("fir")["outlier_detection"]
    assert (detection["split_external_local_origin_errors"], detection["enforcing_consecutive_5xx"]) == (True, 0)


def test_reads_are_repeated_when_a_replica_answers_unavailable() -> None:
    assert "unavailable" in retried_on(FIR + "GetFir")


def test_a_read_try_has_a_per_try_timeout_so_a_frozen_replica_is_skipped() -> None:
    assert route(FIR + "ListFirs")["retry_policy"]["per_try_timeout"] == "5s"


def test_a_keyed_create_is_repeated_after_a_reset() -> None:
    assert "reset" in retried_on(FIR + "CreateFir", {"idempotency-key": "k"})


def test_an_unkeyed_create_is_repeated_only_when_no_replica_saw_it() -> None:
    assert retried_on(FIR + "CreateFir") == {"connect-failure", "refused-stream", "reset-before-request"}


def test_a_finalization_carrying_its_etag_is_repeated_after_a_reset() -> None:
    assert "reset" in retried_on(FIR + "FinalizeFir")


def test_an_edit_is_repeated_only_when_no_replica_saw_it() -> None:
    assert retried_on(FIR + "UpdateFir") == {"connect-failure", "refused-stream", "reset-before-request"}


def test_a_keyed_generation_is_not_repeated_on_unavailable() -> None:
    assert "unavailable" not in retried_on(FIR + "GenerateFir", {"idempotency-key": "k"})


def test_an_unkeyed_generation_is_not_repeated_after_a_reset() -> None:
    assert "reset" not in retried_on(FIR + "GenerateFir")


def test_each_retry_goes_to_a_replica_not_tried_yet() -> None:
    predicates = route(FIR + "GetFir")["retry_policy"]["retry_host_predicate"]
    assert predicates[0]["name"] == "envoy.retry_host_predicates.previous_hosts"
