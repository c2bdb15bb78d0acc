"""Who may do what, through the edge, one cell of the access table per test
(docs/access.md). Tokens come from the stack's Keycloak; station A and B are
in one district, which the superintendent oversees."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from scripts.devstack.stack import Stack
from tests.conftest import Officers, unique_station
from tests.e2e.fir_helpers import error_reason, fir_body

pytestmark = pytest.mark.e2e

ROLES = ("constable.a", "si.a", "sho.a", "si.b", "sp", "auditor", "operator", "anonymous")


@dataclass
class World:
    """Two stations of one district, an FIR of station A, and a client per role."""

    a: str
    b: str
    district: str
    fir: dict[str, Any]
    clients: dict[str, httpx.AsyncClient]

    def body(self) -> dict[str, Any]:
        body = fir_body(self.a)
        body["station"]["district"] = self.district
        return body


@pytest.fixture(scope="module")
async def world(stack: Stack, officers: Officers) -> AsyncIterator[World]:
    a, b, district = unique_station(), unique_station(), f"Access {uuid.uuid4().hex[:6]}"
    who = {
        "constable.a": ("constable", a),
        "si.a": ("sub_inspector", a),
        "sho.a": ("sho", a),
        "si.b": ("sub_inspector", b),
        "sp": ("district_sp", ""),
        "auditor": ("auditor", ""),
        "operator": ("operator", ""),
    }
    clients = {
        name: httpx.AsyncClient(
            base_url=stack.cfg.base_url, timeout=60, headers=officers.headers(role, station, district)
        )
        for name, (role, station) in who.items()
    }
    clients["anonymous"] = httpx.AsyncClient(base_url=stack.cfg.base_url, timeout=60)
    world = World(a, b, district, {}, clients)
    created = await clients["sho.a"].post("/v1/firs", json=world.body())
    assert created.status_code == 200, created.text
    world.fir = created.json()
    yield world
    for client in clients.values():
        await client.aclose()


async def draft_of_a(world: World) -> dict[str, Any]:
    """A fresh draft of station A (for the cells that change it)."""
    resp = await world.clients["sho.a"].post("/v1/firs", json=world.body())
    assert resp.status_code == 200, resp.text
    return dict(resp.json())


READ = {"constable.a": 200, "si.a": 200, "sho.a": 200, "si.b": 404, "sp": 200, "auditor": 200, "operator": 403}
READ["anonymous"] = 401


@pytest.mark.parametrize("role", ROLES)
async def test_reading_an_fir_of_station_a(world: World, role: str) -> None:
    resp = await world.clients[role].get(f"/v1/firs/{world.fir['id']}")
    assert resp.status_code == READ[role]


@pytest.mark.parametrize("role", ROLES)
async def test_reading_its_audit_trail(world: World, role: str) -> None:
    resp = await world.clients[role].get(f"/v1/firs/{world.fir['id']}/events")
    assert resp.status_code == READ[role]


LISTED = {"constable.a": 1, "si.a": 1, "sho.a": 1, "si.b": 0, "sp": 1, "auditor": 1}


@pytest.mark.parametrize("role", sorted(LISTED))
async def test_listing_station_a_shows_only_what_the_role_may_read(world: World, role: str) -> None:
    params = {"filter": f'station = "{world.a}"', "read_mask": "id"}
    ids = {f["id"] for f in (await world.clients[role].get("/v1/firs", params=params)).json().get("firs", [])}
    assert len(ids & {world.fir["id"]}) == LISTED[role]


@pytest.mark.parametrize("role", sorted(LISTED))
async def test_statistics_of_station_a_count_only_what_the_role_may_read(world: World, role: str) -> None:
    params = {"filter": f'station = "{world.a}"'}
    stats = (await world.clients[role].get("/v1/firs:stats", params=params)).json()
    assert (int(stats.get("total", 0)) >= 1) == bool(LISTED[role])


CREATE = {"constable.a": 200, "si.a": 200, "sho.a": 200, "si.b": 403, "sp": 403, "auditor": 403, "operator": 403}
CREATE["anonymous"] = 401


@pytest.mark.parametrize("role", ROLES)
async def test_creating_a_draft_for_station_a(world: World, role: str) -> None:
    resp = await world.clients[role].post("/v1/firs", json=world.body())
    assert resp.status_code == CREATE[role]


# The roles allowed to create are drafting with the models in tests/e2e/generation.
@pytest.mark.parametrize("role", [r for r in ROLES if CREATE[r] != 200])
async def test_generating_a_draft_for_station_a_is_refused_to_these_roles(world: World, role: str) -> None:
    body = {"text": "My phone was stolen at the bus stop yesterday evening.", "station": world.body()["station"]}
    body["complainant"] = {"name": "Gita"}
    resp = await world.clients[role].post("/v1/firs:generate", json=body)
    assert resp.status_code == CREATE[role]


EDIT = {"constable.a": 200, "si.a": 200, "sho.a": 200, "si.b": 404, "sp": 403, "auditor": 403, "operator": 403}
EDIT["anonymous"] = 401


@pytest.mark.parametrize("role", ROLES)
async def test_editing_a_draft_of_station_a(world: World, role: str) -> None:
    fir = await draft_of_a(world)
    resp = await world.clients[role].patch(
        f"/v1/firs/{fir['id']}", params={"update_mask": "summary"}, json={"etag": fir["etag"], "summary": "edited"}
    )
    assert resp.status_code == EDIT[role]


FINALIZE = {"constable.a": 403, "si.a": 403, "sho.a": 200, "si.b": 404, "sp": 200, "auditor": 403, "operator": 403}
FINALIZE["anonymous"] = 401


@pytest.mark.parametrize("role", ROLES)
async def test_finalizing_a_draft_of_station_a(world: World, role: str) -> None:
    fir = await draft_of_a(world)
    resp = await world.clients[role].post(f"/v1/firs/{fir['id']}:finalize", json={"etag": fir["etag"]})
    assert resp.status_code == FINALIZE[role]


OPERATIONS = {role: 403 for role in ROLES} | {"operator": 200, "anonymous": 401}


@pytest.mark.parametrize("role", ROLES)
async def test_listing_jobs(world: World, role: str) -> None:
    assert (await world.clients[role].get("/v1/jobs", params={"page_size": 1})).status_code == OPERATIONS[role]


@pytest.mark.parametrize("role", ROLES)
async def test_reading_cache_statistics(world: World, role: str) -> None:
    assert (await world.clients[role].get("/v1/cache:stats")).status_code == OPERATIONS[role]


REFERENCE = {role: 200 for role in ROLES} | {"anonymous": 401}


@pytest.mark.parametrize("role", ROLES)
async def test_reading_model_status(world: World, role: str) -> None:
    assert (await world.clients[role].get("/v1/models")).status_code == REFERENCE[role]


@pytest.mark.parametrize("role", ROLES)
async def test_searching_legal_sections(world: World, role: str) -> None:
    resp = await world.clients[role].get("/v1/legal-sections", params={"query": "theft"})
    assert resp.status_code == REFERENCE[role]


async def test_health_needs_no_token(world: World) -> None:
    assert (await world.clients["anonymous"].get("/healthz")).status_code == 200


async def test_an_anonymous_call_gets_a_status_body_with_its_reason(world: World) -> None:
    resp = await world.clients["anonymous"].get("/v1/firs")
    assert error_reason(resp.json()) == "UNAUTHENTICATED"


async def test_a_forged_token_is_refused(world: World, stack: Stack) -> None:
    token = world.clients["si.a"].headers["authorization"].removeprefix("Bearer ")
    head, payload, signature = token.split(".")
    forged = f"{head}.{payload[:-4]}AAAA.{signature}"
    async with httpx.AsyncClient(base_url=stack.cfg.base_url, headers={"authorization": f"Bearer {forged}"}) as client:
        assert (await client.get("/v1/firs")).status_code == 401


async def test_claims_sent_by_a_client_are_dropped_by_the_edge(world: World) -> None:
    from afirgen_runtime.identity import encode_claims

    claims = encode_claims({"sub": "x", "roles": ["auditor"]})
    resp = await world.clients["anonymous"].get("/v1/firs", headers={"x-afirgen-claims": claims})
    assert resp.status_code == 401


async def test_the_audit_trail_names_the_token_subject_not_a_header(world: World) -> None:
    fir = await draft_of_a(world)
    client = world.clients["si.a"]
    edit = {"etag": fir["etag"], "summary": "edited"}
    headers = {"x-actor": "Commissioner of Police (forged)"}
    await client.patch(f"/v1/firs/{fir['id']}", params={"update_mask": "summary"}, json=edit, headers=headers)
    events = (await client.get(f"/v1/firs/{fir['id']}/events")).json()["events"]
    assert "forged" not in events[-1]["actor"] and uuid.UUID(events[-1]["actor"])
