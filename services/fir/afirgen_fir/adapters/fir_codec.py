"""FIRs, pages, counts and statistics <-> bytes for the cache.

An FIR is stored as the ``afirgen.fir.v1.Fir`` message GetFir answers (etag
included), behind a header: a one-byte format tag, its revision and status,
then its etag, station code and district (each length-prefixed). The header is
what a cache hit needs to check the reader's scope and set the ``etag`` and
``cache-control`` headers, so a hit sends the message bytes as they are
(:func:`decode_serialized`) without parsing them. A page is a format tag, its
keyset and length-prefixed FIRs. Bytes of another format decode to
:class:`CodecError`, which the cache treats as a miss.
"""

from __future__ import annotations

import functools
import json
import struct
from collections.abc import Iterable

from afirgen.fir.v1 import fir_pb2
from afirgen_runtime.proto_mapping import from_message, to_message
from google.protobuf.message import DecodeError

from afirgen_fir.domain.model import Fir, FirStatus
from afirgen_fir.service_layer.ports import FirCounts, SerializedFir

FORMAT = 2
_HEAD = struct.Struct(">BQB")
"""Format, revision, status (:data:`_STATUS_CODES`)."""
_TEXT = struct.Struct(">H")
_LENGTH = struct.Struct(">I")
_STATUS_CODES = {FirStatus.DRAFT: 1, FirStatus.FINALIZED: 2}
_STATUSES = {code: status for status, code in _STATUS_CODES.items()}


class CodecError(ValueError):
    """Bytes that are not a cache entry of this format."""


def _check(data: bytes, size: int) -> None:
    if len(data) < size or data[0] != FORMAT:
        raise CodecError("unknown cache entry format")


def fir_message(fir: Fir) -> fir_pb2.Fir:
    """The whole FIR as the message GetFir answers (with its etag once it has an id)."""
    message = to_message(fir, fir_pb2.Fir())
    if fir.id:
        message.etag = fir.etag
    return message


def encode_fir(fir: Fir) -> bytes:
    """Header (format, revision, status, etag, station, district), then the serialized message."""
    parts = [_HEAD.pack(FORMAT, fir.revision, _STATUS_CODES.get(fir.status, 0))]
    for text in (fir.etag if fir.id else "", fir.station.code, fir.station.district):
        raw = text.encode()
        parts += [_TEXT.pack(len(raw)), raw]
    parts.append(fir_message(fir).SerializeToString())
    return b"".join(parts)


def decode_serialized(fir_id: str, data: bytes) -> SerializedFir:
    """The header of the FIR entry ``data`` and its message bytes, unparsed."""
    _check(data, _HEAD.size)
    try:
        _, revision, status = _HEAD.unpack_from(data)
        offset = _HEAD.size
        texts = []
        for _ in range(3):
            (size,) = _TEXT.unpack_from(data, offset)
            offset += _TEXT.size
            texts.append(data[offset : offset + size].decode())
            offset += size
    except (struct.error, UnicodeDecodeError) as exc:
        raise CodecError("corrupt FIR entry header") from exc
    if status not in _STATUSES or offset > len(data):
        raise CodecError("corrupt FIR entry header")
    etag, station, district = texts
    return SerializedFir(fir_id, revision, _STATUSES[status], station, district, etag, data[offset:])


def decode_fir(data: bytes) -> Fir:
    """The FIR in ``data``."""
    return decode_fir_message(decode_serialized("", data))


def decode_fir_message(found: SerializedFir) -> Fir:
    """The domain FIR of a serialized one (a parse and a mapping: what a bytes read avoids)."""
    try:
        message = fir_pb2.Fir.FromString(found.data)
    except DecodeError as exc:
        raise CodecError("corrupt FIR entry") from exc
    fir = from_message(message, Fir)
    fir.revision = found.revision
    return fir


def encode_page(firs: list[Fir], next_key: tuple[str, int] | None) -> bytes:
    """Format tag, a JSON header (keyset, each FIR's revision), then the FIRs as the ``firs``
    field of a serialized ``ListFirsResponse``: the bytes ListFirs sends, before its tail."""
    head = json.dumps({"next": list(next_key) if next_key else None, "revisions": [f.revision for f in firs]})
    body = fir_pb2.ListFirsResponse(firs=[fir_message(f) for f in firs]).SerializeToString()
    raw = head.encode()
    return b"".join([bytes([FORMAT]), _LENGTH.pack(len(raw)), raw, body])


def _page_parts(data: bytes) -> tuple[dict[str, object], bytes]:
    _check(data, 1 + _LENGTH.size)
    try:
        (size,) = _LENGTH.unpack_from(data, 1)
        start = 1 + _LENGTH.size
        head = json.loads(data[start : start + size])
    except (struct.error, ValueError) as exc:
        raise CodecError("corrupt page entry") from exc
    if not isinstance(head, dict) or start + size > len(data):
        raise CodecError("corrupt page entry")
    return head, data[start + size :]


def _keyset(head: dict[str, object]) -> tuple[str, int] | None:
    key = head.get("next")
    if not key:
        return None
    if not isinstance(key, list) or len(key) != 2:
        raise CodecError("corrupt page keyset")
    return str(key[0]), int(key[1])


KEPT_PAGES = 32
"""Page entries whose decoded form :func:`decode_page_serialized` keeps (least recently used out)..."""
KEPT_PAGE_BYTES = 32 << 10
"""... when they are at most this large (a page of about 25 full FIRs): the entries and their FIRs
kept hold at most 2 MiB in all."""


def decode_page_serialized(data: bytes) -> tuple[bytes, tuple[str, int] | None]:
    """The page's FIRs in their wire form (the ``firs`` field of a ``ListFirsResponse``) and its keyset.

    Kept for pages up to ``KEPT_PAGE_BYTES``: a near-cached page is the same bytes object on every
    read, and Python keeps the hash of a bytes object, so decoding it again costs one lookup, and
    its FIRs come back as the same object (whose digest the REST side keeps in turn). Corrupt
    entries raise every time."""
    return _kept_page(data) if len(data) <= KEPT_PAGE_BYTES else _decode_page_serialized(data)


def _decode_page_serialized(data: bytes) -> tuple[bytes, tuple[str, int] | None]:
    head, body = _page_parts(data)
    return body, _keyset(head)


_kept_page = functools.lru_cache(maxsize=KEPT_PAGES)(_decode_page_serialized)


def decode_page(data: bytes) -> tuple[list[Fir], tuple[str, int] | None]:
    """The page in ``data``."""
    head, body = _page_parts(data)
    revisions = head.get("revisions")
    try:
        messages = fir_pb2.ListFirsResponse.FromString(body).firs
    except DecodeError as exc:
        raise CodecError("corrupt page entry") from exc
    if not isinstance(revisions, list) or len(revisions) != len(messages):
        raise CodecError("corrupt page entry")
    firs = []
    for message, revision in zip(messages, revisions, strict=True):
        fir = from_message(message, Fir)
        fir.revision = int(revision)
        firs.append(fir)
    return firs, _keyset(head)


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


def _stats_of(data: bytes) -> fir_pb2.FirStats:
    try:
        return fir_pb2.FirStats.FromString(data)
    except DecodeError as exc:
        raise CodecError("corrupt stats entry") from exc


def check_stats(data: bytes) -> bytes:
    """``data`` when it is a ``FirStats`` message (sent as it is), else :class:`CodecError`."""
    _stats_of(data)
    return data


def decode_stats(data: bytes) -> FirCounts:
    """The statistics in ``data``."""
    message = _stats_of(data)

    def rows(items: Iterable[fir_pb2.FirCount]) -> list[tuple[str, int]]:
        return [(c.key, int(c.count)) for c in items]

    return FirCounts(
        total=int(message.total),
        by_status=rows(message.by_status),
        by_station=rows(message.by_station),
        by_section=rows(message.by_section),
        by_day=rows(message.by_day),
    )
