"""Who is calling: the verified identity the edge forwards to every service.

Envoy's ``jwt_authn`` filter verifies the caller's OIDC access token
(issuer, audience, expiry, signature against the provider's JWKS) and sets
the token's payload, base64url-encoded JSON, in :data:`CLAIMS_HEADER`;
copies of that header sent by a client are removed before the check, so a
service reads only what the edge verified. Services are reachable only
from the edge and from each other, never from outside.

:func:`parse_claims` turns the header into a :class:`Caller`; the shared
server interceptor puts it in a contextvar for the call, and use cases read
it with :func:`current_caller`.
"""

from __future__ import annotations

import base64
import binascii
import contextvars
import json
from dataclasses import dataclass

from afirgen_runtime.errors import PermissionDenied

CLAIMS_HEADER = "x-afirgen-claims"
MAX_CLAIMS_BYTES = 8192
MAX_CLAIM_CHARS = 128

ROLES = frozenset({"constable", "sub_inspector", "sho", "district_sp", "auditor", "operator"})


@dataclass(frozen=True)
class Caller:
    """The verified caller of one request."""

    subject: str
    """The token's ``sub``: what the audit trail records."""
    username: str = ""
    roles: frozenset[str] = frozenset()
    station: str = ""
    """Station code of a station officer (constable, sub-inspector, station house officer)."""
    district: str = ""
    """District of a station officer or of a district superintendent."""

    def has(self, *roles: str) -> bool:
        """True when the caller holds any of ``roles``."""
        return bool(self.roles & set(roles))


caller_var: contextvars.ContextVar[Caller | None] = contextvars.ContextVar("caller", default=None)


def current_caller() -> Caller | None:
    """The verified caller of the call being served, or ``None`` (internal calls)."""
    return caller_var.get()


def _text(value: object) -> str:
    """A claim as text: printable (any script, e.g. "Bengaluru (Urban)" or Devanagari), at most
    :data:`MAX_CLAIM_CHARS` characters; anything else reads as absent."""
    text = value if isinstance(value, str) else ""
    return text if len(text) <= MAX_CLAIM_CHARS and text.isprintable() else ""


def parse_claims(header: str) -> Caller | None:
    """The caller in a forwarded token payload; ``None`` when absent, malformed or without a subject."""
    if not header or len(header) > MAX_CLAIMS_BYTES:
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))
    except (binascii.Error, ValueError):
        return None
    if not isinstance(payload, dict):
        return None
    subject = _text(payload.get("sub"))
    if not subject:
        return None
    roles = payload.get("roles")
    granted = (
        frozenset(r for r in roles if isinstance(r, str) and r in ROLES) if isinstance(roles, list) else frozenset()
    )
    return Caller(
        subject=subject,
        username=_text(payload.get("preferred_username")),
        roles=granted,
        station=_text(payload.get("station")).upper(),
        district=_text(payload.get("district")),
    )


def encode_claims(claims: dict[str, object]) -> str:
    """The header value Envoy would forward for ``claims`` (tests and internal callers)."""
    return base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")


def ensure_operator() -> None:
    """Calls through the edge carry a caller, and need the operator role; internal calls carry none."""
    caller = current_caller()
    if caller is not None and not caller.has("operator"):
        raise PermissionDenied("this needs the operator role")


def ensure_internal() -> None:
    """Refuse a call that came through the edge: the method is for services only."""
    if current_caller() is not None:
        raise PermissionDenied("this method is internal to the mesh")
