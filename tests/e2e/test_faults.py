"""The fault suite's short form in ``make test`` (``make chaos`` runs every fault): under the
mixed load through the edge, one fir replica is killed, the LLM server frozen for 10 s and
MariaDB restarted, each held to its gates (chaos/report.py): no acknowledged write lost, no
duplicate FIR or number, no job lost, no failed request where a replica or a fallback
exists, a frozen model server's circuit open within its probe interval plus one timeout."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from chaos import faults, report
from chaos.audit import Auditor, Database
from chaos.episode import Episode, Fault
from chaos.mesh import Mesh
from chaos.webhooks import Receiver
from scripts.devstack.stack import Stack
from tests.conftest import Officers

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def episode(stack: Stack, officers: Officers, webhook: Receiver) -> Iterator[Episode]:
    """Runs a fault against the test stack under the short load, audited in its database."""
    connect = {"host": "127.0.0.1", "port": stack.cfg.mysql_port, "user": "afirgen"}
    auditor = Auditor(Database(connect | {"password": stack.cfg.mysql_password}), webhook)
    yield Episode(Mesh(stack), officers, auditor, faults.SHORT_TIMING, faults.SHORT_SHAPE)


def _name(fault: Fault) -> str:
    return f"{fault.target.program.split(':')[1]}-{fault.action}"


@pytest.mark.parametrize("fault", faults.SHORT, ids=_name)
async def test_fault_breaks_no_gate(episode: Episode, fault: Fault) -> None:
    outcome = await episode.run(fault)
    # A frozen model server must be noticed while it is still frozen; how fast is make chaos's gate.
    frozen_bound = faults.SHORT_TIMING.freeze_seconds
    assert report.gates(outcome, frozen_bound) == [], report.row(outcome)
