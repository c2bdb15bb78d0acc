"""The exception tree of the mesh. Domain code raises these; the gRPC layer
maps them to status codes with ``google.rpc`` details in one place
(:mod:`afirgen_runtime.grpc_errors`), and maps a downstream status back to the
most specific class by its code and reason.

Each class carries its gRPC code (``code_name``) and its ``reason``, a name
from the proto enum ``afirgen.common.v1.ErrorReason`` without its prefix; a
client may switch on the reason. Raise the class that names the failure: no
call site passes a reason. Classes that one service raises and nothing else
receives live in that service's ``domain/errors.py``; the ones that cross a
service boundary live here, so the receiving side rebuilds the same class.

::

    class                         code                 reason
    AfirgenError                  INTERNAL             INTERNAL
    ├── InvalidArgument           INVALID_ARGUMENT     INVALID_ARGUMENT (+ BadRequest field violations)
    │   ├── PageTokenInvalid                           INVALID_PAGE_TOKEN
    │   ├── FilterInvalid                              INVALID_FILTER
    │   ├── UnknownJobType                             UNKNOWN_JOB_TYPE
    │   ├── PayloadTooLarge                            PAYLOAD_TOO_LARGE (a job's payload)
    │   ├── UnknownNamespace                           UNKNOWN_NAMESPACE
    │   └── NothingRecognised        (fir)             GENERATION_FAILED (no text in the audio or image)
    ├── Unauthenticated           UNAUTHENTICATED      UNAUTHENTICATED (HTTP 401)
    ├── PermissionDenied          PERMISSION_DENIED    PERMISSION_DENIED (HTTP 403)
    ├── NotFound                  NOT_FOUND            NOT_FOUND
    │   ├── FirNotFound              (fir)             FIR_NOT_FOUND
    │   └── JobNotFound              (jobs)            JOB_NOT_FOUND
    ├── AlreadyExists             ALREADY_EXISTS       ALREADY_EXISTS
    │   └── IdempotencyKeyReused                       IDEMPOTENCY_KEY_REUSED
    ├── FailedPrecondition        FAILED_PRECONDITION  FAILED_PRECONDITION
    │   ├── FirFinalized             (fir)             FIR_FINALIZED
    │   ├── DocumentNotReady         (fir)             DOCUMENT_NOT_READY
    │   ├── KnowledgeBaseEmpty       (fir)             GENERATION_FAILED
    │   └── JobStateConflict         (jobs)            JOB_STATE_CONFLICT
    ├── Aborted                   ABORTED              CONFLICT (HTTP 409)
    │   └── StaleEtag                (fir)             ETAG_MISMATCH
    ├── ResourceExhausted         RESOURCE_EXHAUSTED   OVERLOADED (shed load; retry later)
    │   └── TooManyGenerations       (fir)             TOO_MANY_GENERATIONS
    ├── Unavailable               UNAVAILABLE          DEPENDENCY_UNAVAILABLE (retry later)
    │   └── ModelUnavailable                           MODEL_UNAVAILABLE
    ├── DeadlineExceeded          DEADLINE_EXCEEDED    DEADLINE_EXCEEDED
    │   └── WouldMissDeadline        (inference)       WOULD_MISS_DEADLINE (refused before waiting for a slot)
    ├── Unimplemented             UNIMPLEMENTED        NOT_IMPLEMENTED
    └── GenerationFailed          INTERNAL             GENERATION_FAILED (the model's output is unusable)

A subclass keeps its parent's code and constructor (the gRPC layer rebuilds any
class from a status with them), and no two classes share a code and a reason. A
subclass without a reason of its own (``settings.SettingsError``, a startup
failure) is its parent on the wire.
``tests/contracts`` holds every reason to ``ErrorReason``, and every
``ErrorReason`` to a class here or to :data:`EDGE_REASONS`. Messages must never
contain personal data: they are logged and returned to clients.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar, Self

EDGE_REASONS = frozenset(
    {"PAYLOAD_TOO_LARGE", "URI_TOO_LONG", "UNSUPPORTED_MEDIA_TYPE", "HOST_NOT_ALLOWED", "RATE_LIMITED"}
)
"""Reasons of the answers Envoy gives itself (edge/envoy.yaml.tmpl), for requests no service
sees: a body or URL too long, a body that is not JSON, a host it does not serve, too many calls."""


@dataclass(frozen=True, slots=True)
class FieldViolation:
    """One bad request field: ``field`` is a dotted path such as ``complainant.phone``."""

    field: str
    description: str


class AfirgenError(Exception):
    """Root of every error the mesh raises on purpose."""

    code_name: ClassVar[str] = "INTERNAL"
    """The gRPC status code's name."""
    reason: ClassVar[str] = "INTERNAL"
    """The ``ErrorInfo`` reason: an ``afirgen.common.v1.ErrorReason`` name without its prefix."""

    def __init__(self, message: str, *, metadata: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.metadata: dict[str, str] = dict(metadata or {})
        """``ErrorInfo`` metadata a client may act on (e.g. ``current_etag``)."""


class InvalidArgument(AfirgenError):
    """The request is malformed; ``violations`` says which fields and why."""

    code_name = "INVALID_ARGUMENT"
    reason = "INVALID_ARGUMENT"

    def __init__(
        self,
        message: str,
        *,
        violations: Sequence[FieldViolation] = (),
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message, metadata=metadata)
        self.violations = list(violations)

    @classmethod
    def for_field(cls, field: str, description: str, *, metadata: Mapping[str, str] | None = None) -> Self:
        """Shortcut for an error about a single field."""
        return cls(f"{field}: {description}", violations=[FieldViolation(field, description)], metadata=metadata)


class PageTokenInvalid(InvalidArgument):
    """The page token is not one this service issued for this query."""

    reason = "INVALID_PAGE_TOKEN"


class FilterInvalid(InvalidArgument):
    """The filter expression could not be parsed, or names what cannot be filtered on."""

    reason = "INVALID_FILTER"


class UnknownJobType(InvalidArgument):
    """The job type is not routed to any handler (the jobs service), or not one this handler runs."""

    reason = "UNKNOWN_JOB_TYPE"


class PayloadTooLarge(InvalidArgument):
    """A job's payload is larger than the jobs service accepts."""

    reason = "PAYLOAD_TOO_LARGE"


class UnknownNamespace(InvalidArgument):
    """The cache namespace is not declared in the cache service's configuration."""

    reason = "UNKNOWN_NAMESPACE"


class Unauthenticated(AfirgenError):
    """The call carries no verified identity."""

    code_name = "UNAUTHENTICATED"
    reason = "UNAUTHENTICATED"


class PermissionDenied(AfirgenError):
    """The caller's role or station does not allow the operation."""

    code_name = "PERMISSION_DENIED"
    reason = "PERMISSION_DENIED"


class NotFound(AfirgenError):
    """The resource does not exist."""

    code_name = "NOT_FOUND"
    reason = "NOT_FOUND"


class AlreadyExists(AfirgenError):
    """The resource exists already."""

    code_name = "ALREADY_EXISTS"
    reason = "ALREADY_EXISTS"


class IdempotencyKeyReused(AlreadyExists):
    """The idempotency key was used before with a different request."""

    reason = "IDEMPOTENCY_KEY_REUSED"


class FailedPrecondition(AfirgenError):
    """The resource is in a state that forbids the operation."""

    code_name = "FAILED_PRECONDITION"
    reason = "FAILED_PRECONDITION"


class Aborted(AfirgenError):
    """A concurrency conflict: re-read and retry."""

    code_name = "ABORTED"
    reason = "CONFLICT"


class ResourceExhausted(AfirgenError):
    """Load shedding: the caller should back off and retry."""

    code_name = "RESOURCE_EXHAUSTED"
    reason = "OVERLOADED"


class Unavailable(AfirgenError):
    """A dependency is down; retrying later may succeed."""

    code_name = "UNAVAILABLE"
    reason = "DEPENDENCY_UNAVAILABLE"


class ModelUnavailable(Unavailable):
    """A model server is down, its circuit is open, or no inference proxy is configured."""

    reason = "MODEL_UNAVAILABLE"


class DeadlineExceeded(AfirgenError):
    """The work did not finish within the caller's deadline."""

    code_name = "DEADLINE_EXCEEDED"
    reason = "DEADLINE_EXCEEDED"


class Unimplemented(AfirgenError):
    """Declared in the contract, not available in this build."""

    code_name = "UNIMPLEMENTED"
    reason = "NOT_IMPLEMENTED"


class GenerationFailed(AfirgenError):
    """The model could not produce valid output (e.g. JSON that fits the schema)."""

    reason = "GENERATION_FAILED"


def error_classes() -> list[type[AfirgenError]]:
    """Every class of the tree defined so far, parents first (a service's own classes count
    once its ``domain.errors`` module is imported)."""
    found: list[type[AfirgenError]] = []
    todo: list[type[AfirgenError]] = [AfirgenError]
    while todo:
        cls = todo.pop(0)
        found.append(cls)
        todo += cls.__subclasses__()
    return found
