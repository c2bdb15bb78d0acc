"""The benchmark harness's own logic (no load, no I/O): gates, baselines, report, parsing."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import gates, loadgen, report
from bench.profiles import FULL, SHORT, Profile
from bench.results import Measurement, Results
from bench.scenarios import cores, database, fastapi_compare, generation


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


SLA = {
    "max_error_rate": 0.01,
    "error_rate_scenarios": ["rest"],
    "gates": [
        {"metric": "grpc.envoy.GetFir.c10.p99_ms", "scenario": "grpc", "max": 50},
        {"metric": "fastapi.ratio", "scenario": "fastapi", "min": 1.0},
        {"metric": "generation.completed", "scenario": "generation", "min": 150},
    ],
}


def test_gates_pass_and_fail() -> None:
    verdicts = {(g.metric, g.status) for g in gates.evaluate(_results(), SLA)}
    assert verdicts == {
        ("grpc.envoy.GetFir.c10.p99_ms", "pass"),
        ("fastapi.ratio", "FAIL"),
        ("generation.completed", "FAIL"),
        ("rest.GetFir.gzip.c10.error_rate", "FAIL"),
    }


def test_a_gate_whose_metric_is_missing_fails_and_names_the_metric() -> None:
    results = _results()
    results.skipped["generation"] = "the inference proxy reports no available LLM server"
    (gate,) = gates.evaluate(results, {"gates": [SLA["gates"][2]]})
    assert (gate.status, gate.value, gate.why) == (
        "FAIL",
        None,
        "generation.completed was not measured: scenario generation skipped"
        " (the inference proxy reports no available LLM server)",
    )


def test_a_narrowed_run_checks_the_gates_of_its_scenarios_only() -> None:
    verdicts = gates.evaluate(_results(), SLA, scenarios=["grpc", "rest"])
    assert [(g.metric, g.status) for g in verdicts] == [
        ("grpc.envoy.GetFir.c10.p99_ms", "pass"),
        ("rest.GetFir.gzip.c10.error_rate", "FAIL"),
    ]


def test_a_gate_without_a_scenario_is_refused() -> None:
    with pytest.raises(KeyError, match=r"fastapi\.ratio"):
        gates.evaluate(_results(), {"gates": [{"metric": "fastapi.ratio", "min": 1.0}]})


def test_a_pattern_gate_applies_to_every_metric_it_matches() -> None:
    r = Results(profile="full")
    for label, ms in (("get", 0.2), ("stats_by_day.all", 61.0)):
        r.add(Measurement("database", f"db.stmt.{label}", label, "mariadb", 1, count=5, p50_ms=ms))
    sla = {
        "gates": [
            {"metric": "db.stmt.*.p50_ms", "scenario": "database", "max": 50},
            {"metric": "db.none.*", "scenario": "database", "max": 1},
        ]
    }
    verdicts = {(g.metric, g.status) for g in gates.evaluate(r, sla)}
    assert verdicts == {
        ("db.stmt.get.p50_ms", "pass"),
        ("db.stmt.stats_by_day.all.p50_ms", "FAIL"),
        ("db.none.*", "FAIL"),  # a pattern that matches nothing is an unmeasured metric
    }


def test_failed_gate_says_by_how_much() -> None:
    (gate,) = gates.evaluate(_results(), {"gates": [SLA["gates"][1]]})
    assert gate.by == "1.25x"


def test_sla_file_has_both_profiles_and_the_issue_targets() -> None:
    full = gates.load_sla("full")
    metrics = {g["metric"] for g in full["gates"]}
    assert {"fastapi.ratio", "db.page.offset_over_keyset.p1000", "cache.workload.hit_ratio"} <= metrics
    assert gates.load_sla("short")["gates"]


@pytest.mark.parametrize("profile", [SHORT, FULL], ids=lambda p: p.name)
def test_every_gate_is_measured_by_a_scenario_of_its_profile(profile: Profile) -> None:
    scenarios = {g["scenario"] for g in gates.load_sla(profile.name)["gates"]}
    assert scenarios - set(profile.scenarios) == set()


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
    verdicts = gates.evaluate(r, {"gates": [SLA["gates"][1]]})
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


def test_a_measurement_of_timed_calls_has_their_percentiles() -> None:
    m = Measurement.from_samples("jobs", "jobs.wake", "wake", "jobs", [float(n) for n in range(100, 0, -1)])
    assert (m.count, m.p50_ms, m.p90_ms, m.p99_ms, m.max_ms, m.concurrency) == (100, 51.0, 91.0, 100.0, 100.0, 1)


def test_a_generations_overhead_leaves_out_the_model_servers_time_and_the_queue_wait() -> None:
    stages = {"rules": 1.0, "llm": 4582.6, "llm_model": 900.0, "llm_queue": 3673.0, "total": 4600.0}
    assert generation._split(stages) == (900.0, 3673.0)


def test_a_model_call_that_did_not_answer_counts_whole_as_model_time() -> None:
    stages = {"llm": 900.0, "llm_model": 890.0, "llm_queue": 5.0, "llm_reask": 7119.3, "total": 8100.0}
    assert generation._split(stages) == (890.0 + 7119.3, 5.0)


def test_cpu_per_read_counts_only_the_sides_processes_and_sums_them() -> None:
    used = {"envoy": 0.8, "fir": 1.2, "cache": 0.0, "redis": 0.0, "mariadb": 0.0, "fastapi": 0.5}
    per_read = fastapi_compare.per_read_us(used, fastapi_compare.PARTS["mesh"], 2000)
    assert per_read == {"envoy": 400.0, "fir": 600.0, "cache": 0.0, "redis": 0.0, "mariadb": 0.0, "total": 1000.0}


def test_cpu_of_a_process_that_restarted_between_readings_counts_nothing() -> None:
    assert cores.used_between({"fir": 30.0, "envoy": 2.0}, {"fir": 1.5, "envoy": 2.5}) == {"fir": 0.0, "envoy": 0.5}


class _ProfilingCursor:
    """A cursor that records the statements run and reports each took 1 ms on the server."""

    def __init__(self) -> None:
        self.ran: list[str] = []
        self._last = ""

    def execute(self, sql: str, args: object = None) -> None:
        if sql == "SHOW PROFILES":
            return
        self.ran.append(sql)
        self._last = sql

    def fetchall(self) -> list[tuple[int, float, str]]:
        return [(1, 0.001, self._last)]


def test_keyset_pages_are_timed_in_rounds_that_each_start_one_page_further() -> None:
    cur = _ProfilingCursor()
    pages = {1: ("SELECT page1", ()), 10: ("SELECT page10", ()), 100: ("SELECT page100", ())}
    database._time_interleaved(cur, pages, repeats=2)
    firsts = cur.ran[0::3]
    assert firsts == ["SELECT page1", "SELECT page10", "SELECT page100"]


def test_keyset_timing_leaves_the_warm_up_round_out() -> None:
    pages = {1: ("SELECT page1", ()), 10: ("SELECT page10", ())}
    timed = database._time_interleaved(_ProfilingCursor(), pages, repeats=4)
    assert {page: (server, len(client)) for page, (server, client) in timed.items()} == {
        1: ([1.0, 1.0, 1.0, 1.0], 4),
        10: ([1.0, 1.0, 1.0, 1.0], 4),
    }
