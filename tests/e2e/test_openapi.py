"""The OpenAPI document of the REST surface (edge/generated/openapi.json, made by
scripts/codegen.py): the edge serves it without a token, and the running mesh answers
as it says, checked with schemathesis through the edge."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from scripts.devstack.stack import Stack
from tests.conftest import Officers, unique_station
from tests.e2e.fir_helpers import fir_body

pytestmark = pytest.mark.e2e

DOCUMENT = Path(__file__).resolve().parents[2] / "edge" / "generated" / "openapi.json"

CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]
"""No 5xx; the status is one the document declares (every operation has a `default` error
response, a google.rpc.Status); the body matches the schema of that status."""
MAX_EXAMPLES = 20
"""Generated cases per operation (Hypothesis' fuzzing phase), beside the document's own examples."""

CASES: Counter[str] = Counter()
"""Cases sent per operation, and responses per status (`<operation> -> <status>`), printed after the run."""


async def test_the_edge_serves_the_committed_document_without_a_token(anonymous: httpx.AsyncClient) -> None:
    resp = await anonymous.get("/openapi.json")
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"] == "application/json"
    assert resp.content == DOCUMENT.read_bytes()
    assert resp.json()["swagger"] == "2.0"


class Seeded:
    """What half the generated cases are pointed at, so that they can succeed rather than stop
    at a 404 or 409: the station of the signed-in station house officer and one FIR of it
    (every other FIR path gets its id; every other edit its current etag and an update_mask
    naming the fields the generated body sends; every other creation a valid FIR of the
    station, with the generated free text)."""

    def __init__(self, station: str, fir: dict[str, Any]) -> None:
        self.station = station
        self.fir_id: str = fir["id"]
        self.etag: str = fir["etag"]
        self._turns: Counter[str] = Counter()

    def turn(self, label: str) -> bool:
        """True for every second case of an operation."""
        self._turns[label] += 1
        return self._turns[label] % 2 == 1

    def steer(self, case: Any) -> None:
        label = case.operation.label
        if not self.turn(label):
            return
        if case.path.startswith("/v1/firs/{"):
            case.path_parameters = {**case.path_parameters, next(iter(case.path_parameters)): self.fir_id}
        if label.startswith("PATCH /v1/firs/") and isinstance(case.body, dict):
            case.body["etag"] = self.etag
            fields = sorted(EDITABLE & case.body.keys())
            if fields:
                case.query = {**(case.query or {}), "update_mask": ",".join(fields)}
        if label == "POST /v1/firs" and isinstance(case.body, dict):
            text = {k: v for k, v in case.body.items() if k in ("summary", "narrative", "action_taken")}
            case.body = fir_body(self.station, **text)

    def answered(self, case: Any, response: Any) -> None:
        """Keep the etag current after a generated edit went through."""
        if case.operation.label.startswith("PATCH /v1/firs/") and response.status_code == 200:
            self.etag = response.json().get("etag", self.etag)


EDITABLE = {"incident", "accused", "witnesses", "properties", "summary", "narrative", "legal_sections"}
EDITABLE |= {"action_taken", "investigating_officer", "complainant", "complaint"}
"""Top-level Fir fields an update_mask may name."""


@pytest.fixture(scope="session")
def seeded(stack: Stack, officers: Officers) -> Seeded:
    station = unique_station()
    resp = httpx.post(
        f"{stack.cfg.base_url}/v1/firs",
        json=fir_body(station),
        headers=officers.headers("sho", station),
        timeout=60,
    )
    assert resp.status_code == 200, resp.text
    return Seeded(station, resp.json())


def _without_dotted_path_names(document: dict[str, Any]) -> dict[str, Any]:
    """The document with `{fir.id}` written `{fir_id}`: schemathesis fills path templates with
    str.format, which reads a dot as an attribute. The URL sent is the same."""
    paths: dict[str, Any] = {}
    for path, methods in document["paths"].items():
        for name in re.findall(r"{([^}]+\.[^}]+)}", path):
            path = path.replace(f"{{{name}}}", f"{{{name.replace('.', '_')}}}")
            for op in methods.values():
                for parameter in op.get("parameters", []):
                    if parameter["in"] == "path" and parameter["name"] == name:
                        parameter["name"] = name.replace(".", "_")
        paths[path] = methods
    return document | {"paths": paths}


def _schema() -> Any:
    """The committed document; the test stack's address and a token are given per call."""
    schema = schemathesis.openapi.from_dict(_without_dotted_path_names(json.loads(DOCUMENT.read_text())))
    # Both generation modes (schemathesis' default): valid requests, and invalid ones (wrong
    # values, no token) that must get a 4xx google.rpc.Status, never a 5xx. The coverage phase
    # is off: it ignores max_examples (it sends every boundary case the schema has).
    schema.config.phases.update(phases=["examples", "fuzzing"])
    # Generation (:generate, :streamGenerate, :regenerate) waits on the model servers for seconds
    # a call (and is limited to 6 a minute per caller): tests/e2e/generation covers it.
    return schema.exclude(path_regex=r":(generate|streamGenerate|regenerate)$")


# schemathesis.pytest.from_fixture would load it from a fixture, but its lazy parametrization
# sets pytest's Node._nodeid, which pytest 9.2 no longer has.
schema = _schema()


@pytest.mark.timeout(300)
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=timedelta(seconds=20),
    phases=[Phase.explicit, Phase.generate],
    database=None,
    derandomize=True,  # the same cases every run: a failure here is reproducible
    suppress_health_check=list(HealthCheck),
)
@schema.parametrize()
def test_the_rest_surface_answers_as_the_document_says(
    case: Any, stack: Stack, officers: Officers, seeded: Seeded
) -> None:
    seeded.steer(case)
    label = case.operation.label
    CASES[label] += 1
    response = case.call(base_url=stack.cfg.base_url, headers=officers.headers("sho", seeded.station), timeout=30)
    CASES[f"{label} -> {response.status_code}"] += 1
    case.validate_response(response, checks=CHECKS, transport_kwargs={"base_url": stack.cfg.base_url})
    seeded.answered(case, response)


@pytest.fixture(scope="module", autouse=True)
def _report_cases() -> Any:
    yield
    if CASES:
        print("\nschemathesis cases (operation, then operation -> status):")
        for key, count in sorted(CASES.items()):
            print(f"  {count:4d}  {key}")
