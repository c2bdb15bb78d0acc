-- Background work of the FIR service: the transactional outbox of jobs to
-- enqueue, rendered FIR documents, and daily counts rolled up by a job.
-- depends: 0001_fir_records

-- Jobs to hand to the jobs service, written in the same transaction as the
-- FIR change that needs them, so no FIR is stored without its jobs. A relay
-- in the fir service sends pending rows (sent_at IS NULL) with retries; the
-- idempotency key makes a repeated send return the same job.
CREATE TABLE fir_outbox (
  pk               BIGINT UNSIGNED  NOT NULL AUTO_INCREMENT,
  fir_pk           BIGINT UNSIGNED  NOT NULL,
  job_type         VARCHAR(64)      CHARACTER SET ascii NOT NULL,
  payload          JSON             NOT NULL,
  priority         TINYINT UNSIGNED NOT NULL,
  idempotency_key  VARCHAR(64)      CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  attempts         INT UNSIGNED     NOT NULL DEFAULT 0,
  next_attempt_at  DATETIME(6)      NOT NULL,
  last_error       VARCHAR(512)     NOT NULL DEFAULT '',
  job_id           CHAR(36)         CHARACTER SET ascii NULL,
  created_at       DATETIME(6)      NOT NULL,
  sent_at          DATETIME(6)      NULL,
  PRIMARY KEY (pk),
  UNIQUE KEY uq_fir_outbox_key (idempotency_key),
  KEY ix_fir_outbox_pending (sent_at, next_attempt_at, pk),
  KEY ix_fir_outbox_fir (fir_pk, pk),
  CONSTRAINT fk_fir_outbox_fir FOREIGN KEY (fir_pk) REFERENCES firs (pk)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The latest rendered PDF of each FIR. A render never replaces a document of
-- a newer revision, so late or repeated render jobs are harmless.
CREATE TABLE fir_documents (
  fir_id       CHAR(36)         NOT NULL,
  revision     INT UNSIGNED     NOT NULL,
  status       TINYINT          NOT NULL,
  content      MEDIUMBLOB       NOT NULL,
  sha256       CHAR(64)         CHARACTER SET ascii NOT NULL,
  rendered_at  DATETIME(6)      NOT NULL,
  PRIMARY KEY (fir_id),
  CONSTRAINT fk_fir_documents_fir FOREIGN KEY (fir_id) REFERENCES firs (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- FIRs registered per day (UTC, like the stats endpoint), station and legal
-- section; act = '' and section = '' hold the station's total for the day.
-- Recomputed from `firs` by the roll-up job, so a repeated job changes nothing.
CREATE TABLE fir_daily_counts (
  day              DATE          NOT NULL,
  station_code     VARCHAR(16)   NOT NULL,
  act              VARCHAR(16)   NOT NULL,
  section          VARCHAR(32)   NOT NULL,
  fir_count        INT UNSIGNED  NOT NULL,
  finalized_count  INT UNSIGNED  NOT NULL,
  updated_at       DATETIME(6)   NOT NULL,
  PRIMARY KEY (day, station_code, act, section),
  KEY ix_fir_daily_station (station_code, day)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
