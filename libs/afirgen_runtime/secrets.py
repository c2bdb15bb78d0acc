"""Secrets a service starts with: refused when empty, short, or known from the
repository, so a deployment cannot run on a development default by mistake.

``AFIRGEN_SERVER_ENVIRONMENT=development`` (explicit) accepts short and known
values for local work; nothing accepts an empty required secret. The local
stack (scripts/devstack) generates random secrets, so it runs as production.
"""

from __future__ import annotations

DEVELOPMENT = "development"
MIN_BYTES = 24
# Values that are, or were, committed to this repository or are common defaults.
KNOWN = frozenset(
    {
        "afirgen",
        "afirgen-dev",
        "afirgen-local",
        "local-dev-page-token-secret-change-me",
        "local-dev-webhook-secret-change-me",
        "unit-test-secret-0123456789",
        "changeme",
        "change-me",
        "secret",
        "password",
        "admin",
    }
)


class WeakSecret(ValueError):
    """A secret this service refuses to start with; the message says which and why."""


def check(name: str, value: str, *, environment: str, required: bool = True) -> None:
    """Refuse ``value`` for the setting ``name`` unless it is a real secret (see the module doc)."""
    if not value:
        if required:
            raise WeakSecret(f"{name} is not set: give it a random secret of at least {MIN_BYTES} bytes")
        return
    if environment == DEVELOPMENT:
        return
    if value in KNOWN or "change-me" in value:
        raise WeakSecret(
            f"{name} is a value known from the repository; set a secret of your own"
            f" (or AFIRGEN_SERVER_ENVIRONMENT={DEVELOPMENT} on a development machine)"
        )
    if len(value.encode()) < MIN_BYTES:
        raise WeakSecret(f"{name} is shorter than {MIN_BYTES} bytes")
