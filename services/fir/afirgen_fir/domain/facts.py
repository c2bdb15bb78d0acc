"""Facts that rules extract reliably from a complaint: dates, times, phone
numbers, vehicle registration numbers and amounts of money, each with the
span of the complaint it was read from.

These rules, not the model, decide the facts a draft stores: whatever they
find survives into the draft, and amounts and the time of the incident come
from them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from afirgen_fir.domain.grounding import SourceText, Span, overlaps
from afirgen_fir.domain.model import FactKind, StatedFact

MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
} | {
    name: number
    for number, names in enumerate(
        [
            ("जनवरी",),
            ("फरवरी", "फ़रवरी"),
            ("मार्च",),
            ("अप्रैल",),
            ("मई",),
            ("जून",),
            ("जुलाई",),
            ("अगस्त",),
            ("सितंबर", "सितम्बर"),
            ("अक्टूबर",),
            ("नवंबर", "नवम्बर"),
            ("दिसंबर", "दिसम्बर"),
        ],
        start=1,
    )
    for name in names
}
_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
DATE = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+({_MONTH})\.?(?:,?\s+(\d{{4}}))?\b", re.I)
DATE_NUMERIC = re.compile(r"\b(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})\b")
TIME = re.compile(r"\b(\d{1,2})(?:[:.](\d{2}))?\s*([ap])\.?\s?m\b\.?", re.I)
# Hindi: "शाम लगभग 6 बजे" (about 6 in the evening).
TIME_HI = re.compile(r"(सुबह|दोपहर|शाम|रात)?\s*(?:लगभग\s*|करीब\s*)?(\d{1,2})\s*बजे")
RELATIVE_DAY = re.compile(r"\b(yesterday|today|last night|this morning)\b|(कल|आज)", re.I)
PHONE = re.compile(r"(?<![\w+])(?:\+91[\s-]?)?(?:[6-9]\d{4}[\s-]?\d{5}|\d{2,4}[\s-]\d{3,4}[\s-]\d{4})(?!\d)")
VEHICLE = re.compile(r"\b([A-Z]{2})[\s-]?(\d{1,2})[\s-]?([A-Z]{1,3})[\s-]?(\d{1,4})\b")
VEHICLE_PARTIAL = re.compile(r"\b([A-Z]{2})[\s-]?(\d{1,2})[\s-]?([A-Z]{1,3})\b")
AMOUNT = re.compile(
    r"(?:(?:rs\.?|inr|₹|rupees)\s*(\d[\d,]*(?:\.\d+)?)\s*(lakh|lac|crore)?)"
    r"|(?:(\d[\d,]*(?:\.\d+)?)\s*(lakh|lac|crore)?\s*(?:rupees|rs\b|/-|₹))"
    r"|(?:(\d[\d,]*(?:\.\d+)?)\s+(lakh|lac|crore)\b)"
    r"|(?:(\d[\d,]*(?:\.\d+)?)\s*(लाख|करोड़)?\s*(?:रुपये|रुपए|रु\.?))",
    re.I,
)
_SCALE = {"lakh": 100_000, "lac": 100_000, "crore": 10_000_000, "लाख": 100_000, "करोड़": 10_000_000}


@dataclass
class Facts:
    """What the rules found, each fact with its span of the complaint."""

    items: list[StatedFact] = field(default_factory=list)
    occurred_at: datetime | None = None
    occurred_source: Span | None = None

    def of(self, kind: FactKind) -> list[StatedFact]:
        """The facts of one kind, in the order of the complaint."""
        return [f for f in self.items if f.kind is kind]

    @property
    def amount_values(self) -> list[float]:
        """Every stated amount in rupees."""
        return [float(f.value) for f in self.of(FactKind.AMOUNT)]

    def mentions(self) -> list[str]:
        """Every fact as written in the complaint, for the keep-these check."""
        return [f.source.text for f in self.items if f.source is not None]


def _amount_value(number: str, scale: str | None) -> float:
    value = float(number.replace(",", ""))
    return value * _SCALE.get((scale or "").lower(), 1)


def _first_datetime(text: str, reference: datetime, offset: timedelta) -> tuple[datetime, int, int] | None:
    """The first date in the text with the first time in it, local time -> UTC, and where the date is."""
    local_now = (reference + offset).replace(tzinfo=None)
    year_given = True
    if match := DATE.search(text):
        day, month = int(match.group(1)), MONTHS[match.group(2).lower()]
        year_given = match.group(3) is not None
        year = int(match.group(3)) if year_given else local_now.year
    elif match := DATE_NUMERIC.search(text):
        day, month, year = int(match.group(1)), int(match.group(2)), int(match.group(3))
    elif match := RELATIVE_DAY.search(text):
        word = (match.group(1) or match.group(2)).lower()
        back = 1 if word in ("yesterday", "last night", "कल") else 0
        when = local_now - timedelta(days=back)
        day, month, year = when.day, when.month, when.year
    else:
        return None
    hour = minute = 0
    if tmatch := TIME.search(text):
        hour = int(tmatch.group(1)) % 12 + (12 if tmatch.group(3).lower() == "p" else 0)
        minute = int(tmatch.group(2) or 0)
    elif hmatch := TIME_HI.search(text):
        hour = int(hmatch.group(2)) % 24
        if hmatch.group(1) in ("दोपहर", "शाम", "रात") and hour < 12:
            hour += 12
    try:
        local = datetime(year, month, day, hour, minute)
    except ValueError:
        return None
    if not year_given and local > local_now:
        local = local.replace(year=local.year - 1)  # "5 April" means the last 5 April
    return (local - offset).replace(tzinfo=UTC), match.start(), match.end()


def extract(text: str, *, reference: datetime, utc_offset: timedelta = timedelta(hours=5, minutes=30)) -> Facts:
    """Run every rule over ``text``; ``reference`` is now (for dates without a year)."""
    source = SourceText(text)
    found: list[tuple[int, StatedFact]] = []

    def add(kind: FactKind, match: re.Match[str], value: str, group: int = 0) -> None:
        span = source.span(match.start(group), match.end(group))
        # One fact per value (a date repeated is one date), and one per stretch of text.
        if span and not any(f.kind is kind and (f.value == value or overlaps(s, span)) for s, f in _spans(found)):
            found.append((span.start, StatedFact(kind, value, span)))

    for m in DATE.finditer(text):
        add(FactKind.DATE, m, f"{m.group(1)} {m.group(2)}" + (f" {m.group(3)}" if m.group(3) else ""))
    for m in DATE_NUMERIC.finditer(text):
        add(FactKind.DATE, m, f"{int(m.group(3)):04d}-{int(m.group(2)):02d}-{int(m.group(1)):02d}")
    for m in TIME.finditer(text):
        add(FactKind.TIME, m, m.group(0).strip())
    for m in TIME_HI.finditer(text):
        add(FactKind.TIME, m, m.group(0).strip())
    for m in PHONE.finditer(text):
        add(FactKind.PHONE, m, re.sub(r"\D", "", m.group(0))[-10:])
    vehicles = list(VEHICLE.finditer(text))
    for m in vehicles:
        add(FactKind.VEHICLE, m, "".join(m.groups()).upper())
    for m in VEHICLE_PARTIAL.finditer(text):
        if re.search(r"\d", m.group(0)) and not any(v.start() <= m.start() < v.end() for v in vehicles):
            add(FactKind.VEHICLE, m, "".join(m.groups()).upper())
    for m in AMOUNT.finditer(text):
        number = m.group(1) or m.group(3) or m.group(5) or m.group(7)
        scale = m.group(2) or m.group(4) or m.group(6) or m.group(8)
        if number and re.search(r"\d", number):
            add(FactKind.AMOUNT, m, f"{_amount_value(number, scale):g}")
    facts = Facts(items=[fact for _, fact in sorted(found, key=lambda item: item[0])])
    if when := _first_datetime(text, reference, utc_offset):
        facts.occurred_at = when[0]
        facts.occurred_source = source.span(when[1], when[2])
    return facts


def _spans(found: list[tuple[int, StatedFact]]) -> list[tuple[Span, StatedFact]]:
    return [(f.source, f) for _, f in found if f.source is not None]


def missing_from(facts: Facts, draft_text: str) -> list[str]:
    """Facts the draft does not repeat (compared without spaces and case)."""

    def norm(value: str) -> str:
        return re.sub(r"[\s,.-]", "", value).lower()

    haystack = norm(draft_text)
    return [fact for fact in facts.mentions() if norm(fact) not in haystack]
