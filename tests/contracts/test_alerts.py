"""Alerting rules: valid, unit-tested with promtool, each with a runbook section."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
PROMTOOL = Path("/usr/bin/promtool")
RULES = ROOT / "ops" / "prometheus" / "alerts.yml"


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(PROMTOOL), *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_rules_and_scrape_config_are_valid() -> None:
    checked = promtool("check", "rules", str(RULES))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    config = promtool("check", "config", "ops/prometheus/prometheus.yml")
    assert config.returncode == 0, config.stdout + config.stderr


def test_rules_fire_as_the_unit_tests_expect() -> None:
    tested = promtool("test", "rules", "ops/prometheus/alerts_test.yml")
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "SUCCESS" in tested.stdout


def test_every_alert_has_a_runbook_section() -> None:
    runbook = (ROOT / "ops" / "RUNBOOK.md").read_text()
    anchors = {
        re.sub(r"[^a-z0-9-]", "", h.strip().lower().replace(" ", "-")) for h in re.findall(r"^## (.+)$", runbook, re.M)
    }
    groups = yaml.safe_load(RULES.read_text())["groups"]
    alerts = [rule for group in groups for rule in group["rules"]]
    assert len(alerts) >= 10
    for rule in alerts:
        url = rule["annotations"]["runbook_url"]
        assert url.startswith("ops/RUNBOOK.md#"), rule["alert"]
        assert url.split("#", 1)[1] in anchors, rule["alert"]
    tested = (ROOT / "ops" / "prometheus" / "alerts_test.yml").read_text()
    untested = [rule["alert"] for rule in alerts if rule["alert"] not in tested]
    assert len(untested) <= 4, f"alerts without a promtool test: {untested}"
