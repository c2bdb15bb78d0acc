"""Small helpers of the shared runtime that fir and jobs (and the rest) use alike: backoff,
ids and idempotency keys, resuming a page, proto times and durations, DATETIME columns,
request headers, error details on the wire."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from types import SimpleNamespace

import grpc
import pytest
from afirgen_runtime.backoff import Backoff
from afirgen_runtime.db import from_db_time, to_db_time
from afirgen_runtime.errors import FieldViolation, InvalidArgument, Unavailable
from afirgen_runtime.grpc_errors import from_rpc_error, to_grpc_status, to_status
from afirgen_runtime.ids import check_id, check_idempotency_key
from afirgen_runtime.interceptors import invocation_header
from afirgen_runtime.pagination import MAX_PAGE_SIZE, PageTokens, page_size
from afirgen_runtime.proto_mapping import duration, timestamp

IST = timezone(timedelta(hours=5, minutes=30))


def test_backoff_doubles_with_jitter_and_is_capped() -> None:
    backoff = Backoff(base_seconds=1.0, cap_seconds=10.0)
    assert backoff.delay(1, lambda: 0.0) == 0.5
    assert backoff.delay(1, lambda: 1.0) == 1.0
    assert backoff.delay(3, lambda: 0.0) == 2.0
    assert backoff.delay(3, lambda: 1.0) == 4.0
    assert backoff.delay(20, lambda: 1.0) == 10.0
    assert backoff.delay(20, lambda: 0.0) == 5.0
    assert 0.5 <= backoff.delay(1) <= 1.0


def test_ids_are_canonical_uuids_and_anything_else_names_the_field() -> None:
    assert check_id("6F9619FF-8B86-D011-B42D-00C04FC964FF", "a job id") == "6f9619ff-8b86-d011-b42d-00c04fc964ff"
    for bad in ("", "42", "6f9619ff-8b86-d011-b42d", "x" * 36):
        with pytest.raises(InvalidArgument) as exc:
            check_id(bad, "an FIR id", "payload.fir_id")
        assert [(v.field, v.description) for v in exc.value.violations] == [
            ("payload.fir_id", "must be an FIR id (a UUID)")
        ]


def test_idempotency_keys_are_short_printable_ascii() -> None:
    assert check_idempotency_key("", "request_id") == ""
    assert check_idempotency_key("demo-0001", "request_id") == "demo-0001"
    for bad in ("k" * 129, "clé", "tab\there"):
        with pytest.raises(InvalidArgument) as exc:
            check_idempotency_key(bad, "job.idempotency_key")
        assert exc.value.violations[0].field == "job.idempotency_key"


def test_a_page_resumes_after_a_keyset_of_the_expected_shape() -> None:
    tokens = PageTokens(b"helper-test-secret-0123456789")
    query = PageTokens.query_digest("jobs", "QUEUED")
    assert tokens.resume("", query, str, int) is None
    token = tokens.issue(query, ["2026-11-28T10:00:00+00:00", 7])
    assert tokens.resume(token, query, str, int) == ["2026-11-28T10:00:00+00:00", 7]
    for kinds in ((int,), (str, str), (str, int, int)):
        with pytest.raises(InvalidArgument) as exc:
            tokens.resume(token, query, *kinds)
        assert exc.value.reason == "INVALID_PAGE_TOKEN"


def test_page_sizes_default_and_cap_alike_everywhere() -> None:
    assert page_size(0) == 50 and page_size(0, default=100) == 100
    assert page_size(MAX_PAGE_SIZE + 1) == MAX_PAGE_SIZE


def test_times_and_durations_in_messages() -> None:
    moment = datetime(2026, 11, 28, 15, 30, tzinfo=IST)
    assert timestamp(moment).ToDatetime(tzinfo=UTC) == moment
    assert timestamp(datetime(2026, 11, 28, 10, 0)).ToDatetime(tzinfo=UTC) == datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
    assert timestamp(None) is None
    assert duration(1.5).ToNanoseconds() == 1_500_000_000 and duration(-3).ToNanoseconds() == 0


def test_datetime_columns_hold_naive_utc() -> None:
    moment = datetime(2026, 11, 28, 15, 30, tzinfo=IST)
    stored = to_db_time(moment)
    assert stored == datetime(2026, 11, 28, 10, 0) and stored.tzinfo is None
    assert to_db_time(stored) == stored
    assert from_db_time(stored) == moment and from_db_time(None) is None


def test_invocation_header_reads_the_served_calls_metadata() -> None:
    context = SimpleNamespace(invocation_metadata=lambda: (("idempotency-key", "k-1"), ("x-bin", b"raw")))
    assert invocation_header(context, "idempotency-key") == "k-1"  # type: ignore[arg-type]
    assert invocation_header(context, "x-bin") == "raw"  # type: ignore[arg-type]
    assert invocation_header(context, "traceparent") == ""  # type: ignore[arg-type]


def test_error_details_cross_the_grpc_boundary_and_back() -> None:
    sent = InvalidArgument(
        "the FIR is not valid", violations=[FieldViolation("station.code", "is required")], metadata={"k": "v"}
    )
    status = to_grpc_status(to_status(sent, "fir.afirgen"))
    assert status.code is grpc.StatusCode.INVALID_ARGUMENT and status.details == "the FIR is not valid"
    received = from_rpc_error(
        grpc.aio.AioRpcError(
            status.code, grpc.aio.Metadata(), grpc.aio.Metadata(*status.trailing_metadata), status.details
        )
    )
    assert isinstance(received, InvalidArgument) and received.reason == "INVALID_ARGUMENT"
    assert received.metadata == {"k": "v"} and received.violations == sent.violations
    plain = from_rpc_error(grpc.aio.AioRpcError(grpc.StatusCode.UNAVAILABLE, grpc.aio.Metadata(), grpc.aio.Metadata()))
    assert isinstance(plain, Unavailable) and plain.reason == "DEPENDENCY_UNAVAILABLE"
