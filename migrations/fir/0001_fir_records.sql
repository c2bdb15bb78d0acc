-- FIR records, per-station-per-year counters, idempotency keys and the audit trail.
-- depends:

CREATE TABLE firs (
  pk                BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  id                CHAR(36)        NOT NULL,
  station_code      VARCHAR(16)     NOT NULL,
  station_name      VARCHAR(200)    NOT NULL DEFAULT '',
  station_district  VARCHAR(100)    NOT NULL DEFAULT '',
  station_state     VARCHAR(100)    NOT NULL DEFAULT '',
  fir_year          SMALLINT        NOT NULL,
  fir_seq           INT UNSIGNED    NOT NULL,
  fir_number        VARCHAR(40)     NOT NULL,
  status            TINYINT         NOT NULL,
  complainant       JSON            NOT NULL,
  incident          JSON            NOT NULL,
  accused           JSON            NOT NULL,
  witnesses         JSON            NOT NULL,
  properties        JSON            NOT NULL,
  complaint_source  TINYINT         NOT NULL DEFAULT 0,
  complaint_language VARCHAR(16)    NOT NULL DEFAULT '',
  complaint_text    MEDIUMTEXT      NOT NULL,
  summary           TEXT            NOT NULL,
  narrative         MEDIUMTEXT      NOT NULL,
  legal_sections    JSON            NOT NULL,
  action_taken      TEXT            NOT NULL,
  officer_name      VARCHAR(200)    NOT NULL DEFAULT '',
  officer_rank      VARCHAR(100)    NOT NULL DEFAULT '',
  generation        JSON            NULL,
  revision          INT UNSIGNED    NOT NULL DEFAULT 1,
  created_at        DATETIME(6)     NOT NULL,
  updated_at        DATETIME(6)     NOT NULL,
  finalized_at      DATETIME(6)     NULL,
  PRIMARY KEY (pk),
  UNIQUE KEY uq_firs_id (id),
  UNIQUE KEY uq_firs_number (station_code, fir_year, fir_seq),
  KEY ix_firs_created (created_at, pk),
  KEY ix_firs_updated (updated_at, pk),
  KEY ix_firs_station_created (station_code, created_at, pk),
  KEY ix_firs_status_created (status, created_at, pk),
  KEY ix_firs_station_status_created (station_code, status, created_at, pk),
  KEY ix_firs_district_created (station_district, created_at, pk)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- One row per FIR and legal section: the `section` filter and per-section stats.
CREATE TABLE fir_sections (
  fir_pk      BIGINT UNSIGNED NOT NULL,
  act         VARCHAR(16)     NOT NULL,
  section     VARCHAR(32)     NOT NULL,
  created_at  DATETIME(6)     NOT NULL,
  PRIMARY KEY (fir_pk, act, section),
  KEY ix_fir_sections_section (section, created_at, fir_pk),
  CONSTRAINT fk_fir_sections_fir FOREIGN KEY (fir_pk) REFERENCES firs (pk) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Last FIR sequence number per station and year. Incremented under a row lock
-- in the same transaction as the FIR insert, so numbers are gapless.
CREATE TABLE fir_counters (
  station_code  VARCHAR(16)   NOT NULL,
  fir_year      SMALLINT      NOT NULL,
  last_seq      INT UNSIGNED  NOT NULL,
  PRIMARY KEY (station_code, fir_year)
) ENGINE=InnoDB;

-- Idempotency keys of create/generate requests: a repeat returns the first FIR.
CREATE TABLE fir_idempotency_keys (
  idem_key      VARCHAR(128)  NOT NULL,
  request_hash  CHAR(64)      NOT NULL,
  fir_pk        BIGINT UNSIGNED NOT NULL,
  created_at    DATETIME(6)   NOT NULL,
  PRIMARY KEY (idem_key),
  KEY ix_fir_idem_created (created_at)
) ENGINE=InnoDB DEFAULT CHARSET=ascii COLLATE=ascii_bin;

-- Audit trail: every change to every FIR.
CREATE TABLE fir_events (
  pk              BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  fir_pk          BIGINT UNSIGNED NOT NULL,
  action          VARCHAR(16)   NOT NULL,
  actor           VARCHAR(128)  NOT NULL DEFAULT '',
  changed_fields  JSON          NOT NULL,
  revision        INT UNSIGNED  NOT NULL,
  request_id      VARCHAR(64)   NOT NULL DEFAULT '',
  created_at      DATETIME(6)   NOT NULL,
  PRIMARY KEY (pk),
  KEY ix_fir_events_fir (fir_pk, pk),
  CONSTRAINT fk_fir_events_fir FOREIGN KEY (fir_pk) REFERENCES firs (pk)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
