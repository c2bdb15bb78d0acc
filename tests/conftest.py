"""Shared fixtures. Integration and end-to-end tests run against one real
local stack (MariaDB, the services, Envoy) started once per test session on
free ports, in a temporary directory, so they never touch `make up`'s stack."""

from __future__ import annotations

import dataclasses
import os
import re
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
from afirgen_runtime.db import Database
from afirgen_runtime.identity import CLAIMS_HEADER, encode_claims
from afirgen_runtime.settings import MySQLSettings

from scripts.devstack.config import StackConfig
from scripts.devstack.identity import IdentityProvider
from scripts.devstack.stack import Stack
from tests.otlp_receiver import OtlpReceiver


@pytest.fixture(scope="session")
def otlp() -> Iterator[OtlpReceiver]:
    """The trace collector every service and Envoy of the test stack export to."""
    receiver = OtlpReceiver()
    yield receiver
    receiver.stop()


@pytest.fixture(scope="session")
def stack(otlp: OtlpReceiver) -> Iterator[Stack]:
    """The whole mesh, up and healthy, tracing into ``otlp``."""
    # Under /tmp itself, not pytest's owner-only temp root: MariaDB runs as the mysql user
    # and must pass through the run dir's parents.
    run_dir = Path(tempfile.mkdtemp(prefix="afirgen-test-stack-"))
    config = dataclasses.replace(StackConfig.for_tests(run_dir), otlp_endpoint=otlp.endpoint)
    running = Stack(config, owned=True)
    try:
        running.up()
    except Exception:
        running.down()
        raise
    yield running
    if os.environ.get("AFIRGEN_KEEP_TEST_STACK"):
        running.release()
        print(f"test stack kept running in {run_dir}")
        return
    running.destroy()


def mysql_settings(stack: Stack, database: str = "fir") -> MySQLSettings:
    """Settings that reach the test stack's MariaDB as the services do."""
    return MySQLSettings(
        host="127.0.0.1",
        port=stack.cfg.mysql_port,
        user="afirgen",
        password=stack.cfg.mysql_password,
        database=database,
        pool_min=1,
        pool_max=50,
    )


@pytest.fixture
async def fir_db(stack: Stack) -> AsyncIterator[Database]:
    """A pool on the test stack's ``fir`` schema."""
    db = Database(mysql_settings(stack))
    yield db
    await db.close()


TEST_DISTRICT = "Test District"
"""District of every test station (fir_helpers.fir_body uses it too)."""


def unique_station() -> str:
    """A station code no other test uses, so each test owns its FIRs."""
    return "T" + uuid.uuid4().hex[:10].upper()


class Officers:
    """Access tokens of officers of any role and station, made on demand in the test stack's
    identity provider (a real Keycloak: the user is created, then signs in) and kept for the session."""

    def __init__(self, idp: IdentityProvider) -> None:
        self._idp = idp
        self._tokens: dict[tuple[str, str, str], str] = {}

    def token(self, role: str, station: str = "", district: str = TEST_DISTRICT) -> str:
        """A token of an officer with ``role`` at ``station`` (and ``district``)."""
        key = (role, station, district)
        if key not in self._tokens:
            place = station or re.sub(r"[^a-z0-9]+", "-", district.lower()) or "all"
            username = f"t-{role.replace('_', '-')}-{place}".lower()
            self._idp.ensure_officer(username, role, station, district)
            self._tokens[key] = self._idp.token(username)
        return self._tokens[key]

    def headers(self, role: str, station: str = "", district: str = TEST_DISTRICT) -> dict[str, str]:
        """An Authorization header for such an officer."""
        return {"authorization": f"Bearer {self.token(role, station, district)}"}


@pytest.fixture(scope="session")
def officers(stack: Stack) -> Iterator[Officers]:
    """Token factory on the test stack's identity provider."""
    with IdentityProvider(stack.cfg.idp_url, stack.cfg.idp_admin_password) as idp:
        yield Officers(idp)


@pytest.fixture
def station() -> str:
    """This test's own station (fresh, so the test owns every FIR of it)."""
    return unique_station()


@pytest.fixture
async def rest(stack: Stack, officers: Officers, station: str) -> AsyncIterator[httpx.AsyncClient]:
    """HTTP/1.1 client of the Envoy edge (REST side), signed in as the station house officer
    of this test's ``station``."""
    headers = officers.headers("sho", station)
    async with httpx.AsyncClient(base_url=stack.cfg.base_url, timeout=240, headers=headers) as client:
        yield client


@pytest.fixture
async def client_as(stack: Stack, officers: Officers) -> AsyncIterator[Callable[..., httpx.AsyncClient]]:
    """``client_as(role, station="", district=...)``: a REST client signed in as another officer."""
    opened: list[httpx.AsyncClient] = []

    def make(role: str, station: str = "", district: str = TEST_DISTRICT) -> httpx.AsyncClient:
        client = httpx.AsyncClient(
            base_url=stack.cfg.base_url, timeout=240, headers=officers.headers(role, station, district)
        )
        opened.append(client)
        return client

    yield make
    for client in opened:
        await client.aclose()


@pytest.fixture
async def anonymous(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    """A REST client of the edge without a token."""
    async with httpx.AsyncClient(base_url=stack.cfg.base_url, timeout=60) as client:
        yield client


class _Metadata(grpc.aio.UnaryUnaryClientInterceptor, grpc.aio.UnaryStreamClientInterceptor):  # type: ignore[misc]
    """Adds fixed metadata (a token, or the edge's forwarded claims) to every call."""

    def __init__(self, pairs: tuple[tuple[str, str], ...]) -> None:
        self._pairs = pairs

    def _details(self, details: Any) -> Any:
        metadata = grpc.aio.Metadata(*(tuple(details.metadata) if details.metadata else ()), *self._pairs)
        return grpc.aio.ClientCallDetails(
            details.method, details.timeout, metadata, details.credentials, details.wait_for_ready
        )

    async def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        return await continuation(self._details(details), request)

    async def intercept_unary_stream(self, continuation: Any, details: Any, request: Any) -> Any:
        return await continuation(self._details(details), request)


def claims_of(role: str, station: str = "", district: str = TEST_DISTRICT) -> str:
    """The claims header Envoy would forward for such an officer (for calls straight to a service)."""
    claims: dict[str, object] = {"sub": f"direct-{role}-{station}", "preferred_username": f"direct.{role}"}
    claims |= {"roles": [role], "station": station, "district": district}
    return encode_claims(claims)


@pytest.fixture
async def edge_channel(stack: Stack, officers: Officers, station: str) -> AsyncIterator[grpc.aio.Channel]:
    """gRPC channel through Envoy, with the token of the station house officer of ``station``."""
    token = (("authorization", f"Bearer {officers.token('sho', station)}"),)
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{stack.cfg.envoy_port}", interceptors=[_Metadata(token)])
    yield channel
    await channel.close()


@pytest.fixture
async def fir_channel(stack: Stack, station: str) -> AsyncIterator[grpc.aio.Channel]:
    """gRPC channel straight to the fir service, as the edge would call it for the station house officer
    of ``station`` (services trust the claims header: only the edge and other services reach them)."""
    claims = ((CLAIMS_HEADER, claims_of("sho", station)),)
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{stack.cfg.fir_port}", interceptors=[_Metadata(claims)])
    yield channel
    await channel.close()
