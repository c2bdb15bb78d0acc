"""The short form of the drafting evaluation (``make eval`` runs every case): six
labelled complaints through the edge with the real model servers, English and
Hindi, typed, named and unknown offenders, a death and a near-death. Whatever
the model writes, no draft may carry an untraceable value, a person the
complaint does not name, or a section its facts rule out."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import pytest

from evaluation import metrics
from evaluation.run import load_cases, request_body
from scripts.devstack.stack import Stack
from tests.conftest import TEST_DISTRICT, Officers, unique_station

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]


@pytest.fixture(scope="module")
async def scores(stack: Stack, officers: Officers) -> list[metrics.Score]:
    """Each short case drafted once, one at a time, and scored. Each case is drafted by the
    officer of a station of its own: the edge allows one caller a burst of 3 generations and 6 a
    minute after it, which six drafts in a row from one officer exceed when the model answers fast."""
    found: list[metrics.Score] = []
    async with httpx.AsyncClient(base_url=stack.cfg.base_url, timeout=300) as rest:
        for case in load_cases(short=True):
            station = unique_station()
            body: dict[str, Any] = request_body(case, station)
            body["station"]["district"] = TEST_DISTRICT
            headers = officers.headers("sho", station, TEST_DISTRICT) | {"Idempotency-Key": f"ev-{uuid.uuid4()}"}
            started = time.perf_counter()
            resp = await rest.post("/v1/firs:generate", json=body, headers=headers)
            assert resp.status_code == 200, (case["id"], resp.text)
            found.append(metrics.score(case, resp.json(), time.perf_counter() - started))
    return found


def test_the_short_set_has_six_cases(scores: list[metrics.Score]) -> None:
    assert len(scores) == 6


def test_no_draft_has_a_value_it_cannot_trace_to_the_complaint(scores: list[metrics.Score]) -> None:
    assert {s.case: s.grounding_violations for s in scores if s.grounding_violations} == {}


def test_no_draft_names_a_person_the_complaint_does_not(scores: list[metrics.Score]) -> None:
    assert {s.case: s.invented_persons for s in scores if s.invented_persons} == {}


def test_no_draft_cites_a_section_its_facts_rule_out(scores: list[metrics.Score]) -> None:
    assert {s.case: s.contradictions for s in scores if s.contradictions} == {}


def test_every_summary_passes_its_checks(scores: list[metrics.Score]) -> None:
    assert [s.case for s in scores if not s.summary_valid] == []
