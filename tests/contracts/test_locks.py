"""The hash locks of requirements/ against pyproject.toml and against what the code imports.

A lock is current when the packages it has because pyproject.toml asks for them are exactly
pyproject.toml's pins (same names, same versions) for its extras: a pin added, removed or
changed without `make lock` fails here. Offline: nothing is resolved or downloaded.
"""

from __future__ import annotations

import pytest

from tests.contracts.dependencies import (
    DEV_EXTRAS,
    SERVICE_LOCKS,
    direct_pins,
    locked_directly,
    provided_modules,
    read_lock,
    third_party_imports,
)

LOCKS = {**{service: (service,) for service in SERVICE_LOCKS}, "dev": DEV_EXTRAS}
"""requirements/<lock>.txt -> the pyproject.toml extras it locks (scripts/lock.sh)."""
SERVICE_ENTRIES = {
    "fir": ("afirgen_fir", "afirgen_runtime.migrate", "afirgen_fir.entrypoints.legal_import"),
    "inference": ("afirgen_inference",),
    "cache": ("afirgen_cache",),
    "jobs": ("afirgen_jobs", "afirgen_jobs.worker", "afirgen_runtime.migrate"),
}
"""Modules each service image runs (`python -m ...`; docker-compose.yml and the Kubernetes
init containers run the migrations and the legal seed from the fir and jobs images)."""


@pytest.mark.parametrize("lock", LOCKS)
def test_lock_pins_exactly_what_pyproject_asks_for(lock: str) -> None:
    assert locked_directly(read_lock(lock)) == direct_pins(*LOCKS[lock])


@pytest.mark.parametrize("lock", [*LOCKS, "uv"])
def test_every_locked_package_carries_a_sha256_hash(lock: str) -> None:
    unhashed = [name for name, entry in read_lock(lock).items() if not entry.hashes]
    assert unhashed == [] and all(h.startswith("sha256:") for e in read_lock(lock).values() for h in e.hashes)


def test_uv_lock_pins_the_uv_of_the_dev_extra() -> None:
    assert read_lock("uv")["uv"].version == direct_pins("dev")["uv"]


@pytest.mark.parametrize("service", SERVICE_LOCKS)
def test_service_lock_provides_every_module_its_code_imports(service: str) -> None:
    missing = third_party_imports(*SERVICE_ENTRIES[service]) - provided_modules(read_lock(service))
    assert missing == set()


@pytest.mark.parametrize("service", SERVICE_LOCKS)
def test_service_lock_holds_no_direct_dependency_its_code_does_not_import(service: str) -> None:
    imported = third_party_imports(*SERVICE_ENTRIES[service])
    lock = read_lock(service)
    unused = {name for name in locked_directly(lock) if not provided_modules({name: lock[name]}) & imported}
    assert unused == set()


def test_the_dev_lock_holds_every_service_lock() -> None:
    dev = {name: entry.version for name, entry in read_lock("dev").items()}
    differing = {
        (service, name)
        for service in SERVICE_LOCKS
        for name, entry in read_lock(service).items()
        if dev.get(name) != entry.version
    }
    assert differing == set()
