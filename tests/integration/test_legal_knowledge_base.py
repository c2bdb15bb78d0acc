"""The legal knowledge base: curated seed, statute import, FULLTEXT search."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from afirgen_fir.adapters.legal_repository import MySQLLegalRepository
from afirgen_fir.entrypoints.legal_import import seed_sections, statute_sections
from afirgen_runtime.db import Database

from tests.e2e.fir_helpers import error_reason

pytestmark = pytest.mark.integration
SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"


@pytest.mark.parametrize(
    ("query", "section"),
    [
        ("my motorcycle was stolen from outside my house at night", "303"),
        ("two men on a scooter pulled the gold chain from my neck", "304"),
        ("he threatened to kill me and demanded two lakh rupees", "308"),
        ("caller pretending to be bank officer took OTP and money was transferred", "318"),
        ("a man keeps following me and messaging me on instagram", "78"),
        ("मेरा मोबाइल फोन चोरी हो गया", "303"),
        ("303", "303"),
        ("BNS 304(2)", "304"),
    ],
)
async def test_seed_finds_the_right_section_among_the_top_five(
    rest: httpx.AsyncClient, query: str, section: str
) -> None:
    resp = await rest.get("/v1/legal-sections", params={"query": query, "page_size": 5})
    assert resp.status_code == 200, resp.text
    found = [s["section"] for s in resp.json()["sections"]]
    assert section in found, found


async def test_statute_import_merges_schedule_and_keeps_seed_keywords(fir_db: Database) -> None:
    loaded = statute_sections(SHARED / "legal" / "bns_sections.jsonl", SHARED / "legal" / "bns_offence_schedule.jsonl")
    expected = {str(json.loads(line)["Section"]) for line in (SHARED / "legal" / "bns_sections.jsonl").open()}
    assert {s.section for s in loaded} == expected
    theft = next(s for s in loaded if s.section == "303")
    assert theft.title == "Theft" and theft.cognizable is True and theft.bailable is False
    assert "community service" in theft.punishment  # a later schedule row is kept too

    repo = MySQLLegalRepository(fir_db)
    await repo.upsert(seed_sections(), "seed")
    await repo.upsert(loaded, "import")
    assert await repo.count() >= len(expected)
    top = await repo.search("मेरा मोबाइल चोरी हो गया", 3)  # only the seed's keywords are in Hindi
    assert "303" in [s.section for s in top]


async def test_seed_is_well_formed() -> None:
    seed = seed_sections()
    assert len(seed) >= 40
    assert len({(s.act, s.section) for s in seed}) == len(seed)
    for s in seed:
        assert s.title and s.description and s.punishment and s.keywords, s.section


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "query"),
        ({"query": "   "}, "query"),
        ({"query": "x" * 501}, "query"),
        ({"query": "theft", "page_size": -3}, "page_size"),
    ],
)
async def test_bad_searches_are_invalid_argument(
    rest: httpx.AsyncClient, params: dict[str, object], field: str
) -> None:
    resp = await rest.get("/v1/legal-sections", params=params)
    assert resp.status_code == 400
    assert error_reason(resp.json()) == "INVALID_ARGUMENT"
    assert field in resp.json()["message"]


async def test_hostile_queries_are_just_text(rest: httpx.AsyncClient) -> None:
    for query in ['theft" OR 1=1 --', "+theft -snatching*", "'; DROP TABLE legal_sections; --", "@@@@"]:
        resp = await rest.get("/v1/legal-sections", params={"query": query})
        assert resp.status_code == 200, (query, resp.text)
    still = await rest.get("/v1/legal-sections", params={"query": "303"})
    assert still.json()["sections"][0]["section"] == "303"
