"""FIR records end to end: REST through Envoy to the fir service on MariaDB."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.e2e.fir_helpers import create_fir, error_reason, fir_body, violations

pytestmark = pytest.mark.e2e


async def test_create_get_with_read_mask_and_headers(rest: httpx.AsyncClient, station: str) -> None:
    fir = await create_fir(rest, station)
    assert fir["fir_number"].startswith(f"{station}/") and fir["fir_number"].endswith("/00001")
    assert fir["status"] == "FIR_STATUS_DRAFT"
    assert fir["complaint"]["source"] == "COMPLAINT_SOURCE_MANUAL"

    resp = await rest.get(f"/v1/firs/{fir['id']}")
    assert resp.status_code == 200
    assert resp.headers["etag"] == f'"{fir["etag"]}"'
    assert resp.headers["cache-control"] == "private, no-cache"
    assert resp.json() == fir

    masked = await rest.get(f"/v1/firs/{fir['id']}", params={"read_mask": "fir_number,complainant.phone"})
    assert masked.status_code == 200
    assert masked.json() == {"fir_number": fir["fir_number"], "complainant": {"phone": "+91 98100 12345"}}


async def test_the_edge_gives_every_request_an_id_of_its_own(rest: httpx.AsyncClient, station: str) -> None:
    fir = await create_fir(rest, station)
    resp = await rest.get(f"/v1/firs/{fir['id']}", headers={"x-request-id": "client-chosen-" + "x" * 500})
    assert uuid.UUID(resp.headers["x-request-id"])


async def test_gzip_only_for_bodies_over_1kb(rest: httpx.AsyncClient, station: str) -> None:
    fir = await create_fir(rest, station, narrative="long narrative " * 200)
    big = await rest.get(f"/v1/firs/{fir['id']}", headers={"accept-encoding": "gzip"})
    assert big.headers.get("content-encoding") == "gzip"
    assert big.json()["id"] == fir["id"]  # httpx decompresses
    small = await rest.get(f"/v1/firs/{fir['id']}", params={"read_mask": "id"}, headers={"accept-encoding": "gzip"})
    assert "content-encoding" not in small.headers
    plain = await rest.get(f"/v1/firs/{fir['id']}", headers={"accept-encoding": "identity"})
    assert "content-encoding" not in plain.headers


async def test_idempotency_key_returns_the_first_fir(rest: httpx.AsyncClient, station: str) -> None:
    key = f"idem-{uuid.uuid4()}"
    body = fir_body(station)
    first = await rest.post("/v1/firs", json=body, headers={"Idempotency-Key": key})
    again = await rest.post("/v1/firs", json=body, headers={"Idempotency-Key": key})
    assert first.status_code == again.status_code == 200
    assert first.json()["id"] == again.json()["id"]
    listed = await rest.get("/v1/firs", params={"filter": f'station = "{station}"'})
    assert listed.json()["total_size"] == "1"

    other = await rest.post(
        "/v1/firs", json=fir_body(station, summary="something else"), headers={"Idempotency-Key": key}
    )
    assert other.status_code == 409
    assert error_reason(other.json()) == "IDEMPOTENCY_KEY_REUSED"


async def test_list_pages_through_everything_once(rest: httpx.AsyncClient, station: str) -> None:
    created = [(await create_fir(rest, station))["id"] for _ in range(23)]
    seen: list[str] = []
    token = ""
    pages = 0
    while True:
        params = {"filter": f'station = "{station}"', "page_size": 5, "read_mask": "id,fir_number"}
        if token:
            params["page_token"] = token
        resp = await rest.get("/v1/firs", params=params)
        assert resp.status_code == 200, resp.text
        body = resp.json()
        assert resp.headers["cache-control"] == "no-store"
        assert body["total_size"] == "23"
        seen += [f["id"] for f in body["firs"]]
        pages += 1
        token = body.get("next_page_token", "")
        if not token:
            break
    assert pages == 5
    assert sorted(seen) == sorted(created) and len(seen) == len(set(seen))
    assert seen == list(reversed(created))  # newest first by default

    asc = await rest.get(
        "/v1/firs", params={"filter": f'station = "{station}"', "order_by": "create_time asc", "page_size": 3}
    )
    assert [f["id"] for f in asc.json()["firs"]] == created[:3]


async def test_page_token_is_bound_to_its_filter(rest: httpx.AsyncClient, station: str) -> None:
    for _ in range(3):
        await create_fir(rest, station)
    first = await rest.get("/v1/firs", params={"filter": f'station = "{station}"', "page_size": 1})
    token = first.json()["next_page_token"]
    other = await rest.get("/v1/firs", params={"filter": 'station = "ELSEWHERE"', "page_size": 1, "page_token": token})
    assert other.status_code == 400
    assert error_reason(other.json()) == "INVALID_PAGE_TOKEN"


async def test_list_filters_status_section_and_time(rest: httpx.AsyncClient, station: str) -> None:
    a = await create_fir(rest, station)
    await create_fir(rest, station, legal_sections=[{"act": "BNS", "section": "318(4)", "title": "Cheating"}])
    fin = await rest.post(f"/v1/firs/{a['id']}:finalize", json={"etag": a["etag"]})
    assert fin.status_code == 200

    def ids(resp: httpx.Response) -> int:
        assert resp.status_code == 200, resp.text
        return len(resp.json().get("firs", []))

    base = f'station = "{station}"'
    assert ids(await rest.get("/v1/firs", params={"filter": f"{base} AND status = FINALIZED"})) == 1
    assert ids(await rest.get("/v1/firs", params={"filter": f'{base} AND section = "318(4)"'})) == 1
    assert ids(await rest.get("/v1/firs", params={"filter": f'{base} AND create_time >= "2020-01-01T00:00:00Z"'})) == 2
    assert ids(await rest.get("/v1/firs", params={"filter": f'{base} AND create_time < "2020-01-01T00:00:00Z"'})) == 0
    bad = await rest.get("/v1/firs", params={"filter": "colour = red"})
    assert bad.status_code == 400 and error_reason(bad.json()) == "INVALID_FILTER"


async def test_update_with_etag_then_stale_etag_conflicts(rest: httpx.AsyncClient, station: str) -> None:
    fir = await create_fir(rest, station)
    ok = await rest.patch(
        f"/v1/firs/{fir['id']}",
        params={"update_mask": "summary,complainant.phone"},
        json={
            "etag": fir["etag"],
            "summary": "edited",
            "complainant": {"phone": "+91 90000 00000", "name": "ignored"},
        },
    )
    assert ok.status_code == 200, ok.text
    edited = ok.json()
    assert edited["summary"] == "edited"
    assert edited["complainant"]["phone"] == "+91 90000 00000"
    assert edited["complainant"]["name"] == "Asha Verma"  # not in the mask
    assert edited["etag"] != fir["etag"]

    stale = await rest.patch(
        f"/v1/firs/{fir['id']}",
        params={"update_mask": "summary"},
        json={"etag": fir["etag"], "summary": "lost update"},
    )
    assert stale.status_code == 409
    assert error_reason(stale.json()) == "ETAG_MISMATCH"
    current = await rest.get(f"/v1/firs/{fir['id']}")
    assert current.json()["summary"] == "edited"

    events = await rest.get(f"/v1/firs/{fir['id']}/events")
    assert [e["action"] for e in events.json()["events"]] == ["CREATED", "UPDATED"]
    assert events.json()["events"][1]["changed_fields"] == ["complainant", "summary"]


async def test_update_refuses_immutable_and_unknown_fields(rest: httpx.AsyncClient, station: str) -> None:
    fir = await create_fir(rest, station)
    for mask in ("station", "fir_number", "status", "nonsense"):
        resp = await rest.patch(f"/v1/firs/{fir['id']}", params={"update_mask": mask}, json={"etag": fir["etag"]})
        assert resp.status_code == 400, (mask, resp.text)
        assert violations(resp.json()) == ["update_mask"]
    no_etag = await rest.patch(f"/v1/firs/{fir['id']}", params={"update_mask": "summary"}, json={"summary": "x"})
    assert no_etag.status_code == 400 and violations(no_etag.json()) == ["fir.etag"]
    invalid = await rest.patch(
        f"/v1/firs/{fir['id']}",
        params={"update_mask": "complainant.email"},
        json={"etag": fir["etag"], "complainant": {"email": "not-an-email"}},
    )
    assert invalid.status_code == 400 and violations(invalid.json()) == ["complainant.email"]


async def test_finalize_makes_the_fir_immutable(rest: httpx.AsyncClient, station: str) -> None:
    fir = await create_fir(rest, station)
    done = await rest.post(f"/v1/firs/{fir['id']}:finalize", json={"etag": fir["etag"]})
    assert done.status_code == 200, done.text
    final = done.json()
    assert final["status"] == "FIR_STATUS_FINALIZED" and final["finalize_time"]
    got = await rest.get(f"/v1/firs/{fir['id']}")
    assert got.headers["cache-control"] == "private, max-age=86400, immutable"

    edit = await rest.patch(
        f"/v1/firs/{fir['id']}",
        params={"update_mask": "summary"},
        json={"etag": final["etag"], "summary": "x"},
    )
    assert edit.status_code == 400 and error_reason(edit.json()) == "FIR_FINALIZED"
    again = await rest.post(f"/v1/firs/{fir['id']}:finalize", json={"etag": final["etag"]})
    assert again.status_code == 400 and error_reason(again.json()) == "FIR_FINALIZED"


async def test_stats_are_grouped_in_sql(rest: httpx.AsyncClient, station: str) -> None:
    a = await create_fir(rest, station)
    await create_fir(rest, station)
    await rest.post(f"/v1/firs/{a['id']}:finalize", json={"etag": a["etag"]})
    resp = await rest.get("/v1/firs:stats", params={"filter": f'station = "{station}"', "days": 7})
    assert resp.status_code == 200, resp.text
    stats = resp.json()
    assert stats["total"] == "2"
    assert {r["key"]: r["count"] for r in stats["by_status"]} == {"DRAFT": "1", "FINALIZED": "1"}
    assert stats["by_station"] == [{"key": station, "count": "2"}]
    assert stats["by_section"] == [{"key": "BNS 304", "count": "2"}]
    assert sum(int(r["count"]) for r in stats["by_day"]) == 2
    bad = await rest.get("/v1/firs:stats", params={"days": 1000})
    assert bad.status_code == 400


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "reason"),
    [
        (
            "POST",
            "/v1/firs",
            {"content": b"{not json", "headers": {"content-type": "application/json"}},
            400,
            "INVALID_ARGUMENT",
        ),
        ("POST", "/v1/firs", {"json": {}}, 400, "INVALID_ARGUMENT"),
        ("GET", "/v1/firs?colour=red", {}, 400, "INVALID_ARGUMENT"),
        ("GET", "/v1/firs?page_size=-1", {}, 400, "INVALID_ARGUMENT"),
        ("GET", "/v1/firs?page_size=abc", {}, 400, "INVALID_ARGUMENT"),
        ("GET", "/v1/firs?page_token=forged", {}, 400, "INVALID_PAGE_TOKEN"),
        ("GET", "/v1/firs?read_mask=id,password", {}, 400, "INVALID_ARGUMENT"),
        ("GET", f"/v1/firs/{uuid.uuid4()}", {}, 404, "FIR_NOT_FOUND"),
        ("GET", "/v1/firs/not-a-uuid", {}, 400, "INVALID_ARGUMENT"),
        ("GET", "/v1/firs/' OR 1=1 --", {}, 400, "INVALID_ARGUMENT"),
        ("DELETE", f"/v1/firs/{uuid.uuid4()}", {}, 404, "NOT_FOUND"),
        ("GET", "/v2/anything", {}, 404, "NOT_FOUND"),
        ("POST", f"/v1/firs/{uuid.uuid4()}:finalize", {"json": {"etag": "x"}}, 404, "FIR_NOT_FOUND"),
        ("POST", f"/v1/firs/{uuid.uuid4()}:finalize", {"json": {}}, 400, "INVALID_ARGUMENT"),
    ],
)
async def test_bad_input_gets_google_rpc_status(
    rest: httpx.AsyncClient, method: str, path: str, kwargs: dict[str, object], status: int, reason: str
) -> None:
    resp = await rest.request(method, path, **kwargs)  # type: ignore[arg-type]
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert isinstance(body["code"], int) and body["code"] != 0
    assert body["message"]
    assert error_reason(body) == reason


async def test_hostile_text_is_stored_verbatim_not_executed(rest: httpx.AsyncClient, station: str) -> None:
    hostile = "Robert'); DROP TABLE firs;-- <script>alert(1)</script> \u202e\U0001f600"
    fir = await create_fir(rest, station, summary=hostile)
    got = await rest.get(f"/v1/firs/{fir['id']}")
    assert got.json()["summary"] == hostile
    nul = await rest.post("/v1/firs", json=fir_body(station, summary="a\u0000b"))
    assert nul.status_code == 400 and violations(nul.json()) == ["summary"]


async def test_missing_and_malformed_fields_are_all_reported(rest: httpx.AsyncClient) -> None:
    body = fir_body("bad code!", complainant={"name": "", "phone": "12", "email": "x@"})
    body["incident"] = {"occurred_from": "2026-11-02T00:00:00Z", "occurred_to": "2026-11-01T00:00:00Z"}
    resp = await rest.post("/v1/firs", json=body)
    assert resp.status_code == 400
    assert set(violations(resp.json())) >= {
        "station.code",
        "complainant.name",
        "complainant.phone",
        "complainant.email",
        "incident.occurred_to",
    }
    assert "98100" not in resp.text  # no personal data echoed in errors


async def test_a_body_over_one_mebibyte_is_413(rest: httpx.AsyncClient) -> None:
    resp = await rest.post("/v1/firs", json={"summary": "x" * (1024 * 1024 + 10)})
    assert (resp.status_code, error_reason(resp.json())) == (413, "PAYLOAD_TOO_LARGE")


async def test_too_long_fields_are_rejected_before_storage(rest: httpx.AsyncClient, station: str) -> None:
    resp = await rest.post("/v1/firs", json=fir_body(station, narrative="n" * 20001))
    assert resp.status_code == 400 and violations(resp.json()) == ["narrative"]


def _printed_fields_body(station: str) -> dict[str, object]:
    """A FIR with what JSON printers differ on: text beyond ASCII with quotes, markup and invisible
    characters, whole and fractional doubles (one that needs 17 digits), timestamps with and without
    fractions, enums."""
    return fir_body(
        station,
        summary='फ़ोन छीना गया "बस" <stop> & \\ back\tslash, क्\u200dष \U000e0001',
        incident={
            "occurred_from": "2026-11-01T18:30:00.250Z",
            "occurred_to": "2026-11-01T18:45:00Z",
            "place": "बस स्टॉप",
            "distance_km": 5,
            "reporting_delay_hours": 0.7999999999999999,
        },
        properties=[
            {"description": "mobile phone", "value_inr": 18000},
            {"description": "cash", "value_inr": 1234.56},
            {"description": "coin", "value_inr": 0.1},
        ],
    )


async def test_a_read_answers_the_json_the_edge_prints_for_the_same_fir(rest: httpx.AsyncClient, station: str) -> None:
    # The create's answer is printed by the edge's transcoder; GetFir's is fir's own (rest_json),
    # rendered on the first read and kept for the second.
    plain = {"accept-encoding": "identity"}
    created = await rest.post("/v1/firs", json=_printed_fields_body(station), headers=plain)
    assert created.status_code == 200, created.text
    reads = [(await rest.get(f"/v1/firs/{created.json()['id']}", headers=plain)).content for _ in range(2)]
    assert reads == [created.content, created.content]


async def _page_and_its_firs_as_printed(
    rest: httpx.AsyncClient, station: str, count: int, size: int
) -> tuple[bytes, bytes]:
    """``count`` FIRs created (their answers printed by the edge), then the first page of ``size``
    (fir's JSON); returns the page and the body the edge would have printed for it."""
    plain = {"accept-encoding": "identity"}
    created = [await rest.post("/v1/firs", json=_printed_fields_body(station), headers=plain) for _ in range(count)]
    page = await rest.get("/v1/firs", params={"filter": f'station = "{station}"', "page_size": size}, headers=plain)
    newest_first = b",".join(resp.content for resp in reversed(created[count - size :]))
    token = page.json().get("next_page_token", "")
    tail = (b',"next_page_token":"' + token.encode() + b'"' if token else b"") + b',"total_size":"%d"}' % count
    return page.content, b'{"firs":[' + newest_first + b"]" + tail


async def test_a_page_answers_the_json_the_edge_prints_for_its_firs(rest: httpx.AsyncClient, station: str) -> None:
    page, printed = await _page_and_its_firs_as_printed(rest, station, 3, 2)
    assert page == printed


async def test_a_page_rendered_off_the_event_loop_answers_the_same_json(rest: httpx.AsyncClient, station: str) -> None:
    # 80 of these FIRs are about 42 KB of wire bytes, over OFF_LOOP_BYTES: fir renders them in a worker thread.
    page, printed = await _page_and_its_firs_as_printed(rest, station, 80, 80)
    assert page == printed
