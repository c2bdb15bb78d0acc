"""Masks personal data. Every log line passes through :func:`redact_record`.

Free text is scanned for e-mail addresses, phone numbers, Aadhaar-like
12-digit ids and PAN numbers. Structured context is stronger: any value under
a key that names personal data (``name``, ``address``, ``phone``...) is masked
whole, because names and addresses cannot be recognised in free text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

MASK = "[REDACTED]"

_PATTERNS = [
    # e-mail
    re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"),
    # Aadhaar-like: 12 digits, optionally grouped 4-4-4
    re.compile(r"(?<!\d)\d{4}[ -]?\d{4}[ -]?\d{4}(?!\d)"),
    # phone numbers: optional +CC, 10 digits (Indian mobiles) or longer runs with separators
    re.compile(r"(?<![\w])(?:\+?\d{1,3}[ -]?)?(?:\d[ -]?){9}\d(?!\d)"),
    # PAN
    re.compile(r"\b[A-Z]{5}\d{4}[A-Z]\b"),
]

# Context keys (lower-cased, any nesting) whose values are always masked.
SENSITIVE_KEYS = frozenset(
    {
        "name",
        "complainant",
        "complainant_name",
        "parent_or_spouse_name",
        "father_name",
        "husband_name",
        "address",
        "phone",
        "email",
        "date_of_birth",
        "aadhaar",
        "text",
        "complaint",
        "complaint_text",
        "narrative",
        "summary",
        "accused",
        "witnesses",
        "password",
    }
)


# Identifiers (UUIDs, W3C trace ids) are digits and hex, not phone numbers: kept whole.
_IDENTIFIER = re.compile(
    r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b|\b[0-9a-f]{16,64}\b"
)


def _redact_plain(text: str) -> str:
    for pattern in _PATTERNS:
        text = pattern.sub(MASK, text)
    return text


def redact_text(text: str) -> str:
    """Mask personal data recognisable in free text (identifiers are left alone)."""
    out: list[str] = []
    position = 0
    for match in _IDENTIFIER.finditer(text):
        out.append(_redact_plain(text[position : match.start()]))
        out.append(match.group(0))
        position = match.end()
    out.append(_redact_plain(text[position:]))
    return "".join(out)


def redact_value(value: Any, key: str | None = None) -> Any:
    """Mask ``value``; under a sensitive ``key`` the whole value goes."""
    if key is not None and key.lower() in SENSITIVE_KEYS and value not in (None, "", [], {}):
        return MASK
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {k: redact_value(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [redact_value(v) for v in value]
    if isinstance(value, int | float | bool) or value is None:
        return value
    return redact_text(str(value))


def redact_record(record: dict[str, Any]) -> None:
    """Redact a loguru record in place: message, context and exception text."""
    record["message"] = redact_text(record["message"])
    extra = record["extra"]
    for key in list(extra):
        if key in ("request_id", "trace_id", "span_id", "service"):
            continue
        extra[key] = redact_value(extra[key], key)
