"""Rules an FIR must satisfy before it is stored. Every problem is reported at
once, as field violations, so a client can fix the whole request in one go."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime, timedelta

from afirgen_runtime.errors import FieldViolation, InvalidArgument

from afirgen_fir.domain.grounding import SourceText, Span
from afirgen_fir.domain.model import Date, Fir, Person

STATION_CODE = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,15}$")
PHONE = re.compile(r"^\+?[0-9][0-9 -]{6,18}[0-9]$")
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,253}\.[A-Za-z]{2,24}$")
SECTION = re.compile(r"^[0-9]{1,4}[A-Z]?(\([0-9a-z]{1,3}\)){0,3}$")
ACT = re.compile(r"^[A-Z][A-Za-z0-9 .-]{1,15}$")
LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")

MAX = {
    "name": 200,
    "short": 200,
    "address": 500,
    "description": 1000,
    "summary": 4000,
    "narrative": 20000,
    "complaint": 20000,
    "action_taken": 4000,
    "reason": 1000,
    "column": 100,
}
MAX_TRIGGERS = 20
# Line breaks and tabs are text in long fields; every other control character is refused.
_MULTILINE_OK = frozenset("\n\r\t")
MAX_PEOPLE = 50
MAX_PROPERTIES = 100
MAX_SECTIONS = 30
MAX_VALUE_INR = 1e12


class _Check:
    def __init__(self) -> None:
        self.violations: list[FieldViolation] = []

    def fail(self, field: str, description: str) -> None:
        self.violations.append(FieldViolation(field, description))

    def length(self, field: str, value: str, limit: int, *, required: bool = False, multiline: bool = False) -> None:
        if required and not value.strip():
            self.fail(field, "is required")
        elif len(value) > limit:
            self.fail(field, f"must be at most {limit} characters")
        elif any(unicodedata.category(ch) == "Cc" and not (multiline and ch in _MULTILINE_OK) for ch in value):
            self.fail(field, "must not contain control characters" + ("" if multiline else " or line breaks"))

    def quotes(self, field: str, span: Span | None, source: SourceText) -> None:
        if span is not None and span and not source.quotes(span):
            self.fail(field, "must quote the complaint text exactly at [start, end)")

    def pattern(self, field: str, value: str, regex: re.Pattern[str], what: str) -> None:
        if value and not regex.match(value):
            self.fail(field, f"must be {what}")


def _date(check: _Check, field: str, value: Date | None, today: date) -> None:
    if value is None or (value.year, value.month, value.day) == (0, 0, 0):
        return
    try:
        parsed = date(value.year, value.month, value.day)
    except ValueError:
        check.fail(field, "is not a valid calendar date")
        return
    if parsed > today or parsed.year < 1900:
        check.fail(field, "must be between 1900-01-01 and today")


def _people(check: _Check, field: str, people: list[Person], source: SourceText) -> None:
    if len(people) > MAX_PEOPLE:
        check.fail(field, f"must list at most {MAX_PEOPLE} people")
    for i, person in enumerate(people[:MAX_PEOPLE]):
        check.length(f"{field}[{i}].name", person.name, MAX["name"])
        check.length(f"{field}[{i}].address", person.address, MAX["address"], multiline=True)
        check.length(f"{field}[{i}].description", person.description, MAX["description"], multiline=True)
        check.quotes(f"{field}[{i}].source", person.source, source)
        if not (person.name.strip() or person.description.strip()):
            check.fail(f"{field}[{i}]", "needs a name or a description")


def violations(fir: Fir, now: datetime | None = None) -> list[FieldViolation]:
    """Everything wrong with ``fir`` (empty when it may be stored)."""
    now = now or datetime.now(UTC)
    c = _Check()
    st = fir.station
    if not st.code:
        c.fail("station.code", "is required")
    c.pattern("station.code", st.code, STATION_CODE, "2-16 characters of A-Z, 0-9 and '-', e.g. DL-CP-01")
    c.length("station.name", st.name, MAX["short"])
    c.length("station.district", st.district, MAX["column"])
    c.length("station.state", st.state, MAX["column"])

    cp = fir.complainant
    c.length("complainant.name", cp.name, MAX["name"], required=True)
    c.length("complainant.parent_or_spouse_name", cp.parent_or_spouse_name, MAX["name"])
    c.length("complainant.nationality", cp.nationality, MAX["short"])
    c.length("complainant.occupation", cp.occupation, MAX["short"])
    c.length("complainant.address", cp.address, MAX["address"], multiline=True)
    c.length("complainant.phone", cp.phone, MAX["short"])
    c.length("complainant.email", cp.email, MAX["short"])
    c.pattern("complainant.phone", cp.phone, PHONE, "a phone number of 8-20 digits, optionally with + and spaces")
    c.pattern("complainant.email", cp.email, EMAIL, "an e-mail address")
    _date(c, "complainant.date_of_birth", cp.date_of_birth, now.date())

    inc = fir.incident
    if inc.occurred_from and inc.occurred_to and inc.occurred_from > inc.occurred_to:
        c.fail("incident.occurred_to", "must not be before incident.occurred_from")
    for name, when in (("occurred_from", inc.occurred_from), ("occurred_to", inc.occurred_to)):
        if when and when > now + timedelta(hours=1):
            c.fail(f"incident.{name}", "must not be in the future")
    source = SourceText(fir.complaint.text)
    c.length("incident.place", inc.place, MAX["short"])
    c.quotes("incident.place_source", inc.place_source, source)
    c.quotes("incident.occurred_source", inc.occurred_source, source)
    c.length("incident.address", inc.address, MAX["address"], multiline=True)
    c.length("incident.direction_from_station", inc.direction_from_station, 50)
    c.length("incident.delay_reason", inc.delay_reason, MAX["reason"], multiline=True)
    if not 0 <= inc.distance_km <= 5000:
        c.fail("incident.distance_km", "must be between 0 and 5000")
    if not 0 <= inc.reporting_delay_hours <= 24 * 365 * 50:
        c.fail("incident.reporting_delay_hours", "must not be negative")

    _people(c, "accused", fir.accused, source)
    _people(c, "witnesses", fir.witnesses, source)
    if len(fir.properties) > MAX_PROPERTIES:
        c.fail("properties", f"must list at most {MAX_PROPERTIES} items")
    for i, prop in enumerate(fir.properties[:MAX_PROPERTIES]):
        c.length(f"properties[{i}].description", prop.description, MAX["description"], required=True, multiline=True)
        c.quotes(f"properties[{i}].source", prop.source, source)
        if not 0 <= prop.value_inr <= MAX_VALUE_INR:
            c.fail(f"properties[{i}].value_inr", "must be between 0 and 1e12")

    c.length("complaint.text", fir.complaint.text, MAX["complaint"], multiline=True)
    c.pattern("complaint.language", fir.complaint.language, LANGUAGE, "a BCP-47 code such as en or hi")
    c.length("summary", fir.summary, MAX["summary"], multiline=True)
    c.length("narrative", fir.narrative, MAX["narrative"], multiline=True)
    c.length("action_taken", fir.action_taken, MAX["action_taken"], multiline=True)
    if len(fir.legal_sections) > MAX_SECTIONS:
        c.fail("legal_sections", f"must list at most {MAX_SECTIONS} sections")
    seen: set[tuple[str, str]] = set()
    for i, ref in enumerate(fir.legal_sections[:MAX_SECTIONS]):
        c.pattern(f"legal_sections[{i}].act", ref.act, ACT, "an act code such as BNS")
        if not ref.act:
            c.fail(f"legal_sections[{i}].act", "is required")
        if not ref.section:
            c.fail(f"legal_sections[{i}].section", "is required")
        c.pattern(f"legal_sections[{i}].section", ref.section, SECTION, "a section number such as 303(2)")
        c.length(f"legal_sections[{i}].title", ref.title, MAX["short"])
        c.length(f"legal_sections[{i}].reason", ref.reason, MAX["reason"], multiline=True)
        if len(ref.triggers) > MAX_TRIGGERS:
            c.fail(f"legal_sections[{i}].triggers", f"must list at most {MAX_TRIGGERS} spans")
        for j, trigger in enumerate(ref.triggers[:MAX_TRIGGERS]):
            c.quotes(f"legal_sections[{i}].triggers[{j}]", trigger, source)
        if (ref.act, ref.section) in seen:
            c.fail(f"legal_sections[{i}]", "lists the same section twice")
        seen.add((ref.act, ref.section))
    c.length("investigating_officer.name", fir.investigating_officer.name, MAX["name"])
    c.length("investigating_officer.rank", fir.investigating_officer.rank, MAX["column"])
    return c.violations


def ensure_valid(fir: Fir, now: datetime | None = None) -> None:
    """Raise INVALID_ARGUMENT listing every violation."""
    found = violations(fir, now)
    if found:
        summary = "; ".join(f"{v.field}: {v.description}" for v in found[:5])
        more = f" (and {len(found) - 5} more)" if len(found) > 5 else ""
        raise InvalidArgument(f"the FIR is not valid: {summary}{more}", violations=found)


def size_violations(counts: dict[str, int]) -> list[FieldViolation]:
    """List sizes over their limits, from counts taken before any conversion of the request."""
    limits = {"accused": MAX_PEOPLE, "witnesses": MAX_PEOPLE, "properties": MAX_PROPERTIES}
    limits["legal_sections"] = MAX_SECTIONS
    return [
        FieldViolation(name, f"must list at most {limit} entries")
        for name, limit in limits.items()
        if counts.get(name, 0) > limit
    ]
