"""Drafting an FIR from a complaint, grounded by construction.

The rules read the complaint first (:func:`read`): offence categories and
their trigger words, stated facts, accused and witnesses, property, place.
Every one of them carries the span of the complaint it came from, and only
they fill the structured fields of the draft. The model is asked once for
prose (a summary and a narrative) and, only when the rules recognise no
offence, to choose a section among the retrieved candidates; its answer is
plain labelled text, so no answer can be unparseable, and each part is kept
only if it passes the checks in :mod:`afirgen_fir.domain.prose`. A part
that fails after one re-ask is written from the complaint by the rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from afirgen_fir.domain import belongings, offences, parties, prose
from afirgen_fir.domain.facts import Facts, extract, missing_from
from afirgen_fir.domain.grounding import SourceText, Span
from afirgen_fir.domain.legal import LegalSection
from afirgen_fir.domain.model import FactKind, Fir, LegalSectionRef, Person, Property

PROMPT_VERSION = "fir-draft-v2"
MAX_SECTIONS = 4
ANSWER_TOKENS = 240
REASK_TOKENS = 200
MODEL_SECONDS = 14.0
"""The model's time per draft, its first answer and the re-ask together: past it the rules write
the summary and narrative, so a slow model (a long Hindi prompt, a loaded machine) cannot take a
typed complaint's draft past its latency target (p99 20 s)."""
REASK_SECONDS = 8.0
"""The re-ask's own cap within ``MODEL_SECONDS``."""
MIN_REASK_SECONDS = 2.0
"""Less time than this left: no re-ask (a small model writes nothing useful in less)."""


def reask_budget(model_seconds_spent: float) -> float | None:
    """Seconds the re-ask may take after the first answer took ``model_seconds_spent``; ``None``:
    too little of the model's time is left, the rules write what failed its checks."""
    left = min(REASK_SECONDS, MODEL_SECONDS - model_seconds_spent)
    return left if left >= MIN_REASK_SECONDS else None


ANSWER_STOP = ("\nComplaint", "\nSUMMARY", "\n\n\n")

SYSTEM = (
    "You are a police clerk writing a First Information Report. Use only facts stated in the complaint. Never add "
    "a name, number, date or place that the complaint does not give. Write in the third person and call the person "
    "who complained 'the complainant'."
)


@dataclass(frozen=True)
class Candidate:
    """A section the model may choose when the rules found no offence."""

    section: str
    title: str


@dataclass
class Reading:
    """What the rules read from one complaint, every value with its span."""

    source: SourceText
    language: str
    facts: Facts
    findings: list[offences.Finding]
    gates: offences.Signals
    parties: parties.Parties
    items: list[belongings.Item]
    place: Span | None

    @property
    def text(self) -> str:
        return self.source.text

    @property
    def hindi(self) -> bool:
        return self.language == "hi"


def read(text: str, *, language: str, reference: datetime, utc_offset: timedelta) -> Reading:
    """Run every rule over the complaint."""
    source = SourceText(text)
    language = language if language in ("en", "hi") else prose.language_of(text)
    if prose.language_of(text) == "hi":
        language = "hi"  # a Hindi complaint is read as Hindi whatever the request said
    hindi = language == "hi"
    facts = extract(text, reference=reference, utc_offset=utc_offset)
    findings = offences.classify(source)
    gates = offences.signals(source, findings)
    triggers = [t for f in findings for t in f.triggers]
    people = parties.find(source, category_names={f.category.name for f in findings}, triggers=triggers, hindi=hindi)
    items: list[belongings.Item] = []
    if any(f.category.property_offence for f in findings):
        offender_spans = [p.source for p in people.accused if p.source is not None]
        items = belongings.items(source, facts, hindi=hindi, offender_spans=offender_spans)
        items += belongings.unvalued_amounts(facts, items) if _money_offence(findings) else []
    return Reading(source, language, facts, findings, gates, people, items, belongings.place(source, hindi=hindi))


def _money_offence(findings: list[offences.Finding]) -> bool:
    return any(f.category.name in ("cheating", "breach_of_trust", "extortion") for f in findings)


# --- the model's part ---------------------------------------------------------------
def messages(reading: Reading, candidates: list[Candidate]) -> list[tuple[str, str]]:
    """The one request to the model: summary and narrative, and a section only if the rules found none.

    No worked example: small models copied its names and amounts into their answers."""
    language = "Hindi" if reading.hindi else "English"
    keep = ", ".join(dict.fromkeys(reading.facts.mentions())) or "none"
    ask = (
        f"Complaint:\n{reading.text}\n\nKeep these exactly as written: {keep}.\n\n"
        f"Write in {language}:\nSUMMARY: one sentence saying what offence is reported, where and when.\n"
        "NARRATIVE: the facts of the complaint in the third person, in order, in at most 120 words."
    )
    if candidates and not reading.findings:
        options = "; ".join(f"{c.section} ({c.title})" for c in candidates)
        ask += f"\nSECTION: the one BNS section number that fits best, from: {options}."
    return [("system", SYSTEM), ("user", ask)]


def part_messages(reading: Reading, part: str, guidance: str, candidates: list[Candidate]) -> list[tuple[str, str]]:
    """A request for one part (regeneration), with the officer's guidance."""
    language = "Hindi" if reading.hindi else "English"
    asks = {
        "summary": "SUMMARY: one sentence saying what offence is reported, where and when.",
        "narrative": "NARRATIVE: the facts of the complaint in the third person, in order, in at most 120 words.",
        "legal_sections": "SECTION: the one BNS section number that fits best, from: "
        + "; ".join(f"{c.section} ({c.title})" for c in candidates),
    }
    ask = f"Complaint:\n{reading.text}\n\n"
    if guidance:
        ask += f"The officer asks: {guidance}\n\n"
    ask += f"Write in {language}:\n{asks[part]}"
    return [("system", SYSTEM), ("user", ask)]


def reask_messages(
    reading: Reading, asked: list[tuple[str, str]], answer: str, problems: dict[str, str]
) -> list[tuple[str, str]]:
    """A second request naming what was wrong with the parts that failed."""
    wrong = "; ".join(f"the {part} {problem}" for part, problem in problems.items())
    labels = " and ".join(part.upper() + ":" for part in problems)
    return [
        *asked,
        ("assistant", answer[:2000]),
        ("user", f"That answer is not usable: {wrong}. Write {labels} again, using only the complaint's words."),
    ]


@dataclass
class Answer:
    """The labelled parts of a model answer."""

    summary: str = ""
    narrative: str = ""
    section: str = ""


_LABEL = re.compile(r"^\s*\**\s*(SUMMARY|NARRATIVE|SECTION|सारांश|विवरण)\s*\**\s*[:：-]\s*", re.I | re.M)
_LABEL_NAMES = {"सारांश": "summary", "विवरण": "narrative"}


def parse_answer(text: str) -> Answer:
    """Split a labelled answer; anything unlabelled is ignored, so no answer fails to parse."""
    answer = Answer()
    marks = list(_LABEL.finditer(text))
    for index, mark in enumerate(marks):
        end = marks[index + 1].start() if index + 1 < len(marks) else len(text)
        label = _LABEL_NAMES.get(mark.group(1), mark.group(1).lower())
        value = " ".join(text[mark.end() : end].split())
        if label == "section":
            found = re.search(r"\d{1,3}", value)
            value = found.group(0) if found else ""
        if not getattr(answer, label):
            setattr(answer, label, value)
    if answer.summary and not answer.narrative:
        # A model that runs on after its summary sentence has written the narrative there.
        first, _, rest = answer.summary.partition(". ")
        if rest:
            answer.summary, answer.narrative = first + ".", rest
    return answer


def problems(reading: Reading, answer: Answer) -> dict[str, str]:
    """Parts of the answer that fail their checks, with why."""
    found: dict[str, str] = {}
    if problem := prose.summary_problem(answer.summary, reading.source, reading.language):
        found["summary"] = problem
    if problem := prose.narrative_problem(answer.narrative, reading.source, reading.language):
        found["narrative"] = problem
    return found


# --- what the rules write ------------------------------------------------------------
def _with_preposition(reading: Reading, span: Span) -> str:
    before = reading.text[max(0, span.start - 20) : span.start]
    word = re.search(r"\b(at|near|outside|opposite|behind|inside|in front of|in|on)\s+(?:the\s+)?$", before, re.I)
    return f"{word.group(1).lower()} {span.text}" if word else f"at {span.text}"


def summary_from_rules(reading: Reading, sections: list[LegalSectionRef]) -> str:
    """One or two sentences from the classified offence and the extracted facts."""
    labels = [f.category.label_hi if reading.hindi else f.category.label_en for f in reading.findings[:2]]
    if not labels:
        labels = [s.title.lower() for s in sections[:1]] or (["अपराध"] if reading.hindi else ["an offence"])
    date = next((f.source.text for f in reading.facts.of(FactKind.DATE) if f.source is not None), "")
    things = [i.description for i in reading.items if i.kind != "amount"][:2]
    vehicle = next((f.source.text for f in reading.facts.of(FactKind.VEHICLE) if f.source is not None), "")
    named = [p.name for p in reading.parties.accused if p.name]
    described = [p.description for p in reading.parties.accused if not p.name and p.source is not None]
    if reading.hindi:
        first = "शिकायतकर्ता ने"
        first += f" {date} को" if date else ""
        first += f" {reading.place.text} में" if reading.place else ""
        first += f" {' और '.join(labels)} की शिकायत की है"
        first += f" ({', '.join(things)})" if things else ""
        second = ""
        if named:
            second = f" शिकायत में {', '.join(named)} को आरोपी बताया गया है।"
        elif described:
            second = f" आरोपियों का विवरण: {described[0]}।"
        return _fit(first + "।" + second)
    first = f"The complainant reports {' and '.join(labels)}"
    first += f" of {', '.join(things)}" if things else ""
    first += f" ({vehicle})" if vehicle and things else ""
    first += f" {_with_preposition(reading, reading.place)}" if reading.place else ""
    first += f" on {date}" if date else ""
    second = ""
    if named:
        second = f" The complaint names {', '.join(named)} as the accused."
    elif described:
        description = re.sub(r"^(The|A|An) ", lambda m: m.group(1).lower() + " ", described[0])
        second = f" The offenders are described as {description}."
    return _fit(first + "." + second)


def _fit(summary: str) -> str:
    """At most the summary limit, cutting the second sentence first."""
    if len(summary) <= prose.MAX_SUMMARY:
        return summary
    first = re.split(r"(?<=[.।])\s", summary, maxsplit=1)[0]
    return first if len(first) <= prose.MAX_SUMMARY else first[: prose.MAX_SUMMARY - 1].rstrip(" ,") + "."


def cited_sections(
    reading: Reading, known: dict[str, LegalSection], model_choice: str, candidates: list[Candidate]
) -> list[LegalSectionRef]:
    """Sections from the rules, each with its reason and trigger words; the model only picks when the rules found none.

    A section missing from the knowledge base, or contradicting the complaint, is never cited."""
    cited: list[LegalSectionRef] = []
    for number, finding in offences.sections_for(reading.findings, reading.gates):
        section = known.get(number)
        if section is None:
            continue
        words = ", ".join(f"“{t.text}”" for t in finding.triggers)
        reason = f"{finding.category.reason}: {words}"
        cited.append(LegalSectionRef("BNS", number, section.title, reason[:300], list(finding.triggers)))
    if not cited:
        allowed = [c for c in candidates if reading.gates.allows(c.section) is None and c.section in known]
        chosen = next((c for c in allowed if c.section == model_choice), None) or (allowed[0] if allowed else None)
        if chosen is not None:
            how = "chosen by the model among" if chosen.section == model_choice else "the best of"
            reason = f"no offence rule matched; {how} the knowledge base's closest sections"
            cited.append(LegalSectionRef("BNS", chosen.section, chosen.title, reason))
    return cited[:MAX_SECTIONS]


def candidates_from(sections: list[LegalSection], gates: offences.Signals, limit: int) -> list[Candidate]:
    """Retrieved sections a complaint may cite: offences (with a punishment) that do not contradict it."""
    seen: set[str] = set()
    result = []
    for s in sections:
        if s.section in seen or not s.punishment or gates.allows(s.section) is not None:
            continue
        seen.add(s.section)
        result.append(Candidate(s.section, s.title))
    return result[:limit]


@dataclass
class DraftProse:
    """The summary and narrative a draft gets, and which of them the rules wrote."""

    summary: str
    narrative: str
    deterministic: list[str] = field(default_factory=list)


def choose_prose(reading: Reading, answer: Answer, sections: list[LegalSectionRef]) -> DraftProse:
    """The model's parts that pass their checks; the rules' for the others."""
    failed = problems(reading, answer)
    summary = answer.summary if "summary" not in failed else summary_from_rules(reading, sections)
    narrative = (
        answer.narrative
        if "narrative" not in failed
        else prose.narrative_from_complaint(reading.text, reading.language)
    )
    return DraftProse(summary, with_particulars(narrative, reading.facts), sorted(failed))


def with_particulars(narrative: str, facts: Facts) -> str:
    """Append the stated facts the narrative dropped, so none is lost."""
    missing = missing_from(facts, narrative)
    if not missing:
        return narrative
    return f"{narrative}\n\nParticulars stated in the complaint: {'; '.join(dict.fromkeys(missing))}."


def _person(party: parties.Party) -> Person:
    description = party.description or party.relation
    return Person(name=party.name, description=description, source=party.source)


def apply(fir: Fir, reading: Reading, written: DraftProse, sections: list[LegalSectionRef]) -> None:
    """Fill ``fir`` from the rules' reading and the chosen prose: every structured value carries its span."""
    fir.summary = written.summary
    fir.narrative = written.narrative
    fir.legal_sections = sections
    fir.accused = [_person(p) for p in reading.parties.accused]
    fir.witnesses = [_person(p) for p in reading.parties.witnesses]
    fir.properties = [Property(i.description, i.value_inr, i.source) for i in reading.items]
    fir.facts = list(reading.facts.items)
    if reading.place is not None:
        fir.incident.place, fir.incident.place_source = reading.place.text, reading.place
    if reading.facts.occurred_at is not None:
        fir.incident.occurred_from = reading.facts.occurred_at
        fir.incident.occurred_source = reading.facts.occurred_source
