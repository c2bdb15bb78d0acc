"""Process runner shared by every service and worker.

:func:`main` is the entry point of every process: it runs the process's
composition root inside the event loop (uvloop) and refuses to start with a
weak secret. :func:`run` serves a :class:`ServiceApp` until SIGTERM/SIGINT:

- ``grpc.health.v1``: NOT_SERVING until the app's readiness check passes
  (its dependencies are reachable), re-checked periodically; NOT_SERVING as
  soon as draining starts, so Envoy stops routing before the port closes.
- server reflection for every registered service;
- graceful shutdown: stop accepting, let in-flight calls finish within the
  grace period, then close the app's pools;
- message size limits, keepalive, a cap on concurrent calls.

:func:`run_worker` runs a :class:`WorkerApp`, a process with no gRPC server
(the jobs worker), until SIGTERM/SIGINT or until its work ends by itself. Both
serve ``/metrics`` and stop the same way: stop taking work, let the work in
flight finish, then close what the app opened.
"""

from __future__ import annotations

import asyncio
import gc
import signal
import sys
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer
from grpc_reflection.v1alpha import reflection
from loguru import logger

from afirgen_runtime import heap, metrics, tracing
from afirgen_runtime import logging as runtime_logging
from afirgen_runtime.interceptors import CallObserver, ServerInterceptor
from afirgen_runtime.secrets import WeakSecret
from afirgen_runtime.settings import LogSettings, MetricsSettings, ServerSettings, TracingSettings

READINESS_INTERVAL_SECONDS = 2.0


async def _always_ready() -> bool:
    return True


async def _nothing() -> None:
    return None


@dataclass
class ServiceApp:
    """What a service's composition root hands to the runtime."""

    name: str
    """Short service name (``fir``, ``jobs``...): logs, error domain, metrics."""
    register: Callable[[grpc.aio.Server], None]
    """Adds the servicers to the server."""
    service_names: Sequence[str]
    """Full names of the gRPC services, for health and reflection."""
    readiness: Callable[[], Awaitable[bool]] = _always_ready
    """True when every dependency is reachable."""
    on_start: Callable[[], Awaitable[None]] = _nothing
    """Runs after the port is bound (background tasks)."""
    on_stop: Callable[[], Awaitable[None]] = _nothing
    """Closes pools and channels after the last call finished."""
    on_drain: Callable[[], Awaitable[None]] = _nothing
    """Runs when draining starts, before in-flight calls are awaited: ends
    long-lived streams so they do not hold shutdown for the whole grace period."""
    observers: tuple[CallObserver, ...] = field(default_factory=tuple)
    """Called with (method, code, seconds) after every call (metrics)."""
    deadlines: Mapping[str, float] = field(default_factory=dict)
    """Method name (``GenerateFir``) -> deadline when the client sets none; 0 = none (watch streams).
    Other methods get ``ServerSettings.default_deadline_seconds``."""


@dataclass
class WorkerApp:
    """What the composition root of a process without a gRPC server hands to the runtime."""

    name: str
    """Short process name (``jobs-worker``): logs."""
    run: Callable[[], Coroutine[Any, Any, None]]
    """The work; returns once :attr:`stop` was called and the work in flight ended (or when it
    crashed, which ends the process too: the supervisor restarts it)."""
    stop: Callable[[], None]
    """Begins a graceful shutdown; returns at once."""
    metrics: MetricsSettings
    """The ``/metrics`` endpoint of the process."""
    on_stop: Callable[[], Awaitable[None]] = _nothing
    """Closes pools and channels after the work ended."""


class RunningServer:
    """A started server; :meth:`stop` drains it."""

    def __init__(self, app: ServiceApp, settings: ServerSettings) -> None:
        self.app = app
        self.settings = settings
        self.health = HealthServicer()
        self.last_call = heap.LastCall()
        observers: tuple[CallObserver, ...] = (*app.observers, metrics.observe_server_call(app.name), self.last_call)
        self.server = grpc.aio.server(
            # Tracing first: its span is active while the shared interceptor logs.
            interceptors=[
                *tracing.server_interceptors(),
                ServerInterceptor(app.name, observers, settings.default_deadline_seconds, app.deadlines),
            ],
            options=[
                ("grpc.max_send_message_length", settings.max_message_bytes),
                ("grpc.max_receive_message_length", settings.max_message_bytes),
                ("grpc.keepalive_time_ms", int(settings.keepalive_time_seconds * 1000)),
                ("grpc.keepalive_timeout_ms", int(settings.keepalive_timeout_seconds * 1000)),
                ("grpc.http2.min_ping_interval_without_data_ms", 5_000),
                ("grpc.keepalive_permit_without_calls", 1),
                ("grpc.so_reuseport", 0),
            ],
            maximum_concurrent_rpcs=settings.max_concurrent_rpcs,
        )
        self.port = 0
        self.metrics_port = 0
        self._draining = False
        self._ready_task: asyncio.Task[None] | None = None
        self._give_back_task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Bind, register and start serving (health NOT_SERVING until ready)."""
        self.app.register(self.server)
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        names = [*self.app.service_names, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name]
        if self.settings.reflection:
            reflection.enable_server_reflection([*names, reflection.SERVICE_NAME], self.server)
        self.port = self.server.add_insecure_port(f"{self.settings.host}:{self.settings.port}")
        await self._set_all(health_pb2.HealthCheckResponse.NOT_SERVING)
        await self.server.start()
        self.metrics_port = metrics.serve(self.settings.metrics)
        await self.app.on_start()
        self._ready_task = asyncio.create_task(self._watch_readiness())
        self._give_back_task = asyncio.create_task(heap.give_back_when_quiet(self.last_call))
        logger.info("serving", port=self.port, metrics_port=self.metrics_port, services=list(self.app.service_names))

    async def _set_all(self, status: int) -> None:
        for name in ("", *self.app.service_names):
            await self.health.set(name, status)

    async def _watch_readiness(self) -> None:
        serving: bool | None = None
        while not self._draining:
            try:
                ready = await asyncio.wait_for(self.app.readiness(), timeout=5)
            except Exception as exc:
                logger.warning("readiness check failed: {}", type(exc).__name__)
                ready = False
            if ready != serving and not self._draining:
                serving = ready
                await self._set_all(
                    health_pb2.HealthCheckResponse.SERVING if ready else health_pb2.HealthCheckResponse.NOT_SERVING
                )
                logger.info("health changed", serving=ready)
            await asyncio.sleep(READINESS_INTERVAL_SECONDS if ready else 0.2)

    async def stop(self) -> None:
        """Report NOT_SERVING, drain in-flight calls, then close the app."""
        if self._draining:
            return
        self._draining = True
        logger.info("draining", grace_seconds=self.settings.shutdown_grace_seconds)
        await self._set_all(health_pb2.HealthCheckResponse.NOT_SERVING)
        for task in (self._ready_task, self._give_back_task):
            if task:
                task.cancel()
        await self.app.on_drain()
        await self.server.stop(self.settings.shutdown_grace_seconds)
        await self.app.on_stop()
        tracing.shutdown()
        logger.info("stopped")


def _stop_requested() -> asyncio.Event:
    """An event set by SIGTERM or SIGINT."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return stop


def freeze_startup_heap() -> None:
    """Put every object alive once the process has started (modules, protobuf descriptors, the
    composed app: some 50,000 in fir) out of the garbage collector's reach for good. A full
    collection then walks only what came after, instead of stalling the event loop, and every
    call in flight on it, for 20-35 ms (measured in fir, cache and the inference proxy under
    the bench's load)."""
    gc.collect()
    gc.freeze()


async def run(app: ServiceApp, settings: ServerSettings) -> None:
    """Serve ``app`` until SIGTERM or SIGINT, then shut down gracefully."""
    running = RunningServer(app, settings)
    stop = _stop_requested()
    await running.start()
    freeze_startup_heap()
    await stop.wait()
    await running.stop()


async def run_worker(app: WorkerApp) -> None:
    """Run ``app`` until SIGTERM or SIGINT, or until its work ends by itself, then shut down gracefully."""
    stop = _stop_requested()
    metrics_port = metrics.serve(app.metrics)
    freeze_startup_heap()
    work = asyncio.create_task(app.run(), name=app.name)
    stopping = asyncio.create_task(stop.wait())
    logger.info("working", metrics_port=metrics_port)
    await asyncio.wait({work, stopping}, return_when=asyncio.FIRST_COMPLETED)
    logger.info("draining")
    app.stop()
    stopping.cancel()
    try:
        await work
    finally:
        await app.on_stop()
        tracing.shutdown()
        logger.info("stopped")


def prepare(process: str, log: LogSettings, traces: TracingSettings) -> None:
    """Configure logging and tracing before the composition root creates channels."""
    runtime_logging.configure(process, log)
    tracing.configure(process, traces)


def main(build: Callable[[], tuple[ServiceApp, ServerSettings] | WorkerApp]) -> None:
    """Entry point of a process: ``build`` is its composition root, returning the app to serve
    (with its server settings) or the worker to run.

    It runs inside the event loop (pools and channels bind to it) but must not
    connect: connections are opened lazily and by the readiness check.
    """
    import uvloop

    async def _main() -> None:
        built = build()
        if isinstance(built, WorkerApp):
            await run_worker(built)
        else:
            await run(*built)

    try:
        uvloop.run(_main())
    except WeakSecret as refused:
        print(f"refusing to start: {refused}", file=sys.stderr)
        raise SystemExit(2) from None
