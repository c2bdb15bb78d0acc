"""Client channels for service-to-service calls.

A target may name several replicas: a DNS name with one address per replica
(``dns:///fir:50051``, Kubernetes headless Services, Compose replicas) or a list
(``ipv4:127.0.0.1:50051,127.0.0.1:50055``, the local stack). Calls are spread over
the replicas that are connected (``round_robin``); a replica whose connection
breaks is left out until it reconnects. Calls to the services a caller names as
idempotent are also retried, on another replica, when they fail with UNAVAILABLE
(the replica died or refused the call): at most twice, after 50-500 ms, and only
while fewer than half of a small token budget is spent (gRPC retry throttling), so
a dependency that is down for everyone is not called three times as often.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import grpc

from afirgen_runtime import tracing
from afirgen_runtime.interceptors import client_interceptors

RETRY_POLICY = {
    "maxAttempts": 3,
    "initialBackoff": "0.05s",
    "maxBackoff": "0.5s",
    "backoffMultiplier": 2,
    "retryableStatusCodes": ["UNAVAILABLE"],
}
"""How a call to an idempotent service is repeated (gRPC service config ``retryPolicy``)."""
RETRY_THROTTLING = {"maxTokens": 10, "tokenRatio": 0.1}
"""Retry budget of a channel: each failure spends a token, each success earns a tenth of one, and
retries stop while fewer than half the tokens are left."""


@dataclass(frozen=True)
class ChannelSettings:
    """How a service reaches another one."""

    target: str = ""
    """``host:port``, or any gRPC target: ``dns:///fir:50051`` (every address of the name),
    ``ipv4:127.0.0.1:50051,127.0.0.1:50055`` (each listed replica)."""
    timeout_seconds: float = 5.0
    """Default deadline of a call, capped by the served call's own deadline."""
    max_message_bytes: int = 8 * 1024 * 1024
    """Largest message sent or received."""


def service_config(idempotent: Sequence[str]) -> str:
    """The gRPC service config of a channel: round robin, and retries of ``idempotent`` services."""
    config: dict[str, Any] = {"loadBalancingConfig": [{"round_robin": {}}]}
    if idempotent:
        config["methodConfig"] = [{"name": [{"service": name} for name in idempotent], "retryPolicy": RETRY_POLICY}]
        config["retryThrottling"] = RETRY_THROTTLING
    return json.dumps(config)


def create_channel(
    settings: ChannelSettings, extra_options: Sequence[tuple[str, Any]] = (), *, idempotent: Sequence[str] = ()
) -> grpc.aio.Channel:
    """An insecure (mesh-internal) channel with the shared interceptors (``extra_options``: more
    gRPC channel arguments, e.g. reconnect backoff). Calls to the ``idempotent`` services (full
    names, e.g. ``afirgen.inference.v1.InferenceService``) are retried on UNAVAILABLE."""
    options: list[tuple[str, Any]] = [
        ("grpc.max_send_message_length", settings.max_message_bytes),
        ("grpc.max_receive_message_length", settings.max_message_bytes),
        ("grpc.keepalive_time_ms", 30_000),
        ("grpc.keepalive_timeout_ms", 10_000),
        ("grpc.http2.max_pings_without_data", 0),
        ("grpc.keepalive_permit_without_calls", 1),
        ("grpc.lb_policy_name", "round_robin"),
        ("grpc.service_config", service_config(idempotent)),
        # A call can be repeated only while its request is still buffered: room for the largest one.
        ("grpc.per_rpc_retry_buffer_size", settings.max_message_bytes),
        ("grpc.retry_buffer_size", 4 * settings.max_message_bytes),
        *extra_options,
    ]
    return grpc.aio.insecure_channel(
        settings.target,
        options=options,
        interceptors=[*tracing.client_interceptors(), *client_interceptors(settings.timeout_seconds)],
    )
