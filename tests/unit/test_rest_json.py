"""The JSON bodies fir answers REST reads with (afirgen_fir.entrypoints.rest_json); that they are
byte for byte what the edge's transcoder prints is tested end to end (tests/e2e/test_fir_rest.py)."""

from __future__ import annotations

import json
import threading

import pytest
from afirgen.fir.v1 import fir_pb2
from afirgen_fir.entrypoints import rest_json
from afirgen_fir.entrypoints.rest_json import JsonBodies, message_json
from afirgen_runtime.near_cache import NearCacheSettings
from google.api import httpbody_pb2
from google.protobuf import struct_pb2


def _body(serialized: bytes) -> bytes:
    body = httpbody_pb2.HttpBody.FromString(serialized)
    assert body.content_type == "application/json"
    return body.data


def _fir(fir_id: str) -> fir_pb2.Fir:
    return fir_pb2.Fir(id=fir_id, summary="फ़ोन", status=fir_pb2.FIR_STATUS_DRAFT)


def test_a_whole_double_is_printed_as_an_integer_and_a_fraction_as_it_is() -> None:
    incident = fir_pb2.Incident(distance_km=5.0, reporting_delay_hours=2.75)
    assert (
        message_json(fir_pb2.Fir(incident=incident)) == b'{"incident":{"distance_km":5,"reporting_delay_hours":2.75}}'
    )


def test_text_beyond_ascii_is_written_as_utf8() -> None:
    assert message_json(fir_pb2.Fir(summary="फ़ोन")) == '{"summary":"फ़ोन"}'.encode()


def test_markup_and_invisible_characters_are_escaped_as_protobufs_printer_does() -> None:
    text = 'a<b>"c"\\\n\x7f क्\u200dष \U000e0001'
    expected = r'{"summary":"a\u003cb\u003e\"c\"\\\n\u007f क्\u200dष \udb40\udc01"}'
    assert message_json(fir_pb2.Fir(summary=text)) == expected.encode()


def test_a_double_needing_17_digits_is_written_with_17_as_protobufs_printer_does() -> None:
    incident = fir_pb2.Incident(distance_km=0.1 + 0.7)  # 0.7999999999999999 in 16 digits
    assert message_json(fir_pb2.Fir(incident=incident)) == b'{"incident":{"distance_km":0.79999999999999993}}'


def test_doubles_in_a_map_and_in_repeated_messages_are_written_as_protobufs_printer_does() -> None:
    fir = fir_pb2.Fir(properties=[fir_pb2.Property(value_inr=5.0), fir_pb2.Property(description="x")])
    fir.generation.stage_millis["llm"] = 0.1 + 0.7
    assert message_json(fir) == (
        b'{"properties":[{"value_inr":5},{"description":"x"}],'
        b'"generation":{"stage_millis":{"llm":0.79999999999999993}}}'
    )


def test_doubles_anywhere_in_an_open_type_are_written_as_protobufs_printer_does() -> None:
    struct = struct_pb2.Struct()
    struct.update({"list": [1.0, {"inner": 0.1 + 0.7}]})  # one member a level: a map's order is its own
    assert message_json(struct) == b'{"list":[1,{"inner":0.79999999999999993}]}'


def test_a_string_that_looks_like_a_number_stays_a_string() -> None:
    assert message_json(fir_pb2.Fir(summary="5.0", incident=fir_pb2.Incident(distance_km=5.0))) == (
        b'{"incident":{"distance_km":5},"summary":"5.0"}'
    )


async def test_a_page_carries_its_firs_then_the_calls_token_and_total() -> None:
    firs = fir_pb2.ListFirsResponse(firs=[_fir("a"), _fir("b")]).SerializeToString()
    body = _body(await JsonBodies(NearCacheSettings()).page(firs, "next", 12))
    expected = fir_pb2.ListFirsResponse(firs=[_fir("a"), _fir("b")], next_page_token="next", total_size=12)
    assert body == message_json(expected)


async def test_an_empty_last_page_is_an_empty_object() -> None:
    assert _body(await JsonBodies(NearCacheSettings()).page(b"", "", 0)) == b"{}"


async def test_a_page_body_is_json_the_message_parses_back_from() -> None:
    firs = fir_pb2.ListFirsResponse(firs=[_fir("a")]).SerializeToString()
    parsed = json.loads(_body(await JsonBodies(NearCacheSettings()).page(firs, "t", 1)))
    assert parsed == {
        "firs": [{"id": "a", "summary": "फ़ोन", "status": "FIR_STATUS_DRAFT"}],
        "next_page_token": "t",
        "total_size": "1",
    }


async def test_the_same_wire_bytes_are_rendered_once(monkeypatch: pytest.MonkeyPatch) -> None:
    rendered: list[bytes] = []
    monkeypatch.setattr(rest_json, "message_json", lambda message: rendered.append(b"") or b"{}")
    bodies = JsonBodies(NearCacheSettings())
    wire = _fir("a").SerializeToString()
    await bodies.fir(wire)
    await bodies.fir(bytes(wire))  # equal bytes, another object: as a cache hands them out
    assert len(rendered) == 1


async def test_a_fir_and_a_page_of_the_same_bytes_are_kept_apart() -> None:
    bodies = JsonBodies(NearCacheSettings())
    await bodies.fir(b"")  # an empty FIR: "{}" kept for these bytes
    assert _body(await bodies.page(b"", "", 0)) == b"{}"


async def test_a_message_built_for_the_call_is_not_kept() -> None:
    bodies = JsonBodies(NearCacheSettings())
    await bodies.fir(_fir("a"))
    assert len(bodies.kept) == 0


async def test_a_firs_body_takes_no_place_among_the_kept_page_digests() -> None:
    before = rest_json._kept_content_key.cache_info().currsize
    await JsonBodies(NearCacheSettings()).fir(_fir("a-fir-of-its-own").SerializeToString())
    assert rest_json._kept_content_key.cache_info().currsize == before


def _rendering_thread(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    threads: list[int] = []

    def render(message: object) -> bytes:
        threads.append(threading.get_ident())
        return b"{}"

    monkeypatch.setattr(rest_json, "message_json", render)
    return threads


async def test_a_large_page_is_rendered_off_the_event_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    threads = _rendering_thread(monkeypatch)
    many = fir_pb2.ListFirsResponse(firs=[_fir(str(i)) for i in range(4000)]).SerializeToString()
    assert len(many) > rest_json.OFF_LOOP_BYTES
    await JsonBodies(NearCacheSettings()).page(many, "", 0)
    assert threads != [threading.get_ident()]


async def test_a_small_page_is_rendered_on_the_event_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    threads = _rendering_thread(monkeypatch)
    await JsonBodies(NearCacheSettings()).page(fir_pb2.ListFirsResponse(firs=[_fir("a")]).SerializeToString(), "", 0)
    assert threads == [threading.get_ident()]
