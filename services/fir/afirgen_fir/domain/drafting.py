"""Drafting an FIR from a complaint: the prompts, the bounded JSON schema the
model must follow, and the rules that turn its answer into FIR fields.

The model may only cite sections from the candidates retrieved from the
knowledge base (the schema's ``enum`` enforces it while decoding, and
:func:`apply_draft` drops anything else). Facts that rules extract (amounts,
dates, vehicle numbers, phone numbers) win over the model and must survive
into the narrative.

The schema bounds everything while decoding: list sizes (``maxItems``),
section numbers (``enum``) and short string lengths (``maxLength``), because a
small model left unbounded repeats itself until the token budget runs out and
the JSON never closes. The narrative is asked for separately as plain text.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from afirgen_fir.domain.facts import Facts, missing_from
from afirgen_fir.domain.legal import LegalSection
from afirgen_fir.domain.model import Fir, LegalSectionRef, Person, Property

PROMPT_VERSION = "fir-draft-v1"
MAX_SUMMARY = 300
MAX_NARRATIVE = 1000
MAX_PEOPLE = 3
MAX_PROPERTIES = 3
MAX_SECTIONS = 3
MAX_FIELD = 100  # characters of any string the model writes into the structure

SYSTEM = (
    "You help an Indian police officer draft a First Information Report (FIR) under the Bharatiya Nyaya "
    "Sanhita (BNS). Use only facts stated in the complaint. Do not invent names, numbers or events. "
    "Answer in English with JSON only."
)


@dataclass(frozen=True)
class Candidate:
    """A section the model may choose."""

    section: str
    title: str
    description: str


def candidates_from(sections: list[LegalSection], limit: int = 8) -> list[Candidate]:
    """Distinct candidate sections, best first."""
    seen: set[str] = set()
    result = []
    for s in sections:
        if s.section in seen:
            continue
        seen.add(s.section)
        result.append(Candidate(s.section, s.title, " ".join(s.description.split())[:240]))
    return result[:limit]


def _people_schema() -> dict[str, Any]:
    return {
        "type": "array",
        "maxItems": MAX_PEOPLE,
        "items": {
            "type": "object",
            "properties": {
                "name": {"type": "string", "maxLength": MAX_FIELD},
                "description": {"type": "string", "maxLength": MAX_FIELD},
            },
            "required": ["name", "description"],
        },
    }


def sections_schema(candidates: list[Candidate]) -> dict[str, Any]:
    """Schema of the ``sections`` list: only candidate numbers are allowed."""
    return {
        "type": "array",
        "minItems": 1,
        "maxItems": MAX_SECTIONS,
        "items": {
            "type": "object",
            "properties": {
                "section": {"type": "string", "enum": [c.section for c in candidates]},
                "reason": {"type": "string", "maxLength": MAX_FIELD},
            },
            "required": ["section", "reason"],
        },
    }


def draft_schema(candidates: list[Candidate]) -> dict[str, Any]:
    """The bounded JSON schema of a whole draft."""
    return {
        "type": "object",
        "properties": {
            "summary": {"type": "string", "maxLength": 2 * MAX_FIELD},
            "sections": sections_schema(candidates),
            "place": {"type": "string", "maxLength": MAX_FIELD},
            "accused": _people_schema(),
            "witnesses": _people_schema(),
            "property": {
                "type": "array",
                "maxItems": MAX_PROPERTIES,
                "items": {
                    "type": "object",
                    "properties": {
                        "description": {"type": "string", "maxLength": MAX_FIELD},
                        "value_inr": {"type": "number", "minimum": 0},
                    },
                    "required": ["description", "value_inr"],
                },
            },
        },
        "required": ["summary", "sections", "place", "accused", "witnesses", "property"],
    }


def _candidate_lines(candidates: list[Candidate]) -> str:
    return "\n".join(f"- BNS {c.section}: {c.title}. {c.description}" for c in candidates)


def draft_messages(complaint: str, candidates: list[Candidate], facts: Facts) -> list[tuple[str, str]]:
    """Chat messages asking for the whole draft."""
    noted = ", ".join(facts.mentions()) or "none"
    user = (
        f"Complaint:\n{complaint}\n\n"
        f"Candidate BNS sections (choose the ones that apply, only from this list):\n{_candidate_lines(candidates)}\n\n"
        f"Facts noted by the clerk: {noted}\n\n"
        "Write JSON with: summary (one sentence), sections (section number and why it applies, briefly), place "
        "(where it happened), accused and witnesses (name, or 'unknown' with a short description), property (item "
        "and value in rupees)."
    )
    return [("system", SYSTEM), ("user", user)]


def narrative_messages(complaint: str, facts: Facts) -> list[tuple[str, str]]:
    """Chat messages asking for the narrative as plain text (streamed to the client)."""
    noted = ", ".join(facts.mentions()) or "none"
    user = (
        f"Complaint:\n{complaint}\n\nFacts noted by the clerk: {noted}\n\n"
        "Write the FIR narrative: the facts in the third person, in order, in at most 120 words, keeping every "
        "date, time, amount and number. Answer with the narrative only."
    )
    return [("system", SYSTEM.replace(" with JSON only", "")), ("user", user)]


def part_messages(part: str, fir: Fir, candidates: list[Candidate], guidance: str) -> list[tuple[str, str]]:
    """Chat messages re-drafting one part of an existing draft."""
    asks = {
        "summary": "Write a one-sentence summary of the offence. Answer with the sentence only.",
        "narrative": (
            "Write the FIR narrative: the facts in the third person, in order, keeping every date, time, amount "
            "and number. Answer with the narrative only."
        ),
        "legal_sections": "Choose the BNS sections that apply, only from the candidates. Answer in JSON.",
    }
    context = f"Complaint:\n{fir.complaint.text}\n\nCurrent summary: {fir.summary}\n"
    if part == "legal_sections":
        context += f"\nCandidate BNS sections:\n{_candidate_lines(candidates)}\n"
    if guidance:
        context += f"\nThe officer asks: {guidance}\n"
    return [("system", SYSTEM.replace(" with JSON only", "")), ("user", f"{context}\n{asks[part]}")]


class DraftError(ValueError):
    """The model's answer cannot be turned into a draft."""


def parse_json(text: str) -> dict[str, Any]:
    """The model's JSON answer (the proxy validates it; this guards the shape)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DraftError(f"the model's answer is not JSON ({exc.msg})") from None
    if not isinstance(data, dict):
        raise DraftError("the model's answer is not a JSON object")
    return data


def _text(value: Any, limit: int) -> str:
    return " ".join(str(value or "").split())[:limit]


def choose_sections(raw: Any, candidates: list[Candidate]) -> list[LegalSectionRef]:
    """Sections the model chose, restricted to candidates; the best candidate if none survive."""
    by_number = {c.section: c for c in candidates}
    chosen: list[LegalSectionRef] = []
    for item in raw if isinstance(raw, list) else []:
        if not isinstance(item, dict):
            continue
        number = str(item.get("section", "")).strip()
        if number in by_number and all(ref.section != number for ref in chosen):
            chosen.append(LegalSectionRef("BNS", number, by_number[number].title, _text(item.get("reason"), 200)))
    if not chosen and candidates:
        best = candidates[0]
        chosen.append(LegalSectionRef("BNS", best.section, best.title, "closest match in the legal knowledge base"))
    return chosen[:MAX_SECTIONS]


def _people(raw: Any) -> list[Person]:
    people = []
    for item in raw if isinstance(raw, list) else []:
        if isinstance(item, dict):
            name, description = _text(item.get("name"), 100), _text(item.get("description"), 200)
            if name or description:
                people.append(Person(name=name if name.lower() != "unknown" else "", description=description or name))
    return people[:MAX_PEOPLE]


def _properties(raw: Any, facts: Facts) -> list[Property]:
    """Items from the model; values only where the complaint states them."""
    stated = set(facts.amount_values)
    items = []
    for item in raw if isinstance(raw, list) else []:
        if not isinstance(item, dict) or not _text(item.get("description"), 150):
            continue
        try:
            value = float(item.get("value_inr") or 0)
        except (TypeError, ValueError):
            value = 0.0
        items.append(Property(_text(item.get("description"), 150), value if value in stated else 0.0))
    items = items[:MAX_PROPERTIES]
    if stated and max(stated) not in {p.value_inr for p in items}:
        # The stated value always survives, even when the model listed the maximum of items.
        items = [*items[: MAX_PROPERTIES - 1], Property("Value stated in the complaint", max(stated))]
    return items


def _cut_at_sentence(text: str, limit: int) -> str:
    """At most ``limit`` characters, ending at a sentence end when one is near (token budgets cut mid-word)."""
    if len(text) <= limit and re.search(r"[.!?।]\s*$", text):
        return text
    cut = text[:limit]
    end = max(cut.rfind(". "), cut.rfind(".\n"), cut.rfind("।"), cut.rfind("? "), cut.rfind("! "))
    return cut[: end + 1] if end > len(cut) // 2 else cut.rstrip() + ("" if cut.endswith(".") else "...")


def first_sentence(text: str, limit: int = MAX_SUMMARY) -> str:
    """The complaint's first sentence, as a summary of last resort."""
    flat = " ".join(text.split())
    match = re.match(r"(.+?[.!?।])(\s|$)", flat)
    return (match.group(1) if match else flat)[:limit]


def with_particulars(narrative: str, facts: Facts) -> str:
    """Append the rule-extracted facts the narrative dropped."""
    missing = missing_from(facts, narrative)
    if not missing:
        return narrative
    return f"{narrative}\n\nParticulars stated in the complaint: {'; '.join(dict.fromkeys(missing))}."


def apply_draft(fir: Fir, data: dict[str, Any], narrative: str, candidates: list[Candidate], facts: Facts) -> None:
    """Fill ``fir`` from the model's JSON and narrative, cross-checked by the rules."""
    complaint = fir.complaint.text
    fir.summary = _text(data.get("summary"), MAX_SUMMARY) or first_sentence(complaint)
    narrative = _cut_at_sentence(narrative.strip(), MAX_NARRATIVE)
    if len(narrative) < 40:
        narrative = f"The complainant stated: {' '.join(complaint.split())}"
    fir.narrative = with_particulars(narrative, facts)
    fir.legal_sections = choose_sections(data.get("sections"), candidates)
    fir.incident.place = _text(data.get("place"), 150) or fir.incident.place
    if facts.occurred_at is not None:
        fir.incident.occurred_from = facts.occurred_at
    fir.accused = _people(data.get("accused"))
    fir.witnesses = _people(data.get("witnesses"))
    fir.properties = _properties(data.get("property"), facts)
