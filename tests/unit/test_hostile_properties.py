"""Hostile input, generated (hypothesis): whatever a client sends, the filter
parser, page tokens, redaction, validation and the message mapping either
accept it or refuse it with INVALID_ARGUMENT; nothing else ever escapes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from afirgen.fir.v1 import fir_pb2
from afirgen_fir.domain import validation
from afirgen_fir.domain.model import Complainant, Fir, Person, Station
from afirgen_fir.domain.queries import FirFilter, parse_fir_filter, parse_order
from afirgen_runtime.errors import InvalidArgument
from afirgen_runtime.pagination import PageTokens
from afirgen_runtime.proto_mapping import from_message
from afirgen_runtime.redaction import MASK, redact_text
from google.protobuf.message import DecodeError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

NOW = datetime(2026, 11, 30, tzinfo=UTC)
TOKENS = PageTokens(b"property-test-secret-0123456789")
FILTER_WORDS = st.sampled_from(
    ["station", "status", "district", "section", "create_time", "=", "<", ">=", "AND", "OR", "(", ")", '"', "DRAFT"]
)
filters = st.one_of(st.text(max_size=200), st.lists(FILTER_WORDS | st.text(max_size=12), max_size=12).map(" ".join))


@given(filters)
def test_any_filter_parses_or_is_an_invalid_argument(text: str) -> None:
    try:
        result = parse_fir_filter(text)
    except InvalidArgument:
        return
    assert isinstance(result, FirFilter)


@given(st.text(max_size=60))
def test_any_order_parses_or_is_an_invalid_argument(text: str) -> None:
    try:
        result = parse_order(text)
    except InvalidArgument:
        return
    assert result[0] in ("create_time", "update_time")


@given(st.text(max_size=300))
def test_any_page_token_is_accepted_only_if_issued(token: str) -> None:
    try:
        keyset = TOKENS.parse(token, "query")
    except InvalidArgument:
        return
    assert TOKENS.issue("query", keyset) == token


@given(st.lists(st.one_of(st.integers(), st.text(max_size=30)), min_size=1, max_size=4))
def test_an_issued_token_gives_back_its_keyset(keyset: list[object]) -> None:
    assert TOKENS.parse(TOKENS.issue("query", keyset), "query") == keyset


@given(st.lists(st.integers(), min_size=1, max_size=3), st.text(min_size=1, max_size=20))
def test_a_token_is_refused_for_another_query(keyset: list[int], other: str) -> None:
    token = TOKENS.issue("query", keyset)
    with pytest.raises(InvalidArgument):
        TOKENS.parse(token, "query" + other)


@given(st.text(max_size=80), st.from_regex(r"[6-9]\d{9}", fullmatch=True), st.text(max_size=80))
def test_a_mobile_number_never_survives_redaction(before: str, phone: str, after: str) -> None:
    assert phone not in redact_text(f"{before} {phone} {after}")


@given(st.from_regex(r"[a-z]{1,10}\.[a-z]{1,10}@[a-z]{2,10}\.(in|com|org)", fullmatch=True))
def test_an_email_address_never_survives_redaction(email: str) -> None:
    assert redact_text(f"write to {email} today") == f"write to {MASK} today"


people = st.builds(Person, name=st.text(max_size=250), description=st.text(max_size=50))
firs = st.builds(
    Fir,
    station=st.builds(Station, code=st.text(max_size=20), district=st.text(max_size=120)),
    complainant=st.builds(Complainant, name=st.text(max_size=250), email=st.text(max_size=40)),
    accused=st.lists(people, max_size=3),
    summary=st.text(max_size=300),
)


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(firs)
def test_validation_reports_violations_and_never_fails_itself(fir: Fir) -> None:
    found = validation.violations(fir, NOW)
    assert all(v.field and v.description for v in found)


@given(st.binary(max_size=400))
def test_any_bytes_decode_to_a_fir_or_are_refused(data: bytes) -> None:
    try:
        message = fir_pb2.Fir.FromString(data)
        fir = from_message(message, Fir, path="fir")
    except (DecodeError, InvalidArgument):
        return
    assert isinstance(fir, Fir)
