"""A real HTTP receiver of the FIR webhooks for the end-to-end tests.

The test stack points the fir service's webhook at ``stack.cfg.webhook_port``; this
receiver (``chaos.webhooks``, the fault suite's too) listens there for the whole session
and records every request."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from chaos.webhooks import Receiver, WebhookServer
from scripts.devstack.stack import Stack


@pytest.fixture(scope="session")
def webhook(stack: Stack) -> Iterator[Receiver]:
    """Listen on the stack's webhook port, answering 200 to every POST."""
    with WebhookServer(stack.cfg.webhook_port, stack.cfg.webhook_secret) as receiver:
        yield receiver
