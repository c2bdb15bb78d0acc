"""The JSON bodies of the REST reads fir answers itself: ``GET /v1/firs/{id}`` and ``GET /v1/firs``.

Envoy's gRPC-JSON transcoder prints every response message as JSON, on every call: about
180 us of the edge's CPU for a FIR of 2.8 KB, and about 1.1 ms for a station's page of 20
(25 KB). For these two reads, the ones REST clients make most, fir sends the JSON body
itself, inside a ``google.api.HttpBody`` that the edge passes on as it is
(``edge/generated/transcoder.pb`` declares the two methods so: ``JSON_BODIES`` in
scripts/codegen.py), and keeps each body it rendered: a FIR or a page read again is not
printed again, by fir or by the edge.

- **Which calls.** The edge marks each call it transcoded from REST with the header
  ``x-afirgen-json`` (its ``afirgen.json_mark`` filter, edge/envoy.yaml.tmpl; a client's own
  header of that name is removed before). gRPC callers never carry it: they get the message,
  as before.
- **The same JSON as the edge's.** What the transcoder prints with its ``print_options``:
  proto field names, no whitespace, fields at their defaults left out, enums by name,
  64-bit integers as strings. The message goes through protobuf's ``json_format``
  conversion, then is written as protobuf's C++ printer writes (:func:`message_json`): its
  escapes (``ESCAPED``) and its doubles (15 significant digits when they read back the same,
  else 17: ``5``, not ``5.0``). tests/e2e/test_fir_rest.py compares both, byte for byte, on the
  same FIRs. One difference is left: the members of a map (a generation's
  ``stage_millis``) may come in another order, which JSON objects do not define.
- **Kept by content.** A body is kept under a digest of the wire bytes it was rendered from
  (the cached FIR, or the cached FIRs of a page): the same bytes always make the same JSON,
  so a kept body is never stale and nothing has to drop it. A read with a ``read_mask``, or
  one that found no wire form, renders its message and keeps nothing. The bodies are
  bounded like a near cache (least recently used first, by entries and bytes), in the
  near-cache metrics as namespace ``fir_json``.
- **Rendering costs Python time once.** A page of 20 FIRs takes about 2 ms, one of 500 about
  31 ms (two thirds of it ``json_format``'s conversion); renders of large inputs go to a worker
  thread (``OFF_LOOP_BYTES``), so the event loop is not held for the whole of one.

Written here rather than taken from a library: protobuf's Python package has no C++ printer,
and ``json.dumps``, which writes the rest, writes doubles (``5.0``) and escapes differently
from it; :func:`message_json` mends its output.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import re
import secrets
from collections.abc import Callable
from typing import Any, TypeAlias

from afirgen.fir.v1 import fir_pb2
from afirgen_runtime.interceptors import ServicerContext, invocation_header
from afirgen_runtime.near_cache import NearCache, NearCacheSettings
from google.api import httpbody_pb2
from google.protobuf import json_format
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from afirgen_fir.adapters.fir_codec import KEPT_PAGE_BYTES, KEPT_PAGES

JSON_HEADER = "x-afirgen-json"
"""Set by the edge on every call it transcoded from REST."""
CONTENT_TYPE = "application/json"
NS_JSON = "fir_json"
OFF_LOOP_BYTES = 32 << 10
"""Bodies rendered from more wire bytes than this (a page of about 60 FIRs and more, about 5 ms
of rendering and more) are rendered in a worker thread. The render is Python, so it still takes
the GIL, but the event loop gets it back every switch interval (5 ms) instead of waiting for the
whole render: a page of 500 FIRs (266 KB of wire bytes, 589 KB of JSON) takes about 31 ms."""
ESCAPED = re.compile(
    "[<>\x7f-\x9f\xad\u0600-\u0603\u06dd\u070f\u17b4\u17b5\u200b-\u200f\u2028-\u202e\u2060-\u2064"
    "\u206a-\u206f\ufeff\ufff9-\ufffb\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f]"
)
"""What protobuf's printer writes as ``\\u`` escapes beyond what JSON requires (json/internal/writer.cc,
``MustEscape``): ``<``, ``>``, and invisible and formatting characters, among them the zero-width
joiner and non-joiner that Devanagari text carries. ``json.dumps`` already escapes the rest alike
(quotes, backslashes, control characters, with the same short forms and lowercase hex)."""


def wants_json(context: ServicerContext) -> bool:
    """The call came through the edge's REST side: it is answered with a JSON body."""
    return invocation_header(context, JSON_HEADER) != ""


def _u_escape(found: re.Match[str]) -> str:
    code = ord(found.group())
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"  # a UTF-16 pair


def _string(text: str) -> str:
    return ESCAPED.sub(_u_escape, json.dumps(text, ensure_ascii=False))


def _double(value: float) -> str:
    """Protobuf's ``SimpleDtoa``: 15 significant digits when they read back as the same double, else 17."""
    text = f"{value:.15g}"
    return text if float(text) == value else f"{value:.17g}"


DOUBLE = "double"
"""In a :data:`Plan`: the member is a double (or a list of them)."""
ANY = "any"
"""In a :data:`Plan`: a double may be anywhere under the member (``google.protobuf.Struct`` and
the like, or a message that contains itself)."""
Where: TypeAlias = "dict[str, Where] | str | tuple[str, Where]"
"""What holds doubles under a member: :data:`DOUBLE`, :data:`ANY`, the :data:`Plan` of a message
member, or ``("map", what each value is)``."""
Plan: TypeAlias = dict[str, Where]
"""Where the doubles of a message's JSON object are: member name -> :data:`Where`."""
_DOUBLE_WRAPPERS = ("google.protobuf.DoubleValue", "google.protobuf.FloatValue")
_OPEN_TYPES = ("google.protobuf.Struct", "google.protobuf.Value", "google.protobuf.ListValue", "google.protobuf.Any")
_MARK = f"\x00{secrets.token_hex(16)}\x00"
"""Stands in for each double while ``json.dumps`` writes the rest; no string of a message holds it
(it is drawn at random when the process starts and never sent)."""
_MARK_JSON = json.dumps(_MARK)


@functools.cache
def _plan(descriptor: Descriptor, parents: frozenset[str] = frozenset()) -> Plan:
    """The :data:`Plan` of messages of type ``descriptor``, worked out once per type."""
    plan: Plan = {}
    for field in descriptor.fields:
        where = _field_plan(field, parents | {descriptor.full_name})
        if where:
            plan[field.name] = where
    return plan


def _field_plan(field: FieldDescriptor, parents: frozenset[str]) -> Where | None:
    message = field.message_type
    if message is not None and message.GetOptions().map_entry:
        values = _field_plan(message.fields_by_name["value"], parents)
        return ("map", values) if values else None
    if field.type in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        return DOUBLE
    if message is None:
        return None
    if message.full_name in _DOUBLE_WRAPPERS:
        return DOUBLE
    if message.full_name in _OPEN_TYPES or message.full_name in parents:
        return ANY
    if message.full_name.startswith("google.protobuf."):
        return None  # Timestamp, Duration, FieldMask and the other wrappers: strings and integers
    return _plan(message, parents) or None


def _marked(value: Any, where: Where, doubles: list[float]) -> Any:
    """``value`` (from ``json_format.MessageToDict``) with each double that ``where`` leads to
    replaced by :data:`_MARK`, its value appended to ``doubles`` in the order ``json.dumps`` writes."""
    if isinstance(value, list):
        return [_marked(item, where, doubles) for item in value]
    if isinstance(value, float):
        doubles.append(value)
        return _MARK
    if where == ANY:
        return {k: _marked(v, ANY, doubles) for k, v in value.items()} if isinstance(value, dict) else value
    if isinstance(where, tuple):
        return {k: _marked(v, where[1], doubles) for k, v in value.items()}
    if isinstance(where, dict):
        for name, inner in where.items():
            if name in value:
                value[name] = _marked(value[name], inner, doubles)
    return value  # NaN and infinities are strings already


def message_json(message: Message) -> bytes:
    """``message`` as the edge's transcoder prints it.

    ``json.dumps`` writes the whole object at once, in C; what protobuf's printer writes
    otherwise is mended on its output: the extra escapes (``ESCAPED``: outside strings, JSON
    has none of those characters), and each double, written by ``json.dumps`` as a mark
    (``_MARK``, placed by the message type's :data:`Plan`), then replaced by its ``SimpleDtoa``
    form. Written value by value in Python instead, a page of 500 FIRs took 40 ms more."""
    doubles: list[float] = []
    name = message.DESCRIPTOR.full_name
    where = ANY if name in _OPEN_TYPES else _plan(message.DESCRIPTOR)  # their JSON is no object of their fields
    tree = _marked(json_format.MessageToDict(message, preserving_proto_field_name=True), where, doubles)
    text = ESCAPED.sub(_u_escape, json.dumps(tree, ensure_ascii=False, separators=(",", ":")))
    if doubles:
        parts = text.split(_MARK_JSON)
        if len(parts) != len(doubles) + 1:
            raise RuntimeError("a string of the message holds the mark that stands in for doubles")
        text = parts[0] + "".join(_double(value) + part for value, part in zip(doubles, parts[1:], strict=True))
    return text.encode()


def http_body(body: bytes) -> bytes:
    """The serialized ``google.api.HttpBody`` carrying the JSON ``body``."""
    return httpbody_pb2.HttpBody(content_type=CONTENT_TYPE, data=body).SerializeToString()


class JsonBodies:
    """Renders the REST bodies of GetFir and ListFirs, and keeps those rendered from wire bytes."""

    def __init__(self, settings: NearCacheSettings) -> None:
        self.kept: NearCache[bytes] = NearCache(NS_JSON, settings)

    async def _kept(self, key: str, wire_bytes: int, render: Callable[[], bytes]) -> bytes:
        """The body kept under ``key``, else ``render()`` (from ``wire_bytes`` of input), kept."""
        found = self.kept.get(key)
        if found is None:
            epoch = self.kept.epoch
            found = await _rendered(wire_bytes, render)
            self.kept.put(key, found, epoch, immutable=True, size=len(found))
        return found

    async def fir(self, reply: fir_pb2.Fir | bytes) -> bytes:
        """The body of a GetFir: from the FIR's wire bytes (kept) or from a message (not kept)."""
        if isinstance(reply, bytes):
            key = "fir:" + _content_key(reply)
            return await self._kept(key, len(reply), lambda: http_body(message_json(fir_pb2.Fir.FromString(reply))))
        return await _rendered(reply.ByteSize(), lambda: http_body(message_json(reply)))

    async def page(self, firs: bytes, next_page_token: str, total_size: int) -> bytes:
        """The body of a ListFirs page from the wire bytes of its FIRs (a ``ListFirsResponse``
        holding only ``firs``; their JSON is kept), and the token and total of this call."""
        key = "page:" + (_kept_content_key(firs) if len(firs) <= KEPT_PAGE_BYTES else _content_key(firs))
        members = [
            await self._kept(key, len(firs), lambda: message_json(fir_pb2.ListFirsResponse.FromString(firs))[1:-1])
        ]
        if next_page_token:
            members.append(b'"next_page_token":' + _string(next_page_token).encode())
        if total_size:
            members.append(b'"total_size":"%d"' % total_size)  # int64: a string, as the printer writes it
        return http_body(b"{" + b",".join(member for member in members if member) + b"}")

    async def page_message(self, response: fir_pb2.ListFirsResponse) -> bytes:
        """The body of a ListFirs page built as a message (a read mask, or no cache): not kept."""
        return await _rendered(response.ByteSize(), lambda: http_body(message_json(response)))


def _content_key(wire: bytes) -> str:
    """What a body rendered from ``wire`` is kept under (with the kind of read before it)."""
    return hashlib.blake2b(wire, digest_size=16).hexdigest()


_kept_content_key = functools.lru_cache(maxsize=KEPT_PAGES)(_content_key)
""":func:`_content_key` of a page's FIRs, kept as ``decode_page_serialized`` keeps pages: the FIRs
of a near-cached page come as the same bytes object on every read, so the digest of a page read
again (25 us for 25 KB) is one lookup. Single FIRs do not go through it: they are many, and
would push the pages out."""


async def _rendered(wire_bytes: int, render: Callable[[], bytes]) -> bytes:
    """``render()``, in a worker thread when its input is over ``OFF_LOOP_BYTES``."""
    if wire_bytes <= OFF_LOOP_BYTES:
        return render()
    return await asyncio.to_thread(render)
