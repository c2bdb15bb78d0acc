"""Request limits and the checks that turn bad input into INVALID_ARGUMENT."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from afirgen_runtime.errors import FieldViolation, InvalidArgument


@dataclass(frozen=True)
class EntryLimits:
    """What one request may carry: keys, values, batches, TTLs."""

    max_key_bytes: int = 512
    """Longest key."""
    max_value_bytes: int = 4 * 1024 * 1024
    """Largest value."""
    max_batch_keys: int = 500
    """Most keys in one batch call."""
    max_ttl_seconds: float = 7 * 24 * 3600.0
    """Longest TTL a writer may ask for."""


@dataclass
class Violations:
    """Collects every problem of a request, so the client sees them all at once."""

    items: list[FieldViolation] = field(default_factory=list)

    def add(self, field_path: str, description: str) -> None:
        """Record that ``field_path`` is bad."""
        self.items.append(FieldViolation(field_path, description))

    def raise_if_any(self) -> None:
        """INVALID_ARGUMENT with every violation, if there are any."""
        if self.items:
            first = self.items[0]
            more = f" (and {len(self.items) - 1} more)" if len(self.items) > 1 else ""
            raise InvalidArgument(f"{first.field}: {first.description}{more}", violations=self.items)

    def key(self, key: str, field_path: str, limits: EntryLimits) -> None:
        """A key is a non-empty string of at most ``max_key_bytes`` UTF-8 bytes."""
        if not key:
            self.add(field_path, "must not be empty")
        elif len(key.encode()) > limits.max_key_bytes:
            self.add(field_path, f"is longer than {limits.max_key_bytes} bytes")

    def keys(self, keys: Iterable[str], field_path: str, limits: EntryLimits) -> None:
        """Every key of a batch, and the batch size."""
        listed = list(keys)
        if not listed:
            self.add(field_path, "must name at least one key")
        if len(listed) > limits.max_batch_keys:
            self.add(field_path, f"holds more than {limits.max_batch_keys} keys")
        for i, key in enumerate(listed[: limits.max_batch_keys]):
            self.key(key, f"{field_path}[{i}]", limits)

    def value(self, value: bytes, field_path: str, limits: EntryLimits) -> None:
        """Values are at most ``max_value_bytes``."""
        if len(value) > limits.max_value_bytes:
            self.add(field_path, f"is larger than {limits.max_value_bytes} bytes")

    def values(self, values: Mapping[str, bytes], field_path: str, limits: EntryLimits) -> None:
        """Keys and values of a batch write."""
        self.keys(values.keys(), field_path, limits)
        for key, value in list(values.items())[: limits.max_batch_keys]:
            self.value(value, f"{field_path}[{key[:64]}]", limits)

    def duration(self, seconds: float, field_path: str, maximum: float | None = None) -> None:
        """A duration is not negative and, with a ``maximum``, not above it."""
        if seconds < 0:
            self.add(field_path, "must not be negative")
        elif maximum is not None and seconds > maximum:
            self.add(field_path, f"must be at most {maximum:g} seconds")
