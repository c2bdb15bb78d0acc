"""Real jobs service and worker processes for the jobs integration tests.

Each test gets its own schema (``jobs_<random>``, migrated by the real
migrations) and its own jobs service process, so tests never see each other's
jobs and run in any order. Workers are real ``python -m afirgen_jobs.worker``
processes (a test can kill -9 one). Jobs of type ``test.*`` are delivered to
:class:`RecordingHandler`, a real gRPC ``JobHandlerService`` in the test
process that behaves as each job's payload says and records every call.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import pytest
from afirgen.jobs.v1 import jobs_pb2, jobs_pb2_grpc
from afirgen_runtime.migrate import apply
from google.protobuf import json_format, struct_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc

from scripts.devstack.config import free_port, service_python
from scripts.devstack.stack import Stack
from tests.conftest import mysql_settings
from tests.waiting import until

PAGE_TOKEN_SECRET = "integration-jobs-page-token-secret"


@dataclass
class Call:
    """One HandleJob call as the handler saw it."""

    job_id: str
    attempt: int
    start: float
    end: float = 0.0
    outcome: str = ""


class RecordingHandler(jobs_pb2_grpc.JobHandlerServiceServicer):  # type: ignore[misc]
    """Behaves as the payload says:

    - ``sleep``: seconds before answering (``sleeps``: a list, per attempt);
    - ``fail_codes``: status codes of the first attempts (then OK);
    - ``code``: status code of every attempt.
    """

    def __init__(self) -> None:
        self.calls: dict[str, list[Call]] = defaultdict(list)
        self.in_flight: dict[str, int] = defaultdict(int)
        self.max_in_flight: dict[str, int] = defaultdict(int)
        self.completions: dict[str, int] = defaultdict(int)

    async def HandleJob(
        self, request: jobs_pb2.HandleJobRequest, context: grpc.aio.ServicerContext
    ) -> jobs_pb2.HandleJobResponse:
        payload = json_format.MessageToDict(request.payload)
        call = Call(request.id, request.attempt, time.time())
        self.calls[request.id].append(call)
        self.in_flight[request.id] += 1
        self.max_in_flight[request.id] = max(self.max_in_flight[request.id], self.in_flight[request.id])
        try:
            sleeps = payload.get("sleeps") or []
            delay = sleeps[request.attempt - 1] if request.attempt <= len(sleeps) else payload.get("sleep", 0)
            await asyncio.sleep(float(delay))
            fail_codes = payload.get("fail_codes") or []
            code = fail_codes[request.attempt - 1] if request.attempt <= len(fail_codes) else payload.get("code")
            if code:
                call.outcome = code
                await context.abort(grpc.StatusCode[code], f"planned {code} on attempt {request.attempt}")
            call.outcome = "OK"
            self.completions[request.id] += 1
            return jobs_pb2.HandleJobResponse(detail=f"done on attempt {request.attempt}")
        except asyncio.CancelledError:
            call.outcome = "CANCELLED"
            raise
        finally:
            call.end = time.time()
            self.in_flight[request.id] -= 1


@dataclass
class Handler:
    """The recording handler and the port it serves on."""

    servicer: RecordingHandler
    port: int


@pytest.fixture(scope="session")
async def handler() -> AsyncIterator[Handler]:
    """A real gRPC JobHandlerService in the test process."""
    server = grpc.aio.server()
    servicer = RecordingHandler()
    jobs_pb2_grpc.add_JobHandlerServiceServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    yield Handler(servicer, port)
    await server.stop(0)


@dataclass
class JobsCluster:
    """One test's jobs schema, jobs service and workers."""

    stack: Stack
    schema: str
    handler: Handler
    logs: Path
    port: int = 0
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    channel: grpc.aio.Channel | None = None

    def env(self, **overrides: Any) -> dict[str, str]:
        """Environment of the service and workers of this cluster."""
        settings = mysql_settings(self.stack, self.schema)
        env = os.environ | {
            "AFIRGEN_MYSQL_HOST": settings.host,
            "AFIRGEN_MYSQL_PORT": str(settings.port),
            "AFIRGEN_MYSQL_USER": settings.user,
            "AFIRGEN_MYSQL_PASSWORD": settings.password,
            "AFIRGEN_MYSQL_DATABASE": self.schema,
            "AFIRGEN_ROUTES": f"test=127.0.0.1:{self.handler.port}",
            # No daily purge job in a test's schema unless the test asks: tests count their jobs.
            "AFIRGEN_RETENTION_PERIOD_SECONDS": "0",
            "AFIRGEN_LOG_LEVEL": "INFO",
            "PYTHONUNBUFFERED": "1",
        }
        env.update({f"AFIRGEN_{k.upper()}": str(v) for k, v in overrides.items()})
        return env

    def _spawn(self, module: str, name: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
        log = (self.logs / f"{name}.log").open("ab")
        python, path = service_python("jobs")
        proc = subprocess.Popen([python, "-m", module], env=env | path, stdout=log, stderr=log)
        self.processes.append(proc)
        return proc

    async def start_service(self, **overrides: Any) -> None:
        """The jobs API service; returns when it reports SERVING."""
        self.port = free_port()
        env = self.env(server_port=self.port, page_token_secret=PAGE_TOKEN_SECRET, **overrides)
        self._spawn("afirgen_jobs", "jobs", env)
        self.channel = grpc.aio.insecure_channel(f"127.0.0.1:{self.port}")
        health = health_pb2_grpc.HealthStub(self.channel)
        deadline = time.monotonic() + 30
        while True:
            try:
                reply = await health.Check(health_pb2.HealthCheckRequest(), timeout=1)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.aio.AioRpcError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"jobs service did not become ready; see {self.logs / 'jobs.log'}")
            await asyncio.sleep(0.1)

    def start_worker(self, name: str, **overrides: Any) -> subprocess.Popen[bytes]:
        """A worker process (settings as keyword arguments, e.g. ``lease_seconds=2``)."""
        defaults: dict[str, Any] = {
            "name": name,
            "queue_target": f"127.0.0.1:{self.port}",
            "concurrency": 4,
            "lease_seconds": 5,
            "poll_seconds": 1,
            "retry_base_seconds": 0.2,
            "retry_cap_seconds": 2,
            "shutdown_grace_seconds": 2,
        }
        return self._spawn("afirgen_jobs.worker", name, self.env(**(defaults | overrides)))

    @property
    def stub(self) -> jobs_pb2_grpc.JobServiceStub:
        """Client of this cluster's JobService."""
        assert self.channel is not None, "start_service() first"
        return jobs_pb2_grpc.JobServiceStub(self.channel)

    async def enqueue(self, payload: dict[str, Any] | None = None, **fields: Any) -> jobs_pb2.Job:
        """CreateJob of a ``test.*`` job."""
        struct = struct_pb2.Struct()
        struct.update(payload or {})
        job = jobs_pb2.Job(type=fields.pop("type", "test.work"), payload=struct, **fields)
        return await self.stub.CreateJob(jobs_pb2.CreateJobRequest(job=job))

    async def started(self, worker: str) -> None:
        """Wait until the worker ``worker`` has started (its log says so)."""
        log = self.logs / f"{worker}.log"
        await until(lambda: log.exists() and "worker started" in log.read_text(), what=f"{worker} to start")

    async def get(self, job_id: str) -> jobs_pb2.Job:
        """GetJob."""
        return await self.stub.GetJob(jobs_pb2.GetJobRequest(id=job_id))

    async def wait_status(self, job_id: str, status: int, within: float = 20.0) -> jobs_pb2.Job:
        """Poll GetJob until the job has ``status``."""
        name = jobs_pb2.JobStatus.Name(status)
        return await until(lambda: self.get(job_id), lambda j: j.status == status, within=within, what=f"{name}")

    async def stop(self) -> None:
        """SIGTERM everything (kill what does not stop), close the channel."""
        for proc in self.processes:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.processes:
            try:
                await asyncio.to_thread(proc.wait, 20)
            except subprocess.TimeoutExpired:
                proc.kill()
        if self.channel is not None:
            await self.channel.close()


def create_jobs_schema(stack: Stack, schema: str, link_root: Path) -> None:
    """A new schema ``schema`` with the jobs migrations applied (``link_root``: a scratch folder)."""
    root = stack.root_connection()
    try:
        with root.cursor() as cur:
            cur.execute(f"CREATE DATABASE `{schema}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
            for host in ("127.0.0.1", "localhost"):
                cur.execute(f"GRANT ALL PRIVILEGES ON `{schema}`.* TO 'afirgen'@'{host}'")
    finally:
        root.close()
    import afirgen_runtime.migrate as migrate

    # yoyo reads one folder per schema: point this test's schema at the jobs migrations.
    link_root.mkdir(parents=True, exist_ok=True)
    (link_root / schema).symlink_to(Path(migrate.MIGRATIONS_ROOT) / "jobs")
    apply(mysql_settings(stack, schema), schema, root=link_root)


def drop_schema(stack: Stack, schema: str) -> None:
    """Drop ``schema`` and everything in it."""
    root = stack.root_connection()
    try:
        with root.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{schema}`")
    finally:
        root.close()


@pytest.fixture
async def cluster(stack: Stack, handler: Handler, tmp_path: Path) -> AsyncIterator[JobsCluster]:
    """A fresh jobs schema with a running jobs service (start workers in the test)."""
    schema = f"jobs_{uuid.uuid4().hex[:10]}"
    await asyncio.to_thread(create_jobs_schema, stack, schema, tmp_path / "migrations")
    jobs = JobsCluster(stack, schema, handler, tmp_path)
    try:
        await jobs.start_service()
        yield jobs
    finally:
        await jobs.stop()
        await asyncio.to_thread(drop_schema, stack, schema)


JOB = jobs_pb2.JobStatus
FINISHED = frozenset({JOB.JOB_STATUS_SUCCEEDED, JOB.JOB_STATUS_DEAD, JOB.JOB_STATUS_CANCELLED})
"""Statuses a job never leaves by itself."""
