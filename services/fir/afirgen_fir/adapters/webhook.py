"""FIR notifications to a webhook: JSON, signed with HMAC-SHA256.

Headers sent with every POST:

- ``Idempotency-Key``: the job's key; the same notification always carries the
  same key, so the receiver drops repeats (delivery is at least once).
- ``X-AFIRGen-Timestamp``: Unix seconds when it was signed.
- ``X-AFIRGen-Signature``: ``sha256=`` + hex HMAC-SHA256 over
  ``"{timestamp}.{body}"`` with the shared secret. Receivers recompute it over
  the raw body, compare in constant time and may refuse old timestamps.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

import httpx
from afirgen_runtime.errors import FailedPrecondition, Unavailable

SIGNATURE_HEADER = "X-AFIRGen-Signature"
TIMESTAMP_HEADER = "X-AFIRGen-Timestamp"
IDEMPOTENCY_HEADER = "Idempotency-Key"
EVENT_HEADER = "X-AFIRGen-Event"
# Statuses worth another try; other 4xx mean the receiver refuses this request.
RETRYABLE_STATUS = frozenset({408, 409, 425, 429})


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header value of ``body`` signed at ``timestamp``."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


class WebhookNotifier:
    """:class:`~afirgen_fir.service_layer.ports.Notifier` over HTTP."""

    def __init__(self, url: str, secret: str, client: httpx.AsyncClient) -> None:
        self._url = url
        self._secret = secret
        self._client = client

    async def send(self, body: dict[str, Any], idempotency_key: str) -> str:
        """POST the signed body; Unavailable retries, FailedPrecondition does not."""
        raw = json.dumps(body, separators=(",", ":"), sort_keys=True).encode()
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            IDEMPOTENCY_HEADER: idempotency_key,
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: signature(self._secret, timestamp, raw),
            EVENT_HEADER: str(body.get("event", "")),
        }
        try:
            response = await self._client.post(self._url, content=raw, headers=headers)
        except httpx.HTTPError as exc:
            raise Unavailable(f"webhook unreachable: {type(exc).__name__}") from exc
        status = response.status_code
        if 200 <= status < 300:
            return f"webhook answered {status}"
        if status >= 500 or status in RETRYABLE_STATUS:
            raise Unavailable(f"webhook answered {status}; will retry")
        raise FailedPrecondition(f"webhook refused the notification with {status}")
