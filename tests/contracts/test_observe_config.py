"""The configuration `make observe` gives Prometheus, and how the stack finds its Jaeger."""

from __future__ import annotations

import dataclasses
import json
import subprocess
from pathlib import Path

import yaml

from scripts.devstack.config import StackConfig
from scripts.devstack.observe import MARKER, SCRAPE_JOBS, ObserveConfig, prometheus_config, traced


def test_the_rendered_prometheus_config_with_its_rules_passes_promtool(tmp_path: Path) -> None:
    path = tmp_path / "prometheus.yml"
    path.write_text(prometheus_config(ObserveConfig(stack=StackConfig(run_dir=tmp_path))))
    checked = subprocess.run(
        ["/usr/bin/promtool", "check", "config", str(path)], capture_output=True, text=True, timeout=120, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_prometheus_scrapes_each_metrics_port_of_the_stack_it_observes(tmp_path: Path) -> None:
    stack = StackConfig.for_tests(tmp_path)
    config = yaml.safe_load(prometheus_config(ObserveConfig.for_tests(stack)))
    scraped = {job["job_name"]: job["static_configs"][0]["targets"] for job in config["scrape_configs"]}
    assert scraped == {
        job: [f"127.0.0.1:{getattr(stack, port)}" for port in ports] for job, ports in SCRAPE_JOBS.items()
    }


def test_a_stack_exports_its_spans_to_the_jaeger_of_make_observe_while_it_runs(tmp_path: Path) -> None:
    (tmp_path / "observe").mkdir()
    (tmp_path / "observe" / MARKER).write_text(json.dumps({"otlp_endpoint": "127.0.0.1:4317"}))
    stack = StackConfig(run_dir=tmp_path)
    assert traced(stack) == dataclasses.replace(stack, otlp_endpoint="127.0.0.1:4317")


def test_a_stack_exports_no_spans_without_make_observe(tmp_path: Path) -> None:
    assert traced(StackConfig(run_dir=tmp_path)).otlp_endpoint == ""
