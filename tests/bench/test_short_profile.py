"""The benchmark's short profile, as part of the test suite: it starts its own stack
on free ports, runs a handful of scenarios with modest SLA gates (bench/sla.toml,
``[short]``) and fails when a gate is broken or a scenario crashes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from scripts.devstack.config import REPO


@pytest.mark.e2e
@pytest.mark.timeout(600)
def test_short_profile_meets_its_gates(tmp_path: Path) -> None:
    out = tmp_path / "report"
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "run", "--profile", "short", "--out", str(out)],
        cwd=REPO,
        env=os.environ | {"PYTHONDONTWRITEBYTECODE": "1"},
        capture_output=True,
        text=True,
        timeout=540,
        check=False,
    )
    report = out / "report.md"
    detail = report.read_text() if report.exists() else ""
    assert proc.returncode == 0, f"{proc.stdout[-6000:]}\n{proc.stderr[-3000:]}\n{detail[:6000]}"
    assert report.exists()
    assert (out / "latency_by_level.png").exists()
