"""Invalidation messages: what a delete or a namespace invalidation made stale, as published on
one Redis pub/sub channel that every replica of the cache service listens to.

A message is a one-byte kind, then fields separated by NUL (keys are UTF-8 text,
which the service's key rules keep free of NUL): ``H`` a heartbeat, ``K`` a
namespace and its deleted keys, ``N`` a namespace invalidated whole.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

CHANNEL = "afirgen:invalidations"
SEPARATOR = "\0"


class Kind(Enum):
    """What an event says."""

    HEARTBEAT = "H"
    KEYS = "K"
    NAMESPACE = "N"
    RESET = "R"
    """Never published: said to a subscriber that may have missed messages."""


@dataclass(frozen=True)
class Invalidation:
    """One event of the feed."""

    kind: Kind
    namespace: str = ""
    keys: tuple[str, ...] = ()


HEARTBEAT = Invalidation(Kind.HEARTBEAT)
RESET = Invalidation(Kind.RESET)


def keys_message(namespace: str, keys: Sequence[str]) -> str:
    """The message of a delete of ``keys``."""
    return Kind.KEYS.value + SEPARATOR.join((namespace, *keys))


def namespace_message(namespace: str) -> str:
    """The message of a whole-namespace invalidation."""
    return Kind.NAMESPACE.value + namespace


def heartbeat_message() -> str:
    """The message of a heartbeat."""
    return Kind.HEARTBEAT.value


def parse(message: bytes | str) -> Invalidation | None:
    """The event in a published message; ``None`` for anything else."""
    text = message.decode(errors="replace") if isinstance(message, bytes) else message
    if not text:
        return None
    kind, body = text[0], text[1:]
    if kind == Kind.HEARTBEAT.value:
        return HEARTBEAT
    if kind == Kind.NAMESPACE.value and body:
        return Invalidation(Kind.NAMESPACE, body)
    if kind == Kind.KEYS.value and body:
        namespace, *keys = body.split(SEPARATOR)
        return Invalidation(Kind.KEYS, namespace, tuple(keys))
    return None
