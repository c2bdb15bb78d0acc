"""Opaque, tamper-evident page tokens for keyset pagination (AIP-158).

A token carries the sort key of the last row served and a digest of the query
it belongs to (filter, order, anything that changes the result set). It is
signed with HMAC-SHA256: a token that was edited, forged, or replayed with a
different filter is refused with INVALID_ARGUMENT.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Sequence
from typing import Any

from afirgen_runtime.errors import InvalidArgument, PageTokenInvalid
from afirgen_runtime.secrets import MIN_BYTES

_SIG_BYTES = 16
DEFAULT_PAGE_SIZE = 50
"""Rows of a page when the request does not say (AIP-158)."""
MAX_PAGE_SIZE = 500
"""Rows of a page at most; larger requests are capped."""


def _invalid(description: str) -> PageTokenInvalid:
    return PageTokenInvalid.for_field("page_token", description)


class PageTokens:
    """Issues and checks page tokens with one secret."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < MIN_BYTES:
            raise ValueError(f"page token secret must be at least {MIN_BYTES} bytes")
        self._secret = secret

    @staticmethod
    def query_digest(*parts: object) -> str:
        """A short digest of everything that defines the result set."""
        return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()[:16]

    def _sign(self, body: bytes) -> bytes:
        return hmac.new(self._secret, body, hashlib.sha256).digest()[:_SIG_BYTES]

    def issue(self, query: str, keyset: Sequence[Any]) -> str:
        """Token that resumes after ``keyset`` for the query with digest ``query``."""
        body = json.dumps({"q": query, "k": list(keyset)}, separators=(",", ":"), default=str).encode()
        return base64.urlsafe_b64encode(self._sign(body) + body).decode().rstrip("=")

    def parse(self, token: str, query: str) -> list[Any]:
        """The keyset in ``token``; INVALID_ARGUMENT if forged or for another query."""
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except (ValueError, TypeError):
            raise _invalid("not a page token issued by this service") from None
        signature, body = raw[:_SIG_BYTES], raw[_SIG_BYTES:]
        if len(signature) < _SIG_BYTES or not hmac.compare_digest(signature, self._sign(body)):
            raise _invalid("not a page token issued by this service")
        data = json.loads(body)
        if data.get("q") != query:
            raise _invalid("the page token was issued for a different filter or order; start from the first page")
        keyset = data.get("k")
        if not isinstance(keyset, list):
            raise _invalid("malformed page token")
        return keyset

    def resume(self, token: str, query: str, *kinds: type) -> list[Any] | None:
        """Where the page asked for starts: ``None`` without a token (the first page), else the
        token's keyset, which must hold one value of each of ``kinds`` (INVALID_ARGUMENT if not)."""
        if not token:
            return None
        keyset = self.parse(token, query)
        if len(keyset) != len(kinds) or not all(isinstance(v, k) for v, k in zip(keyset, kinds, strict=True)):
            raise _invalid("malformed page token")
        return keyset


def page_size(
    value: int, *, default: int = DEFAULT_PAGE_SIZE, maximum: int = MAX_PAGE_SIZE, field: str = "page_size"
) -> int:
    """Apply AIP-158 rules: 0 means the default, negative is an error, large is capped."""
    if value < 0:
        raise InvalidArgument.for_field(field, "must not be negative")
    if value == 0:
        return default
    return min(value, maximum)
