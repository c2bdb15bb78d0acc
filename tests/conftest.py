"""Shared fixtures. Integration and end-to-end tests run against one real
local stack (MariaDB, the services, Envoy) started once per test session on
free ports, in a temporary directory, so they never touch `make up`'s stack."""

from __future__ import annotations

import dataclasses
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import grpc
import httpx
import pytest
from afirgen_runtime.db import Database
from afirgen_runtime.settings import MySQLSettings

from scripts.devstack.config import StackConfig
from scripts.devstack.stack import Stack
from tests.otlp_receiver import OtlpReceiver


@pytest.fixture(scope="session")
def otlp() -> Iterator[OtlpReceiver]:
    """The trace collector every service and Envoy of the test stack export to."""
    receiver = OtlpReceiver()
    yield receiver
    receiver.stop()


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory, otlp: OtlpReceiver) -> Iterator[Stack]:
    """The whole mesh, up and healthy, tracing into ``otlp``."""
    run_dir = Path(tmp_path_factory.mktemp("stack"))
    config = dataclasses.replace(StackConfig.for_tests(run_dir), otlp_endpoint=otlp.endpoint)
    running = Stack(config)
    try:
        running.up()
    except Exception:
        running.down()
        raise
    yield running
    if os.environ.get("AFIRGEN_KEEP_TEST_STACK"):
        print(f"test stack kept running in {run_dir}")
        return
    running.down()


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


@pytest.fixture
async def rest(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    """HTTP/1.1 client of the Envoy edge (REST side)."""
    async with httpx.AsyncClient(base_url=stack.cfg.base_url, timeout=240) as client:
        yield client


@pytest.fixture
async def edge_channel(stack: Stack) -> AsyncIterator[grpc.aio.Channel]:
    """gRPC channel through Envoy."""
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{stack.cfg.envoy_port}")
    yield channel
    await channel.close()


@pytest.fixture
async def fir_channel(stack: Stack) -> AsyncIterator[grpc.aio.Channel]:
    """gRPC channel straight to the fir service."""
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{stack.cfg.fir_port}")
    yield channel
    await channel.close()


def unique_station() -> str:
    """A station code no other test uses, so each test owns its FIRs."""
    return "T" + uuid.uuid4().hex[:10].upper()
