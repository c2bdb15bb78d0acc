"""The prose of a draft: the summary and the narrative, checked and, when the
model's fail the checks, written from the complaint itself.

A model's summary or narrative is kept only if every name, number and date
in it occurs in the complaint, it does not loop, it is in the complaint's
language and (for the summary) one or two sentences that share the
complaint's words. Otherwise the deterministic versions here are used: a
summary built from the classified offence and the extracted facts, and a
narrative made of the complaint's own sentences turned into the third
person. Both are grounded by construction.
"""

from __future__ import annotations

import re
from collections import Counter

from afirgen_fir.domain.grounding import SourceText, fold, words
from afirgen_fir.domain.offences import CATEGORIES

MIN_SUMMARY, MAX_SUMMARY = 25, 300
MIN_NARRATIVE, MAX_NARRATIVE = 80, 1500

STOPWORDS_EN = frozenset(
    """
    a an the and or but if then than that this these those there here of to in on at by for from with without
    into onto over under about around after before during while when where which who whom whose what why how
    as is was were be been being are am has have had do does did done not no nor so such very also only just
    both each either neither all any some more most other another same own he she it they them his her its
    their him hers theirs itself himself herself themselves one two three four five six seven eight nine ten
    first second third next last later earlier then again still yet up down out off near away back along
    across against between among through towards toward per via within upon until till since because though
    although whether while complainant complainant's complaint complaints reported reports report stated
    states stating says said told alleged alleges accused offender offenders unknown person persons people man
    men woman women police station officer fir bns section sections act offence offences incident occurred
    place date time matter case approximately about around nearly total value worth rupees rs inr amount
    property items following also further registered register action taken according informed
    """.split()
)
STOPWORDS_HI = frozenset(
    """
    का की के को से में पर और तथा या कि है हैं था थी थे हो होने हुआ हुई हुए एक दो तीन ने भी ही तो यह वह ये वे
    इस उस इन उन जो जब तब अब कुछ कोई किसी साथ लिए द्वारा बाद पहले समय दिन रात शाम सुबह लगभग करीब अनुसार बताया
    बताते कहा गया गई गए शिकायतकर्ता शिकायत आरोपी अज्ञात व्यक्ति व्यक्तियों पुलिस थाना घटना स्थान दिनांक रुपये
    रुपए कीमत मूल्य दर्ज की गई है अपने अपनी अपना उसके उसकी उसका उनके उनकी उनका परिवार सामान
    """.split()
)
STOPWORDS_HI |= frozenset("आरोपियों आरोपियो विवरण बताया".split())
# The words that name offences ("grievous hurt") may appear in a summary without the complaint using them.
LABEL_WORDS = frozenset(w for c in CATEGORIES for w in words(f"{c.label_en} {c.label_hi}"))
MONTHS = frozenset(
    """
    january february march april may june july august september october november december jan feb mar apr jun
    jul aug sep sept oct nov dec जनवरी फरवरी मार्च अप्रैल मई जून जुलाई अगस्त सितंबर अक्टूबर नवंबर दिसंबर
    """.split()
)
_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")
_SENTENCE_END = re.compile(r"[.!?।]+")
_FIRST_PERSON_EN = re.compile(r"\b(?:I|me|my|mine|myself|we|us|our|ours)\b")
_FIRST_PERSON_HI = re.compile(r"(?<![\u0900-\u097F])(?:मैं|मैंने|मेरा|मेरी|मेरे|मुझे|मुझसे|हमने|हमारा|हमारी|हमारे)(?![\u0900-\u097F])")
_REQUEST = re.compile(
    r"\b(?:please|kindly|request|requested|pray|take (?:strict )?action|register (?:my|the|an|a)|file (?:an|my|the)"
    r"|I want (?:the police|action|justice)|help me|find (?:my|the)|catch)\b|कृपया|निवेदन|कार्रवाई|दर्ज कर|प्रार्थना",
    re.I,
)


def devanagari_share(text: str) -> float:
    """Share of the letters of ``text`` that are Devanagari."""
    letters = [c for c in text if c.isalpha() or "\u0900" <= c <= "\u097f"]
    if not letters:
        return 0.0
    return sum(1 for c in letters if "\u0900" <= c <= "\u097f") / len(letters)


def language_of(text: str) -> str:
    """``hi`` for a mostly Devanagari text, else ``en``."""
    return "hi" if devanagari_share(text) > 0.3 else "en"


def _numbers(text: str) -> set[str]:
    return {n.replace(",", "").rstrip(".") for n in _NUMBER.findall(text)}


def ungrounded(text: str, source: SourceText) -> list[str]:
    """Names, numbers and dates in ``text`` that the complaint does not contain."""
    vocabulary = source.vocabulary
    problems = sorted(_numbers(text) - _numbers(source.text))
    for word in words(text):
        if word in MONTHS and word not in vocabulary:
            problems.append(word)
    for m in re.finditer(r"\b[A-Z][a-zA-Z'-]+\b", text):
        parts = words(m.group(0).removesuffix("'s"))
        if any(p not in vocabulary and p not in STOPWORDS_EN and p not in MONTHS for p in parts):
            problems.append(m.group(0))
    return list(dict.fromkeys(problems))


def _unknown_hindi_share(text: str, source: SourceText) -> float:
    hindi = [w for w in words(text) if devanagari_share(w) > 0.5]
    if not hindi:
        return 0.0
    unknown = [w for w in hindi if w not in source.vocabulary and w not in STOPWORDS_HI]
    return len(unknown) / len(hindi)


def loops(text: str, size: int = 4) -> bool:
    """True when a run of ``size`` words repeats, or one word fills a quarter of a long text."""
    tokens = words(text)
    grams = Counter(tuple(tokens[i : i + size]) for i in range(len(tokens) - size + 1))
    if grams and max(grams.values()) > 1:
        return True
    counts = Counter(t for t in tokens if len(t) > 2)
    return len(tokens) >= 12 and bool(counts) and max(counts.values()) > len(tokens) / 4


def _language_problem(text: str, language: str) -> str | None:
    share = devanagari_share(text)
    if language == "hi" and share < 0.6:
        return "is not in Hindi"
    if language != "hi" and share > 0.05:
        return "is not in English"
    return None


def summary_problem(text: str, source: SourceText, language: str) -> str | None:
    """Why ``text`` is not an acceptable summary of the complaint; ``None`` when it is."""
    text = text.strip()
    if not MIN_SUMMARY <= len(text) <= MAX_SUMMARY:
        return f"must be {MIN_SUMMARY}-{MAX_SUMMARY} characters long"
    if not _SENTENCE_END.search(text[-1:]):
        return "must end as a sentence ends"
    if len(_SENTENCE_END.findall(text.rstrip(".!?। "))) > 1:
        return "must be one or two sentences"
    if loops(text, 3):
        return "repeats itself"
    if problem := _language_problem(text, language):
        return problem
    if missing := ungrounded(text, source):
        return f"names what the complaint does not say: {', '.join(missing[:5])}"
    content = [w for w in words(text) if len(w) > 3 and w not in STOPWORDS_EN | STOPWORDS_HI | LABEL_WORDS]
    shared = [w for w in content if w in source.vocabulary]
    if content and (not shared or len(shared) < 0.5 * len(content)):
        return "shares too few words with the complaint"
    if language == "hi" and _unknown_hindi_share(text, source) > 0.4:
        return "uses words the complaint does not"
    return None


def narrative_problem(text: str, source: SourceText, language: str) -> str | None:
    """Why ``text`` is not an acceptable FIR narrative; ``None`` when it is."""
    text = text.strip()
    if not MIN_NARRATIVE <= len(text) <= MAX_NARRATIVE:
        return f"must be {MIN_NARRATIVE}-{MAX_NARRATIVE} characters long"
    if loops(text, 5):
        return "repeats itself"
    if problem := _language_problem(text, language):
        return problem
    first_person = _FIRST_PERSON_HI if language == "hi" else _FIRST_PERSON_EN
    if first_person.search(text):
        return "is not in the third person"
    if missing := ungrounded(text, source):
        return f"names what the complaint does not say: {', '.join(missing[:5])}"
    if language == "hi" and _unknown_hindi_share(text, source) > 0.3:
        return "uses words the complaint does not"
    salient = {w for w in _salient(source.text)}
    kept = {w for w in salient if w in set(words(text)) or w in _numbers(text)}
    if salient and len(kept) < 0.6 * len(salient):
        return "leaves out names, places or numbers the complaint gives"
    return None


def _salient(text: str) -> list[str]:
    """Names, places and numbers of the complaint: what a narrative must keep."""
    found = [n for n in _numbers(text)]
    sentence_starts = {m.end() for m in re.finditer(r"(?:^|[.!?।]\s+)", text)}
    for m in re.finditer(r"\b[A-Z][a-zA-Z'-]+\b", text):
        token = fold(m.group(0)).removesuffix("'s")
        if m.start() not in sentence_starts and token not in STOPWORDS_EN and token not in MONTHS:
            found.append(token)
    return found


# --- the deterministic narrative -------------------------------------------------
_THIRD_PERSON_EN: tuple[tuple[str, str], ...] = (
    (r"\bI am\b|\bI'm\b", "the complainant is"),
    (r"\bI was\b", "the complainant was"),
    (r"\bI have\b|\bI've\b", "the complainant has"),
    (r"\bI had\b|\bI'd\b", "the complainant had"),
    (r"\bI do not\b|\bI don't\b", "the complainant does not"),
    (r"\bI did not\b|\bI didn't\b", "the complainant did not"),
    (r"\bI can not\b|\bI cannot\b|\bI can't\b", "the complainant cannot"),
    (
        r"\bI (request|want|think|know|feel|suspect|pray|believe|hope|live|work|run|own|fear|need|stay|go|get|keep"
        r"|study|sell)\b",
        r"the complainant \1s",
    ),
    (r"\bmyself\b", "the complainant"),
    (r"\bI\b", "the complainant"),
    (r"\bme\b", "the complainant"),
    (r"\bmy\b|\bmine\b", "the complainant's"),
    (r"\bwe\b", "the complainant and family"),
    (r"\bus\b", "the complainant and family"),
    (r"\bour\b|\bours\b", "the family's"),
)
_THIRD_PERSON_HI: tuple[tuple[str, str], ...] = (
    ("मैंने", "शिकायतकर्ता ने"),
    ("मुझसे", "शिकायतकर्ता से"),
    ("मुझे", "शिकायतकर्ता को"),
    ("मेरा", "शिकायतकर्ता का"),
    ("मेरी", "शिकायतकर्ता की"),
    ("मेरे", "शिकायतकर्ता के"),
    ("मैं", "शिकायतकर्ता"),
    ("हमने", "शिकायतकर्ता के परिवार ने"),
    ("हमारा", "शिकायतकर्ता के परिवार का"),
    ("हमारी", "शिकायतकर्ता के परिवार की"),
    ("हमारे", "शिकायतकर्ता के परिवार के"),
    ("हूं", "है"),
    ("हूँ", "है"),
)


def _sentences(text: str) -> list[str]:
    # A full stop ends a sentence when a space follows it ("7.5 lakh" is one number).
    return [s.strip() for s in re.split(r"(?<=[.!?।])\s+", " ".join(text.split())) if s.strip()]


def _third_person_en(sentence: str) -> str:
    for pattern, replacement in _THIRD_PERSON_EN:
        sentence = re.sub(pattern, replacement, sentence, flags=0 if pattern.startswith(r"\bI") else re.I)
    return sentence[:1].upper() + sentence[1:]


def _third_person_hi(sentence: str) -> str:
    for word, replacement in _THIRD_PERSON_HI:
        sentence = re.sub(rf"(?<![\u0900-\u097F]){word}(?![\u0900-\u097F])", replacement, sentence)
    return sentence


def narrative_from_complaint(complaint: str, language: str) -> str:
    """The complaint's own sentences in the third person, without its requests to the police."""
    kept = [s for s in _sentences(complaint) if not _REQUEST.search(s)] or _sentences(complaint)
    if language == "hi":
        body = " ".join(_third_person_hi(s) for s in kept)
        return f"शिकायतकर्ता के अनुसार: {body}"[:MAX_NARRATIVE]
    body = " ".join(_third_person_en(s) for s in kept)
    return f"According to the complainant: {body}"[:MAX_NARRATIVE]
