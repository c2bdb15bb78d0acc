-- The W3C trace context of the request whose FIR change wrote an outbox row, so
-- the job it becomes (sent later, by the relay) continues that request's trace.
-- '' for rows written without tracing and for rows of before this migration.
-- depends: 0005_fir_counts

ALTER TABLE fir_outbox
  ADD COLUMN trace_parent VARCHAR(64) CHARACTER SET ascii NOT NULL DEFAULT '' AFTER idempotency_key;
