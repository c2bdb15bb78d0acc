"""SLA gates from ``bench/sla.toml`` and the comparison with ``bench/baseline.json``."""

from __future__ import annotations

import fnmatch
import json
import tomllib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.results import Results

SLA_FILE = Path(__file__).parent / "sla.toml"
BASELINE_FILE = Path(__file__).parent / "baseline.json"


@dataclass(frozen=True)
class GateResult:
    """One gate's verdict: ``pass`` or ``FAIL`` (out of bounds, or its metric was not measured)."""

    metric: str
    bound: str
    value: float | None
    status: str
    why: str = ""

    @property
    def by(self) -> str:
        """How far the value is from the bound, as a factor (``""`` when not failed)."""
        if self.status != "FAIL" or self.value is None:
            return ""
        op, limit = self.bound.split(" ", 1)
        limit_value = float(limit)
        if not limit_value or not self.value:
            return ""
        factor = self.value / limit_value if op == "<=" else limit_value / self.value
        return f"{factor:.2f}x"


def load_sla(profile: str, path: Path = SLA_FILE) -> dict[str, Any]:
    """The ``[profile]`` table of the SLA file."""
    data = tomllib.loads(path.read_text())
    if profile not in data:
        raise KeyError(f"{path} has no [{profile}] table")
    section: dict[str, Any] = data[profile]
    return section


def gates_of(sla: dict[str, Any], scenarios: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """The gates of the profile, or only those of ``scenarios`` (a run narrowed by ``--only``/``--skip``)."""
    chosen = None if scenarios is None else set(scenarios)
    out = []
    for gate in sla.get("gates", []):
        if "scenario" not in gate:
            raise KeyError(f"the gate of {gate.get('metric')!r} names no scenario")
        if chosen is None or gate["scenario"] in chosen:
            out.append(gate)
    return out


def _expand(gates: list[dict[str, Any]], metrics: dict[str, float]) -> Iterator[dict[str, Any]]:
    """Gates with their ``*`` patterns expanded: one gate per metric the pattern matches
    (``db.stmt.*.p50_ms``: every statement); a pattern that matches nothing stays as it is
    (and fails as an unmeasured metric)."""
    for gate in gates:
        matched = sorted(m for m in metrics if fnmatch.fnmatchcase(m, gate["metric"])) if "*" in gate["metric"] else []
        yield from ({**gate, "metric": m} for m in matched) if matched else (gate,)


def _unmeasured(name: str, scenario: str, results: Results) -> str:
    """Why a gate's metric is missing, as far as the run knows."""
    if scenario in results.failed:
        return f"{name} was not measured: scenario {scenario} failed ({results.failed[scenario]})"
    if scenario in results.skipped:
        return f"{name} was not measured: scenario {scenario} skipped ({results.skipped[scenario]})"
    return f"{name} was not measured by scenario {scenario}"


def evaluate(results: Results, sla: dict[str, Any], scenarios: Iterable[str] | None = None) -> list[GateResult]:
    """Every gate of the scenarios run (all of the profile's when ``None``), plus the error budget of
    each load measurement. A gate whose metric is missing fails: an unmeasured SLA is a broken one."""
    metrics = results.metrics()
    out: list[GateResult] = []
    for gate in _expand(gates_of(sla, scenarios), metrics):
        name = gate["metric"]
        value = metrics.get(name)
        why = gate.get("why", "")
        for op, key in (("<=", "max"), (">=", "min")):
            if key not in gate:
                continue
            bound = f"{op} {gate[key]}"
            if value is None:
                out.append(GateResult(name, bound, None, "FAIL", _unmeasured(name, gate["scenario"], results)))
                continue
            ok = value <= gate[key] if key == "max" else value >= gate[key]
            out.append(GateResult(name, bound, value, "pass" if ok else "FAIL", why))
    budget = sla.get("max_error_rate")
    scenario_names = set(sla.get("error_rate_scenarios", []))
    if budget is not None:
        for m in results.measurements:
            if m.scenario in scenario_names and m.count and m.error_rate > budget:
                out.append(
                    GateResult(
                        f"{m.key}.error_rate",
                        f"<= {budget}",
                        m.error_rate,
                        "FAIL",
                        f"{m.errors} of {m.count} failed: {m.extra.get('codes', '')}",
                    )
                )
    return out


def load_baseline(profile: str, path: Path = BASELINE_FILE) -> dict[str, float]:
    """Baseline metrics of ``profile`` (empty when there is none yet)."""
    if not path.exists():
        return {}
    data: dict[str, Any] = json.loads(path.read_text())
    return {k: float(v) for k, v in data.get("profiles", {}).get(profile, {}).get("metrics", {}).items()}


def save_baseline(profile: str, metrics: dict[str, float], note: str, path: Path = BASELINE_FILE) -> None:
    """Replace ``profile``'s baseline with ``metrics``."""
    data: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
    data.setdefault("about", "Reference figures of `python -m bench run`; reports show each run's ratio to these.")
    data.setdefault("profiles", {})[profile] = {"note": note, "metrics": {k: round(v, 4) for k, v in metrics.items()}}
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
