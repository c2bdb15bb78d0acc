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
-- The daily counts of 0003 again (UTC days), recomputed from firs as its roll-up job did.
CREATE TABLE fir_daily_counts (
  fir_count        INT UNSIGNED  NOT NULL,
  finalized_count  INT UNSIGNED  NOT NULL,
  PRIMARY KEY (day, station_code, act, section),
  KEY ix_fir_daily_station (station_code, day)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  SELECT DATE(created_at) AS day, station_code, CAST('' AS CHAR(16)) COLLATE utf8mb4_unicode_ci AS act,
         CAST('' AS CHAR(32)) COLLATE utf8mb4_unicode_ci AS section,
         CAST(COUNT(*) AS UNSIGNED) AS fir_count, CAST(SUM(status = 2) AS UNSIGNED) AS finalized_count,
         UTC_TIMESTAMP(6) AS updated_at
  FROM firs GROUP BY DATE(created_at), station_code
  UNION ALL
  SELECT DATE(f.created_at), f.station_code, s.act, s.section, COUNT(*), SUM(f.status = 2), UTC_TIMESTAMP(6)
  FROM fir_sections s JOIN firs f ON f.pk = s.fir_pk
  GROUP BY DATE(f.created_at), f.station_code, s.act, s.section;
DROP TABLE fir_counts;
