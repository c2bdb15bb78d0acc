-- The legal knowledge base: sections of the acts an FIR cites, searched with a
-- FULLTEXT index to find candidate sections for a complaint.
-- depends: 0001_fir_records

CREATE TABLE legal_sections (
  act          VARCHAR(16)   NOT NULL,
  section      VARCHAR(32)   NOT NULL,
  title        VARCHAR(300)  NOT NULL,
  description  TEXT          NOT NULL,
  punishment   TEXT          NOT NULL,
  cognizable   TINYINT       NULL,
  bailable     TINYINT       NULL,
  triable_by   VARCHAR(200)  NOT NULL DEFAULT '',
  keywords     TEXT          NOT NULL,
  source       VARCHAR(16)   NOT NULL,
  updated_at   DATETIME(6)   NOT NULL,
  PRIMARY KEY (act, section),
  FULLTEXT KEY ft_legal_sections (title, description, keywords)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
