import dataclasses
from pathlib import Path

import pytest
from afirgen_fir.settings import FirSettings
from afirgen_jobs.settings import WorkerSettings
from afirgen_runtime.errors import InvalidArgument
from afirgen_runtime.filtering import Condition, parse_filter
from afirgen_runtime.pagination import PageTokens, page_size
from afirgen_runtime.settings import SettingsError, load


@dataclasses.dataclass(frozen=True)
class Inner:
    host: str = "localhost"
    port: int = 1


@dataclasses.dataclass(frozen=True)
class Outer:
    inner: Inner = dataclasses.field(default_factory=Inner)
    debug: bool = False
    ratio: float = 0.5
    names: tuple[str, ...] = ()
    levels: dict[str, str] = dataclasses.field(default_factory=dict)
    path: Path = Path("/tmp")
    optional: int | None = None


def test_settings_load_nested_and_typed() -> None:
    env = {
        "AFIRGEN_INNER_HOST": "db",
        "AFIRGEN_INNER_PORT": "3306",
        "AFIRGEN_DEBUG": "yes",
        "AFIRGEN_RATIO": "0.25",
        "AFIRGEN_NAMES": "a, b,,c",
        "AFIRGEN_LEVELS": "x=DEBUG,y.z=INFO",
        "AFIRGEN_PATH": "/data",
        "AFIRGEN_OPTIONAL": "7",
    }
    s = load(Outer, env)
    assert s == Outer(Inner("db", 3306), True, 0.25, ("a", "b", "c"), {"x": "DEBUG", "y.z": "INFO"}, Path("/data"), 7)
    assert load(Outer, {}) == Outer()
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.debug = False  # type: ignore[misc]


def test_a_settings_map_value_may_hold_commas() -> None:
    routes = load(Outer, {"AFIRGEN_LEVELS": "fir=ipv4:127.0.0.1:1,127.0.0.1:2,jobs=127.0.0.1:3"}).levels
    assert routes == {"fir": "ipv4:127.0.0.1:1,127.0.0.1:2", "jobs": "127.0.0.1:3"}


@pytest.mark.parametrize(
    ("key", "value"), [("AFIRGEN_INNER_PORT", "x"), ("AFIRGEN_DEBUG", "maybe"), ("AFIRGEN_LEVELS", "novalue")]
)
def test_settings_reject_malformed_values(key: str, value: str) -> None:
    with pytest.raises(SettingsError, match=key):
        load(Outer, {key: value})


def test_page_tokens_round_trip_and_refuse_tampering() -> None:
    tokens = PageTokens(b"0123456789abcdef0123456789")
    q = PageTokens.query_digest("firs", "station=X")
    token = tokens.issue(q, ["2026-01-01T00:00:00+00:00", 42])
    assert tokens.parse(token, q) == ["2026-01-01T00:00:00+00:00", 42]
    with pytest.raises(InvalidArgument) as exc:
        tokens.parse(token, PageTokens.query_digest("firs", "station=Y"))
    assert exc.value.reason == "INVALID_PAGE_TOKEN"
    tampered = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    for bad in (tampered, "garbage!!", "", "AAAA"):
        with pytest.raises(InvalidArgument):
            tokens.parse(bad, q)
    other = PageTokens(b"another-secret-0123456789abc")
    with pytest.raises(InvalidArgument):
        other.parse(token, q)


def test_page_size_rules() -> None:
    assert page_size(0, default=50, maximum=500) == 50
    assert page_size(10, default=50, maximum=500) == 10
    assert page_size(10_000, default=50, maximum=500) == 500
    with pytest.raises(InvalidArgument):
        page_size(-1, default=50, maximum=500)


ALLOWED = {"station": frozenset({"="}), "create_time": frozenset({">=", "<"})}


def test_filter_parses_conditions() -> None:
    got = parse_filter('station = "DL-CP-01" AND create_time >= 2026-01-01T00:00:00Z', ALLOWED)
    assert got == [
        Condition("station", "=", "DL-CP-01"),
        Condition("create_time", ">=", "2026-01-01T00:00:00Z"),
    ]
    assert parse_filter("", ALLOWED) == []
    assert parse_filter('station="a \\"b\\""', ALLOWED) == [Condition("station", "=", 'a "b"')]


@pytest.mark.parametrize(
    "text",
    [
        "station",
        "station =",
        "nope = 1",
        "station > 1",
        "station = 1 OR station = 2",
        "station = 1 station = 2",
        "station = 'x'",
        "x" * 2000,
    ],
)
def test_filter_rejects_bad_expressions(text: str) -> None:
    with pytest.raises(InvalidArgument) as exc:
        parse_filter(text, ALLOWED)
    assert exc.value.reason == "INVALID_FILTER"


@dataclasses.dataclass(frozen=True)
class WithNestedDefault:
    inner: Inner = dataclasses.field(default_factory=lambda: Inner(host="primary", port=99))


def test_nested_defaults_of_the_enclosing_class_are_kept() -> None:
    assert load(WithNestedDefault, {}).inner == Inner("primary", 99)
    assert load(WithNestedDefault, {"AFIRGEN_INNER_PORT": "5"}).inner == Inner("primary", 5)


@pytest.mark.parametrize(
    ("settings", "key", "value"),
    [
        ("fir", "AFIRGEN_PDF_NICENESS", "-5"),
        ("fir", "AFIRGEN_PDF_NICENESS", "20"),
        ("fir", "AFIRGEN_PDF_CPU_SHARE", "0"),
        ("fir", "AFIRGEN_PDF_CPU_SHARE", "1.5"),
        ("fir", "AFIRGEN_PDF_IDLE_SECONDS", "0"),
        ("fir", "AFIRGEN_BUSY_PDF_CPU_SHARE", "0.5"),  # above AFIRGEN_PDF_CPU_SHARE (0.25)
        ("fir", "AFIRGEN_BUSY_CALLS_PER_SECOND", "0"),
        ("fir", "AFIRGEN_BUSY_JOBS_PER_SECOND", "0"),
        ("fir", "AFIRGEN_NEAR_CACHE_MAX_BYTES", "-1"),
        ("fir", "AFIRGEN_NEAR_PAGES_MAX_BYTES", str(2 << 30)),
        ("fir", "AFIRGEN_NEAR_PAGES_MAX_ENTRIES", "-1"),
        ("worker", "AFIRGEN_NICENESS", "-1"),
        ("worker", "AFIRGEN_MAX_JOBS_PER_SECOND", "-1"),
    ],
)
def test_settings_refuse_priorities_idle_times_and_cache_bounds_out_of_range(
    settings: str, key: str, value: str
) -> None:
    kind = {"fir": FirSettings, "worker": WorkerSettings}[settings]
    with pytest.raises(SettingsError, match=key):
        load(kind, {key: value})
