"""The FastAPI baseline renders an FIR as the mesh's REST side does, so the two sides of a
``fastapi`` ratio send the same bytes for the same FIR."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from afirgen_fir.domain.model import etag_for

from bench.baseline_fastapi.app import fir_dict, fir_json

FIR_ID = "11c51c02-4263-499c-9e32-e1b544be7b72"


def sparse_row() -> dict[str, Any]:
    """The row of an FIR made by the bench's own writes: most of its columns hold defaults."""
    return {
        "id": FIR_ID,
        "fir_number": "BW-1/2026/00001",
        "status": 1,
        "station_code": "BW-1",
        "station_name": "Bench Writes",
        "station_district": "Bench",
        "station_state": "",
        "complainant": json.dumps(
            {"name": "Bench Complainant", "date_of_birth": None, "address": "", "phone": "+91 98100 12345"}
        ),
        "incident": json.dumps({"occurred_from": None, "place": "", "distance_km": 0.0, "reporting_delay_hours": 0}),
        "accused": "[]",
        "witnesses": "[]",
        "properties": "[]",
        "complaint_source": 4,
        "complaint_language": "",
        "complaint_text": "",
        "summary": "Bench write",
        "narrative": "Created by the benchmark harness.",
        "legal_sections": json.dumps(
            [{"act": "BNS", "section": "303", "title": "Theft", "reason": "", "triggers": [], "primary": False}]
        ),
        "action_taken": "",
        "officer_name": "",
        "officer_rank": "",
        "revision": 1,
        "created_at": datetime(2026, 12, 2, 17, 25, 22, 813081),
        "updated_at": datetime(2026, 12, 2, 17, 25, 22, 813081),
        "finalized_at": None,
    }


def test_a_sparse_fir_renders_as_the_mesh_renders_it() -> None:
    # What the mesh's edge answered for this FIR (GET /v1/firs/{id}), but for the etag.
    mesh = (
        '{"id":"11c51c02-4263-499c-9e32-e1b544be7b72","fir_number":"BW-1/2026/00001",'
        '"status":"FIR_STATUS_DRAFT","station":{"code":"BW-1","name":"Bench Writes","district":"Bench"},'
        '"complainant":{"name":"Bench Complainant","phone":"+91 98100 12345"},"incident":{},'
        '"complaint":{"source":"COMPLAINT_SOURCE_MANUAL"},"summary":"Bench write",'
        '"narrative":"Created by the benchmark harness.",'
        '"legal_sections":[{"act":"BNS","section":"303","title":"Theft"}],"investigating_officer":{},'
        '"create_time":"2026-12-02T17:25:22.813081Z","update_time":"2026-12-02T17:25:22.813081Z",'
        f'"etag":"{etag_for(FIR_ID, 1)}"}}'
    )
    assert fir_json(sparse_row()).decode() == mesh


def test_defaults_are_left_out_at_every_depth_and_true_and_nonzero_values_kept() -> None:
    row = sparse_row() | {
        "incident": json.dumps({"place": "Market", "distance_km": 1.5, "reporting_delay_hours": 0}),
        "legal_sections": json.dumps([{"act": "BNS", "section": "303", "primary": True, "triggers": ["stole"]}]),
    }
    body = fir_dict(row)
    assert (body["incident"], body["legal_sections"]) == (
        {"place": "Market", "distance_km": 1.5},
        [{"act": "BNS", "section": "303", "primary": True, "triggers": ["stole"]}],
    )
