"""The one place where HTTP failures become :class:`BackendError` subclasses.

Transport exceptions (httpx) and HTTP status codes are classified here, so
the service layer decides retries and circuit breaking from two flags.
Messages name the replica and the failure, never request data.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from afirgen_inference.domain.errors import (
    BackendBusy,
    BackendError,
    BackendFailed,
    BackendRejected,
    BackendTimeout,
    BackendUnreachable,
)

BUSY_STATUSES = frozenset({429, 502, 503, 504})
MAX_MESSAGE = 300


@contextmanager
def translate(replica: str) -> Iterator[None]:
    """Re-raise httpx failures inside the block as :class:`BackendError`."""
    try:
        yield
    except BackendError:
        raise
    except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
        raise BackendUnreachable(f"{replica} is unreachable ({type(exc).__name__})") from exc
    except httpx.PoolTimeout as exc:
        raise BackendTimeout(f"{replica}: no free connection in time") from exc
    except httpx.TimeoutException as exc:
        raise BackendTimeout(f"{replica} did not answer in time ({type(exc).__name__})") from exc
    except httpx.TransportError as exc:
        # The request may have reached the server (dropped mid-answer): not retried.
        raise BackendFailed(f"{replica}: connection failed ({type(exc).__name__})") from exc


def error_message(body: bytes) -> str:
    """The server's own error message from an OpenAI-style or plain error body."""
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return body.decode("utf-8", "replace").strip()[:MAX_MESSAGE]
    if isinstance(payload, dict):
        error = payload.get("error", payload.get("detail", payload))
        if isinstance(error, dict):
            error = error.get("message", error)
        return str(error)[:MAX_MESSAGE]
    return str(payload)[:MAX_MESSAGE]


def check_status(replica: str, status: int, body: bytes) -> None:
    """Raise the :class:`BackendError` an HTTP status means; nothing for 2xx."""
    if 200 <= status < 300:
        return
    message = f"{replica} answered HTTP {status}: {error_message(body)}"
    if status in BUSY_STATUSES:
        raise BackendBusy(message, status=status)
    if 400 <= status < 500:
        raise BackendRejected(message, status=status)
    raise BackendFailed(message, status=status)


def json_object(replica: str, response: httpx.Response) -> dict[str, object]:
    """The JSON object a successful response carries, or :class:`BackendFailed`."""
    try:
        payload = response.json()
    except ValueError:
        raise BackendFailed(f"{replica} answered something that is not JSON") from None
    if not isinstance(payload, dict):
        raise BackendFailed(f"{replica} answered JSON that is not an object")
    return payload
