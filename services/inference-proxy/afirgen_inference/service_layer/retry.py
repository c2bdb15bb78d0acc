"""When and how often a failed model call is tried again (tenacity).

Only failures that are transient and safe to repeat are retried (the server
did not process the call: connect errors, 429, 502, 503, 504), never a refused
input, a timeout or a broken answer. Delays grow exponentially with random
jitter, and no retry starts that could not finish before the caller's deadline.
"""

from __future__ import annotations

from dataclasses import dataclass

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)
from tenacity.stop import stop_base

from afirgen_inference.domain.errors import BackendError
from afirgen_inference.service_layer.deadline import Deadline

MIN_USEFUL_SECONDS = 0.05
"""A retry with less time left than this before the deadline is not started."""


@dataclass(frozen=True)
class RetryPolicy:
    """Attempts and delays for one backend kind."""

    attempts: int = 3
    initial_seconds: float = 0.05
    max_seconds: float = 1.0
    jitter_seconds: float = 0.05


def is_transient(exc: BaseException) -> bool:
    """The failure may pass if the same call is made again."""
    return isinstance(exc, BackendError) and exc.transient


class _DeadlineStop(stop_base):
    def __init__(self, deadline: Deadline) -> None:
        self._deadline = deadline

    def __call__(self, state: RetryCallState) -> bool:
        left = self._deadline.remaining()
        return left is not None and left - state.upcoming_sleep < MIN_USEFUL_SECONDS


def retrying(policy: RetryPolicy, deadline: Deadline) -> AsyncRetrying:
    """A tenacity loop: ``async for attempt in retrying(...): with attempt: ...``.

    The last failure is re-raised as it is."""
    return AsyncRetrying(
        stop=stop_after_attempt(max(1, policy.attempts)) | _DeadlineStop(deadline),
        wait=wait_exponential_jitter(
            multiplier=policy.initial_seconds, max=policy.max_seconds, jitter=policy.jitter_seconds
        ),
        retry=retry_if_exception(is_transient),
        reraise=True,
    )
