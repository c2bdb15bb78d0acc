"""A bounded, per-process cache in front of the cache service, kept coherent by its invalidation feed.

A near cache holds entries of one namespace of the cache service in the
process's memory (an LRU of at most ``max_entries`` and ``max_bytes``), so a hit
costs no network call. Both bounds hold at once: entries are counted because each
costs bookkeeping, bytes because a value's size varies with what it holds (a whole
FIR is about 2 KB typed by hand and over 100 KB at the limits its fields allow; a
page holds up to 500 of them). Two kinds of entries:

- **immutable** ones (a finalized FIR) can never become stale: they are served
  whatever the state of the feed;
- **mutable** ones are served only while the feed is *live*: connected, and an
  event (a heartbeat at least) arrived within ``max_staleness`` seconds.

The feed (:meth:`afirgen_runtime.cache_client.CacheClient.follow`) carries, in
order, every delete and namespace invalidation the cache service made, and
heartbeats that travel the same path (Redis pub/sub, then the cache service's
stream). Deletes are published by the same atomic step that makes the entry
stale in Redis, before the writer answers its client. So when a mutable entry
is served, every write acknowledged more than ``max_staleness`` (plus the
heartbeat's transit time) earlier has already dropped it: that is the bound on
staleness. A feed that may have lost events (a reconnect at either hop) starts
with a reset, which drops every mutable entry.

Read-after-write in the writing process is immediate: the writer drops its own
entry before answering. A read that started before an invalidation and ends
after it must not store what it read: :meth:`NearCache.put` takes the
:attr:`NearCache.epoch` seen before the read and stores only if no invalidation
came in between.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

from prometheus_client import Counter, Gauge

V = TypeVar("V")
NEAR_CACHE_EVENTS = Counter(
    "afirgen_near_cache_events_total",
    "What near caches saw: hits, misses, stale (a mutable entry not served: the feed is not live), resets",
    ["namespace", "event"],
)
NEAR_CACHE_BYTES = Gauge(
    "afirgen_near_cache_bytes",
    "What a near cache holds, in bytes: its values plus ENTRY_OVERHEAD_BYTES an entry",
    ["namespace"],
)
NEAR_CACHE_ENTRIES = Gauge("afirgen_near_cache_entries", "Entries a near cache holds", ["namespace"])
ENTRY_OVERHEAD_BYTES = 400
"""What an entry costs beside its value (its key, the LRU's node, the value's header fields): measured
as 2,399 bytes of process memory an entry for 4,096 whole FIRs of 2,000 bytes."""


@dataclass(frozen=True)
class NearCacheSettings:
    """Size and staleness bound of a near cache."""

    max_entries: int = 4096
    """Entries kept (least recently used go first); 0 turns the near cache off."""
    max_staleness_seconds: float = 1.0
    """Mutable entries are served only if the invalidation feed was heard from this recently."""
    max_bytes: int = 8 << 20
    """Bytes kept, values and ``ENTRY_OVERHEAD_BYTES`` an entry (least recently used go first); a
    value larger than this is not kept."""


class NearCache(Generic[V]):
    """Entries of ``namespace``, bounded, coherent with the cache service through its feed."""

    def __init__(
        self, namespace: str, settings: NearCacheSettings, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.namespace = namespace
        self._max = settings.max_entries
        self._max_bytes = settings.max_bytes
        self._staleness = settings.max_staleness_seconds
        self._clock = clock
        self._entries: OrderedDict[str, tuple[V, bool, int]] = OrderedDict()
        self.bytes = 0
        """What the entries hold: the sizes given to :meth:`put`, plus ``ENTRY_OVERHEAD_BYTES`` each."""
        self._connected = False
        self._heard = float("-inf")
        self.epoch = 0
        """Changes with every invalidation: a read stores what it found only if it did not change."""
        self._hits = NEAR_CACHE_EVENTS.labels(namespace, "hits")
        self._misses = NEAR_CACHE_EVENTS.labels(namespace, "misses")
        self._stale = NEAR_CACHE_EVENTS.labels(namespace, "stale")
        self._resets = NEAR_CACHE_EVENTS.labels(namespace, "resets")
        NEAR_CACHE_BYTES.labels(namespace).set_function(lambda: self.bytes)
        NEAR_CACHE_ENTRIES.labels(namespace).set_function(lambda: len(self._entries))

    # --- the reading side ---------------------------------------------------------
    @property
    def live(self) -> bool:
        """The feed is connected and was heard from within the staleness bound."""
        return self._connected and self._clock() - self._heard <= self._staleness

    def get(self, key: str) -> V | None:
        """The entry, if it may be served now."""
        found = self._entries.get(key)
        if found is None:
            self._misses.inc()
            return None
        value, immutable, _ = found
        if not immutable and not self.live:
            self._stale.inc()
            return None
        self._entries.move_to_end(key)
        self._hits.inc()
        return value

    def put(self, key: str, value: V, epoch: int, *, immutable: bool = False, size: int = 0) -> bool:
        """Keep ``value`` (``size`` bytes) read at ``epoch``; refused when an invalidation came since,
        when a mutable value could not be served anyway (the feed is not live), or when it is larger
        than the whole near cache may hold."""
        if self._max <= 0 or epoch != self.epoch or (not immutable and not self.live):
            return False
        self._forget(key)
        weight = size + ENTRY_OVERHEAD_BYTES
        if weight > self._max_bytes:
            return False
        self._entries[key] = (value, immutable, weight)
        self.bytes += weight
        while len(self._entries) > self._max or self.bytes > self._max_bytes:
            _, (_, _, evicted) = self._entries.popitem(last=False)
            self.bytes -= evicted
        return True

    def drop(self, *keys: str) -> None:
        """Forget ``keys`` (a write in this process, or a delete from the feed)."""
        self.epoch += 1
        for key in keys:
            self._forget(key)

    def _forget(self, key: str) -> None:
        found = self._entries.pop(key, None)
        if found is not None:
            self.bytes -= found[2]

    def __len__(self) -> int:
        return len(self._entries)

    # --- the feed side ------------------------------------------------------------
    def connected(self) -> None:
        """The feed is open; its first event is a reset."""
        self._connected = True

    def disconnected(self) -> None:
        """The feed is closed: mutable entries stop being served (and go at the next reset)."""
        self._connected = False

    def heard(self) -> None:
        """Any event of the feed arrived (it is delivered in order, so nothing older is pending)."""
        self._heard = self._clock()

    def reset(self) -> None:
        """Events may have been lost: drop every mutable entry."""
        self._resets.inc()
        self.epoch += 1
        for key in [k for k, (_, immutable, _) in self._entries.items() if not immutable]:
            self._forget(key)

    def clear(self) -> None:
        """The whole namespace was invalidated: drop everything."""
        self.epoch += 1
        self._entries.clear()
        self.bytes = 0

    def apply(self, keys: Iterable[str], whole_namespace: bool) -> None:
        """An invalidation from the feed."""
        if whole_namespace:
            self.clear()
        else:
            self.drop(*keys)
