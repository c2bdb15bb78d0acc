"""Grounding: every value a draft holds traces to words of the complaint.

:class:`SourceText` finds phrases in the complaint (ignoring case, spacing
and Unicode composition) and answers with a :class:`Span`: character offsets
into the complaint text as stored, and the words found there. A drafted
value without a span is not stored; an officer's own edits need none, but a
span they send must still point at the words it quotes.

Words are runs of letters, digits and combining marks, so Devanagari vowel
signs stay inside their word and "Ram" never matches inside "Ramesh".
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cached_property


@dataclass(frozen=True)
class Span:
    """Characters ``[start, end)`` of the complaint text (code points) and the text there."""

    start: int = 0
    end: int = 0
    text: str = ""

    def __bool__(self) -> bool:
        return self.end > self.start


def is_word_char(char: str) -> bool:
    """Letters, digits and combining marks (Devanagari matras) make words."""
    return unicodedata.category(char)[0] in "LMN"


def fold(text: str) -> str:
    """Case- and composition-insensitive form of ``text`` (same length per character is not kept)."""
    return unicodedata.normalize("NFC", text).casefold()


# Devanagari vowel signs are combining marks, outside \w: the block is added, but for its full stops (।, ॥).
WORD = re.compile(r"[\w\u0900-\u0963\u0966-\u097F]+")


def words(text: str) -> list[str]:
    """The folded words of ``text``, Devanagari combining marks included."""
    return WORD.findall(fold(text))


class SourceText:
    """The complaint, searchable for phrases with their offsets."""

    def __init__(self, text: str) -> None:
        self.text = text
        # A folded copy with single spaces, and for each of its characters the
        # offset in the original text, so a match maps back exactly.
        folded: list[str] = []
        offsets: list[int] = []
        previous_space = True
        for index, char in enumerate(text):
            if char.isspace():
                if not previous_space:
                    folded.append(" ")
                    offsets.append(index)
                previous_space = True
                continue
            previous_space = False
            for piece in fold(char):
                folded.append(piece)
                offsets.append(index)
        self._folded = "".join(folded)
        self._offsets = offsets

    @cached_property
    def vocabulary(self) -> frozenset[str]:
        """Every folded word of the complaint."""
        return frozenset(words(self.text))

    @staticmethod
    def _normal(phrase: str) -> str:
        return " ".join(fold(phrase).split())

    def _bounded(self, start: int, end: int) -> bool:
        folded = self._folded
        before = folded[start - 1] if start > 0 else " "
        after = folded[end] if end < len(folded) else " "
        first, last = folded[start], folded[end - 1]
        return not (is_word_char(before) and is_word_char(first)) and not (is_word_char(after) and is_word_char(last))

    def find_all(self, phrase: str) -> list[Span]:
        """Every word-bounded occurrence of ``phrase``."""
        needle = self._normal(phrase)
        if not needle:
            return []
        found = []
        at = self._folded.find(needle)
        while at >= 0:
            end = at + len(needle)
            span = self.span(self._offsets[at], self._offsets[end - 1] + 1) if self._bounded(at, end) else None
            if span:  # a needle of punctuation alone trims to nothing
                found.append(span)
            at = self._folded.find(needle, at + 1)
        return found

    def find(self, phrase: str) -> Span | None:
        """The first word-bounded occurrence of ``phrase``, or ``None``."""
        spans = self.find_all(phrase)
        return spans[0] if spans else None

    def span(self, start: int, end: int) -> Span:
        """The span of characters ``[start, end)``, trimmed of spaces and edge punctuation."""
        while start < end and not (is_word_char(self.text[start]) or self.text[start] in "₹+"):
            start += 1
        while end > start and not is_word_char(self.text[end - 1]):
            end -= 1
        return Span(start, end, self.text[start:end])

    def quotes(self, span: Span) -> bool:
        """True when ``span`` points at exactly the words it quotes."""
        return 0 <= span.start < span.end <= len(self.text) and self.text[span.start : span.end] == span.text


def overlaps(a: Span, b: Span) -> bool:
    """True when two spans share a character."""
    return a.start < b.end and b.start < a.end
