"""Ids as the APIs accept them: resource ids (UUIDs) and clients' idempotency keys."""

from __future__ import annotations

import re
import uuid

from afirgen_runtime.errors import InvalidArgument

IDEMPOTENCY_HEADER = "idempotency-key"
"""Request header (gRPC metadata) of an idempotency key, for a request without a field for it."""
MAX_IDEMPOTENCY_KEY = 128


_CANONICAL = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
"""A UUID as ``str(uuid.UUID(...))`` writes it: what the services make and clients send back."""


def check_id(value: str, what: str, field: str = "id") -> str:
    """``value`` as a canonical UUID string. Anything else is INVALID_ARGUMENT naming
    ``field`` ("must be ``what`` (a UUID)"), never NOT_FOUND: it cannot name a resource."""
    if isinstance(value, str) and _CANONICAL.fullmatch(value):
        return value  # already canonical: one match instead of a parse and a print
    try:
        return str(uuid.UUID(value))
    except (ValueError, AttributeError, TypeError):
        raise InvalidArgument.for_field(field, f"must be {what} (a UUID)") from None


def check_idempotency_key(key: str, field: str) -> str:
    """``key`` when it is printable ASCII of at most :data:`MAX_IDEMPOTENCY_KEY` characters
    (empty: none given), else INVALID_ARGUMENT naming ``field``."""
    if len(key) > MAX_IDEMPOTENCY_KEY or not key.isascii() or not key.isprintable():
        raise InvalidArgument.for_field(field, f"must be at most {MAX_IDEMPOTENCY_KEY} printable ASCII characters")
    return key
