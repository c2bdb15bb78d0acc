"""How good one drafted FIR is, against its labelled case.

Every measure reads only the stored FIR (as the REST API returns it) and the
case's labels, so the same scoring serves ``make eval`` and the short form
in the test suite.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from afirgen_fir.domain import offences, prose
from afirgen_fir.domain.grounding import SourceText, Span

DEATH = offences.DEATH_SECTIONS
VEHICLE = offences.VEHICLE_SECTIONS


@dataclass
class Score:
    """The measures of one case."""

    case: str
    language: str
    input: str
    grounding_violations: list[str] = field(default_factory=list)
    invented_persons: list[str] = field(default_factory=list)
    cited: list[str] = field(default_factory=list)
    expected: list[str] = field(default_factory=list)
    contradictions: list[str] = field(default_factory=list)
    facts_kept: int = 0
    facts_expected: int = 0
    summary_valid: bool = False
    summary_by_model: bool = False
    narrative_by_model: bool = False
    accused_named: list[str] = field(default_factory=list)
    accused_expected: list[str] = field(default_factory=list)
    seconds: float = 0.0
    stages: dict[str, float] = field(default_factory=dict)
    error: str = ""

    @property
    def section_hits(self) -> int:
        return len(set(self.cited) & set(self.expected))


def _span(value: dict[str, Any] | None) -> Span | None:
    if not value:
        return None
    return Span(int(value.get("start", 0)), int(value.get("end", 0)), str(value.get("text", "")))


def _norm(text: str) -> str:
    return re.sub(r"[\s,.\-]", "", text).lower()


def grounding_violations(fir: dict[str, Any]) -> list[str]:
    """Every drafted value that does not trace to the stored complaint text."""
    source = SourceText(fir.get("complaint", {}).get("text", ""))
    found: list[str] = []

    def check(where: str, value: str, raw: dict[str, Any] | None) -> None:
        span = _span(raw)
        if span is None or not source.quotes(span):
            found.append(f"{where}: {value!r} has no true span")

    for role in ("accused", "witnesses"):
        for i, person in enumerate(fir.get(role, [])):
            check(f"{role}[{i}]", person.get("name") or person.get("description", ""), person.get("source"))
    for i, item in enumerate(fir.get("properties", [])):
        check(f"properties[{i}]", item.get("description", ""), item.get("source"))
    for i, fact in enumerate(fir.get("facts", [])):
        check(f"facts[{i}]", fact.get("value", ""), fact.get("source"))
    incident = fir.get("incident", {})
    if incident.get("place"):
        check("incident.place", incident["place"], incident.get("place_source"))
    for i, ref in enumerate(fir.get("legal_sections", [])):
        for j, trigger in enumerate(ref.get("triggers", [])):
            check(f"legal_sections[{i}].triggers[{j}]", trigger.get("text", ""), trigger)
    for part in ("summary", "narrative"):
        text = fir.get(part, "")
        # The narrative's appended particulars repeat the complaint's own facts.
        missing = prose.ungrounded(text, source)
        found += [f"{part}: {word!r} is not in the complaint" for word in missing]
    return found


def invented_persons(fir: dict[str, Any]) -> list[str]:
    """Named accused or witnesses whose names the complaint does not contain."""
    text = _norm(fir.get("complaint", {}).get("text", ""))
    names = [p.get("name", "") for role in ("accused", "witnesses") for p in fir.get(role, [])]
    return [name for name in names if name and _norm(name) not in text]


def contradictions(fir: dict[str, Any], labels: dict[str, Any]) -> list[str]:
    """Cited sections the complaint's facts rule out (death, vehicle)."""
    cited = {ref.get("section", "") for ref in fir.get("legal_sections", [])}
    found = [f"BNS {s} without a death" for s in sorted(cited & DEATH) if not labels.get("death")]
    found += [f"BNS {s} without a vehicle" for s in sorted(cited & VEHICLE) if not labels.get("vehicle")]
    return found


def draft_text(fir: dict[str, Any]) -> str:
    """Everything the draft says, for the facts-kept check."""
    parts = [fir.get("summary", ""), fir.get("narrative", ""), fir.get("incident", {}).get("place", "")]
    parts += [p.get("description", "") for p in fir.get("properties", [])]
    parts += [
        f"{p.get('name', '')} {p.get('description', '')}" for r in ("accused", "witnesses") for p in fir.get(r, [])
    ]
    return _norm(" ".join(parts))


def score(case: dict[str, Any], fir: dict[str, Any], seconds: float) -> Score:
    """All measures of one drafted FIR."""
    labels = case["expect"]
    generation = fir.get("generation", {})
    deterministic = set(generation.get("deterministic_parts", []))
    summary = fir.get("summary", "")
    complaint = SourceText(fir.get("complaint", {}).get("text", ""))
    text = draft_text(fir)
    # Facts are checked against what was read: OCR or ASR may have changed the words.
    recognised = _norm(complaint.text)
    facts = [f for f in labels["facts"] if _norm(f) in recognised]
    return Score(
        case=case["id"],
        language=case["language"],
        input=case.get("input", "text"),
        grounding_violations=grounding_violations(fir),
        invented_persons=invented_persons(fir),
        cited=[ref.get("section", "") for ref in fir.get("legal_sections", [])],
        expected=list(labels["sections"]),
        contradictions=contradictions(fir, labels),
        facts_kept=sum(1 for f in facts if _norm(f) in text),
        facts_expected=len(facts),
        summary_valid=prose.summary_problem(summary, complaint, fir.get("complaint", {}).get("language", "en")) is None,
        summary_by_model="summary" not in deterministic,
        narrative_by_model="narrative" not in deterministic,
        accused_named=[p.get("name", "") for p in fir.get("accused", []) if p.get("name")],
        accused_expected=list(labels.get("accused", [])),
        seconds=seconds,
        stages={k: float(v) for k, v in generation.get("stage_millis", {}).items()},
    )
