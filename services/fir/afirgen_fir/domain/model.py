"""The FIR as the domain sees it: plain dataclasses, no I/O, no protobuf."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum

from afirgen_fir.domain.grounding import Span


class FirStatus(str, Enum):
    """Lifecycle of an FIR."""

    DRAFT = "DRAFT"
    FINALIZED = "FINALIZED"


class ComplaintSource(str, Enum):
    """How the complaint reached the station."""

    UNSPECIFIED = "UNSPECIFIED"
    TEXT = "TEXT"
    AUDIO = "AUDIO"
    IMAGE = "IMAGE"
    MANUAL = "MANUAL"


@dataclass
class Station:
    code: str = ""
    name: str = ""
    district: str = ""
    state: str = ""


@dataclass
class Date:
    year: int = 0
    month: int = 0
    day: int = 0


@dataclass
class Complainant:
    name: str = ""
    parent_or_spouse_name: str = ""
    date_of_birth: Date | None = None
    nationality: str = ""
    occupation: str = ""
    address: str = ""
    phone: str = ""
    email: str = ""


@dataclass
class Incident:
    occurred_from: datetime | None = None
    occurred_to: datetime | None = None
    place: str = ""
    address: str = ""
    distance_km: float = 0.0
    direction_from_station: str = ""
    reporting_delay_hours: float = 0.0
    delay_reason: str = ""
    place_source: Span | None = None
    """Where in the complaint the place was read (drafted values only)."""
    occurred_source: Span | None = None
    """Where in the complaint the date of the incident was read (drafted values only)."""


@dataclass
class Person:
    name: str = ""
    address: str = ""
    description: str = ""
    source: Span | None = None
    """The complaint's words this person was drafted from."""


@dataclass
class Property:
    description: str = ""
    value_inr: float = 0.0
    source: Span | None = None
    """The complaint's words this item was drafted from."""


class FactKind(str, Enum):
    """What a stated fact is."""

    UNSPECIFIED = "UNSPECIFIED"
    DATE = "DATE"
    TIME = "TIME"
    PHONE = "PHONE"
    VEHICLE = "VEHICLE"
    AMOUNT = "AMOUNT"


@dataclass
class StatedFact:
    """One fact as the complaint states it: its kind, a normalised value and where it was read."""

    kind: FactKind = FactKind.UNSPECIFIED
    value: str = ""
    source: Span | None = None


@dataclass
class Complaint:
    source: ComplaintSource = ComplaintSource.UNSPECIFIED
    text: str = ""
    language: str = ""


@dataclass
class LegalSectionRef:
    act: str = ""
    section: str = ""
    title: str = ""
    reason: str = ""
    triggers: list[Span] = field(default_factory=list)
    """The complaint's words that led to this section (drafted sections only)."""


@dataclass
class Officer:
    name: str = ""
    rank: str = ""


@dataclass
class GenerationInfo:
    model: str = ""
    prompt_version: str = ""
    stage_millis: dict[str, float] = field(default_factory=dict)
    deterministic_parts: list[str] = field(default_factory=list)
    """Parts written from the complaint by rules because the model's answer failed its checks."""


@dataclass
class Fir:
    """A First Information Report. Fields not loaded (read mask) keep defaults."""

    id: str = ""
    fir_number: str = ""
    status: FirStatus = FirStatus.DRAFT
    station: Station = field(default_factory=Station)
    complainant: Complainant = field(default_factory=Complainant)
    incident: Incident = field(default_factory=Incident)
    accused: list[Person] = field(default_factory=list)
    witnesses: list[Person] = field(default_factory=list)
    properties: list[Property] = field(default_factory=list)
    complaint: Complaint = field(default_factory=Complaint)
    summary: str = ""
    narrative: str = ""
    legal_sections: list[LegalSectionRef] = field(default_factory=list)
    action_taken: str = ""
    investigating_officer: Officer = field(default_factory=Officer)
    generation: GenerationInfo | None = None
    facts: list[StatedFact] = field(default_factory=list)
    """Dates, times, amounts, vehicle and phone numbers the complaint states, with where."""
    create_time: datetime | None = None
    update_time: datetime | None = None
    finalize_time: datetime | None = None
    revision: int = 0

    @property
    def etag(self) -> str:
        """Opaque version tag (AIP-154): changes with every revision."""
        return etag_for(self.id, self.revision)


def etag_for(fir_id: str, revision: int) -> str:
    """The etag of revision ``revision`` of FIR ``fir_id``."""
    return hashlib.sha256(f"{fir_id}:{revision}".encode()).hexdigest()[:20]


def fir_number(station_code: str, year: int, seq: int) -> str:
    """``STATION/YEAR/NNNNN``."""
    return f"{station_code}/{year}/{seq:05d}"


# Top-level FIR fields an officer may change on a DRAFT (AIP-134 update_mask).
EDITABLE_FIELDS = frozenset(
    {
        "complainant",
        "incident",
        "accused",
        "witnesses",
        "properties",
        "summary",
        "narrative",
        "legal_sections",
        "action_taken",
        "investigating_officer",
    }
)

# Every top-level field, for read masks.
ALL_FIELDS = frozenset(
    {
        "id",
        "fir_number",
        "status",
        "station",
        "complainant",
        "incident",
        "accused",
        "witnesses",
        "properties",
        "complaint",
        "summary",
        "narrative",
        "legal_sections",
        "action_taken",
        "investigating_officer",
        "generation",
        "facts",
        "create_time",
        "update_time",
        "finalize_time",
        "etag",
    }
)
