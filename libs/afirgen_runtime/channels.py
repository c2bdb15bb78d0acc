"""Client channels for service-to-service calls."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import grpc

from afirgen_runtime import tracing
from afirgen_runtime.interceptors import client_interceptors


@dataclass(frozen=True)
class ChannelSettings:
    """How a service reaches another one."""

    target: str = ""
    """``host:port`` (or any gRPC target such as ``dns:///fir:50051``)."""
    timeout_seconds: float = 5.0
    """Default deadline of a call, capped by the served call's own deadline."""
    max_message_bytes: int = 8 * 1024 * 1024
    """Largest message sent or received."""


def create_channel(settings: ChannelSettings, extra_options: Sequence[tuple[str, Any]] = ()) -> grpc.aio.Channel:
    """An insecure (mesh-internal) channel with the shared interceptors
    (``extra_options``: more gRPC channel arguments, e.g. reconnect backoff)."""
    options: list[tuple[str, Any]] = [
        ("grpc.max_send_message_length", settings.max_message_bytes),
        ("grpc.max_receive_message_length", settings.max_message_bytes),
        ("grpc.keepalive_time_ms", 30_000),
        ("grpc.keepalive_timeout_ms", 10_000),
        ("grpc.http2.max_pings_without_data", 0),
        ("grpc.keepalive_permit_without_calls", 1),
        ("grpc.lb_policy_name", "round_robin"),
        *extra_options,
    ]
    return grpc.aio.insecure_channel(
        settings.target,
        options=options,
        interceptors=[*tracing.client_interceptors(), *client_interceptors(settings.timeout_seconds)],
    )
