"""A small subset of the AIP-160 filter language.

``expr := cond ("AND" cond)*`` and ``cond := field op value`` with ``op`` one of
``= != < <= > >=`` and ``value`` a double-quoted string, a bare word or a
number. That covers what list endpoints need (exact matches and time ranges)
without pulling in a general expression engine; each endpoint declares which
fields and operators it accepts and errors name the offending part.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from afirgen_runtime.errors import FilterInvalid

MAX_FILTER_LENGTH = 1000

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<op><=|>=|!=|=|<|>) |
        (?P<str>"(?:[^"\\]|\\.)*") |
        (?P<word>[A-Za-z0-9_.:+\-]+)
    )""",
    re.VERBOSE,
)


@dataclass(frozen=True, slots=True)
class Condition:
    """``field op value``."""

    field: str
    op: str
    value: str


def _error(description: str) -> FilterInvalid:
    return FilterInvalid.for_field("filter", description)


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise _error(f"unexpected character at position {pos}")
        kind = match.lastgroup or ""
        value = match.group(kind)
        if kind == "str":
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        out.append((kind, value))
        pos = match.end()
    return out


def parse_filter(text: str, allowed: Mapping[str, frozenset[str]]) -> list[Condition]:
    """Parse ``text``; ``allowed`` maps each accepted field to its operators."""
    if len(text) > MAX_FILTER_LENGTH:
        raise _error(f"longer than {MAX_FILTER_LENGTH} characters")
    tokens = _tokens(text)
    conditions: list[Condition] = []
    i = 0
    while i < len(tokens):
        if conditions:
            if tokens[i] != ("word", "AND"):
                raise _error("conditions must be joined by AND")
            i += 1
        if i + 3 > len(tokens):
            raise _error("expected `field op value`")
        (fkind, field), (okind, op), (vkind, value) = tokens[i : i + 3]
        if fkind != "word" or okind != "op" or vkind not in ("word", "str"):
            raise _error("expected `field op value`")
        if field not in allowed:
            raise _error(f"unknown field {field!r}; allowed: {', '.join(sorted(allowed))}")
        if op not in allowed[field]:
            raise _error(f"operator {op!r} not allowed for {field!r}")
        conditions.append(Condition(field, op, value))
        i += 3
    return conditions
