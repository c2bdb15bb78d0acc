"""The inference proxy of the test stack, reached directly over gRPC."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest
from afirgen.inference.v1 import inference_pb2_grpc

from scripts.devstack.stack import Stack


@pytest.fixture
async def inference(stack: Stack) -> AsyncIterator[inference_pb2_grpc.InferenceServiceStub]:
    """A stub on the stack's inference proxy (no Envoy in between)."""
    channel = grpc.aio.insecure_channel(
        f"127.0.0.1:{stack.cfg.inference_port}",
        options=[("grpc.max_send_message_length", 32 << 20), ("grpc.max_receive_message_length", 32 << 20)],
    )
    yield inference_pb2_grpc.InferenceServiceStub(channel)
    await channel.close()
