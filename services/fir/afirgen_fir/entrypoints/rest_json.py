"""The JSON bodies of the REST reads fir answers itself: ``GET /v1/firs/{id}`` and ``GET /v1/firs``.

Envoy's gRPC-JSON transcoder prints every response message as JSON, on every call: about
180 us of the edge's CPU for a FIR of 2.8 KB, and about 1.1 ms for a station's page of 20
(25 KB). For these two reads, the ones REST clients make most, fir sends the JSON body
itself, inside a ``google.api.HttpBody`` that the edge passes on as it is
(``edge/generated/transcoder.pb`` declares the two methods so: ``JSON_BODIES`` in
scripts/codegen.py), and keeps each body it rendered: a FIR or a page read again is not
printed again, by fir or by the edge.

- **Which calls.** The edge marks each call it transcoded from REST with the header
  ``x-afirgen-json`` (its Lua filter, edge/envoy.yaml.tmpl; a client's own header of that
  name is removed before). gRPC callers never carry it: they get the message, as before.
- **The same JSON as the edge's.** What the transcoder prints with its ``print_options``:
  proto field names, no whitespace, fields at their defaults left out, enums by name,
  64-bit integers as strings. The message goes through protobuf's ``json_format``
  conversion, then is written as protobuf's C++ printer writes (``_write``): its escapes
  (``ESCAPED``) and its doubles (15 significant digits when they read back the same, else
  17: ``5``, not ``5.0``). tests/e2e/test_fir_rest.py compares both, byte for byte, on the
  same FIRs. One difference is left: the members of a map (a generation's
  ``stage_millis``) may come in another order, which JSON objects do not define.
- **Kept by content.** A body is kept under a digest of the wire bytes it was rendered from
  (the cached FIR, or the cached FIRs of a page): the same bytes always make the same JSON,
  so a kept body is never stale and nothing has to drop it. A read with a ``read_mask``, or
  one that found no wire form, renders its message and keeps nothing. The bodies are
  bounded like a near cache (least recently used first, by entries and bytes), in the
  near-cache metrics as namespace ``fir_json``.
- **Rendering costs Python time once.** A page of 20 FIRs takes about 3 ms, one of 500 about
  77 ms; renders of large inputs go to a worker thread (``OFF_LOOP_BYTES``), so the event loop
  is not held for the whole of one.

Written here rather than taken from a library: protobuf's Python package has no C++ printer,
and ``json.dumps`` writes doubles (``5.0``) and escapes differently from it.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from collections.abc import Callable
from typing import Any

from afirgen.fir.v1 import fir_pb2
from afirgen_runtime.interceptors import ServicerContext, invocation_header
from afirgen_runtime.near_cache import NearCache, NearCacheSettings
from google.api import httpbody_pb2
from google.protobuf import json_format
from google.protobuf.message import Message

JSON_HEADER = "x-afirgen-json"
"""Set by the edge on every call it transcoded from REST."""
CONTENT_TYPE = "application/json"
NS_JSON = "fir_json"
OFF_LOOP_BYTES = 32 << 10
"""Bodies rendered from more wire bytes than this (a page of about 60 FIRs and more, about 8 ms
of rendering and more) are rendered in a worker thread. The render is Python, so it still takes
the GIL, but the event loop gets it back every switch interval (5 ms) instead of waiting for the
whole render: a page of 500 FIRs (266 KB of wire bytes, 589 KB of JSON) took 77 ms."""
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


def _write(value: Any, out: list[str]) -> None:
    """``value`` (from ``json_format.MessageToDict``) as the printer writes it, onto ``out``."""
    if isinstance(value, str):
        out.append(_string(value))
    elif isinstance(value, dict):
        out.append("{")
        for i, (key, item) in enumerate(value.items()):
            out.append("," if i else "")
            out.append(_string(key) + ":")
            _write(item, out)
        out.append("}")
    elif isinstance(value, list):
        out.append("[")
        for i, item in enumerate(value):
            out.append("," if i else "")
            _write(item, out)
        out.append("]")
    elif isinstance(value, bool):
        out.append("true" if value else "false")
    elif isinstance(value, int):
        out.append(str(value))
    elif isinstance(value, float):
        out.append(_double(value))  # NaN and infinities are strings already
    else:
        out.append("null")


def message_json(message: Message) -> bytes:
    """``message`` as the edge's transcoder prints it."""
    out: list[str] = []
    _write(json_format.MessageToDict(message, preserving_proto_field_name=True), out)
    return "".join(out).encode()


def http_body(body: bytes) -> bytes:
    """The serialized ``google.api.HttpBody`` carrying the JSON ``body``."""
    return httpbody_pb2.HttpBody(content_type=CONTENT_TYPE, data=body).SerializeToString()


class JsonBodies:
    """Renders the REST bodies of GetFir and ListFirs, and keeps those rendered from wire bytes."""

    def __init__(self, settings: NearCacheSettings) -> None:
        self.kept: NearCache[bytes] = NearCache(NS_JSON, settings)

    async def _kept(self, kind: str, wire: bytes, render: Callable[[], bytes]) -> bytes:
        key = kind + hashlib.blake2b(wire, digest_size=16).hexdigest()
        found = self.kept.get(key)
        if found is None:
            epoch = self.kept.epoch
            found = await _rendered(len(wire), render)
            self.kept.put(key, found, epoch, immutable=True, size=len(found))
        return found

    async def fir(self, reply: fir_pb2.Fir | bytes) -> bytes:
        """The body of a GetFir: from the FIR's wire bytes (kept) or from a message (not kept)."""
        if isinstance(reply, bytes):
            return await self._kept("fir:", reply, lambda: http_body(message_json(fir_pb2.Fir.FromString(reply))))
        return await _rendered(reply.ByteSize(), lambda: http_body(message_json(reply)))

    async def page(self, firs: bytes, next_page_token: str, total_size: int) -> bytes:
        """The body of a ListFirs page from the wire bytes of its FIRs (a ``ListFirsResponse``
        holding only ``firs``; their JSON is kept), and the token and total of this call."""
        members = [
            await self._kept("page:", firs, lambda: message_json(fir_pb2.ListFirsResponse.FromString(firs))[1:-1])
        ]
        if next_page_token:
            members.append(b'"next_page_token":' + _string(next_page_token).encode())
        if total_size:
            members.append(b'"total_size":"%d"' % total_size)  # int64: a string, as the printer writes it
        return http_body(b"{" + b",".join(member for member in members if member) + b"}")

    async def page_message(self, response: fir_pb2.ListFirsResponse) -> bytes:
        """The body of a ListFirs page built as a message (a read mask, or no cache): not kept."""
        return await _rendered(response.ByteSize(), lambda: http_body(message_json(response)))


async def _rendered(wire_bytes: int, render: Callable[[], bytes]) -> bytes:
    """``render()``, in a worker thread when its input is over ``OFF_LOOP_BYTES``."""
    if wire_bytes <= OFF_LOOP_BYTES:
        return render()
    return await asyncio.to_thread(render)
