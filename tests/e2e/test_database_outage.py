"""MariaDB goes away and comes back: clear, fast errors, then recovery by itself."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from scripts.devstack.stack import Stack
from tests.e2e.fir_helpers import create_fir, error_reason

pytestmark = pytest.mark.e2e


async def test_database_down_gives_unavailable_then_recovers(
    stack: Stack, rest: httpx.AsyncClient, station: str
) -> None:
    fir = await create_fir(rest, station)
    stack.ctl("stop", "infra:mariadb")
    try:
        started = time.monotonic()
        resp = await rest.get(f"/v1/firs/{fir['id']}", params={"read_mask": "id,status"})
        elapsed = time.monotonic() - started
        assert resp.status_code == 503, resp.text
        body = resp.json()
        assert error_reason(body) == "DEPENDENCY_UNAVAILABLE"
        assert "database" in body["message"]
        assert elapsed < 10, elapsed  # retried with backoff, then a clear answer, not a hang
    finally:
        stack.ctl("start", "infra:mariadb")

    # The pool reconnects by itself: no service restart.
    deadline = time.monotonic() + 60
    while True:
        resp = await rest.get(f"/v1/firs/{fir['id']}", params={"read_mask": "id,status"})
        if resp.status_code == 200 or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.5)
    assert resp.status_code == 200, resp.text
    assert resp.json()["id"] == fir["id"]
