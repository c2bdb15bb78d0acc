"""Settings of the FIR service (``AFIRGEN_*`` environment variables)."""

from __future__ import annotations

from dataclasses import dataclass, field

from afirgen_runtime.settings import LogSettings, MySQLSettings, ServerSettings


@dataclass(frozen=True)
class FirSettings:
    """Everything the FIR service reads from its environment."""

    server: ServerSettings = field(
        default_factory=lambda: ServerSettings(port=50051, max_message_bytes=20 << 20)
    )
    """gRPC server (``AFIRGEN_SERVER_*``)."""
    log: LogSettings = field(default_factory=LogSettings)
    """Logging (``AFIRGEN_LOG_*``)."""
    mysql: MySQLSettings = field(default_factory=lambda: MySQLSettings(database="fir"))
    """The ``fir`` schema (``AFIRGEN_MYSQL_*``)."""
    page_token_secret: str = ""
    """HMAC secret of page tokens (>= 16 bytes). Required: tokens must survive restarts and replicas."""
    numbering_utc_offset_minutes: int = 330
    """Offset of the clock that decides an FIR's year (India Standard Time, UTC+5:30)."""
