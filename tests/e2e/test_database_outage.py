"""MariaDB goes away and comes back: clear errors (not hangs), then recovery by itself."""

from __future__ import annotations

import httpx
import pytest

from scripts.devstack.stack import Stack
from tests.e2e.fir_helpers import create_fir, error_reason
from tests.waiting import until

pytestmark = pytest.mark.e2e


async def test_database_down_gives_unavailable_then_recovers(
    stack: Stack, rest: httpx.AsyncClient, station: str
) -> None:
    fir = await create_fir(rest, station)
    stack.ctl("stop", "infra:mariadb")
    try:
        # Retried with backoff, then a clear answer: a hang would end in the deadline's 504 instead.
        resp = await rest.get(f"/v1/firs/{fir['id']}", params={"read_mask": "id,status"})
        assert resp.status_code == 503, resp.text
        body = resp.json()
        assert (error_reason(body), "database" in body["message"]) == ("DEPENDENCY_UNAVAILABLE", True)
    finally:
        stack.ctl("start", "infra:mariadb")

    # The pool reconnects by itself: no service restart.
    resp = await until(
        lambda: rest.get(f"/v1/firs/{fir['id']}", params={"read_mask": "id,status"}),
        lambda r: r.status_code != 503,
        within=60,
        every=0.5,
        what="the FIR to be served again",
    )
    assert (resp.status_code, resp.json()["id"]) == (200, fir["id"])
