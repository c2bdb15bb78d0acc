"""Requests that once broke a rule, each answered now with a clear 4xx status
body before any work was done on it, and nothing stored."""

from __future__ import annotations

import asyncio
import base64
import json

import grpc
import httpx
import pytest
from afirgen.fir.v1 import fir_pb2, fir_pb2_grpc

from tests.e2e.fir_helpers import create_fir, error_reason, fir_body, grpc_violations, violations

pytestmark = pytest.mark.e2e


async def test_a_body_id_that_differs_from_the_path_is_refused(rest: httpx.AsyncClient, station: str) -> None:
    a, b = await create_fir(rest, station), await create_fir(rest, station)
    resp = await rest.patch(
        f"/v1/firs/{a['id']}",
        params={"update_mask": "summary"},
        json={"id": b["id"], "etag": b["etag"], "summary": "x"},
    )
    assert resp.status_code == 400


async def test_the_other_fir_is_untouched_by_a_colliding_body(rest: httpx.AsyncClient, station: str) -> None:
    a, b = await create_fir(rest, station), await create_fir(rest, station)
    await rest.patch(
        f"/v1/firs/{a['id']}",
        params={"update_mask": "summary"},
        json={"id": b["id"], "etag": b["etag"], "summary": "x"},
    )
    assert (await rest.get(f"/v1/firs/{b['id']}")).json()["summary"] == b["summary"]


async def test_output_only_fields_sent_on_create_are_not_stored(rest: httpx.AsyncClient, station: str) -> None:
    body = fir_body(station) | {
        "generation": {"model": "gpt-9-forged"},
        "status": "FIR_STATUS_FINALIZED",
        "fir_number": "FORGED/1",
        "complaint": {"source": "COMPLAINT_SOURCE_AUDIO", "text": "typed"},
    }
    fir = (await rest.post("/v1/firs", json=body)).json()
    stored = {k: fir.get(k) for k in ("generation", "status", "complaint")}
    assert stored == {
        "generation": None,
        "status": "FIR_STATUS_DRAFT",
        "complaint": {"source": "COMPLAINT_SOURCE_MANUAL", "text": "typed"},
    }


async def test_a_list_over_its_limit_is_refused_before_conversion(rest: httpx.AsyncClient, station: str) -> None:
    resp = await rest.post("/v1/firs", json=fir_body(station, accused=[{}] * 51))
    assert (resp.status_code, violations(resp.json())) == (400, ["fir.accused"])


async def test_a_body_of_400000_empty_entries_is_refused_at_the_edge(rest: httpx.AsyncClient, station: str) -> None:
    resp = await rest.post("/v1/firs", json=fir_body(station, accused=[{}] * 400_000))
    assert resp.status_code == 413


async def test_a_non_ascii_idempotency_key_on_generation_is_a_400(rest: httpx.AsyncClient, station: str) -> None:
    body = {"text": "My phone was stolen at the bus stop.", "station": {"code": station}, "request_id": "ключ-1"}
    body["complainant"] = {"name": "Gita"}
    resp = await rest.post("/v1/firs:generate", json=body)
    assert (resp.status_code, violations(resp.json())) == (400, ["request_id"])


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"station": {"district": "d" * 150}}, "station.district"),
        ({"station": {"state": "s" * 150}}, "station.state"),
        ({"investigating_officer": {"name": "SI", "rank": "r" * 150}}, "investigating_officer.rank"),
        ({"complainant": {"name": "Asha", "email": "a\u0000@example.org"}}, "complainant.email"),
        ({"complainant": {"name": "Asha\u0007"}}, "complainant.name"),
    ],
)
async def test_values_that_once_gave_500_are_field_violations(
    rest: httpx.AsyncClient, station: str, change: dict[str, dict[str, str]], field: str
) -> None:
    body = fir_body(station)
    for key, value in change.items():
        body[key] = body.get(key, {}) | value if key == "station" else value
    resp = await rest.post("/v1/firs", json=body)
    assert (resp.status_code, field in violations(resp.json())) == (400, True)


async def test_an_unknown_enum_number_is_a_field_violation(edge_channel: grpc.aio.Channel, station: str) -> None:
    stub = fir_pb2_grpc.FirServiceStub(edge_channel)
    fir = fir_pb2.Fir(station=fir_pb2.Station(code=station), complainant=fir_pb2.Complainant(name="Asha"))
    fir.complaint.source = 99  # type: ignore[assignment]
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stub.CreateFir(fir_pb2.CreateFirRequest(fir=fir))
    assert grpc_violations(refused.value) == ["fir.complaint.source"]


async def test_an_unknown_part_to_regenerate_is_a_field_violation(rest: httpx.AsyncClient, station: str) -> None:
    fir = await create_fir(rest, station)
    resp = await rest.post(f"/v1/firs/{fir['id']}:regenerate", json={"part": 99, "etag": fir["etag"]})
    assert (resp.status_code, violations(resp.json())) == (400, ["part"])


async def test_a_time_filter_whose_offset_overflows_is_a_400(rest: httpx.AsyncClient) -> None:
    resp = await rest.get("/v1/firs", params={"filter": 'create_time > "9999-12-31T23:59:59-23:59"'})
    assert (resp.status_code, error_reason(resp.json())) == (400, "INVALID_FILTER")


async def test_an_image_over_the_limit_is_413(rest: httpx.AsyncClient, station: str) -> None:
    image = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"0" * (9 * 1024 * 1024 + 512)).decode()
    body = {"image": image, "station": {"code": station}, "complainant": {"name": "Gita"}}
    resp = await rest.post("/v1/firs:generate", json=body)
    assert (resp.status_code, error_reason(resp.json())) == (413, "PAYLOAD_TOO_LARGE")


async def test_a_url_over_8_kib_is_414(rest: httpx.AsyncClient) -> None:
    resp = await rest.get("/v1/firs", params={"filter": "x" * 17_000})
    assert (resp.status_code, error_reason(resp.json())) == (414, "URI_TOO_LONG")


async def test_a_bad_streamed_generation_gets_an_error_status(rest: httpx.AsyncClient, station: str) -> None:
    body = {"text": "too short", "station": {"code": station}, "complainant": {"name": "Gita"}}
    resp = await rest.post("/v1/firs:streamGenerate", json=body)
    assert resp.status_code == 400


async def test_another_host_name_is_refused(rest: httpx.AsyncClient) -> None:
    resp = await rest.get("/v1/firs", headers={"host": "evil.example"})
    assert (resp.status_code, error_reason(resp.json())) == (421, "HOST_NOT_ALLOWED")


async def test_a_body_that_is_not_json_is_refused(rest: httpx.AsyncClient, station: str) -> None:
    resp = await rest.post("/v1/firs", content=b'{"station": {}}', headers={"content-type": "text/plain"})
    assert (resp.status_code, error_reason(resp.json())) == (415, "UNSUPPORTED_MEDIA_TYPE")


async def test_a_json_type_in_capitals_with_a_charset_is_json(rest: httpx.AsyncClient, station: str) -> None:
    body = json.dumps(fir_body(station)).encode()
    resp = await rest.post("/v1/firs", content=body, headers={"content-type": "Application/JSON; charset=utf-8"})
    assert resp.status_code == 200


async def test_a_write_with_an_empty_body_reaches_the_service(rest: httpx.AsyncClient, station: str) -> None:
    fir = await create_fir(rest, station)
    resp = await rest.post(f"/v1/firs/{fir['id']}:finalize", headers={"content-length": "0"})
    assert (resp.status_code, violations(resp.json())) == (400, ["etag"])


async def test_a_write_with_neither_a_length_nor_a_type_reaches_the_service(
    rest: httpx.AsyncClient, station: str
) -> None:
    fir = await create_fir(rest, station)
    request = rest.build_request("POST", f"/v1/firs/{fir['id']}:finalize")
    request.headers.pop("content-length", None)
    resp = await rest.send(request)
    assert (resp.status_code, violations(resp.json())) == (400, ["etag"])


async def test_a_url_of_8_kib_reaches_the_service(rest: httpx.AsyncClient) -> None:
    resp = await rest.get("/v1/firs", params={"filter": "x" * 8_000})
    assert (resp.status_code, error_reason(resp.json())) == (400, "INVALID_FILTER")


async def test_a_caller_over_its_rate_gets_429(rest: httpx.AsyncClient) -> None:
    codes = set()
    for _ in range(8):
        responses = await _burst(rest, 40)
        codes |= {r.status_code for r in responses}
        if 429 in codes:
            break
    assert 429 in codes


async def _burst(rest: httpx.AsyncClient, count: int) -> list[httpx.Response]:
    return await asyncio.gather(*(rest.get("/v1/legal-sections", params={"query": "theft"}) for _ in range(count)))


async def test_a_header_grpc_cannot_carry_is_dropped_at_the_edge(rest: httpx.AsyncClient) -> None:
    # Passed on, the name would fail the call in the service's gRPC server (a 5xx).
    resp = await rest.get("/v1/models", headers={"x|y": "1"})
    assert resp.status_code == 200
