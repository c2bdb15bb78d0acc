"""FIRs, pages, counts and statistics <-> bytes for the cache.

An FIR is stored as its ``afirgen.fir.v1.Fir`` message, behind a one-byte
format tag and its revision (the message carries the etag, from which the
revision cannot be recovered). A page is a format tag, its keyset and
length-prefixed FIRs. Bytes of another format decode to :class:`CodecError`,
which the cache treats as a miss.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterable

from afirgen.fir.v1 import fir_pb2
from afirgen_runtime.proto_mapping import from_message, to_message
from google.protobuf.message import DecodeError

from afirgen_fir.domain.model import Fir
from afirgen_fir.service_layer.ports import FirCounts

FORMAT = 1
_REVISION = struct.Struct(">BQ")
_LENGTH = struct.Struct(">I")


class CodecError(ValueError):
    """Bytes that are not a cache entry of this format."""


def _check(data: bytes, size: int) -> None:
    if len(data) < size or data[0] != FORMAT:
        raise CodecError("unknown cache entry format")


def encode_fir(fir: Fir) -> bytes:
    """Format tag, revision, serialized message."""
    return _REVISION.pack(FORMAT, fir.revision) + to_message(fir, fir_pb2.Fir()).SerializeToString()


def decode_fir(data: bytes) -> Fir:
    """The FIR in ``data``."""
    _check(data, _REVISION.size)
    _, revision = _REVISION.unpack_from(data)
    try:
        message = fir_pb2.Fir.FromString(data[_REVISION.size :])
    except DecodeError as exc:
        raise CodecError("corrupt FIR entry") from exc
    fir = from_message(message, Fir)
    fir.revision = revision
    return fir


def encode_page(firs: list[Fir], next_key: tuple[str, int] | None) -> bytes:
    """Format tag, keyset (JSON), then each FIR with its length."""
    head = json.dumps(list(next_key) if next_key else None).encode()
    parts = [bytes([FORMAT]), _LENGTH.pack(len(head)), head]
    for fir in firs:
        body = encode_fir(fir)
        parts += [_LENGTH.pack(len(body)), body]
    return b"".join(parts)


def decode_page(data: bytes) -> tuple[list[Fir], tuple[str, int] | None]:
    """The page in ``data``."""
    _check(data, 1 + _LENGTH.size)
    try:
        offset = 1
        (size,) = _LENGTH.unpack_from(data, offset)
        offset += _LENGTH.size
        key = json.loads(data[offset : offset + size])
        offset += size
        firs = []
        while offset < len(data):
            (size,) = _LENGTH.unpack_from(data, offset)
            offset += _LENGTH.size
            firs.append(decode_fir(data[offset : offset + size]))
            offset += size
    except (struct.error, ValueError) as exc:
        raise CodecError("corrupt page entry") from exc
    return firs, (str(key[0]), int(key[1])) if key else None


def encode_count(count: int) -> bytes:
    """A total as decimal text."""
    return str(count).encode()


def decode_count(data: bytes) -> int:
    """The total in ``data``."""
    try:
        return int(data)
    except ValueError as exc:
        raise CodecError("corrupt count entry") from exc


def stats_message(counts: FirCounts) -> fir_pb2.FirStats:
    """Statistics as the ``afirgen.fir.v1.FirStats`` message (GetFirStats answers it too)."""

    def rows(items: list[tuple[str, int]]) -> list[fir_pb2.FirCount]:
        return [fir_pb2.FirCount(key=k, count=n) for k, n in items]

    return fir_pb2.FirStats(
        total=counts.total,
        by_status=rows(counts.by_status),
        by_station=rows(counts.by_station),
        by_section=rows(counts.by_section),
        by_day=rows(counts.by_day),
    )


def encode_stats(counts: FirCounts) -> bytes:
    """Statistics as a serialized ``FirStats`` message."""
    return stats_message(counts).SerializeToString()


def decode_stats(data: bytes) -> FirCounts:
    """The statistics in ``data``."""
    try:
        message = fir_pb2.FirStats.FromString(data)
    except DecodeError as exc:
        raise CodecError("corrupt stats entry") from exc

    def rows(items: Iterable[fir_pb2.FirCount]) -> list[tuple[str, int]]:
        return [(c.key, int(c.count)) for c in items]

    return FirCounts(
        total=int(message.total),
        by_status=rows(message.by_status),
        by_station=rows(message.by_station),
        by_section=rows(message.by_section),
        by_day=rows(message.by_day),
    )
