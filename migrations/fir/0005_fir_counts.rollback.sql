ALTER TABLE firs
  DROP KEY ix_firs_district_status_updated,
  DROP KEY ix_firs_station_status_updated,
  DROP KEY ix_firs_status_updated,
  DROP KEY ix_firs_district_updated,
  DROP KEY ix_firs_station_updated,
  DROP KEY ix_firs_district_status_created;
ALTER TABLE fir_sections
  DROP KEY ix_fir_sections_district_updated,
  DROP KEY ix_fir_sections_station_updated,
  DROP KEY ix_fir_sections_updated,
  DROP KEY ix_fir_sections_district,
  DROP KEY ix_fir_sections_station,
  DROP COLUMN updated_at,
  DROP COLUMN station_district,
  DROP COLUMN station_code;
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
INSERT INTO fir_daily_counts (day, station_code, act, section, fir_count, finalized_count, updated_at)
  SELECT DATE(created_at), station_code, '', '', COUNT(*), SUM(status = 2), UTC_TIMESTAMP(6)
  FROM firs GROUP BY DATE(created_at), station_code;
INSERT INTO fir_daily_counts (day, station_code, act, section, fir_count, finalized_count, updated_at)
  SELECT DATE(f.created_at), f.station_code, s.act, s.section, COUNT(*), SUM(f.status = 2), UTC_TIMESTAMP(6)
  FROM fir_sections s JOIN firs f ON f.pk = s.fir_pk
  GROUP BY DATE(f.created_at), f.station_code, s.act, s.section;
DROP TABLE fir_counts;
