"""The people a complaint names or describes: accused and witnesses.

Rules, not the model, decide who is accused, and only from the complaint's
own words. A name is taken only where the complaint introduces it ("my
neighbour Kulwant", "a man named Rohit", "married to Vikram Singh", a
surname such as "Naveen Joshi"), never guessed from other capitalised words.
A named person is accused only on evidence in the text:

- the complaint makes them the doer ("Kulwant and two of his men entered",
  "मनोज तिवारी ने ... कहा", "पप्पू यादव ... हफ़्ता लेता है"), directly or in
  the next sentence through a pronoun ("He slapped me", "उसने ...");
- it asks for action against them ("against Naveen Joshi");
- in a cruelty complaint, they are the husband or his relatives;
- or they are the only person named who is neither the complainant's family
  nor a victim nor a witness, in a complaint that describes no other offender.

Family, victims and witnesses are never accused without direct evidence.
Offenders the complaint does not name are kept as it describes them ("two
men on a red scooter"), never given a name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from afirgen_fir.domain.grounding import SourceText, Span, overlaps
from afirgen_fir.domain.offences import sentences
from afirgen_fir.domain.surnames import SURNAMES_EN, SURNAMES_HI

MAX_ACCUSED = 4
MAX_WITNESSES = 3

# --- names -------------------------------------------------------------------
_NAME_EN = r"(?-i:[A-Z][a-z]{1,20}(?:\s+[A-Z][a-z]{1,20}){0,2})"
FAMILY = frozenset(
    """
    father mother son daughter brother sister cousin uncle aunt nephew niece wife friend flatmate roommate
    grandson granddaughter grandfather grandmother caretaker
    """.split()
)
SPOUSE_SIDE = frozenset({"husband", "father-in-law", "mother-in-law", "brother-in-law", "sister-in-law", "ex-husband"})
_RELATIONS_EN = "|".join(
    sorted(
        FAMILY
        | SPOUSE_SIDE
        | set(
            [
                "neighbour",
                "neighbor",
                "classmate",
                "colleague",
                "landlord",
                "tenant",
                "employer",
                "servant",
                "maid",
                "driver",
                "boss",
                "manager",
                "partner",
                "relative",
                "employee",
                "shopkeeper",
                "contractor",
                "agent",
                "accountant",
                "goldsmith",
                "jeweller",
            ]
        ),
        key=len,
        reverse=True,
    )
)
_NOT_NAMES = frozenset(
    """
    I My The On When He She They We It This That Then After Before Since Yesterday Today Sir Madam Police
    Station Hero Honda Bajaj Activa Splendor Pulsar Samsung Apple Vivo Oppo Redmi Instagram Facebook WhatsApp
    Paytm Google PhonePe UPI SBI HDFC ICICI Axis OTP SMS ATM Aadhaar PAN Road Nagar Sector Colony Market
    Street Hospital January February March April May June July August September October November December To
    From Please Monday Tuesday Wednesday Thursday Friday Saturday Sunday Mr Mrs Ms Shri Smt Dr SHO Two One
    Three
    """.split()
)
NAME_PATTERNS_EN = (
    (
        rf"\b(my|our|his|her)\s+(?:[a-z]+\s+){{0,2}}?({_RELATIONS_EN})\s*,?\s+(?:(?:Mr|Mrs|Ms|Shri|Smt|Dr)\.?\s+)?"
        rf"({_NAME_EN})",
        "relation",
    ),
    (rf"\bmarried(?:\s+to)?\s+({_NAME_EN})", "spouse"),
    (rf"\b(?:named|called)\s+({_NAME_EN})", "named"),
    (rf"\b(?:Mr|Mrs|Ms|Shri|Smt|Sri|Dr)\.?\s+({_NAME_EN})", "named"),
    (rf"\b({_NAME_EN})\s*,?\s+(?:s/o|d/o|w/o|son of|daughter of|wife of)\b", "named"),
    (rf"\baccused\s+({_NAME_EN})", "accused"),
)
_HI = r"[\u0900-\u0963\u0966-\u097F]+"
_HI_STOP = frozenset(
    """
    ने को का की के से में पर और तथा जो कि है हैं था थी थे मैं मैंने मुझे मेरा मेरी मेरे हम हमने उसने उन्होंने
    उस उन वह वे किसी कोई एक दो तीन चार कुछ लोग लोगों व्यक्ति आदमी चोर चोरों बदमाश बदमाशों लड़के लड़कों दोनों
    सभी साथ नाम भी ही पति पत्नी सास ससुर देवर जेठ ननद भाई बहन पिता माता मां माँ बेटा बेटी पड़ोसी दोस्त मित्र
    रोज़ रोज हर जब तब अब दबंग सुनार दुकानदार ठेकेदार मालिक ड्राइवर श्री श्रीमती यह सब ग्राम गांव गाँव शादी
    """.split()
)
_RELATION_HI = {
    "पति": "husband",
    "पत्नी": "wife",
    "पिता": "father",
    "पिताजी": "father",
    "माता": "mother",
    "मां": "mother",
    "माँ": "mother",
    "बेटे": "son",
    "बेटा": "son",
    "बेटी": "daughter",
    "भाई": "brother",
    "बहन": "sister",
    "भतीजे": "nephew",
    "भतीजा": "nephew",
    "भतीजी": "niece",
    "पड़ोसी": "neighbour",
    "दोस्त": "friend",
    "मित्र": "friend",
    "ससुर": "father-in-law",
    "सास": "mother-in-law",
    "देवर": "brother-in-law",
    "जेठ": "brother-in-law",
    "ननद": "sister-in-law",
    "सुनार": "goldsmith",
    "दुकानदार": "shopkeeper",
    "ठेकेदार": "contractor",
    "मालिक": "employer",
    "ड्राइवर": "driver",
}
_RELATIONS_HI = "|".join(sorted(_RELATION_HI, key=len, reverse=True))
_SURNAMES_HI = "|".join(sorted(SURNAMES_HI, key=len, reverse=True))
NAME_PATTERNS_HI = (
    (rf"(?:मेरे|मेरी|मेरा|हमारे|हमारी|उसके|उसकी)\s+(?:{_HI}\s+)?({_RELATIONS_HI})\s+({_HI}(?:\s+{_HI})?)", "relation"),
    # Without a possessive, a relation or trade word introduces a name only when a surname follows.
    (rf"({_RELATIONS_HI})\s+({_HI}\s+(?:{_SURNAMES_HI}))(?![\u0900-\u0963\u0966-\u097F])", "relation"),
    (rf"शादी\s+(?:\S+\s+){{0,4}}?({_HI}(?:\s+{_HI})?)(?:,[^,।]{{0,30}},)?\s+से\s+(?:हुई|हुआ)", "spouse"),
    (rf"(?:गांव|गाँव|मोहल्ले|इलाके|पड़ोस)\s+(?:का|की)\s+(?:दबंग\s+)?({_HI}(?:\s+{_HI})?)(?!\s+(?:वाल|के|का|की))", "named"),
    (rf"({_HI}(?:\s+{_HI})?)\s+नाम\s+(?:का|के|की)", "named"),
    (rf"(?:श्री|श्रीमती)\s+({_HI}(?:\s+{_HI})?)", "named"),
    (rf"({_HI})\s+भाई\s+ने", "named"),
)

# --- acts ----------------------------------------------------------------------
_OFFENCE_VERBS_EN = (
    r"stole|took away|took my|took our|snatched|hit|beat|beats|slapped|threatened|threatens|abused|attacked|followed"
    r"|follows|harassed|harasses|demanded|demands|cheated|entered|damaged|broke|grabbed|touched|kidnapped|forced"
    r"|pushed|kicked|molested|stalked|stalks|keeps|kept|refused|uprooted|destroyed|assaulted|tortured|taunted|locked"
    r"|threw|pulled|misbehaved|sent|sends|has taken|collected|sold|comments|held|stopped"
)
_DOER_EN = re.compile(
    r"^\s*(?:and\s+(?:[\w-]+\s+){0,4}?|,?\s*(?:who|the)\s+(?:[\w-]+\s+){0,6}?)?"
    r"(?:(?:has|had|have|was|is|also|then|again|repeatedly|always|even|\w+ly)\s+){0,2}(?:been\s+)?"
    rf"(?:{_OFFENCE_VERBS_EN})\b",
    re.I,
)
_AGAINST_EN = re.compile(rf"\bagainst\s+({_NAME_EN})")
_PRONOUN_START = re.compile(
    r"^\s*(?:then\s+|and\s+)?(?:he|she|they)\b|^\s*(?:\S+\s+){0,2}?(?:उसने|वह|उन्होंने|वे)(?![\u0900-\u0963\u0966-\u097F])",
    re.I,
)
_WITNESS_CUE = re.compile(
    r"^\s*,?\s*(?:(?:who|also)\s+)?(?:[\w-]+\s+){0,3}?(?:saw|seen|says|said he saw|noticed|noted|heard|witnessed"
    r"|knows?|informed|told me|told us|was present|can identify|phoned|called (?:me|us)|chased|tried to stop|helped"
    r"|took me to|rescued)\b"
    r"|^\s*(?:ने\s+)?(?:यह सब |सब |भी )?(?:देखा|देखी|गवाह)|^\s*(?:हैं|है)?\s*गवाह",
    re.I,
)
_HI_POSTPOSITIONS = re.compile(r"^\s*(?:को|का|की|के|से|में|पर|तक|द्वारा)(?![\u0900-\u0963\u0966-\u097F])")

# --- described offenders and witnesses ----------------------------------------------
_QUALIFIER_HEAD = (
    r"scooter|scooty|motorcycle|motorbike|bike|car|auto|van|truck|jeep|cycle|bicycle|helmets?|masks?|caps?|jackets?"
    r"|shirts?|t-shirts?|kurtas?|hoodies?|bags?|knife|knives|rods?|sticks?|beards?|spectacles|tattoos?"
    r"|handkerchiefs?|clothes"
)
_DESCRIBED_EN = re.compile(
    r"\b(?:(?:two|three|four|five|six|seven|some|several|a few|an?|one|the)\s+)?(?:or\s+\w+\s+)?"
    r"(?:(?:unknown|unidentified|masked|young|armed|tall|short|strange|drunk|drunken|bike-borne|middle-aged|thin|fat"
    r"|stout)\s+){0,3}"
    r"(?:men|man|persons?|people|boys|youths?|thieves|thief|miscreants?|robbers?|strangers?|culprits?|assailants?"
    r"|attackers?|caller|fraudsters?|gang|driver|woman|women|boy|girl)\b"
    r"(?:\s*,\s*(?:a|an)\s+(?:\w+\s+){0,3}?(?:man|woman|person)(?:\s+of\s+(?:around|about)\s+\d+)?)?"
    r"(?:\s+(?:of|aged)\s+(?:around|about)?\s*\d+)?"
    rf"(?:\s+(?:on|in|with|riding|wearing|driving)\s+(?:[\w-]+\s+){{0,4}}?(?:{_QUALIFIER_HEAD})\b)?",
    re.I,
)
_ASSOCIATES_EN = re.compile(r"\b(?:two|three|four|five|some|several|a few)\s+of\s+(?:his|her|their)\s+\w+", re.I)
_DESCRIBED_HI = re.compile(
    r"(?:(?:दो|तीन|चार|पांच|पाँच|कुछ|एक)\s+)?(?:(?:अज्ञात|अनजान|अनजाने|नकाबपोश|बाइक सवार|मोटरसाइकिल सवार|स्कूटी सवार"
    r"|बाइक पर सवार|नशे में धुत|शराबी)\s+)*(?:व्यक्ति|व्यक्तियों|आदमी|आदमियों|लड़के|लड़कों|युवक|युवकों|बदमाश|बदमाशों|चोर|चोरों"
    r"|लोग|लोगों)(?![\u0900-\u0963\u0966-\u097F])"
)
_BARE_EN = frozenset({"the man", "a man", "the driver", "people", "the people", "man", "men", "the men", "driver"})
_BARE_HI = frozenset({"चोर", "लोग", "लोगों", "आदमी", "व्यक्ति", "लड़के", "लड़कों"})
_VEHICLE_OFFENDER = re.compile(
    r"\b(?:a|an|the)\s+(?:[\w-]+\s+){0,2}?(?:truck|car|bus|tempo|jeep|suv|van|tractor|lorry|dumper|motorcycle|bike"
    r"|auto rickshaw|auto)(?:\s+(?:coming|driven|moving|going|speeding)(?:\s+[\w-]+){0,5})?(?=\s+(?:hit|knocked|ran"
    r"|rammed|collided|crushed)\b)",
    re.I,
)
_ACT_HI = re.compile(
    r"चुरा|छीन|झपट|मारा|मारी|मारे|पीटा|पीटते|मारपीट|धमकी|धमका|गाली|पीछा|छेड़|मांग|माँग|ठग|धोखा|कब्जा|कब्ज़ा|तोड़|घुस"
    r"|ले गया|ले गए|निकाल|उठा|भगा|हमला|जला|हफ़्ता|थप्पड़|घसीटा|बहाना"
)
_ACT_EN = re.compile(rf"\b(?:{_OFFENCE_VERBS_EN}|came from behind|sped away|debited|ran away|ran into)\b", re.I)
_WITNESS_DESCRIBED_EN = re.compile(
    r"\b(?:the|a|my|our)\s+(?:[\w-]+\s+)?(?:watchman|guard|neighbou?rs?|shopkeeper|vendor|seller|passer-?by|passersby"
    r"|people|bystanders?|colleague|conductor)\b(?=\s*,?\s*(?:\w+\s+){0,2}?(?:saw|says|noticed|noted|heard|witnessed"
    r"|know|knows|told|informed|was present))",
    re.I,
)
_IN_LAWS_EN = re.compile(
    r"\b(?:my\s+)?(?:husband|mother-in-law|father-in-law|brother-in-law|sister-in-law|in-laws)\b", re.I
)
_IN_LAWS_HI = re.compile(
    r"(?:(?:मेरे|मेरी)\s+)?(?:पति|सास|ससुर|देवर|जेठ|ननद|ससुराल वाले|ससुराल वालों)(?![\u0900-\u0963\u0966-\u097F])"
)


@dataclass
class Party:
    """A person the complaint names or describes, with where."""

    name: str = ""
    description: str = ""
    relation: str = ""
    source: Span | None = None
    kind: str = ""
    """How the complaint introduced the name (relation, named, spouse, surname, accused)."""
    own_relation: bool = True
    """The relation is the complainant's ("my brother"), not someone else's ("his sister")."""


@dataclass
class Parties:
    """Who the complaint accuses and who it names as having seen or known."""

    accused: list[Party] = field(default_factory=list)
    witnesses: list[Party] = field(default_factory=list)
    named: list[Party] = field(default_factory=list)
    """Every person the complaint names, whatever their part."""


def _trim_en(raw: str) -> str:
    tokens = raw.split()
    while tokens and tokens[-1] in _NOT_NAMES:
        tokens.pop()
    if not tokens or tokens[0] in _NOT_NAMES:
        return ""
    return " ".join(tokens)


def _trim_hi(raw: str) -> str:
    words = raw.split()
    if len(words) == 2 and words[1] not in SURNAMES_HI:
        words = words[:1]  # "सुनील रोज़": the second word is not part of the name
    while words and words[-1] in _HI_STOP:
        words.pop()
    if not words or words[0] in _HI_STOP:
        return ""
    return " ".join(words)


def _party(source: SourceText, name: str, start: int, kind: str, relation: str = "", own: bool = True) -> Party:
    return Party(
        name=name, relation=relation, kind=kind, own_relation=own, source=source.span(start, start + len(name))
    )


def _named_en(source: SourceText) -> list[Party]:
    text = source.text
    people: list[Party] = []
    for pattern, kind in NAME_PATTERNS_EN:
        for m in re.finditer(pattern, text, re.I):
            group = 3 if kind == "relation" else 1
            name = _trim_en(m.group(group))
            if not name:
                continue
            relation, own = "", True
            if kind == "relation":
                relation = m.group(2).lower().replace("neighbor", "neighbour")
                own = m.group(1).lower() in ("my", "our")
            elif kind == "spouse":
                relation = "husband"
            people.append(_party(source, name, m.start(group), kind, relation, own))
    surname = "|".join(sorted(SURNAMES_EN, key=len, reverse=True))
    for m in re.finditer(rf"\b(?-i:[A-Z][a-z]{{1,20}}(?:\s+[A-Z][a-z]{{1,20}})?\s+(?:{surname}))\b", text):
        name = _trim_en(m.group(0))
        if name and " " in name:
            people.append(_party(source, name, m.start(), "surname"))
    return people


def _named_hi(source: SourceText) -> list[Party]:
    text = source.text
    people: list[Party] = []
    for pattern, kind in NAME_PATTERNS_HI:
        for m in re.finditer(pattern, text):
            group = 2 if kind == "relation" else 1
            name = _trim_hi(m.group(group))
            if not name:
                continue
            relation = (
                _RELATION_HI.get(m.group(1), "") if kind == "relation" else ("husband" if kind == "spouse" else "")
            )
            people.append(_party(source, name, m.start(group), kind, relation))
    surname = "|".join(sorted(SURNAMES_HI, key=len, reverse=True))
    for m in re.finditer(
        rf"(?<![\u0900-\u0963\u0966-\u097F])({_HI})\s+(?:{surname})(?![\u0900-\u0963\u0966-\u097F])", text
    ):
        if m.group(1) not in _HI_STOP:
            people.append(_party(source, m.group(0), m.start(), "surname"))
    return people


def _merge(people: list[Party]) -> list[Party]:
    """One party per person: later mentions add a relation, a full name absorbs its first name."""
    merged: list[Party] = []
    for person in sorted(people, key=lambda p: -len(p.name)):
        same = next(
            (p for p in merged if p.name == person.name or p.name.startswith(person.name + " ")),
            None,
        )
        if same is None:
            merged.append(person)
        elif person.relation and (not same.relation or same.kind == "surname"):
            same.relation, same.kind, same.own_relation = person.relation, person.kind, person.own_relation
    return sorted(merged, key=lambda p: p.source.start if p.source else 0)


def _sentence_index(spans: list[tuple[int, int]], at: int) -> int:
    for index, (start, end) in enumerate(spans):
        if start <= at < end:
            return index
    return -1


def _mentions(source: SourceText, person: Party) -> list[Span]:
    spans = source.find_all(person.name)
    first = person.name.split()[0]
    if " " in person.name and first not in _NOT_NAMES and first not in _HI_STOP:
        spans += [s for s in source.find_all(first) if not any(overlaps(s, t) for t in spans)]
    return sorted(spans, key=lambda s: s.start)


class _Reader:
    """Per-complaint context for deciding who did what."""

    def __init__(self, source: SourceText, triggers: list[Span], hindi: bool) -> None:
        self.source = source
        self.text = source.text
        self.hindi = hindi
        self.spans = sentences(source.text)
        self.offence_sentences = {_sentence_index(self.spans, t.start) for t in triggers}
        for index, (start, end) in enumerate(self.spans):
            if (_ACT_HI if hindi else _ACT_EN).search(self.text[start:end]):
                self.offence_sentences.add(index)

    def _subject(self, mention: Span) -> bool:
        after = self.text[mention.end : mention.end + 80]
        if self.hindi:
            return not _HI_POSTPOSITIONS.match(after) and not _WITNESS_CUE.match(after)
        before = self.text[max(0, mention.start - 12) : mention.start].lower()
        return not re.search(r"\b(?:to|with|from|by|of|at|for|and|told|asked|called)\s*$", before)

    def is_doer(self, person: Party) -> bool:
        """The complaint has ``person`` do an offending act, directly or through the next sentence's pronoun."""
        for mention in _mentions(self.source, person):
            after = self.text[mention.end : mention.end + 80]
            index = _sentence_index(self.spans, mention.start)
            if self.hindi:
                if (
                    re.match(r"\s*(?:और\s+\S+\s+)?ने(?![\u0900-\u0963\u0966-\u097F])", after)
                    and index in self.offence_sentences
                ):
                    return True
            elif _DOER_EN.match(after):
                return True
            if self._subject(mention) and self.hindi and index in self.offence_sentences:
                return True
            following = index + 1
            if (
                self._subject(mention)
                and following < len(self.spans)
                and following in self.offence_sentences
                and _PRONOUN_START.match(self.text[self.spans[following][0] : self.spans[following][1]])
            ):
                return True
        return False

    def witnessed(self, person: Party) -> bool:
        return any(_WITNESS_CUE.match(self.text[s.end : s.end + 60]) for s in _mentions(self.source, person))

    def accused_by_name(self, person: Party) -> bool:
        if any(m.group(1) == person.name for m in _AGAINST_EN.finditer(self.text)):
            return True
        return bool(re.search(rf"{re.escape(person.name)}\s+(?:के|की)\s+(?:खिलाफ|ख़िलाफ़)", self.text))


def find(source: SourceText, *, category_names: set[str], triggers: list[Span], hindi: bool) -> Parties:
    """The accused and the witnesses of the complaint."""
    reader = _Reader(source, triggers, hindi)
    named = _merge(_named_hi(source) if hindi else _named_en(source))
    cruelty = "cruelty" in category_names
    accused: list[Party] = []
    witnesses: list[Party] = []
    for person in named:
        spouse_side = person.relation in SPOUSE_SIDE
        # Outside a cruelty complaint the husband's side is family like any other.
        family = person.own_relation and (person.relation in FAMILY or (spouse_side and not cruelty))
        if person.kind == "accused" or (cruelty and spouse_side) or reader.accused_by_name(person):
            accused.append(person)
        elif reader.witnessed(person):
            witnesses.append(person)
        elif not family and reader.is_doer(person):
            accused.append(person)
    taken = [p.source for p in named if p.source is not None]
    described = _described(reader, taken)
    if cruelty:
        described += _relatives_described(source, hindi, taken)
    accused += described if len(accused) < 2 else [d for d in described if _ASSOCIATES_EN.match(d.description)]
    if not hindi:
        witnesses += _witnesses_described(source, taken)
    return Parties(accused=accused[:MAX_ACCUSED], witnesses=witnesses[:MAX_WITNESSES], named=named)


def _described(reader: _Reader, taken: list[Span]) -> list[Party]:
    """Offenders as the complaint describes them, from sentences that tell of the offence."""
    source, text = reader.source, reader.text
    found: list[Party] = []
    patterns = [_DESCRIBED_HI] if reader.hindi else [_ASSOCIATES_EN, _VEHICLE_OFFENDER, _DESCRIBED_EN]
    for index, (start, end) in enumerate(reader.spans):
        if index not in reader.offence_sentences:
            continue
        for pattern in patterns:
            for m in pattern.finditer(text, start, end):
                span = source.span(m.start(), m.end())
                if (
                    not span
                    or any(overlaps(span, t) for t in taken)
                    or _WITNESS_CUE.match(text[m.end() : m.end() + 40])
                ):
                    continue
                bare = span.text.lower() in _BARE_EN or span.text in _BARE_HI
                if bare and found:
                    continue
                description = f"driver of {span.text}" if pattern is _VEHICLE_OFFENDER else span.text
                found.append(Party(description=description, source=span, kind="described"))
                taken.append(span)
    return found


def _witnesses_described(source: SourceText, taken: list[Span]) -> list[Party]:
    found = []
    for m in _WITNESS_DESCRIBED_EN.finditer(source.text):
        span = source.span(m.start(), m.end())
        if span and not any(overlaps(span, t) for t in taken):
            found.append(Party(description=span.text, source=span, kind="described"))
            taken.append(span)
    return found


def _relatives_described(source: SourceText, hindi: bool, taken: list[Span]) -> list[Party]:
    """In a cruelty complaint, the husband's side as the complaint names them ("my mother-in-law")."""
    found: list[Party] = []
    seen: set[str] = set()
    for m in (_IN_LAWS_HI if hindi else _IN_LAWS_EN).finditer(source.text):
        span = source.span(m.start(), m.end())
        key = re.sub(r"^(?:my|मेरे|मेरी)\s+", "", span.text.lower()).strip()
        if not span or key in seen or any(overlaps(span, t) for t in taken):
            continue
        seen.add(key)
        found.append(Party(description=span.text, relation=key, source=span, kind="described"))
        taken.append(span)
    return found
