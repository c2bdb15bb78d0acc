"""The exception tree on the wire: every class leaves as its code and reason and comes back as
itself (afirgen_runtime.grpc_errors), whichever service raised it."""

from __future__ import annotations

import afirgen_fir.domain.errors
import afirgen_jobs.domain.errors
import grpc
import pytest
from afirgen_runtime import errors
from afirgen_runtime.grpc_errors import error_class, from_rpc_error, to_grpc_status, to_status
from afirgen_runtime.settings import SettingsError

# A service's own failures join the tree once its module is imported.
SERVICE_ERRORS = (afirgen_fir.domain.errors, afirgen_jobs.domain.errors)
CARRYING = [c for c in errors.error_classes() if "reason" in vars(c)]


def _sent_and_received(error: errors.AfirgenError) -> tuple[grpc.Status, errors.AfirgenError]:
    status = to_grpc_status(to_status(error, "test.afirgen"))
    call = grpc.aio.AioRpcError(
        status.code, grpc.aio.Metadata(), grpc.aio.Metadata(*status.trailing_metadata), status.details
    )
    return status, from_rpc_error(call)


@pytest.mark.parametrize("cls", CARRYING, ids=lambda c: c.__name__)
def test_every_class_crosses_the_wire_and_comes_back_as_itself(cls: type[errors.AfirgenError]) -> None:
    if issubclass(cls, errors.InvalidArgument):
        sent: errors.AfirgenError = cls.for_field("filter", "is not valid", metadata={"k": "v"})
    else:
        sent = cls("it failed", metadata={"k": "v"})
    status, received = _sent_and_received(sent)
    assert status.code.name == cls.code_name and status.details == sent.message
    assert type(received) is cls and received.reason == cls.reason and received.metadata == {"k": "v"}
    if isinstance(sent, errors.InvalidArgument):
        assert isinstance(received, errors.InvalidArgument) and received.violations == sent.violations


def test_one_reason_under_three_codes_is_three_classes() -> None:
    """GENERATION_FAILED: the model's output (INTERNAL), an empty knowledge base, nothing recognised."""
    fir = afirgen_fir.domain.errors
    assert error_class(grpc.StatusCode.INTERNAL, "GENERATION_FAILED") is errors.GenerationFailed
    assert error_class(grpc.StatusCode.FAILED_PRECONDITION, "GENERATION_FAILED") is fir.KnowledgeBaseEmpty
    assert error_class(grpc.StatusCode.INVALID_ARGUMENT, "GENERATION_FAILED") is fir.NothingRecognised


def test_a_status_without_a_known_reason_is_the_class_of_its_code() -> None:
    assert error_class(grpc.StatusCode.UNAVAILABLE, "") is errors.Unavailable
    assert error_class(grpc.StatusCode.NOT_FOUND, "SOMETHING_ELSE") is errors.NotFound
    assert error_class(grpc.StatusCode.UNKNOWN, "MODEL_UNAVAILABLE") is errors.AfirgenError


def test_a_subclass_without_a_reason_of_its_own_travels_as_its_parent() -> None:
    _, received = _sent_and_received(SettingsError("AFIRGEN_X: expected int, got 'x'"))
    assert type(received) is errors.InvalidArgument and received.reason == "INVALID_ARGUMENT"
