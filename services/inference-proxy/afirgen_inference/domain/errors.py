"""Failures of model servers, as adapters report them.

Adapters turn every transport failure into one of these (in
:mod:`afirgen_inference.adapters.http_errors`); the service layer decides
from the two flags whether to retry and whether the circuit breaker counts it,
and turns what is left into the mesh's errors in one place
(:func:`afirgen_inference.service_layer.backend_pool.to_mesh_error`; output that does not fit
the schema becomes :class:`afirgen_runtime.errors.GenerationFailed`)::

    BackendError            retried  counted  becomes                          when
    ├── BackendUnreachable  yes      yes      UNAVAILABLE (MODEL_UNAVAILABLE)  connect error
    ├── BackendBusy         yes      yes*     UNAVAILABLE (MODEL_UNAVAILABLE)  502/503/504, 429 (*not counted)
    ├── BackendTimeout      no       yes      DEADLINE_EXCEEDED                no answer in time
    ├── BackendRejected     no       no       INVALID_ARGUMENT                 other 4xx: our input
    ├── BackendFailed       no       yes      UNAVAILABLE (MODEL_UNAVAILABLE)  500, broken answer, dropped link
    └── CircuitOpen         yes      no       UNAVAILABLE (MODEL_UNAVAILABLE)  the replica's circuit is open
"""

from __future__ import annotations

from afirgen_runtime.errors import DeadlineExceeded


class BackendError(Exception):
    """A model server call failed. Messages never contain request data."""

    transient = False
    """Retrying the same call may succeed (the server did not process it)."""
    counts = True
    """The circuit breaker counts it as a failure of the server."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class BackendUnreachable(BackendError):
    """The server could not be connected to."""

    transient = True


class BackendBusy(BackendError):
    """The server asked to come back later (429, 502, 503, 504)."""

    transient = True

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message, status=status)
        # 429 is a healthy server shedding load: it must not open the circuit.
        self.counts = status != 429


class BackendTimeout(BackendError):
    """The server did not answer in time."""


class BackendRejected(BackendError):
    """The server refused the input (4xx other than 429)."""

    counts = False


class BackendFailed(BackendError):
    """The server failed while handling the call, or answered something unusable."""


class CircuitOpen(BackendError):
    """A replica's circuit is open: the call was not made (another replica may take it)."""

    transient = True
    counts = False

    def __init__(self, replica: str, retry_after: float) -> None:
        super().__init__(f"circuit of {replica} is open")
        self.replica = replica
        self.retry_after = retry_after


class WouldMissDeadline(DeadlineExceeded):
    """A caller refused before waiting for a slot: its call could not end before its deadline."""

    reason = "WOULD_MISS_DEADLINE"
