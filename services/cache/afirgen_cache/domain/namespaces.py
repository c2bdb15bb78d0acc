"""Declared namespaces and the Redis key layout.

Every key lives under ``afirgen:<namespace>:``. Entries are stored at
``afirgen:<namespace>:v<version>:<key>``; bumping the namespace version
(``afirgen:<namespace>:version``) makes every older entry unreachable at once,
and the old keys are left to expire or be evicted. The single-flight lock of an
entry is ``afirgen:<namespace>:lock:v<version>:<key>``: the third segment
(``version``, ``lock`` or ``v<digits>``) keeps the three kinds apart whatever
the key contains.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from afirgen_runtime.errors import FieldViolation, InvalidArgument, UnknownNamespace

ROOT = "afirgen"
NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


@dataclass(frozen=True)
class Namespace:
    """A declared namespace."""

    name: str
    default_ttl: float
    """Seconds an entry lives when its writer gives no TTL."""

    @property
    def version_key(self) -> str:
        """Redis key holding the namespace version."""
        return f"{ROOT}:{self.name}:version"

    @property
    def data_prefix(self) -> str:
        """``data_prefix + version + ":" + key`` is an entry's Redis key."""
        return f"{ROOT}:{self.name}:v"

    @property
    def lock_prefix(self) -> str:
        """``lock_prefix + version + ":" + key`` is an entry's fill lock."""
        return f"{ROOT}:{self.name}:lock:v"

    def data_key(self, version: int, key: str) -> str:
        """Redis key of ``key`` at namespace ``version``."""
        return f"{self.data_prefix}{version}:{key}"

    def lock_key(self, version: int, key: str) -> str:
        """Redis key of the fill lock of ``key`` at namespace ``version``."""
        return f"{self.lock_prefix}{version}:{key}"


def parse_namespaces(declared: Mapping[str, str]) -> dict[str, Namespace]:
    """Namespaces from ``name -> default TTL in seconds`` (the settings' ``a=60,b=5`` form).

    Raises :class:`ValueError` for a bad name or TTL: a misconfigured service
    must not start.
    """
    spaces: dict[str, Namespace] = {}
    for name, ttl_text in declared.items():
        if not NAME.match(name):
            raise ValueError(f"namespace {name!r}: use lower-case letters, digits and _ (at most 63)")
        try:
            ttl = float(ttl_text)
        except ValueError:
            raise ValueError(f"namespace {name!r}: default TTL {ttl_text!r} is not a number of seconds") from None
        if ttl <= 0:
            raise ValueError(f"namespace {name!r}: default TTL must be positive")
        spaces[name] = Namespace(name, ttl)
    if not spaces:
        raise ValueError("declare at least one namespace (AFIRGEN_NAMESPACES=name=ttl_seconds,...)")
    return spaces


def resolve(spaces: Mapping[str, Namespace], name: str) -> Namespace:
    """The declared namespace ``name``; INVALID_ARGUMENT (UNKNOWN_NAMESPACE) otherwise."""
    space = spaces.get(name)
    if space is None:
        detail = "is required" if not name else f"is not declared; known: {', '.join(sorted(spaces))}"
        error = UnknownNamespace if name else InvalidArgument
        raise error(f"namespace {detail}", violations=[FieldViolation("namespace", detail)])
    return space
