"""The benchmark harness's own logic (no load, no I/O): gates, baselines, report, parsing."""

from __future__ import annotations

from pathlib import Path

from bench import gates, loadgen, report
from bench.profiles import FULL, SHORT
from bench.results import Measurement, Results


def _results() -> Results:
    r = Results(profile="short")
    r.add(
        Measurement(
            "grpc", "grpc.envoy.GetFir.c10", "GetFir", "ghz", 10, rps=500, count=1000, errors=0, p50_ms=5, p99_ms=40
        )
    )
    r.add(Measurement("rest", "rest.GetFir.gzip.c10", "GetFir REST", "wrk", 10, rps=400, count=1000, errors=50))
    r.figures["fastapi.ratio"] = 0.8
    return r


def test_gates_pass_fail_and_skip() -> None:
    sla = {
        "max_error_rate": 0.01,
        "error_rate_scenarios": ["rest"],
        "gates": [
            {"metric": "grpc.envoy.GetFir.c10.p99_ms", "max": 50},
            {"metric": "fastapi.ratio", "min": 1.0},
            {"metric": "generation.completed", "min": 150},
        ],
    }
    verdicts = {(g.metric, g.status) for g in gates.evaluate(_results(), sla)}
    assert ("grpc.envoy.GetFir.c10.p99_ms", "pass") in verdicts
    assert ("fastapi.ratio", "FAIL") in verdicts
    assert ("generation.completed", "skipped") in verdicts
    assert ("rest.GetFir.gzip.c10.error_rate", "FAIL") in verdicts


def test_a_pattern_gate_applies_to_every_metric_it_matches() -> None:
    r = Results(profile="full")
    for label, ms in (("get", 0.2), ("stats_by_day.all", 61.0)):
        r.add(Measurement("database", f"db.stmt.{label}", label, "mariadb", 1, count=5, p50_ms=ms))
    sla = {"gates": [{"metric": "db.stmt.*.p50_ms", "max": 50}, {"metric": "db.none.*", "max": 1}]}
    verdicts = {(g.metric, g.status) for g in gates.evaluate(r, sla)}
    assert verdicts == {
        ("db.stmt.get.p50_ms", "pass"),
        ("db.stmt.stats_by_day.all.p50_ms", "FAIL"),
        ("db.none.*", "skipped"),
    }


def test_failed_gate_says_by_how_much() -> None:
    (gate,) = gates.evaluate(_results(), {"gates": [{"metric": "fastapi.ratio", "min": 1.0}]})
    assert gate.by == "1.25x"


def test_sla_file_has_both_profiles_and_the_issue_targets() -> None:
    full = gates.load_sla("full")
    metrics = {g["metric"] for g in full["gates"]}
    assert {"fastapi.ratio", "db.page.offset_over_keyset.p1000", "cache.workload.hit_ratio"} <= metrics
    assert gates.load_sla("short")["gates"]


def test_profiles_bound_every_loop() -> None:
    for profile in (SHORT, FULL):
        assert profile.run_timeout_s > 0 and profile.grpc_requests > 0 and profile.rest_max_requests > 0
    assert FULL.seed_rows >= 1_000_000 and 1000 in FULL.deep_pages
    assert FULL.concurrency == (1, 10, 50, 200)


def test_baseline_round_trip_and_report(tmp_path: Path) -> None:
    path = tmp_path / "baseline.json"
    gates.save_baseline("short", {"fastapi.ratio": 0.5}, "test", path)
    assert gates.load_baseline("short", path) == {"fastapi.ratio": 0.5}
    r = _results()
    verdicts = gates.evaluate(r, {"gates": [{"metric": "fastapi.ratio", "min": 1.0}]})
    md = report.write(r, verdicts, {"fastapi.ratio": 0.5}, [], tmp_path).read_text()
    assert "| 1.60 |" in md  # 0.8 against a baseline of 0.5
    assert "FAILED" in md


def test_hey_report_is_parsed(monkeypatch: object) -> None:
    out = """
Summary:
  Total:\t1.0 secs
  Slowest:\t0.0500 secs
  Requests/sec:\t990.0

Latency distribution:
  10% in 0.0010 secs
  50% in 0.0020 secs
  90% in 0.0040 secs
  99% in 0.0100 secs

Status code distribution:
  [200]\t990 responses
  [503]\t10 responses
"""
    monkeypatch.setattr(loadgen, "tool", lambda name: name)  # type: ignore[attr-defined]
    monkeypatch.setattr(loadgen, "_run", lambda cmd, timeout: (out, "", 0))  # type: ignore[attr-defined]
    m = loadgen.hey("http://127.0.0.1:1/x", key="k", label="l", scenario="rest", connections=10, rate=1000, seconds=1)
    assert (m.p50_ms, m.p99_ms, m.count, m.errors) == (2.0, 10.0, 1000, 10)
