"""The one place where errors cross the gRPC boundary, both ways.

Outgoing: :func:`to_status` turns an :class:`AfirgenError` into a
``google.rpc.Status`` with ``ErrorInfo`` (reason, domain, metadata) and, for bad
input, ``BadRequest`` field violations; :func:`to_grpc_status` is that status as
the call's code, message and ``grpc-status-details-bin`` trailer (grpcio-status).
Incoming: :func:`translate_rpc_errors` turns a downstream ``grpc.aio.AioRpcError``
back into the most specific ``AfirgenError`` (:func:`error_class`: the class of the
status's code and ``ErrorInfo`` reason, its details read by grpcio-status), so
callers handle one exception tree.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import cast

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from afirgen_runtime import errors

_BY_CODE: dict[grpc.StatusCode, type[errors.AfirgenError]] = {
    grpc.StatusCode.INVALID_ARGUMENT: errors.InvalidArgument,
    grpc.StatusCode.UNAUTHENTICATED: errors.Unauthenticated,
    grpc.StatusCode.PERMISSION_DENIED: errors.PermissionDenied,
    grpc.StatusCode.NOT_FOUND: errors.NotFound,
    grpc.StatusCode.ALREADY_EXISTS: errors.AlreadyExists,
    grpc.StatusCode.FAILED_PRECONDITION: errors.FailedPrecondition,
    grpc.StatusCode.ABORTED: errors.Aborted,
    grpc.StatusCode.RESOURCE_EXHAUSTED: errors.ResourceExhausted,
    grpc.StatusCode.UNAVAILABLE: errors.Unavailable,
    grpc.StatusCode.DEADLINE_EXCEEDED: errors.DeadlineExceeded,
    grpc.StatusCode.UNIMPLEMENTED: errors.Unimplemented,
}


def _packed(detail: error_details_pb2.ErrorInfo | error_details_pb2.BadRequest) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(detail)
    return packed


def to_status(error: errors.AfirgenError, domain: str) -> status_pb2.Status:
    """Build the ``google.rpc.Status`` sent for ``error``."""
    details = [_packed(error_details_pb2.ErrorInfo(reason=error.reason, domain=domain, metadata=error.metadata))]
    if isinstance(error, errors.InvalidArgument) and error.violations:
        violations = [
            error_details_pb2.BadRequest.FieldViolation(field=v.field, description=v.description)
            for v in error.violations
        ]
        details.append(_packed(error_details_pb2.BadRequest(field_violations=violations)))
    return status_pb2.Status(code=grpc.StatusCode[error.code_name].value[0], message=error.message, details=details)


def internal_status(message: str) -> status_pb2.Status:
    """Status for an unexpected error: no internals leak to the client."""
    info = _packed(error_details_pb2.ErrorInfo(reason=errors.AfirgenError.reason, domain="afirgen"))
    return status_pb2.Status(code=code_pb2.INTERNAL, message=message, details=[info])


def to_grpc_status(status: status_pb2.Status) -> grpc.Status:
    """``status`` as a call ends with it: code, message, and the details trailer."""
    return rpc_status.to_status(status)


def error_class(code: grpc.StatusCode, reason: str) -> type[errors.AfirgenError]:
    """The class that carries ``code`` and ``reason`` (no two share both), else the code's own class.

    Every class imported so far counts: the ones that cross a service boundary are in
    :mod:`afirgen_runtime.errors`, which every service imports."""
    for cls in errors.error_classes():
        if "reason" in vars(cls) and cls.code_name == code.name and cls.reason == reason:
            return cls
    return _BY_CODE.get(code, errors.AfirgenError)


def from_rpc_error(exc: grpc.aio.AioRpcError) -> errors.AfirgenError:
    """Rebuild the domain error a downstream service raised."""
    reason = ""
    metadata: dict[str, str] = {}
    violations: list[errors.FieldViolation] = []
    status: status_pb2.Status | None
    try:
        # An AioRpcError answers the three questions from_call asks (code, details,
        # trailing_metadata) as a finished grpc.Call does.
        status = rpc_status.from_call(cast(grpc.Call, exc))
    except ValueError:  # details that do not match the call's code and message: not ours
        status = None
    info, bad = error_details_pb2.ErrorInfo(), error_details_pb2.BadRequest()
    for detail in status.details if status is not None else ():
        if detail.Unpack(info):  # False, and nothing read, for a detail of another type
            reason, metadata = info.reason, dict(info.metadata)
        elif detail.Unpack(bad):
            violations = [errors.FieldViolation(v.field, v.description) for v in bad.field_violations]
    cls = error_class(exc.code(), reason)
    message = exc.details() or exc.code().name
    if issubclass(cls, errors.InvalidArgument):
        return cls(message, violations=violations, metadata=metadata)
    return cls(message, metadata=metadata)


@contextmanager
def translate_rpc_errors() -> Iterator[None]:
    """Re-raise downstream gRPC failures as :class:`AfirgenError`."""
    try:
        yield
    except grpc.aio.AioRpcError as exc:
        raise from_rpc_error(exc) from exc
