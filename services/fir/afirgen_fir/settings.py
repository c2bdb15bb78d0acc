"""Settings of the FIR service (``AFIRGEN_*`` environment variables)."""

from __future__ import annotations

from dataclasses import dataclass, field

from afirgen_runtime.cache_client import CacheClientSettings
from afirgen_runtime.channels import ChannelSettings
from afirgen_runtime.near_cache import NearCacheSettings
from afirgen_runtime.settings import LogSettings, MySQLSettings, ServerSettings, within

from afirgen_fir.domain.retention import RetentionPolicy
from afirgen_fir.service_layer.outbox_relay import RelayConfig


@dataclass(frozen=True)
class NearPagesSettings:
    """Size of the near cache of list pages and totals."""

    max_entries: int = 256
    """Entries kept (least recently used go first)."""
    max_bytes: int = 8 << 20
    """Bytes kept, as in ``AFIRGEN_NEAR_CACHE_MAX_BYTES``. A page holds up to 500 whole FIRs, so the
    entry count alone would let 256 pages of 2 KB FIRs take about 256 MB."""

    def near_cache(self) -> NearCacheSettings:
        """These bounds as a near cache's settings."""
        return NearCacheSettings(max_entries=self.max_entries, max_bytes=self.max_bytes)


@dataclass(frozen=True)
class BusySettings:
    """How background work yields to requests while this process is busy with them. Job deliveries
    from the jobs workers wait for a turn, and documents render at a smaller share of a core: the
    work a job hands to this process, the database and the webhook receivers runs at the priority of
    requests, so a niced worker alone does not keep reads fast (docs/architecture.md)."""

    calls_per_second: int = 20
    """Calls a second (health probes and job deliveries left out) from which this process counts as
    busy: a few officers' clients at work, not one page opened now and then."""
    jobs_per_second: float = 5.0
    """Most jobs this process starts a second while busy (0.1-10000); the workers' deliveries wait
    their turn. Quiet, jobs start as they come (the workers' own bound applies)."""
    pdf_cpu_share: float = 0.05
    """The share of a core each document renderer child uses instead of ``AFIRGEN_PDF_CPU_SHARE``
    (0.05 up to that share)."""


@dataclass(frozen=True)
class FirSettings:
    """Everything the FIR service reads from its environment."""

    server: ServerSettings = field(default_factory=lambda: ServerSettings(port=50051, max_message_bytes=20 << 20))
    """gRPC server (``AFIRGEN_SERVER_*``)."""
    log: LogSettings = field(default_factory=LogSettings)
    """Logging (``AFIRGEN_LOG_*``)."""
    mysql: MySQLSettings = field(default_factory=lambda: MySQLSettings(database="fir"))
    """The ``fir`` schema (``AFIRGEN_MYSQL_*``)."""
    page_token_secret: str = ""
    """HMAC secret of page tokens (>= 24 bytes). Required: tokens must survive restarts and replicas."""
    inference: ChannelSettings = field(
        default_factory=lambda: ChannelSettings(timeout_seconds=170.0, max_message_bytes=16 << 20)
    )
    """The inference proxy (``AFIRGEN_INFERENCE_*``); generation answers UNAVAILABLE without a target.
    Its messages carry whole recordings and scans (up to 10 MiB), hence the 16 MiB message limit."""
    numbering_utc_offset_minutes: int = 330
    """Offset of the clock that decides an FIR's year (India Standard Time, UTC+5:30)."""
    cache: CacheClientSettings = field(default_factory=CacheClientSettings)
    """The cache service (``AFIRGEN_CACHE_*``); an empty ``AFIRGEN_CACHE_TARGET`` turns caching off."""
    finalized_cache_ttl_seconds: float = 86400.0
    """How long a finalized (immutable) FIR stays cached; drafts use the namespace default."""
    near_cache: NearCacheSettings = field(default_factory=NearCacheSettings)
    """Whole FIRs kept in this process (``AFIRGEN_NEAR_CACHE_*``): drafts are served from it only while
    the cache service's invalidation feed was heard within ``max_staleness_seconds`` (the bound on how
    stale another process's write may look here); finalized FIRs always. ``max_bytes`` (8 MiB) bounds
    their memory: about 3,500 FIRs of 2 KB, fewer of the larger ones.
    The cache's list and statistics tokens (a few bytes each) share these bounds in a cache of their own,
    and so do statistics (served, as drafts, only while the feed is live) and the JSON bodies of REST
    reads rendered from cached FIRs and pages (``entrypoints/rest_json``)."""
    near_pages: NearPagesSettings = field(default_factory=NearPagesSettings)
    """List pages and totals kept in this process (``AFIRGEN_NEAR_PAGES_*``): their keys carry their
    scope's token, so they never change and need no feed (hence no staleness bound)."""
    jobs: ChannelSettings = field(default_factory=ChannelSettings)
    """The jobs service (``AFIRGEN_JOBS_TARGET``); empty: FIR jobs wait in the outbox."""
    outbox: RelayConfig = field(default_factory=RelayConfig)
    """The relay of outbox rows to the jobs service (``AFIRGEN_OUTBOX_*``)."""
    pdf_workers: int = 1
    """Child processes that lay out FIR documents: at most this many render at once."""
    pdf_niceness: int = 15
    """CPU niceness of those children (0-19): a backlog of renders takes only the CPU requests leave over."""
    pdf_idle_seconds: float = 30.0
    """Those children exit when no document was asked for in this long (they hold about 80 MiB each)."""
    pdf_cpu_share: float = 0.25
    """At most this share of a core each of those children uses over a backlog of renders (0.05-1): a
    document that took ``t`` seconds of CPU is followed by a rest of ``t * (1 / share - 1)``. Lower keeps
    reads faster while a backlog drains, higher makes a burst of documents ready sooner."""
    busy: BusySettings = field(default_factory=BusySettings)
    """How background work yields while this process is busy with requests (``AFIRGEN_BUSY_*``)."""
    webhook_url: str = ""
    """Where finalization notices are POSTed; empty: none are sent."""
    webhook_secret: str = ""
    """HMAC-SHA256 key of the ``X-AFIRGen-Signature`` header."""
    webhook_timeout_seconds: float = 10.0
    """Timeout of one webhook POST."""
    retention: RetentionPolicy = field(default_factory=RetentionPolicy)
    """Purges of idempotency keys and sent outbox rows (``AFIRGEN_RETENTION_*``)."""

    def __post_init__(self) -> None:
        within("AFIRGEN_PDF_NICENESS", self.pdf_niceness, 0, 19)
        within("AFIRGEN_PDF_IDLE_SECONDS", self.pdf_idle_seconds, 1, 86400)
        within("AFIRGEN_PDF_CPU_SHARE", self.pdf_cpu_share, 0.05, 1)
        within("AFIRGEN_BUSY_CALLS_PER_SECOND", self.busy.calls_per_second, 1, 1_000_000)
        within("AFIRGEN_BUSY_JOBS_PER_SECOND", self.busy.jobs_per_second, 0.1, 10_000)
        within("AFIRGEN_BUSY_PDF_CPU_SHARE", self.busy.pdf_cpu_share, 0.05, self.pdf_cpu_share)
        for name, near in (("NEAR_CACHE", self.near_cache), ("NEAR_PAGES", self.near_pages)):
            within(f"AFIRGEN_{name}_MAX_ENTRIES", near.max_entries, 0, 1 << 20)
            within(f"AFIRGEN_{name}_MAX_BYTES", near.max_bytes, 0, 1 << 30)
