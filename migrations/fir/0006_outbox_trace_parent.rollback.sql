ALTER TABLE fir_outbox DROP COLUMN trace_parent;
