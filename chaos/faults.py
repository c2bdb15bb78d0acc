"""The faults the suite knows: every process of the stack that a request or a job depends on,
each killed, frozen and restarted (the full run), and the three of the short run."""

from __future__ import annotations

from chaos.episode import ACTIONS, Fault, Timing
from chaos.load import LoadShape
from chaos.mesh import Target

MARIADB = Target("mariadb", "infra:mariadb")
REDIS = Target("redis", "infra:redis")
CACHE = Target("cache", "services:cache")
JOBS = Target("jobs", "services:jobs")
WORKER = Target("worker", "services:jobs-worker")
FIR = Target("fir (1 of 2)", "services:fir", replicated=True)
INFERENCE = Target("inference proxy (1 of 2)", "services:inference", replicated=True)
LLM = Target("llm", "models:llm", model="llm")
ASR = Target("asr", "models:asr", model="asr")
OCR = Target("ocr", "models:ocr", model="ocr")
ENVOY = Target("envoy", "edge:envoy")
TARGETS = (MARIADB, REDIS, CACHE, JOBS, WORKER, FIR, INFERENCE, LLM, ASR, OCR, ENVOY)

FULL = tuple(Fault(target, action) for target in TARGETS for action in ACTIONS)
SHORT = (Fault(FIR, "kill"), Fault(LLM, "stop"), Fault(MARIADB, "restart"))
"""What ``make test`` runs (tests/e2e/test_faults.py): a replica killed, a model server frozen,
the database restarted."""
SHORT_TIMING = Timing(load_seconds=15.0, fault_at=3.0, back_within=60.0, settle_seconds=90.0)
"""The short run's clock: the freeze (10 s) still ends inside the load."""
SHORT_SHAPE = LoadShape(writers=2, generations=2, drain_seconds=30.0)
"""The short run's load: half the writers, two generations."""


def select(names: list[str]) -> tuple[Fault, ...]:
    """The faults of the full run whose target (or ``target:action``) is named."""
    chosen = tuple(
        f
        for f in FULL
        if any(n in (f.target.program.split(":")[1], f"{f.target.program.split(':')[1]}:{f.action}") for n in names)
    )
    if not chosen:
        raise SystemExit(f"no fault matches {names}; targets: {', '.join(t.program.split(':')[1] for t in TARGETS)}")
    return chosen
