DROP TABLE fir_daily_counts;
DROP TABLE fir_documents;
DROP TABLE fir_outbox;
