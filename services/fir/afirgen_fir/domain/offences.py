"""Which offences a complaint reports, by explicit rules an auditor can read.

Each :class:`Category` names the BNS sections a station cites for it and
the words (English and Hindi) that reveal it. A rule is a set of patterns
that must all match inside one sentence (or anywhere in the complaint, for
rules marked ``whole``). A match records the complaint words that triggered
it, so every cited section carries its reason and its evidence.

Some categories overrule others (a snatching is not also cited as a plain
theft), and some sections are never cited without a signal in the
complaint: no death or homicide section unless someone died, no vehicle
section without a vehicle, no child section without a child, no sexual
offence section without a sexual act or advance. The same gate applies to
sections the model or the retrieval proposes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from afirgen_fir.domain.grounding import SourceText, Span, overlaps

# --- signals -----------------------------------------------------------------
_B = r"(?<![\w\u0900-\u097F])"  # word start that also works next to Devanagari
_E = r"(?![\w\u0900-\u097F])"

DEATH = (
    r"\b(?:died|dead|death|killed|passed away|succumbed|lifeless|murdered|body was found|declared (?:him|her) dead)\b"
    r"|मौत|मृत्यु|मर गय|मर गई|दम तोड़|मृत घोषित|शव"
)
VEHICLE_EN = (
    r"\b(?:car|cars|truck|bus|tempo|auto[- ]?rickshaw|e-rickshaw|motorcycle|motorbike|bike|scooter|scooty|jeep|suv|van"
    r"|tractor|vehicle|lorry|taxi|cab|activa|splendor|pulsar|dumper|trolley)\b"
)
VEHICLE_HI = r"गाड़ी|गाडी|ट्रक|कार|बाइक|मोटरसाइकिल|मोटर साइकिल|स्कूटर|स्कूटी|बस|टेम्पो|ऑटो|ट्रैक्टर|वाहन|जीप"
VEHICLE = f"{VEHICLE_EN}|{VEHICLE_HI}"
_IMPACT = r"(?:hit|knocked|ran over|run over|rammed|collided|dashed|crushed|overturned)"
CHILD = (
    r"\b(?:son|daughter|child|kid|minor|nephew|niece|grandson|granddaughter|boy|girl)\b"
    r"|बेटा|बेटे|बेटी|बच्चा|बच्ची|बच्चे|पुत्र|पुत्री|भतीजा|भतीजी|पोता|पोती|लड़का|लड़की"
)
INJURY = (
    r"\b(?:injur\w*|wound\w*|fractur\w*|bleeding|hurt|bruis\w*|hospitali[sz]ed|broken|operated|stitches)\b"
    r"|घायल|चोट|जख्मी|ज़ख्मी|फ्रैक्चर|हड्डी"
)
PROPERTY_WORDS = (
    r"\b(?:motorcycle|motorbike|bike|scooter|scooty|car|bicycle|cycle|phone|mobile|laptop|tablet|watch|wallet|purse"
    r"|bag|chain|necklace|mangalsutra|bangles?|rings?|earrings|jewell?e?ry|ornaments|cash|money|vehicle|cattle|buffalo"
    r"|buffaloes|cows?|goats?|ox|oxen|tv|television|cylinder|pump|battery|inverter|camera|gold|silver|documents)\b"
    r"|मोबाइल|फोन|फ़ोन|पर्स|बटुआ|चेन|नकदी|रुपये|रुपए|बाइक|मोटरसाइकिल|स्कूटी|साइकिल|भैंस|गाय|बकरी|लैपटॉप|अंगूठी|कंगन"
    r"|मंगलसूत्र|झुमके|गहने|जेवर|ज़ेवर|सामान"
)
HYPOTHETICAL = re.compile(
    r"(?:\bwill\b|\bwould\b|\bshall\b|\bcould have\b|\bmight\b|\bgoing to\b|\bthreaten\w*|\bthreat\b|\bif\b|\bor else\b"
    r"|धमकी|देंगे|दूंगा|देगा)"
    r"[^.।]{0,40}$",
    re.I,
)

DEATH_SECTIONS = frozenset({"80", "100", "101", "102", "103", "104", "105", "106", "108"})
VEHICLE_SECTIONS = frozenset({"281"})
CHILD_SECTIONS = frozenset({"137", "139", "93", "94", "95", "96", "97", "98", "99"})
SEXUAL_SECTIONS = frozenset({str(n) for n in range(63, 80)})


@dataclass(frozen=True)
class Rule:
    """Patterns that must all match, within one sentence unless ``whole``."""

    patterns: tuple[str, ...]
    whole: bool = False
    actual: bool = False
    """True: a match in a threat or a condition ("will burn your shop") does not count."""


@dataclass(frozen=True)
class Category:
    """An offence category: its sections (main one first), rules, and how to name it."""

    name: str
    sections: tuple[str, ...]
    rules: tuple[Rule, ...]
    label_en: str
    label_hi: str
    reason: str
    overrules: frozenset[str] = frozenset()
    requires: frozenset[str] = frozenset()
    property_offence: bool = False
    unless: str = ""
    """A pattern that, found anywhere in the complaint, rules the category out."""


def _rule(*patterns: str, whole: bool = False, actual: bool = False) -> Rule:
    return Rule(tuple(patterns), whole, actual)


_THEFT_WEAK = (
    r"\b(?:missing|gone|taken away|took away|disappeared|nowhere to be found|not there)\b"
    r"|गायब|ले गए|ले गया|वहां नहीं|वहाँ नहीं|नहीं मिली|नहीं मिला"
)
CATEGORIES: tuple[Category, ...] = (
    Category(
        "murder",
        ("103",),
        (
            _rule(
                r"\b(?:murder\w*|killed|stabbed|strangled|shot (?:him|her|dead))\b|हत्या|मार डाला|जान ले ली", actual=True
            ),
        ),
        "murder",
        "हत्या",
        "the complaint reports that a person was killed",
        requires=frozenset({"death"}),
        unless=r"\baccident|\bhit by|\bcollided|\bran over|\brun over|\bnegligen|दुर्घटना|हादसा|टक्कर",
    ),
    Category(
        "attempt_murder",
        ("109",),
        (_rule(r"\b(?:tried|attempted|attempt) to (?:kill|murder|strangle)|जान से मारने की कोशिश"),),
        "attempt to murder",
        "हत्या का प्रयास",
        "the complaint reports an attempt to kill",
    ),
    Category(
        "death_negligence",
        ("106",),
        (
            _rule(
                DEATH,
                r"\b(?:accident|hit|knocked|ran over|run over|collided|rash\w*|negligen\w*|speeding|crushed"
                r"|electrocuted|drowned)\b|टक्कर|हादसा|दुर्घटना|कुचल|लापरवाही",
                whole=True,
                actual=True,
            ),
        ),
        "death caused by negligence",
        "लापरवाही से मृत्यु",
        "the complaint reports a death caused by a rash or negligent act",
        requires=frozenset({"death"}),
        overrules=frozenset({"hurt", "grievous_hurt", "weapon_hurt", "mischief", "murder"}),
    ),
    Category(
        "rash_driving",
        ("281",),
        (
            _rule(r"\b(?:rash(?:ly)?|negligent(?:ly)?|careless(?:ly)?)\s+(?:and\s+\w+\s+)?(?:driv\w*|rid\w*)"),
            _rule(
                r"\b(?:driv\w+|rid(?:ing|den|e))\b(?:\s+\w+){0,3}\s+"
                r"(?:rash\w*|negligent\w*|at (?:a )?(?:very )?high speed|drunk)"
            ),
            # The vehicle does the hitting: "a white truck coming at high speed hit him".
            _rule(rf"{VEHICLE_EN}(?:\s+\S+){{0,9}}?\s+{_IMPACT}\b"),
            _rule(
                r"\b(?:at|with) (?:a )?(?:very )?(?:high|great|full|excessive) speed\b|\bspeeding\b|\bwrong side\b",
                VEHICLE,
            ),
            _rule(rf"\b{_IMPACT}(?:\s+down)?\s+by\s+(?:\S+\s+){{0,3}}?{VEHICLE_EN}"),
            _rule(r"\baccident\b|दुर्घटना|हादसा", VEHICLE, whole=True),
            _rule(rf"(?:{VEHICLE_HI})[^।]{{0,40}}?(?:टक्कर|कुचल)"),
            _rule(r"तेज (?:रफ्तार|रफ़्तार|गति)|तेज़ (?:रफ्तार|रफ़्तार|गति)|लापरवाही से"),
        ),
        "rash driving",
        "लापरवाही से वाहन चलाना",
        "the complaint reports a vehicle driven rashly or negligently on a public way",
        requires=frozenset({"vehicle"}),
        overrules=frozenset({"hurt", "grievous_hurt", "weapon_hurt", "mischief"}),
    ),
    Category(
        "snatching",
        ("304",),
        (
            _rule(r"\bsnatch\w*|झपट\w*|छीन\w*"),
            _rule(
                r"\b(?:pulled|grabbed|yanked|tore|jerked)\b",
                r"\b(?:chain|necklace|mangalsutra|purse|(?:hand)?bag|phone|mobile|earrings?)\b",
            ),
        ),
        "snatching",
        "झपटमारी",
        "the complaint reports property seized suddenly and forcibly from the person",
        overrules=frozenset({"theft", "hurt"}),
        property_offence=True,
    ),
    Category(
        "robbery",
        ("309",),
        (
            _rule(
                r"\brobb(?:ed|ery|ers?)\b|\bloot(?:ed)?\b|at (?:knife|gun)[- ]?point"
                r"|(?:showed|pointed|brandished) (?:a |an |his )?(?:knife|gun|pistol|revolver)|लूट|चाकू दिखा|तमंचा|कट्टा"
            ),
            _rule(
                r"\b(?:knife|gun|pistol|revolver|katta|sword)\b|चाकू|पिस्तौल|तलवार",
                r"\b(?:took|snatched|grabbed|robbed|looted)\s+(?:away\s+)?(?:my|our|his|her|the)\b|छीन|ले लिए|ले लिया",
                whole=True,
            ),
        ),
        "robbery",
        "लूट",
        "the complaint reports property taken by force or threat of instant harm",
        overrules=frozenset({"theft", "snatching"}),
        property_offence=True,
    ),
    Category(
        "house_breaking",
        ("331", "305"),
        (
            _rule(
                r"\b(?:lock|locks|latch|door|window|shutter|grill|almirah)\b",
                r"\b(?:broken|broke|cut|forced|tampered|prised|pried)\b",
            ),
            _rule(r"\bburglar\w*|\bbreak[- ]in\b|\bhouse[- ]?break\w*|\bbroke into\b"),
            _rule(
                r"ताला\s*(?:टूट|तोड़)|ताले\s*(?:टूट|तोड़)|सेंध|ग्रिल (?:काट|तोड़)|खिड़की (?:तोड़|काट)|कुंडी तोड़"
                r"|दरवा(?:जा|ज़ा|जे|ज़े) (?:तोड़|को तोड़)"
            ),
            _rule(
                r"\b(?:entered|got into|came into|sneaked into)\s+(?:my|our|the)\s+(?:house|flat|home|shop|room)\b",
                r"\b(?:stole|stolen|missing|theft|took)\b",
                whole=True,
            ),
            _rule(r"घर (?:के अंदर|में) घुस", r"चोरी|चोर|गायब|ले गए", whole=True),
        ),
        "house-breaking and theft",
        "घर में सेंधमारी और चोरी",
        "the complaint reports a lock or door broken to enter a building and property taken from it",
        overrules=frozenset({"theft", "trespass", "mischief"}),
        property_offence=True,
    ),
    Category(
        "theft",
        ("303",),
        (
            _rule(
                r"\b(?:stole|stolen|steal\w*|theft|thie(?:f|ves)|pick-?pocket\w*)\b"
                r"|चोरी|चुरा|चोर|जेब काट|निकाल लिया|निकाल लिए"
            ),
            _rule(_THEFT_WEAK, PROPERTY_WORDS),
            # "it was gone": the property is named in another sentence.
            _rule(r"\bit (?:was|had) (?:gone|missing|not there|disappeared)\b", PROPERTY_WORDS, whole=True),
        ),
        "theft",
        "चोरी",
        "the complaint reports movable property taken without consent",
        property_offence=True,
    ),
    Category(
        "extortion",
        ("308", "351"),
        (
            _rule(r"\bextort\w*|\bransom\b|\bprotection money\b|\bunless (?:I|we) (?:pay|paid|give|gave)\b"),
            _rule(r"रंगदारी|फिरौती|हफ़्ता|हफ्ता वसूली|(?:पैसे|रुपये|रुपए)[^।]{0,30}(?:नहीं दि(?:ए|ये|या)|न दि(?:ए|ये)) तो"),
            _rule(
                r"\b(?:demand\w*|asked (?:me )?(?:for|to pay)|pay)\b|मांग|माँग",
                r"\b(?:threat\w*|kill|harm\w*|consequences|or else|otherwise|burn\w*)\b|धमकी|जान से",
                whole=True,
            ),
        ),
        "extortion",
        "जबरन वसूली",
        "the complaint reports money demanded under a threat of harm",
        overrules=frozenset({"cheating", "sexual_harassment"}),
        property_offence=True,
    ),
    Category(
        "cheating",
        ("318",),
        (
            _rule(
                r"\bcheat\w*|\bfraud\w*|\bduped\b|\bscam\w*|\bOTP\b|\bKYC\b|\bUPI\b|\bdebited\b|\blottery\b"
                r"|\bfake (?:call|website|link|profile|job|offer)|\b(?:withdrawn|deducted) from (?:my|our|his|her)\b"
                r"|\bAnyDesk\b|\bscreen[- ]?shar\w*|\bremote (?:access|app)|ठग\w*|धोखा\w*|धोखे|फ्रॉड|ओटीपी|लॉटरी"
            ),
        ),
        "cheating",
        "धोखाधड़ी",
        "the complaint reports property or money obtained by deceiving the complainant",
        property_offence=True,
    ),
    Category(
        "impersonation",
        ("319",),
        (
            _rule(
                r"\b(?:pretend\w*|posing|posed|claim\w*|introduced (?:him|her)self|said (?:he|she) (?:was|is)"
                r"|saying (?:he|she) (?:was|is))\b",
                r"\b(?:bank|officer|official|police|executive|customer care|manager|army|CBI|income tax)\b",
            ),
            _rule(r"खुद को[^।]{0,40}(?:बताया|बताकर|बताते)|बनकर|की (?:तरफ़|तरफ) से बोल"),
        ),
        "cheating by personation",
        "प्रतिरूपण द्वारा धोखाधड़ी",
        "the complaint reports a person who pretended to be someone else to cheat",
        requires=frozenset({"cheating"}),
    ),
    Category(
        "breach_of_trust",
        ("316",),
        (
            _rule(r"\bentrust\w*|\bmisappropriat\w*|\btrusted with\b|\bdid not deposit\b|\bembezzl\w*|अमानत|गबन"),
            _rule(r"(?:बनाने|रखने|मरम्मत|बेचने) के लिए दि(?:ए|या|ये)", r"बहाना|वापस नहीं|नहीं लौटा|बाद में देगा", whole=True),
            _rule(
                r"\b(?:did not return|never returned|refus\w+ to return|not returned)\b"
                r"|वापस नहीं (?:किया|की|किए|दिया|दी|दिए)",
                PROPERTY_WORDS,
            ),
        ),
        "criminal breach of trust",
        "आपराधिक न्यासभंग",
        "the complaint reports property entrusted to a person and not returned",
        property_offence=True,
    ),
    Category(
        "cruelty",
        ("85",),
        (
            _rule(
                r"\b(?:husband|in-?laws?|mother-in-law|father-in-law|sister-in-law|brother-in-law|sasural)\b"
                r"|पति|ससुराल|सास|ससुर|देवर|ननद|जेठ",
                r"\b(?:beat\w*|harass\w*|tortur\w*|taunt\w*|dowry|abus\w*|assault\w*|slapp\w*|thr(?:ew|own) me out"
                r"|starv\w*|cruel\w*|promised|stopped giving me|sent me back|thrown out)\b|दहेज|प्रताड़|मारपीट|मारते|पीटते"
                r"|ताने|घर से निकाल",
                whole=True,
            ),
        ),
        "cruelty by the husband or his relatives",
        "पति या ससुराल वालों द्वारा क्रूरता",
        "the complaint reports harassment or cruelty by the husband or his relatives",
        overrules=frozenset({"extortion"}),
    ),
    Category(
        "weapon_hurt",
        ("118",),
        (
            _rule(
                r"\b(?:iron rod|rod|knife|knives|sword|lathi|sticks?|axe|sickle|blade|acid|brick|stones?|bottle|gun"
                r"|pistol|revolver|sharp weapon|hockey stick|cricket bat|bat)\b|चाकू|रॉड|लाठी|डंडा|डंडे|कुल्हाड़ी|तलवार"
                r"|ईंट|पत्थर|हथियार|सरिया",
                r"\b(?:hit|beat\w*|struck|stabbed|attacked|assaulted|injur\w*|slashed|threw)\b|मारा|मारी|पीटा|हमला|वार",
                actual=True,
            ),
        ),
        "hurt with a dangerous weapon",
        "खतरनाक हथियार से चोट",
        "the complaint reports hurt caused with a weapon or instrument",
        overrules=frozenset({"hurt"}),
    ),
    Category(
        "grievous_hurt",
        ("117",),
        (
            _rule(
                r"\bfractur\w*|\bbroken (?:bone|arm|leg|nose|jaw|teeth|tooth|rib)|\b(?:arm|leg|nose|jaw|teeth|tooth|rib"
                r"|bone)s? (?:was |were |got |is )?(?:broken|fractured)|\bgrievous\w*|\bstitch\w*"
                r"|\blost (?:his|her|my) (?:eye|tooth|teeth|hearing)|\bunconscious\b|हड्डी टूट|फ्रैक्चर|टांके|बेहोश"
            ),
        ),
        "grievous hurt",
        "गंभीर चोट",
        "the complaint reports an injury such as a fracture",
        overrules=frozenset({"hurt"}),
    ),
    Category(
        "hurt",
        ("115",),
        (
            _rule(
                r"\b(?:hit|beat|beaten|beating|slapped|punched|kicked|assaulted|attacked|thrashed|injur\w*"
                r"|wound\w*|bleeding|bruis\w*)\b|मारपीट|मारा|पीटा|पिटाई|थप्पड़|चोट|घायल|हमला",
                actual=True,
            ),
        ),
        "voluntarily causing hurt",
        "मारपीट कर चोट पहुँचाना",
        "the complaint reports that the complainant or another person was hurt",
    ),
    Category(
        "intimidation",
        ("351",),
        (
            _rule(
                r"\bthreat\w*|\bwill kill\b|\bkill (?:me|you|him|her|us|them)\b|\bdire consequences\b"
                r"|\bface (?:the )?consequences\b|\bintimidat\w*|\bnot leave (?:me|you|him|her|us) alive\b"
                r"|\bteach (?:me|you|him|her) a lesson\b|\bor (?:he|she|you|I|we) would be (?:beaten|killed|harmed)\b"
                r"|धमकी|धमका\w*|जान से मार|देख लेंगे|जिंदा नहीं छोड़|ज़िंदा नहीं छोड़|हाथ-पैर तोड़"
            ),
        ),
        "criminal intimidation",
        "आपराधिक धमकी",
        "the complaint reports a threat of injury to person, property or reputation",
    ),
    Category(
        "child_kidnapping",
        ("137",),
        (
            _rule(
                CHILD,
                r"\b(?:kidnap\w*|abduct\w*|lured|enticed|took (?:him|her) away|nobody has seen (?:him|her)"
                r"|has not (?:returned|come (?:back|home))|did not (?:return|come back|reach)(?: home| school)?"
                r"|not traceable|find my (?:son|daughter|child))\b|लापता|अपहरण|अगवा|वापस नहीं (?:आया|आई|लौटा|लौटी)"
                r"|बहला[- ]फुसला|उठा ले गए|उठा कर ले",
                whole=True,
            ),
            _rule(CHILD, r"\b(?:missing|went missing|is missing)\b|गायब"),
        ),
        "kidnapping of a child",
        "बच्चे का अपहरण",
        "the complaint reports a child taken or enticed away from the guardian",
        requires=frozenset({"child"}),
        overrules=frozenset({"theft"}),
    ),
    Category(
        "assault_woman",
        ("74",),
        (
            _rule(
                r"\b(?:grabbed|held|caught|pulled) (?:my|her) (?:hand|arm|dupatta|wrist|hair|clothes)\b"
                r"|\btore (?:my|her) (?:clothes|kurta|dupatta)\b|\boutrag\w* (?:my|her) modesty|\bmolest\w*"
                r"|\bforcibly (?:hugged|kissed|held)|\btried to (?:hug|kiss|touch)|दुपट्टा (?:खींच|पकड़)|हाथ पकड़|कपड़े फाड़"
            ),
        ),
        "assault on a woman",
        "महिला की लज्जा भंग करने के लिए हमला",
        "the complaint reports force used on a woman to outrage her modesty",
    ),
    Category(
        "sexual_harassment",
        ("75",),
        (
            _rule(
                r"\b(?:touched me|inappropriate(?:ly)? touch\w*|lewd|(?:obscene|vulgar|dirty|indecent|sexual)"
                r" (?:remarks|comments|messages|gestures|songs|jokes|pictures|photos|videos|advances|favours?)"
                r"|sent me (?:obscene|vulgar|dirty)|showed me (?:porn|obscene)|demanded sexual)\b"
                r"|छेड़छाड़|छेड़खानी|अश्लील|गलत तरीके से छू"
            ),
        ),
        "sexual harassment",
        "यौन उत्पीड़न",
        "the complaint reports unwelcome sexual advances, remarks or contact",
    ),
    Category(
        "stalking",
        ("78",),
        (
            _rule(
                r"\b(?:keeps? (?:on )?(?:following|calling|messaging|staring)"
                r"|kept (?:on )?(?:following|calling|messaging)"
                r"|stalk\w*|repeatedly (?:call\w*|messag\w*|follow\w*|contact\w*)|follows me|waits? for me"
                r"|from new accounts|(?:has|have) been following me|waits? (?:near|outside) my"
                r"|followed me (?:till|to|up to|home))\b|पीछा|बार[- ]बार (?:फोन|मैसेज|कॉल)"
            ),
        ),
        "stalking",
        "पीछा करना",
        "the complaint reports a person repeatedly following or contacting a woman against her wish",
    ),
    Category(
        "trespass",
        ("329",),
        (
            _rule(r"\btrespass\w*|\bencroach\w*|\billegal(?:ly)? occup\w*|कब्जा|कब्ज़ा|जबरदस्ती घुस|घुस आए|घुस गए|घुसकर"),
            _rule(
                r"\b(?:entered|barged into|forced (?:his|their) way into|intrud\w*)\b",
                r"\b(?:my|our|the)\s+(?:\w+\s+){0,2}?(?:house|home|land|field|farm|plot|property|premises|compound"
                r"|courtyard)\b",
            ),
        ),
        "criminal trespass",
        "आपराधिक अतिचार",
        "the complaint reports entry into the complainant's property without right",
    ),
    Category(
        "mischief",
        ("324",),
        (
            _rule(
                r"\b(?:damag\w*|destroy\w*|set (?:fire|on fire|ablaze)|burnt|torched|smash\w*|vandali\w*|uproot\w*"
                r"|broke (?:the |my |our )?(?:windows?|glass|windshield|windscreen|gate|wall|fence|furniture)|cut down"
                r"|poisoned)\b|नुकसान|तोड़फोड़|तोड़-फोड़|आग लगा|नष्ट|उजाड़|उखाड़",
                actual=True,
            ),
        ),
        "mischief",
        "रिष्टि (संपत्ति को नुकसान)",
        "the complaint reports property destroyed or damaged",
        property_offence=True,
    ),
)
BY_NAME = {c.name: c for c in CATEGORIES}


@dataclass
class Finding:
    """A category the complaint reports and the words that show it."""

    category: Category
    triggers: list[Span] = field(default_factory=list)


@dataclass
class Signals:
    """Facts about the complaint that gate which sections may be cited."""

    death: bool = False
    vehicle: bool = False
    child: bool = False
    sexual: bool = False
    injury: bool = False

    def allows(self, section: str) -> str | None:
        """Why ``section`` contradicts the complaint, or ``None`` when it may be cited."""
        if section in DEATH_SECTIONS and not self.death:
            return "a death or homicide section, but the complaint reports no death"
        if section in VEHICLE_SECTIONS and not self.vehicle:
            return "a vehicle section, but the complaint names no vehicle"
        if section in CHILD_SECTIONS and not self.child:
            return "a section about children, but the complaint mentions no child"
        if section in SEXUAL_SECTIONS and not self.sexual:
            return "a sexual offence section, but the complaint reports no sexual act or advance"
        return None


SENTENCE = re.compile(r"[^.!?।\n]+(?:[.!?।]+|$)")


def sentences(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of each sentence of ``text``."""
    return [(m.start(), m.end()) for m in SENTENCE.finditer(text) if m.group(0).strip()]


def _devanagari(char: str) -> bool:
    return "\u0900" <= char <= "\u097f"


def _search(pattern: str, text: str, start: int = 0, end: int | None = None) -> list[re.Match[str]]:
    """Matches of ``pattern``; a Hindi match must start a word ("वार" is not in "दीवार")."""
    matches = re.compile(pattern, re.I).finditer(text, start, len(text) if end is None else end)
    return [
        m for m in matches if not (m.start() > 0 and _devanagari(m.group(0)[:1]) and _devanagari(text[m.start() - 1]))
    ]


def _hypothetical(text: str, at: int, sentence_start: int) -> bool:
    return bool(HYPOTHETICAL.search(text[sentence_start:at]))


def _rule_triggers(rule: Rule, source: SourceText, spans: list[tuple[int, int]]) -> list[Span]:
    text = source.text
    scopes = [(0, len(text))] if rule.whole else spans
    for start, end in scopes:
        found: list[Span] = []
        for pattern in rule.patterns:
            matches = _search(pattern, text, start, end)
            if rule.actual:
                matches = [m for m in matches if not _hypothetical(text, m.start(), _sentence_start(spans, m.start()))]
            if not matches:
                break
            found.append(source.span(matches[0].start(), matches[0].end()))
        else:
            return found
    return []


def _sentence_start(spans: list[tuple[int, int]], at: int) -> int:
    for start, end in spans:
        if start <= at < end:
            return start
    return 0


def signals(source: SourceText, findings: list[Finding] | None = None) -> Signals:
    """The gates of this complaint."""
    text = source.text
    names = {f.category.name for f in findings or []}
    spans = sentences(text)
    # "I could have been killed" reports no death.
    deaths = [m for m in _search(DEATH, text) if not _hypothetical(text, m.start(), _sentence_start(spans, m.start()))]
    return Signals(
        death=bool(deaths),
        vehicle=bool(_search(VEHICLE, text)),
        child=bool(_search(CHILD, text)),
        sexual=bool(names & {"sexual_harassment", "assault_woman", "stalking"}),
        injury=bool(_search(INJURY, text)),
    )


def classify(source: SourceText) -> list[Finding]:
    """The categories the complaint reports, most serious first, with their trigger words."""
    spans = sentences(source.text)
    found: dict[str, Finding] = {}
    for category in CATEGORIES:
        if category.unless and re.search(category.unless, source.text, re.I):
            continue
        for rule in category.rules:
            triggers = _rule_triggers(rule, source, spans)
            if triggers:
                finding = found.setdefault(category.name, Finding(category))
                finding.triggers += [t for t in triggers if not any(overlaps(t, s) for s in finding.triggers)]
    gates = signals(source, list(found.values()))
    held = {"death": gates.death, "vehicle": gates.vehicle, "child": gates.child}
    allowed = {
        name: finding
        for name, finding in found.items()
        if all(held.get(need, need in found) for need in finding.category.requires)
    }
    return [
        finding
        for name, finding in allowed.items()
        if not any(name in allowed[other].category.overrules for other in allowed if other != name)
    ]


def sections_for(findings: list[Finding], gates: Signals) -> list[tuple[str, Finding]]:
    """``(section, finding)`` pairs to cite, without repeats or contradictions.

    Rash driving that injured someone also endangered life (BNS 125)."""
    cited: list[tuple[str, Finding]] = []
    for finding in findings:
        for section in finding.category.sections:
            if gates.allows(section) is None and all(section != s for s, _ in cited):
                cited.append((section, finding))
        if finding.category.name == "rash_driving" and gates.injury and not gates.death:
            cited.append(("125", finding))
    return cited
