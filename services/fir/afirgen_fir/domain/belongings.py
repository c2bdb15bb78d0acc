"""Property a complaint says was stolen, lost or damaged, and the place of the offence.

Both come from the complaint's own words: an item is a known kind of thing
("motorcycle", "gold chain", "मोबाइल फोन") with the words in front of it that
describe it ("black Hero Splendor motorcycle"); its value is an amount the
same sentence states. Things the offenders had ("a red scooter", "with a
tractor", "his vehicle") are not the complainant's loss. A place is what the
complaint puts after "at", "near", "outside" ... or before "के पास", "में".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from afirgen_fir.domain.facts import Facts
from afirgen_fir.domain.grounding import SourceText, Span, overlaps
from afirgen_fir.domain.model import FactKind
from afirgen_fir.domain.offences import sentences

MAX_ITEMS = 6

_ITEMS_EN = (
    r"motorcycle|motorbike|bike|scooter|scooty|car|bicycle|cycle|mobile phone|phone|mobile|smartphone|laptop|tablet"
    r"|watch|wallet|purse|handbag|bag|suitcase|chain|necklace|mangalsutra|bangles?|rings?|earrings|anklets|bracelet"
    r"|jewell?e?ry|ornaments|cash|ATM card|debit card|credit card|documents|passport|television|TV|refrigerator"
    r"|gas cylinder|cylinder|buffalo(?:es)?|cows?|goats?|cattle|ox|oxen|crops?|fence|pump|motor|battery|inverter"
    r"|camera|saplings|trees|windscreen|windshield|mirrors|tyres"
)
_QUALIFIERS_EN = (
    r"(?:(?:(?:Rs\.?|₹)\s*\d(?:[\d,]*\d)?|(?<![\d,])\d(?:[\d,]*\d)?|one|two|three|four|a pair of|pair of"
    r"|black|white|red|blue|grey|gray|green|silver|golden|gold|diamond"
    r"|steel|new|old|small|big|brown|yellow|pink|standing|paddy|wheat|boundary|mango|side|LED|(?-i:[A-Z][\w-]*))\s+){0,4}"
)
ITEM_EN = re.compile(rf"\b({_QUALIFIERS_EN})({_ITEMS_EN})\b", re.I)
_ITEMS_HI = (
    r"मोबाइल फोन|मोबाइल फ़ोन|मोबाइल|फोन|फ़ोन|पर्स|बटुआ|चेन|हार|नकदी|नकद|बाइक|मोटरसाइकिल|स्कूटी|स्कूटर|साइकिल|भैंस|भैंसें|गाय"
    r"|बकरी|बकरियां|लैपटॉप|अंगूठी|कंगन|मंगलसूत्र|झुमके|पायल|गहने|जेवर|ज़ेवर|टीवी|सिलेंडर|फसल|पौधे|ट्रैक्टर|घड़ी|बैग"
)
ITEM_HI = re.compile(
    rf"((?:(?:सोने|चांदी|चाँदी|काले|काली|लाल|नीले|सफेद|सफ़ेद|नई|नया|पुराना|पुरानी|एक|दो|तीन|[\d,]+\s+रुपये"
    rf"|[\u0900-\u0963\u0966-\u097F]+\s+(?:की|का|के))\s+){{0,3}}"
    rf"(?:[A-Za-z\u0900-\u0963\u0966-\u097F]+\s+)?)({_ITEMS_HI})(?![\u0900-\u0963\u0966-\u097F])"
)
# Words of the offender's, not the complainant's.
_THEIRS = re.compile(
    r"(?:\b(?:his|their|her|its|with (?:a|an|the|his|their)|on (?:a|an)|in (?:a|an))\s+(?:\S+\s+){0,2}$)", re.I
)
_THEIRS_HI = re.compile(r"(?:उसकी|उसके|उसका|अपनी|अपने|उनकी|उनके)\s+(?:\S+\s+){0,2}$")
_SAME_THING = {
    "bike": "motorcycle",
    "motorbike": "motorcycle",
    "vehicle": "motorcycle",
    "mobile": "phone",
    "mobile phone": "phone",
    "smartphone": "phone",
    "handbag": "bag",
    "jewelry": "jewellery",
    "मोबाइल": "फोन",
    "मोबाइल फोन": "फोन",
    "मोबाइल फ़ोन": "फोन",
    "फ़ोन": "फोन",
    "बाइक": "मोटरसाइकिल",
    "नकद": "नकदी",
}

# Sentences that tell of a loss or a value: only there is a thing the complainant's loss.
LOSS = re.compile(
    r"\b(?:stolen|stole|missing|gone|took|taken|snatched|pulled|grabbed|robbed|looted|lost|damaged|destroyed|smashed"
    r"|slashed|broken|burnt|uprooted|cut|worth|value|valued|costs?|priced|debited|withdrawn|transferred|gave|handed"
    r"|entrusted|returned|had|not there)\b"
    r"|चोरी|चुरा|गायब|ले गए|ले गया|छीन|झपट|निकाल|लूट|नुकसान|तोड़|कीमत|मूल्य|दिए|काट|नहीं थी|नहीं था",
    re.I,
)
_PLACE_HEADS = (
    r"park|market|road|signal|bus stop|bus stand|station|metro station|railway station|chowk|crossing|colony|nagar"
    r"|mall|hospital|temple|school|college|bazaar|bridge|village|sector|lane|highway|square|gate|office|clinic|ground"
    r"|stand|circle|block|service lane"
)
PLACE_EN = re.compile(
    r"\b(?:at|near|outside|opposite|behind|inside|in front of|in|on)\s+(?:the\s+)?"
    rf"((?-i:[A-Z][\w'-]*)(?:[ \t]+(?:(?-i:[A-Z][\w'-]*)|\d+[A-Z]?|of))*(?:\s+(?:{_PLACE_HEADS}))?"
    rf"|(?:[a-z]+\s+){{0,2}}(?:{_PLACE_HEADS}))\b",
    re.I,
)
PLACE_HI = re.compile(
    r"((?:[\u0900-\u0963\u0966-\u097F]+\s+(?:की|के|का)\s+)?(?:[\u0900-\u0963\u0966-\u097F]+\s+){0,2}(?:[\u0900-\u0963\u0966-\u097F]*(?:नगर|बाजार|बाज़ार|मार्केट|चौक|चौराहे|चौराहा|पार्क|स्टेशन|अस्पताल"
    r"|मंदिर|कॉलोनी|मोहल्ले|मोहल्ला|अड्डे|अड्डा|पुलिया|सड़क|गली|क्लिनिक)))(?=\s+(?:के पास|के सामने|के बाहर|के पीछे|में|पर|से)"
    r"(?![\u0900-\u0963\u0966-\u097F]))"
)
_NOT_PLACES = re.compile(
    r"^(?:\d.*|night|noon|midnight|morning|evening|about|around|the way|my way|home|work|time|once|foot"
    r"|January|February|March|April|May|June|July|August|September|October|November|December|Instagram|WhatsApp"
    r"|Facebook|OLX|Google|Paytm|PhonePe|Hindu|English|Hindi)(?:\s.*)?$",
    re.I,
)
_HI_PLACE_STOP = frozenset(
    """
    मैं मेरे मेरी हम वह उस जब तब और कि को का की के से में पर भीड़ कृपया रोज़ रोज सुबह शाम रात दोपहर बजे
    """.split()
)


@dataclass
class Item:
    """One thing the complaint says was taken or damaged."""

    description: str
    value_inr: float = 0.0
    source: Span | None = None
    kind: str = ""
    mentions: list[Span] = field(default_factory=list)


def _kind(word: str) -> str:
    low = word.lower()
    return _SAME_THING.get(low, low.rstrip("s") if low.isascii() else low)


def items(source: SourceText, facts: Facts, *, hindi: bool, offender_spans: list[Span]) -> list[Item]:
    """Property the complainant lost, one item per thing, with values stated beside it."""
    text = source.text
    found: list[Item] = []
    pattern, theirs = (ITEM_HI, _THEIRS_HI) if hindi else (ITEM_EN, _THEIRS)
    for m in pattern.finditer(text):
        span = source.span(m.start(), m.end())
        if (
            not span
            or any(overlaps(span, o) for o in offender_spans)
            or theirs.search(text[max(0, m.start() - 40) : m.start()])
        ):
            continue
        kind = _kind(m.group(2))
        same = next((i for i in found if i.kind == kind), None)
        if same is None:
            found.append(Item(span.text, 0.0, span, kind, [span]))
            continue
        same.mentions.append(span)
        if len(span.text) > len(same.description):
            same.description, same.source = span.text, span
    spans = sentences(text)
    lost = [i for i in found if any(_tells_of_loss(text, spans, m.start) for m in i.mentions)]
    _attach_values(source, facts, lost)
    return lost[:MAX_ITEMS]


def _tells_of_loss(text: str, spans: list[tuple[int, int]], at: int) -> bool:
    """The mention's sentence tells of a loss, or the next one does through a pronoun ("It was gone")."""
    index = next((i for i, (s, e) in enumerate(spans) if s <= at < e), -1)
    if index < 0:
        return False
    if LOSS.search(text[spans[index][0] : spans[index][1]]):
        return True
    later = [text[s:e] for s, e in spans[index + 1 : index + 3]]
    return any(_PRONOUN.match(sentence) and LOSS.search(sentence) for sentence in later)


_PRONOUN = re.compile(r"\s*(?:\S+\s+){0,4}?(?:it|they|them|वह|वो|उसे)\b", re.I)


def _attach_values(source: SourceText, facts: Facts, found: list[Item]) -> None:
    """A sentence with one item and one amount values that item; other amounts stand alone."""
    amounts = [f for f in facts.of(FactKind.AMOUNT) if f.source is not None]
    used: set[int] = set()
    last: Item | None = None
    for start, end in sentences(source.text):
        here = [i for i in found if any(start <= m.start < end for m in i.mentions)]
        if not here and last is not None and _PRONOUN.match(source.text[start:end]):
            here = [last]  # "It is worth about 55,000 rupees."
        last = max(here, key=lambda i: max(m.start for m in i.mentions if m.start < end)) if here else last
        mentions = [a for a in amounts if a.source is not None and start <= a.source.start < end]
        if len(here) == 1 and len(mentions) == 1 and not here[0].value_inr:
            here[0].value_inr = float(mentions[0].value)
            used.add(id(mentions[0]))
        for item in here:
            # "cash of Rs 80,000": the amount is the cash.
            if item.kind in ("cash", "नकदी") and not item.value_inr:
                near = next(
                    (a for a in mentions if a.source is not None and overlaps_or_near(a.source, item.mentions)), None
                )
                if near is not None:
                    item.value_inr = float(near.value)
                    used.add(id(near))


def overlaps_or_near(amount: Span, mentions: list[Span]) -> bool:
    """The amount is part of, or right after, one of the mentions ("cash of Rs 80,000", "Rs 3,200 cash")."""
    return any(overlaps(amount, m) or 0 <= amount.start - m.end < 12 for m in mentions)


def unvalued_amounts(facts: Facts, found: list[Item]) -> list[Item]:
    """Stated amounts no item took, kept as money lost (for cheating, breach of trust and the like)."""
    valued = {i.value_inr for i in found}
    return [
        Item(f"Amount stated in the complaint: {f.source.text}", float(f.value), f.source, "amount")
        for f in facts.of(FactKind.AMOUNT)
        if f.source is not None and float(f.value) not in valued
    ]


def place(source: SourceText, *, hindi: bool) -> Span | None:
    """Where the offence happened, in the complaint's words."""
    text = source.text
    if hindi:
        for m in PLACE_HI.finditer(text):
            words = m.group(1).split()
            while words and words[0] in _HI_PLACE_STOP:
                words.pop(0)
            if words:
                start = text.index(words[0], m.start())
                return source.span(start, m.end(1))
        return None
    for m in PLACE_EN.finditer(text):
        candidate = m.group(1).strip()
        if _NOT_PLACES.match(candidate) or candidate.lower().startswith(("my ", "our ", "his ", "her ")):
            continue
        if not re.search(r"[A-Z]|" + _PLACE_HEADS, candidate):
            continue
        return source.span(m.start(1), m.end(1))
    return None
