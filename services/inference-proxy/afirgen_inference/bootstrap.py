"""Composition root of the inference proxy: the only place that wires adapters."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import grpc
import httpx
from afirgen.inference.v1 import inference_pb2, inference_pb2_grpc
from afirgen_runtime.server import ServiceApp

from afirgen_inference.adapters import metrics
from afirgen_inference.adapters.llama_server import LlamaServer
from afirgen_inference.adapters.ocr_server import TesseractServer
from afirgen_inference.adapters.whisper_server import WhisperServer
from afirgen_inference.domain.model import BackendKind
from afirgen_inference.entrypoints.grpc_servicer import InferenceServicer
from afirgen_inference.service_layer.backend_pool import BackendPool, BackendSettings
from afirgen_inference.service_layer.breaker import CircuitBreaker
from afirgen_inference.service_layer.dispatcher import Replica
from afirgen_inference.service_layer.health import HealthMonitor
from afirgen_inference.service_layer.inference_service import InferenceService
from afirgen_inference.service_layer.ports import ChatServer, Clock, OcrServer, SpeechServer
from afirgen_inference.settings import InferenceSettings

C = TypeVar("C", ChatServer, SpeechServer, OcrServer)


@dataclass
class InferenceContainer:
    """What ``build`` wired, for the server and for tests."""

    app: ServiceApp
    service: InferenceService
    monitor: HealthMonitor
    clients: list[httpx.AsyncClient]

    async def close(self) -> None:
        """Stop probing and close the HTTP clients."""
        await self.monitor.stop()
        for client in self.clients:
            await client.aclose()


def _http_client(backend: BackendSettings, transport: httpx.AsyncBaseTransport | None) -> httpx.AsyncClient:
    # Slots are limited by the dispatcher; the pool only has to fit them plus probes.
    per_replica = backend.max_in_flight + 2
    return httpx.AsyncClient(
        transport=transport,
        trust_env=False,  # a proxy from the environment must never sit between us and 127.0.0.1
        limits=httpx.Limits(max_connections=max(1, len(backend.urls)) * per_replica),
    )


def _pool(
    kind: BackendKind, backend: BackendSettings, client: Callable[..., C], http: httpx.AsyncClient, clock: Clock
) -> BackendPool[C]:
    """One replica per URL, each with its client and circuit breaker."""
    replicas = []
    for i, url in enumerate(backend.urls):
        name = f"{kind.value}-{i}"
        replicas.append(
            Replica(
                name=name,
                url=url,
                client=client(name, url, http, model=backend.model, connect_timeout=backend.connect_timeout_seconds),
                breaker=CircuitBreaker(name, backend.failure_threshold, backend.recovery_seconds),
                max_in_flight=backend.max_in_flight,
            )
        )
    return BackendPool(kind, replicas, backend, clock=clock)


def build(
    settings: InferenceSettings,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    clock: Clock = time.monotonic,
) -> InferenceContainer:
    """Wire the service. Tests pass an ``httpx.MockTransport`` and a fake ``clock``.

    Nothing connects here: HTTP connections open on the first call or probe."""
    llm_http = _http_client(settings.llm, transport)
    asr_http = _http_client(settings.asr, transport)
    ocr_http = _http_client(settings.ocr, transport)
    llm: BackendPool[ChatServer] = _pool(BackendKind.LLM, settings.llm, LlamaServer, llm_http, clock)
    asr: BackendPool[SpeechServer] = _pool(BackendKind.ASR, settings.asr, WhisperServer, asr_http, clock)
    ocr: BackendPool[OcrServer] = _pool(BackendKind.OCR, settings.ocr, TesseractServer, ocr_http, clock)
    service = InferenceService(
        llm=llm,
        asr=asr,
        ocr=ocr,
        json_reasks=settings.limits.json_reasks,
        max_tokens_limit=settings.limits.max_tokens,
        clock=clock,
    )
    metrics.COLLECTOR.watch(service.list_models)
    monitor = HealthMonitor([llm, asr, ocr])
    container_clients = [llm_http, asr_http, ocr_http]

    def register(server: grpc.aio.Server) -> None:
        inference_pb2_grpc.add_InferenceServiceServicer_to_server(InferenceServicer(service, settings.limits), server)

    async def on_start() -> None:
        monitor.start()

    async def on_stop() -> None:
        await monitor.stop()
        for client in container_clients:
            await client.aclose()

    app = ServiceApp(
        name="inference",
        # Calls that wait on model servers, or stay open, when their client set no deadline.
        deadlines={"Generate": 170.0, "StreamGenerate": 170.0, "Transcribe": 120.0, "RecognizeText": 120.0},
        register=register,
        service_names=[inference_pb2.DESCRIPTOR.services_by_name["InferenceService"].full_name],
        # The proxy is ready whatever its model servers do: ListModels and fast
        # UNAVAILABLE answers are its job when they are down.
        on_start=on_start,
        on_stop=on_stop,
    )
    return InferenceContainer(app=app, service=service, monitor=monitor, clients=container_clients)
