"""Builders shared by the FIR end-to-end tests."""

from __future__ import annotations

from typing import Any

import grpc
import httpx
from google.rpc import error_details_pb2, status_pb2


def fir_body(station: str, **overrides: Any) -> dict[str, Any]:
    """A valid CreateFir REST body (the `fir` resource) for ``station``."""
    body: dict[str, Any] = {
        "station": {"code": station, "name": "Test Station", "district": "Test District", "state": "Delhi"},
        "complainant": {
            "name": "Asha Verma",
            "parent_or_spouse_name": "Mohan Verma",
            "phone": "+91 98100 12345",
            "email": "asha@example.org",
            "address": "17 Park Street, New Delhi",
            "date_of_birth": {"year": 1990, "month": 4, "day": 12},
        },
        "incident": {
            "occurred_from": "2026-11-01T18:30:00Z",
            "occurred_to": "2026-11-01T18:45:00Z",
            "place": "bus stop",
        },
        "accused": [{"description": "two men on a motorcycle"}],
        "properties": [{"description": "mobile phone", "value_inr": 18000}],
        "summary": "Mobile phone snatched at the bus stop",
        "legal_sections": [{"act": "BNS", "section": "304", "title": "Snatching", "reason": "phone snatched"}],
    }
    body.update(overrides)
    return body


async def create_fir(rest: httpx.AsyncClient, station: str, **overrides: Any) -> dict[str, Any]:
    """POST /v1/firs and return the created FIR."""
    resp = await rest.post("/v1/firs", json=fir_body(station, **overrides))
    assert resp.status_code == 200, resp.text
    return dict(resp.json())


async def finalize_fir(rest: httpx.AsyncClient, fir: dict[str, Any]) -> dict[str, Any]:
    """POST /v1/firs/{id}:finalize with the FIR's etag (``rest``: a station house officer) and
    return the finalized FIR."""
    resp = await rest.post(f"/v1/firs/{fir['id']}:finalize", json={"etag": fir["etag"]})
    assert resp.status_code == 200, resp.text
    return dict(resp.json())


def error_reason(body: dict[str, Any]) -> str:
    """ErrorInfo.reason of a google.rpc.Status JSON body."""
    for detail in body.get("details", []):
        if detail.get("@type", "").endswith("google.rpc.ErrorInfo"):
            return str(detail.get("reason", ""))
    return ""


def violations(body: dict[str, Any]) -> list[str]:
    """Fields named by BadRequest details."""
    for detail in body.get("details", []):
        if detail.get("@type", "").endswith("google.rpc.BadRequest"):
            return [v["field"] for v in detail.get("field_violations", [])]
    return []


def grpc_violations(error: grpc.aio.AioRpcError) -> list[str]:
    """Fields named by the BadRequest detail of a gRPC error."""
    raw = dict(error.trailing_metadata() or ()).get("grpc-status-details-bin", b"")
    status = status_pb2.Status.FromString(raw if isinstance(raw, bytes) else raw.encode())
    for detail in status.details:
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            return [v.field for v in bad.field_violations]
    return []
