"""A process-local :class:`~afirgen_runtime.cache_client.Cache` for unit tests of the services that cache."""

from __future__ import annotations

from dataclasses import dataclass, field

from afirgen_runtime.cache_client import Fill, Loader


@dataclass
class InMemoryCache:
    """Cache-aside over a dict: no expiry, no single flight, never fails."""

    entries: dict[tuple[str, str], bytes] = field(default_factory=dict)
    loads: int = 0

    async def get(self, namespace: str, key: str) -> bytes | None:
        """The stored value."""
        return self.entries.get((namespace, key))

    async def get_or_load(self, namespace: str, key: str, loader: Loader, ttl: float | None = None) -> bytes | None:
        """The stored value, or the loader's (stored)."""
        if (namespace, key) in self.entries:
            return self.entries[(namespace, key)]
        self.loads += 1
        loaded = await loader()
        if loaded is None:
            return None
        value = loaded.value if isinstance(loaded, Fill) else loaded
        self.entries[(namespace, key)] = value
        return value

    async def delete(self, namespace: str, *keys: str) -> None:
        """Drop ``keys``."""
        for key in keys:
            self.entries.pop((namespace, key), None)

    async def invalidate(self, namespace: str) -> None:
        """Drop the namespace."""
        for entry in [e for e in self.entries if e[0] == namespace]:
            del self.entries[entry]

    async def close(self) -> None:
        """Nothing to release."""
