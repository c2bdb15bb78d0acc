"""What a Redis entry holds: a kind byte, then kind-specific bytes.

- ``D`` + 4-byte compute time in milliseconds (big-endian) + the caller's value;
- ``T`` + the Redis time (microseconds, decimal) of the delete: a tombstone
  that makes fills leased before the delete fail. Read as a miss.

The Lua scripts of the Redis adapter test the kind byte too.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

DATA = b"D"
TOMBSTONE = b"T"
_HEADER = struct.Struct(">I")
HEADER_BYTES = 1 + _HEADER.size
_MAX_MS = 2**32 - 1


@dataclass(frozen=True)
class Entry:
    """A cached value and the time it took to compute."""

    value: bytes
    compute_seconds: float


def pack(value: bytes, compute_seconds: float) -> bytes:
    """Bytes stored in Redis for ``value``."""
    ms = min(_MAX_MS, max(0, round(compute_seconds * 1000)))
    return DATA + _HEADER.pack(ms) + value


def unpack(raw: bytes | None) -> Entry | None:
    """The entry in ``raw``; ``None`` for a missing key, a tombstone or foreign bytes."""
    if raw is None or len(raw) < HEADER_BYTES or raw[:1] != DATA:
        return None
    (ms,) = _HEADER.unpack_from(raw, 1)
    return Entry(raw[HEADER_BYTES:], ms / 1000.0)
