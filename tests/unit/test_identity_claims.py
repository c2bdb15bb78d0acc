"""What a service reads from the token payload the edge forwards."""

from __future__ import annotations

import pytest
from afirgen_runtime.identity import Caller, encode_claims, parse_claims


def caller_of(**claims: object) -> Caller | None:
    return parse_claims(encode_claims({"sub": "u-1", **claims}))


@pytest.mark.parametrize("district", ["Bengaluru (Urban)", "नई दिल्ली", "Thiruvananthapuram, Kerala"])
def test_districts_in_any_script_and_with_punctuation_are_read(district: str) -> None:
    caller = caller_of(district=district)
    assert caller is not None and caller.district == district


@pytest.mark.parametrize("district", ["New\nDelhi", "x" * 129, 42])
def test_a_claim_with_control_characters_too_long_or_not_text_reads_as_absent(district: object) -> None:
    caller = caller_of(district=district)
    assert caller is not None and caller.district == ""


def test_roles_outside_the_known_set_are_dropped() -> None:
    caller = caller_of(roles=["sho", "admin"])
    assert caller is not None and caller.roles == frozenset({"sho"})


def test_a_payload_without_a_subject_is_no_caller() -> None:
    assert parse_claims(encode_claims({"roles": ["sho"]})) is None
