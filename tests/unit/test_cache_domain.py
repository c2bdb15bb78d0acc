"""Pure logic of the cache service: namespaces and key layout, jitter, XFetch,
entry envelopes and input validation."""

from __future__ import annotations

import random

import pytest
from afirgen_cache.domain import envelope
from afirgen_cache.domain.namespaces import Namespace, parse_namespaces, resolve
from afirgen_cache.domain.policy import jittered_ttl, should_refresh_early
from afirgen_cache.domain.validation import EntryLimits, Violations
from afirgen_runtime.errors import InvalidArgument


def test_namespaces_are_parsed_from_settings_and_bad_ones_refused() -> None:
    spaces = parse_namespaces({"fir": "300", "fir_list": "2.5"})
    assert spaces["fir"] == Namespace("fir", 300.0) and spaces["fir_list"].default_ttl == 2.5
    for bad in ({"Fir": "1"}, {"a:b": "1"}, {"x": "-1"}, {"x": "soon"}, {}):
        with pytest.raises(ValueError):
            parse_namespaces(bad)


def test_unknown_namespace_is_invalid_argument_with_its_own_reason() -> None:
    spaces = parse_namespaces({"fir": "300"})
    with pytest.raises(InvalidArgument) as unknown:
        resolve(spaces, "nope")
    assert unknown.value.reason == "UNKNOWN_NAMESPACE"
    assert [v.field for v in unknown.value.violations] == ["namespace"]
    with pytest.raises(InvalidArgument) as empty:
        resolve(spaces, "")
    assert empty.value.reason == "INVALID_ARGUMENT"


def test_key_layout_keeps_versions_locks_and_namespaces_apart() -> None:
    fir = Namespace("fir", 60)
    assert fir.data_key(7, "abc") == "afirgen:fir:v7:abc"
    assert fir.lock_key(7, "abc") == "afirgen:fir:lock:v7:abc"
    assert fir.version_key == "afirgen:fir:version"
    # a key that looks like another kind still lands under v<version>
    assert fir.data_key(7, "lock:v7:abc") != fir.lock_key(7, "abc")
    assert Namespace("fir_list", 60).data_key(7, "abc") != fir.data_key(7, "abc")
    assert fir.data_prefix + "7:abc" == fir.data_key(7, "abc")


def test_jitter_only_shortens_and_spreads_within_its_fraction() -> None:
    assert jittered_ttl(100, 0.1, lambda: 0.0) == 100
    assert jittered_ttl(100, 0.1, lambda: 0.999999) == pytest.approx(90, abs=1e-3)
    assert jittered_ttl(100, 0.0, lambda: 0.7) == 100
    rng = random.Random(4)
    ttls = [jittered_ttl(100, 0.2, rng.random) for _ in range(1000)]
    assert min(ttls) >= 80 and max(ttls) <= 100 and max(ttls) - min(ttls) > 15


def test_xfetch_refreshes_expensive_entries_near_expiry_and_not_cheap_or_fresh_ones() -> None:
    rng = random.Random(7)

    def rate(compute: float, remaining: float, beta: float = 1.0) -> float:
        return sum(should_refresh_early(compute, remaining, beta, rng.random) for _ in range(4000)) / 4000

    assert rate(0.01, 60) == 0  # cheap and far from expiry: never
    assert rate(2.0, 0.01) > 0.99  # expensive and about to expire: almost always
    # P(refresh) = exp(-remaining / (delta * beta))
    assert rate(1.0, 1.0) == pytest.approx(0.368, abs=0.04)
    assert rate(1.0, 1.0, beta=2.0) == pytest.approx(0.607, abs=0.04)
    assert not should_refresh_early(0, 0.001, 1, lambda: 0.5)  # no compute time recorded
    assert not should_refresh_early(1, -1, 1, lambda: 0.5)  # no expiry
    assert not should_refresh_early(1, 1, 0, lambda: 0.999)  # beta 0 disables it
    assert should_refresh_early(1, 1, 1, lambda: 0.99)  # rand() -> 1 - U, log near 0 excluded


def test_envelope_round_trips_and_tombstones_read_as_misses() -> None:
    raw = envelope.pack(b"\x00value", 0.0123)
    entry = envelope.unpack(raw)
    assert entry is not None and entry.value == b"\x00value" and entry.compute_seconds == pytest.approx(0.012)
    assert envelope.unpack(b"T1795862282220126") is None
    assert envelope.unpack(None) is None
    assert envelope.unpack(b"D\x00") is None  # truncated
    assert envelope.unpack(envelope.pack(b"", 10**9)) is not None  # huge compute times are clamped


def test_violations_name_every_bad_field() -> None:
    limits = EntryLimits(max_key_bytes=8, max_value_bytes=4, max_batch_keys=2, max_ttl_seconds=10)
    check = Violations()
    check.key("", "key", limits)
    check.key("é" * 5, "key2", limits)  # 10 UTF-8 bytes
    check.value(b"12345", "value", limits)
    check.duration(-1, "ttl")
    check.duration(11, "ttl2", limits.max_ttl_seconds)
    check.keys(["a", "b", "c"], "keys", limits)
    check.keys([], "none", limits)
    with pytest.raises(InvalidArgument) as bad:
        check.raise_if_any()
    fields = [v.field for v in bad.value.violations]
    assert fields == ["key", "key2", "value", "ttl", "ttl2", "keys", "none"]
    assert "and 6 more" in bad.value.message
    ok = Violations()
    ok.key("a", "key", limits)
    ok.value(b"1234", "value", limits)
    ok.duration(0, "ttl", 10)
    ok.raise_if_any()  # nothing to report
