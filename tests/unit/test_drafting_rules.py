"""The drafting rules over the labelled complaints in evaluation/cases: whatever the
model answers, every drafted value traces to the complaint, no person is
invented, no section contradicts the complaint, and the rules' own summary
and narrative pass the checks a model's must pass."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from afirgen_fir.domain import drafting, offences, prose
from afirgen_fir.domain.grounding import SourceText
from afirgen_fir.domain.legal import LegalSection
from afirgen_fir.domain.model import Fir, LegalSectionRef
from hypothesis import given
from hypothesis import strategies as st

CASES_DIR = Path(__file__).resolve().parents[2] / "evaluation" / "cases"
CASES = [json.loads(line) for path in sorted(CASES_DIR.glob("*.jsonl")) for line in path.open(encoding="utf-8")]
NOW = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
IST = timedelta(hours=5, minutes=30)
IDS = [c["id"] for c in CASES]


def reading_of(case: dict[str, Any]) -> drafting.Reading:
    return drafting.read(case["complaint"], language=case["language"], reference=NOW, utc_offset=IST)


def known_sections(reading: drafting.Reading) -> dict[str, LegalSection]:
    return {
        n: LegalSection("BNS", n, f"Section {n}") for n, _ in offences.sections_for(reading.findings, reading.gates)
    }


def drafted(case: dict[str, Any], answer: drafting.Answer) -> Fir:
    reading = reading_of(case)
    sections = drafting.cited_sections(reading, known_sections(reading), answer.section, [])
    fir = Fir()
    fir.complaint.text = case["complaint"]
    drafting.apply(fir, reading, drafting.choose_prose(reading, answer, sections), sections)
    return fir


# An answer that invents a person, a number and a place, as small models do.
INVENTED = drafting.Answer(
    summary="The complainant reports that Ajay Anjali stole 99,999 rupees at Connaught Place.",
    narrative="Ajay, Anjali and Babu broke in on 31 February and took 99,999 rupees from Connaught Place. " * 2,
)


def test_the_labelled_set_is_large_enough_to_mean_something() -> None:
    assert len(CASES) >= 42


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_every_drafted_value_quotes_the_complaint(case: dict[str, Any]) -> None:
    fir = drafted(case, INVENTED)
    source = SourceText(case["complaint"])
    spans = [p.source for p in fir.accused + fir.witnesses] + [p.source for p in fir.properties]
    spans += [f.source for f in fir.facts] + [t for ref in fir.legal_sections for t in ref.triggers]
    spans += [fir.incident.place_source] if fir.incident.place else []
    assert all(span is not None and source.quotes(span) for span in spans), spans


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_no_person_is_named_that_the_complaint_does_not_name(case: dict[str, Any]) -> None:
    fir = drafted(case, INVENTED)
    names = [p.name for p in fir.accused + fir.witnesses if p.name]
    assert [n for n in names if n not in case["complaint"]] == []


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_the_invented_answer_is_replaced_by_the_rules(case: dict[str, Any]) -> None:
    fir = drafted(case, INVENTED)
    assert "Ajay Anjali" not in fir.summary + fir.narrative


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_no_cited_section_contradicts_the_complaint(case: dict[str, Any]) -> None:
    fir = drafted(case, drafting.Answer())
    cited = {ref.section for ref in fir.legal_sections}
    forbidden = set() if case["expect"]["death"] else set(offences.DEATH_SECTIONS)
    forbidden |= set() if case["expect"]["vehicle"] else set(offences.VEHICLE_SECTIONS)
    assert cited & forbidden == set()


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_the_rules_summary_passes_the_summary_check(case: dict[str, Any]) -> None:
    reading = reading_of(case)
    summary = drafting.summary_from_rules(reading, [LegalSectionRef("BNS", "303", "Theft")])
    assert prose.summary_problem(summary, reading.source, reading.language) is None, summary


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_the_rules_narrative_names_only_what_the_complaint_says(case: dict[str, Any]) -> None:
    reading = reading_of(case)
    narrative = prose.narrative_from_complaint(case["complaint"], reading.language)
    assert prose.ungrounded(narrative, reading.source) == []


def test_section_recall_and_precision_on_the_labelled_set() -> None:
    hits = cited = expected = 0
    for case in CASES:
        reading = reading_of(case)
        got = {n for n, _ in offences.sections_for(reading.findings, reading.gates)}
        want = set(case["expect"]["sections"])
        hits, cited, expected = hits + len(got & want), cited + len(got), expected + len(want)
    assert (hits / expected, hits / cited) >= (0.8, 0.7)


def test_named_accused_are_the_labelled_ones_or_fewer() -> None:
    wrong = []
    for case in CASES:
        accused = {p.name for p in reading_of(case).parties.accused if p.name}
        wrong += sorted(accused - set(case["expect"]["accused"]))
    assert wrong == []


def test_a_model_summary_with_an_invented_name_is_refused() -> None:
    case = CASES[0]
    source = SourceText(case["complaint"])
    assert prose.summary_problem("Rajesh Khanna stole the motorcycle from Shastri Nagar.", source, "en") is not None


def test_a_grounded_model_summary_is_kept() -> None:
    case = next(c for c in CASES if c["id"] == "c01-motorcycle-theft")
    answer = drafting.Answer(
        summary="The complainant reports theft of his motorcycle from outside his house at Shastri Nagar."
    )
    assert drafted(case, answer).summary == answer.summary


def test_a_looping_summary_is_refused() -> None:
    source = SourceText(CASES[0]["complaint"])
    assert prose.summary_problem("motorcycle motorcycle motorcycle motorcycle motorcycle.", source, "en") is not None


def test_an_english_summary_of_a_hindi_complaint_is_refused() -> None:
    case = next(c for c in CASES if c["language"] == "hi")
    source = SourceText(case["complaint"])
    assert prose.summary_problem("The complainant reports a theft of a phone.", source, "hi") is not None


@given(st.text(max_size=400))
def test_any_model_answer_parses(text: str) -> None:
    assert isinstance(drafting.parse_answer(text), drafting.Answer)


@given(st.text(min_size=1, max_size=300))
def test_every_span_found_quotes_the_text(text: str) -> None:
    source = SourceText(text)
    needle = text.split()[0] if text.split() else text
    assert all(source.quotes(span) for span in source.find_all(needle))
