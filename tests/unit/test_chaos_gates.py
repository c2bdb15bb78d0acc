"""The fault suite's gates (chaos/report.py) on hand-made outcomes: no stack runs here."""

from __future__ import annotations

import dataclasses

from chaos import faults, report
from chaos.audit import Audit
from chaos.episode import Detection, Fault, Outcome

CLEAN = Audit(
    writes_lost=0,
    duplicates=0,
    numbering_faults=0,
    jobs_lost=0,
    jobs_rerun=0,
    webhooks_repeated=0,
    webhooks_missing=0,
    firs=10,
    jobs=10,
)
NONE_FAILED = {"create": 0, "read": 0, "finalize": 0, "generate": 0}


def outcome(fault: Fault, **changes: object) -> Outcome:
    clean = Outcome(
        fault=fault,
        calls={"create": 10, "read": 10, "finalize": 3, "generate": 2},
        failed=NONE_FAILED,
        failed_by_design=0,
        failures_end=0.0,
        back_after=1.0,
        resumed_at=0.0,
        detection=None,
        orphans=0,
        settled=True,
        audit=CLEAN,
    )
    return dataclasses.replace(clean, **changes)  # type: ignore[arg-type]


FIR_KILL = Fault(faults.FIR, "kill")
LLM_STOP = Fault(faults.LLM, "stop")
MARIADB_KILL = Fault(faults.MARIADB, "kill")
NOTICED = Detection(1.5, (("UNAVAILABLE", 0.01), ("UNAVAILABLE", 0.02)))


def test_a_clean_outcome_breaks_no_gate() -> None:
    assert report.gates(outcome(FIR_KILL)) == []


def test_a_failed_read_breaks_the_gate_of_a_replicated_process() -> None:
    assert report.gates(outcome(FIR_KILL, failed=NONE_FAILED | {"read": 1})) == ["failed requests: 1"]


def test_a_lost_write_breaks_a_gate_after_any_fault() -> None:
    lost = dataclasses.replace(CLEAN, writes_lost=1)
    assert report.gates(outcome(MARIADB_KILL, audit=lost)) == ["acknowledged writes lost: 1"]


def test_a_duplicate_fir_breaks_a_gate() -> None:
    duplicated = dataclasses.replace(CLEAN, duplicates=2)
    assert report.gates(outcome(FIR_KILL, audit=duplicated)) == ["duplicate FIRs: 2"]


def test_database_failures_that_end_soon_after_the_fault_break_no_gate() -> None:
    failed = outcome(MARIADB_KILL, failed=NONE_FAILED | {"create": 3}, failures_end=2.0)
    assert report.gates(failed) == []


def test_database_failures_that_go_on_long_after_the_fault_break_the_recovery_gate() -> None:
    late = outcome(MARIADB_KILL, failed=NONE_FAILED | {"create": 3}, failures_end=report.RECOVERY_SECONDS + 1)
    assert report.gates(late) == [f"failures went on {report.RECOVERY_SECONDS + 1:.1f} s after the fault ended"]


def test_a_frozen_model_noticed_within_its_bound_breaks_no_gate() -> None:
    assert report.gates(outcome(LLM_STOP, detection=NOTICED, resumed_at=10.0)) == []


def test_a_frozen_model_noticed_late_breaks_the_detection_gate() -> None:
    late = Detection(report.FROZEN_MODEL_BOUND + 1, NOTICED.refusals)
    broken = report.gates(outcome(LLM_STOP, detection=late, resumed_at=10.0))
    assert [gate.split(" (")[0] for gate in broken] == [f"frozen model server noticed {late.seconds:.2f} s"]


def test_a_slow_refusal_of_a_frozen_model_breaks_the_refusal_gate() -> None:
    slow = Detection(1.0, (("UNAVAILABLE", 0.01), ("DEADLINE_EXCEEDED", 10.0)))
    broken = report.gates(outcome(LLM_STOP, detection=slow, resumed_at=10.0))
    assert [gate.split(":")[0] for gate in broken] == ["calls to the frozen server were not refused fast"]


def test_model_unavailable_generations_of_a_model_fault_break_no_gate() -> None:
    refused = outcome(LLM_STOP, detection=NOTICED, failed=NONE_FAILED | {"generate": 2}, failed_by_design=2)
    assert report.gates(refused) == []


def test_a_child_left_by_a_killed_process_breaks_a_gate() -> None:
    assert report.gates(outcome(FIR_KILL, orphans=1)) == ["child processes left by the killed process: 1"]


def test_the_full_run_hits_every_target_with_every_action() -> None:
    assert len(faults.FULL) == len(faults.TARGETS) * 3


def test_the_report_has_a_row_per_fault() -> None:
    text = report.render([outcome(FIR_KILL), outcome(MARIADB_KILL)], [], faults.SHORT_TIMING, faults.SHORT_SHAPE)
    assert sum(1 for line in text.splitlines() if line.startswith("| ") and "pass |" in line) == 2


def test_a_lost_job_is_named_in_its_gate() -> None:
    dead = dataclasses.replace(
        CLEAN, jobs_lost=1, lost_jobs=("fir.rollup_stats: DEAD after 1 attempt: INTERNAL: boom",)
    )
    assert report.gates(outcome(FIR_KILL, audit=dead)) == [
        "jobs lost: 1 (fir.rollup_stats: DEAD after 1 attempt: INTERNAL: boom)"
    ]
