"""Per-request context carried in contextvars across awaits."""

from __future__ import annotations

import contextvars
import uuid

REQUEST_ID_HEADER = "x-request-id"

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")


def current_request_id() -> str:
    """The request id of the call being served, or ``""`` outside a call."""
    return request_id_var.get()


def new_request_id() -> str:
    """A fresh request id (UUID4, the format Envoy generates)."""
    return str(uuid.uuid4())
