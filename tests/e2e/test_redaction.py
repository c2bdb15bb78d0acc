"""Personal data sent through every path, including failures, reaches no log line."""

from __future__ import annotations

import uuid

import httpx
import pytest

from scripts.devstack.stack import Stack
from tests.e2e.fir_helpers import fir_body
from tests.waiting import until

pytestmark = pytest.mark.e2e

NAME = "Sunita Kumari Devi"
FATHER = "Ramprasad Yadav"
PHONE = "+91 99887 76655"
EMAIL = "sunita.devi@example.in"
AADHAAR = "4321 8765 2109"
ADDRESS = "House 7, Gandhi Marg, Jaipur"
SECRETS = [NAME, FATHER, PHONE, "9988776655", "99887 76655", EMAIL, AADHAAR, "432187652109", ADDRESS, "Gandhi Marg"]


def personal_fir(station: str) -> dict[str, object]:
    return fir_body(
        station,
        complainant={
            "name": NAME,
            "parent_or_spouse_name": FATHER,
            "phone": PHONE,
            "email": EMAIL,
            "address": ADDRESS,
        },
        summary=f"{NAME} (Aadhaar {AADHAAR}, phone {PHONE}) reports a theft at {ADDRESS}",
        narrative=f"Complainant {NAME}, {EMAIL}, Aadhaar {AADHAAR}, lives at {ADDRESS}.",
    )


async def test_no_personal_data_in_any_log(stack: Stack, rest: httpx.AsyncClient, station: str) -> None:
    headers = {"Idempotency-Key": f"pii-{uuid.uuid4()}"}
    created = await rest.post("/v1/firs", json=personal_fir(station), headers=headers)
    assert created.status_code == 200
    fir = created.json()
    await rest.post("/v1/firs", json=personal_fir(station), headers=headers)  # idempotent replay
    await rest.get(f"/v1/firs/{fir['id']}")
    await rest.get("/v1/firs", params={"filter": f'station = "{station}"'})
    # failures: invalid fields carrying personal data, stale etag, bad filter and token, reused key
    bad = personal_fir(station)
    bad["complainant"] = {"name": NAME, "phone": f"call {PHONE} now", "email": f"{EMAIL} x"}
    assert (await rest.post("/v1/firs", json=bad)).status_code == 400
    stale = await rest.patch(
        f"/v1/firs/{fir['id']}", params={"update_mask": "narrative"}, json={"etag": "stale", "narrative": ADDRESS}
    )
    assert stale.status_code == 409
    assert (await rest.get("/v1/firs", params={"filter": f'station = "{PHONE}" OR x'})).status_code == 400
    assert (await rest.get("/v1/firs", params={"page_token": EMAIL})).status_code == 400
    reused = await rest.post("/v1/firs", json=fir_body(station), headers=headers)
    assert reused.status_code == 409
    await rest.get("/v1/legal-sections", params={"query": f"{NAME} {PHONE} {AADHAAR} stolen phone"})
    edited = await rest.patch(
        f"/v1/firs/{fir['id']}",
        params={"update_mask": "narrative,complainant.address"},
        json={"etag": fir["etag"], "narrative": f"{NAME} at {ADDRESS}", "complainant": {"address": ADDRESS}},
    )
    assert edited.status_code == 200
    await rest.post(f"/v1/firs/{fir['id']}:finalize", json={"etag": edited.json()["etag"]})

    log_dir = stack.cfg.run_dir / "logs"
    # Envoy flushes its access log about once a second: wait for the last request's line.
    await until(
        lambda: f"/v1/firs/{fir['id']}:finalize" in (log_dir / "envoy.log").read_text(errors="replace"),
        every=0.2,
        what="the access log line of the finalize",
    )
    logs = {path.name: path.read_text(errors="replace") for path in log_dir.glob("*.log")}
    assert "fir.log" in logs and "envoy.log" in logs
    assert f"/v1/firs/{fir['id']}" in logs["envoy.log"]  # the requests were logged, without their data
    # The refusal is logged by whichever fir replica served it (fir.log or fir-2.log).
    assert any("IDEMPOTENCY_KEY_REUSED" in text for name, text in logs.items() if name.startswith("fir"))
    leaks = {(name, secret) for name, text in logs.items() for secret in SECRETS if secret in text}
    assert not leaks, leaks
