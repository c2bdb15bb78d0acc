"""The exception tree of the mesh. Domain code raises these; the gRPC layer
maps them to status codes with ``google.rpc`` details in one place
(:mod:`afirgen_runtime.grpc_errors`).

::

    AfirgenError                      INTERNAL
    ├── InvalidArgument               INVALID_ARGUMENT (+ BadRequest field violations)
    ├── Unauthenticated               UNAUTHENTICATED (no verified identity; HTTP 401)
    ├── PermissionDenied              PERMISSION_DENIED (the role may not do this; HTTP 403)
    ├── NotFound                      NOT_FOUND
    ├── AlreadyExists                 ALREADY_EXISTS
    ├── FailedPrecondition            FAILED_PRECONDITION
    ├── Aborted                       ABORTED (e.g. etag mismatch; HTTP 409)
    ├── ResourceExhausted             RESOURCE_EXHAUSTED (shed load; retry later)
    ├── Unavailable                   UNAVAILABLE (a dependency is down; retry later)
    ├── DeadlineExceeded              DEADLINE_EXCEEDED
    └── Unimplemented                 UNIMPLEMENTED

Every error carries a ``reason`` (a name from ``afirgen.common.v1.ErrorReason``
without its prefix) and optional ``metadata`` that clients may act on. Messages
must never contain personal data: they are logged and returned to clients.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FieldViolation:
    """One bad request field: ``field`` is a dotted path such as ``complainant.phone``."""

    field: str
    description: str


class AfirgenError(Exception):
    """Root of every error the mesh raises on purpose."""

    code_name = "INTERNAL"
    default_reason = "INTERNAL"

    def __init__(
        self,
        message: str,
        *,
        reason: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason or self.default_reason
        self.metadata: dict[str, str] = dict(metadata or {})


class InvalidArgument(AfirgenError):
    """The request is malformed; ``violations`` says which fields and why."""

    code_name = "INVALID_ARGUMENT"
    default_reason = "INVALID_ARGUMENT"

    def __init__(
        self,
        message: str,
        *,
        violations: Sequence[FieldViolation] = (),
        reason: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message, reason=reason, metadata=metadata)
        self.violations = list(violations)

    @classmethod
    def for_field(cls, field: str, description: str, **kwargs: object) -> InvalidArgument:
        """Shortcut for an error about a single field."""
        return cls(f"{field}: {description}", violations=[FieldViolation(field, description)], **kwargs)  # type: ignore[arg-type]


class Unauthenticated(AfirgenError):
    """The call carries no verified identity."""

    code_name = "UNAUTHENTICATED"
    default_reason = "UNAUTHENTICATED"


class PermissionDenied(AfirgenError):
    """The caller's role or station does not allow the operation."""

    code_name = "PERMISSION_DENIED"
    default_reason = "PERMISSION_DENIED"


class NotFound(AfirgenError):
    """The resource does not exist."""

    code_name = "NOT_FOUND"
    default_reason = "NOT_FOUND"


class AlreadyExists(AfirgenError):
    """The resource exists already."""

    code_name = "ALREADY_EXISTS"
    default_reason = "ALREADY_EXISTS"


class FailedPrecondition(AfirgenError):
    """The resource is in a state that forbids the operation."""

    code_name = "FAILED_PRECONDITION"
    default_reason = "FAILED_PRECONDITION"


class Aborted(AfirgenError):
    """A concurrency conflict: re-read and retry."""

    code_name = "ABORTED"
    default_reason = "CONFLICT"


class ResourceExhausted(AfirgenError):
    """Load shedding: the caller should back off and retry."""

    code_name = "RESOURCE_EXHAUSTED"
    default_reason = "OVERLOADED"


class Unavailable(AfirgenError):
    """A dependency is down; retrying later may succeed."""

    code_name = "UNAVAILABLE"
    default_reason = "DEPENDENCY_UNAVAILABLE"


class DeadlineExceeded(AfirgenError):
    """The work did not finish within the caller's deadline."""

    code_name = "DEADLINE_EXCEEDED"
    default_reason = "DEADLINE_EXCEEDED"


class Unimplemented(AfirgenError):
    """Declared in the contract, not available in this build."""

    code_name = "UNIMPLEMENTED"
    default_reason = "NOT_IMPLEMENTED"
