"""Sections of the legal knowledge base, and how statute files map onto them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_SECTION_QUERY = re.compile(
    r"^\s*(?:(?P<act>[A-Za-z]{2,10})\s*)?(?:s\.?|sec\.?|section)?\s*(?P<num>\d{1,4}[A-Z]?)(?:\(\w{1,3}\))*\s*$",
    re.I,
)


@dataclass
class LegalSection:
    """One section of an act, as the knowledge base holds it."""

    act: str
    section: str
    title: str
    description: str = ""
    punishment: str = ""
    cognizable: bool | None = None
    bailable: bool | None = None
    triable_by: str = ""
    keywords: str = ""
    score: float = 0.0


def base_section(section: str) -> str:
    """``303(2)`` -> ``303``: the knowledge base keys on the main section."""
    match = re.match(r"\s*(\d{1,4}[A-Z]?)", str(section))
    return match.group(1) if match else str(section).strip()


def section_lookup(query: str) -> tuple[str | None, str] | None:
    """``(act, section)`` when the query is a section number such as ``BNS 303(2)``."""
    match = _SECTION_QUERY.match(query)
    if not match:
        return None
    act = match.group("act")
    if act and act.lower() in {"s", "sec", "section"}:
        act = None
    return (act.upper() if act else None), match.group("num")


def _tri_state(text: str) -> bool | None:
    low = text.strip().lower()
    if low.startswith(("non-cognizable", "non-bailable")):
        return False
    if low.startswith(("cognizable", "bailable")):
        return True
    return None  # "According as offence abetted is ..." and the like


def from_statute(section_row: dict[str, Any], schedule_rows: list[dict[str, Any]], act: str = "BNS") -> LegalSection:
    """Merge a ``bns_sections.jsonl`` row with its ``bns_offence_schedule.jsonl`` rows.

    The first schedule row of a section is its principal offence; later rows
    are aggravated or lesser forms and are appended to the punishment text.
    """
    section = str(section_row["Section"]).strip()
    description = " ".join(str(section_row.get("Legal Definition", "")).split())
    result = LegalSection(
        act=act, section=section, title=str(section_row.get("Title", "")).strip(), description=description
    )
    if schedule_rows:
        first = schedule_rows[0]
        result.cognizable = _tri_state(str(first.get("Cognizable?", "")))
        result.bailable = _tri_state(str(first.get("Bailable?", "")))
        result.triable_by = str(first.get("Triable By", "")).strip()[:200]
        parts = [f"{r.get('Offence', '').strip()} {r.get('Punishment', '').strip()}".strip() for r in schedule_rows]
        result.punishment = " | ".join(p for p in parts if p)
    return result
