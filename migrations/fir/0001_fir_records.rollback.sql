DROP TABLE fir_events;
DROP TABLE fir_idempotency_keys;
DROP TABLE fir_counters;
DROP TABLE fir_sections;
DROP TABLE firs;
