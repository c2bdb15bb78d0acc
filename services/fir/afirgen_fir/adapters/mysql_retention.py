"""Retention deletes in the fir schema: oldest rows first, a bounded number per statement, each
statement its own transaction (autocommit), so a purge never holds many row locks for long.
Both deletes walk an index on their time column (``ix_fir_idem_created``, ``ix_fir_outbox_pending``)."""

from __future__ import annotations

from datetime import datetime

from afirgen_runtime.db import Database, Statement, to_db_time

PURGE_IDEMPOTENCY = Statement(
    "fir.idempotency_purge",
    "DELETE FROM fir_idempotency_keys WHERE created_at < %s ORDER BY created_at LIMIT %s",
)
# `sent_at < %s` leaves unsent rows (NULL) alone: they are jobs still owed.
PURGE_OUTBOX = Statement(
    "fir.outbox_purge",
    "DELETE FROM fir_outbox WHERE sent_at < %s ORDER BY sent_at LIMIT %s",
)


class MySQLRetentionStore:
    """:class:`~afirgen_fir.service_layer.ports.RetentionStore` on MySQL."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def delete_idempotency_keys(self, before: datetime, limit: int) -> int:
        """One batch of expired idempotency keys."""
        return await self._db.run(lambda c: c.execute(PURGE_IDEMPOTENCY, (to_db_time(before), limit)))

    async def delete_sent_outbox(self, before: datetime, limit: int) -> int:
        """One batch of outbox rows sent before ``before``."""
        return await self._db.run(lambda c: c.execute(PURGE_OUTBOX, (to_db_time(before), limit)))
