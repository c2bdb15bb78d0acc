"""Jobs domain rules: validation of new jobs, routing, retry decisions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from afirgen_jobs.domain.model import JobStatus, NewJob
from afirgen_jobs.domain.rules import (
    EnqueueLimits,
    Routes,
    decide,
    ensure_cancellable,
    ensure_retryable,
    validate,
)
from afirgen_runtime.backoff import Backoff
from afirgen_runtime.errors import FailedPrecondition, InvalidArgument

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
ROUTES = Routes({"fir": "127.0.0.1:1", "fir.special": "127.0.0.1:2"})


def _new(**kwargs: object) -> NewJob:
    base: dict[str, object] = {"type": "fir.render_document", "payload": {"fir_id": "x"}}
    base.update(kwargs)
    return NewJob(**base)  # type: ignore[arg-type]


def test_defaults_applied_when_fields_are_unset() -> None:
    job = validate(_new(), ROUTES, EnqueueLimits(), NOW)
    assert (job.priority, job.max_attempts, job.run_time, job.run_time_given) == (5, 5, NOW, False)
    assert job.payload_json == '{"fir_id":"x"}'


def test_explicit_zero_priority_is_kept() -> None:
    assert validate(_new(priority=0), ROUTES, EnqueueLimits(), NOW).priority == 0


@pytest.mark.parametrize(
    ("kwargs", "field", "reason"),
    [
        ({"type": "nobody.owns_this"}, "job.type", "UNKNOWN_JOB_TYPE"),
        ({"type": "Fir.Bad Type"}, "job.type", "INVALID_ARGUMENT"),
        ({"type": ""}, "job.type", "INVALID_ARGUMENT"),
        ({"type": "firx.render"}, "job.type", "UNKNOWN_JOB_TYPE"),
        ({"payload": {"blob": "x" * 70_000}}, "job.payload", "PAYLOAD_TOO_LARGE"),
        ({"priority": -1}, "job.priority", "INVALID_ARGUMENT"),
        ({"priority": 10}, "job.priority", "INVALID_ARGUMENT"),
        ({"max_attempts": -3}, "job.max_attempts", "INVALID_ARGUMENT"),
        ({"max_attempts": 0}, "job.max_attempts", "INVALID_ARGUMENT"),
        ({"max_attempts": 26}, "job.max_attempts", "INVALID_ARGUMENT"),
        ({"run_time": NOW - timedelta(days=2)}, "job.run_time", "INVALID_ARGUMENT"),
        ({"run_time": NOW + timedelta(days=31)}, "job.run_time", "INVALID_ARGUMENT"),
        ({"idempotency_key": "k" * 129}, "job.idempotency_key", "INVALID_ARGUMENT"),
        ({"idempotency_key": "naïve"}, "job.idempotency_key", "INVALID_ARGUMENT"),
    ],
)
def test_bad_input_is_invalid_argument(kwargs: dict[str, object], field: str, reason: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        validate(_new(**kwargs), ROUTES, EnqueueLimits(), NOW)
    assert [v.field for v in caught.value.violations] == [field]
    assert caught.value.reason == reason


def test_every_bad_field_is_reported_at_once() -> None:
    with pytest.raises(InvalidArgument) as caught:
        validate(_new(type="x.y", priority=-1, max_attempts=0), ROUTES, EnqueueLimits(), NOW)
    fields = {v.field for v in caught.value.violations}
    assert fields == {"job.type", "job.priority", "job.max_attempts"}


def test_run_time_within_limits_is_accepted() -> None:
    later = NOW + timedelta(days=29)
    assert validate(_new(run_time=later), ROUTES, EnqueueLimits(), NOW).run_time == later
    earlier = NOW - timedelta(hours=23)
    assert validate(_new(run_time=earlier), ROUTES, EnqueueLimits(), NOW).run_time == earlier


def test_request_hash_ignores_an_unset_run_time_but_not_the_payload() -> None:
    a = validate(_new(), ROUTES, EnqueueLimits(), NOW)
    b = validate(_new(), ROUTES, EnqueueLimits(), NOW + timedelta(seconds=5))
    c = validate(_new(payload={"fir_id": "y"}), ROUTES, EnqueueLimits(), NOW)
    assert a.request_hash() == b.request_hash() != c.request_hash()


def test_routes_pick_the_longest_whole_word_prefix() -> None:
    assert ROUTES.target_for("fir.render_document") == "127.0.0.1:1"
    assert ROUTES.target_for("fir.special.thing") == "127.0.0.1:2"
    assert ROUTES.target_for("firearm.thing") is None
    assert ROUTES.target_for("cache.flush") is None


@pytest.mark.parametrize("code", ["UNAVAILABLE", "DEADLINE_EXCEEDED", "RESOURCE_EXHAUSTED", "ABORTED"])
def test_retryable_codes_retry_until_attempts_run_out(code: str) -> None:
    kw = {"max_attempts": 3, "backoff": Backoff(1.0, 60.0), "rand": lambda: 0.5}
    retry = decide(code, "down", attempts_used=2, **kw)  # type: ignore[arg-type]
    assert retry.status is JobStatus.FAILED and retry.retry_in == 1.5 and retry.error == f"{code}: down"
    dead = decide(code, "down", attempts_used=3, **kw)  # type: ignore[arg-type]
    assert dead.status is JobStatus.DEAD and "after 3 attempts" in dead.error


@pytest.mark.parametrize("code", ["INVALID_ARGUMENT", "NOT_FOUND", "INTERNAL", "UNIMPLEMENTED", "FAILED_PRECONDITION"])
def test_other_codes_fail_for_good_with_the_error_kept(code: str) -> None:
    decision = decide(code, "bad payload", attempts_used=1, max_attempts=5, backoff=Backoff(), rand=lambda: 0.0)
    assert decision.status is JobStatus.DEAD and decision.error == f"{code}: bad payload"


def test_ok_succeeds() -> None:
    assert decide("OK", "", attempts_used=1, max_attempts=1, backoff=Backoff(), rand=lambda: 0.0).status is (
        JobStatus.SUCCEEDED
    )


def test_state_rules_for_cancel_and_retry() -> None:
    for status in (JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.FAILED):
        ensure_cancellable(status)
    for status in (JobStatus.SUCCEEDED, JobStatus.DEAD):
        with pytest.raises(FailedPrecondition) as caught:
            ensure_cancellable(status)
        assert caught.value.reason == "JOB_STATE_CONFLICT"
    for status in (JobStatus.DEAD, JobStatus.FAILED, JobStatus.CANCELLED):
        ensure_retryable(status)
    for status in (JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.SUCCEEDED):
        with pytest.raises(FailedPrecondition):
            ensure_retryable(status)
