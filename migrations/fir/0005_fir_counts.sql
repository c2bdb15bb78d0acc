-- Statistics and list totals from counts kept with every FIR change, and the
-- indexes the list pages need at a million FIRs.
-- depends: 0004_fir_facts

-- FIRs per period, station (with its district) and legal section, by status.
-- Written in the same transaction as the FIR change they count (so never
-- stale); read by GetFirStats and by ListFirs' total_size.
--   grain   'D' day, 'M' month, 'Y' year, in local time
--           (AFIRGEN_NUMBERING_UTC_OFFSET_MINUTES, as FIR numbers); `period`
--           is the period's first day. A range of days is read as whole years,
--           whole months and days, and `firs` itself for a partial day.
--   kind 0  the FIRs of the period, station and district (act = section = '');
--   kind 1  the FIRs citing section `section` of act `act`;
--   kind 2  the FIRs citing section number `section` under any act (act = '');
--   kind 3  by day only: the FIRs of a district, all its stations (station_code
--           = ''), so a year of days over every station reads one row per
--           district and day.
-- Each kind's rows of a period range are contiguous in the primary key.
CREATE TABLE fir_counts (
  grain             CHAR(1)       CHARACTER SET ascii NOT NULL,
  kind              TINYINT       NOT NULL,
  period            DATE          NOT NULL,
  act               VARCHAR(16)   NOT NULL,
  section           VARCHAR(32)   NOT NULL,
  station_code      VARCHAR(16)   NOT NULL,
  station_district  VARCHAR(100)  NOT NULL,
  drafts            INT           NOT NULL,
  finalized         INT           NOT NULL,
  PRIMARY KEY (grain, kind, period, act, section, station_code, station_district),
  KEY ix_fir_counts_station (station_code, grain, kind, period),
  KEY ix_fir_counts_district (station_district, grain, kind, period),
  KEY ix_fir_counts_section (section, grain, kind, period)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The counts of the FIRs stored so far, in IST (the default offset, 330
-- minutes). A deployment with another offset rebuilds them:
-- python -m afirgen_fir.entrypoints.rebuild_counts
INSERT INTO fir_counts (grain, kind, period, act, section, station_code, station_district, drafts, finalized)
  SELECT 'D', 0, DATE(created_at + INTERVAL 330 MINUTE), '', '', station_code, station_district,
         SUM(status = 1), SUM(status = 2)
  FROM firs GROUP BY DATE(created_at + INTERVAL 330 MINUTE), station_code, station_district;
INSERT INTO fir_counts (grain, kind, period, act, section, station_code, station_district, drafts, finalized)
  SELECT 'D', 1, DATE(f.created_at + INTERVAL 330 MINUTE), s.act, s.section, f.station_code, f.station_district,
         SUM(f.status = 1), SUM(f.status = 2)
  FROM fir_sections s JOIN firs f ON f.pk = s.fir_pk
  GROUP BY DATE(f.created_at + INTERVAL 330 MINUTE), s.act, s.section, f.station_code, f.station_district;
INSERT INTO fir_counts (grain, kind, period, act, section, station_code, station_district, drafts, finalized)
  SELECT 'D', 2, DATE(x.created_at + INTERVAL 330 MINUTE), '', x.section, x.station_code, x.station_district,
         SUM(x.status = 1), SUM(x.status = 2)
  FROM (SELECT DISTINCT f.pk, s.section, f.created_at, f.station_code, f.station_district, f.status
        FROM fir_sections s JOIN firs f ON f.pk = s.fir_pk) AS x
  GROUP BY DATE(x.created_at + INTERVAL 330 MINUTE), x.section, x.station_code, x.station_district;
INSERT INTO fir_counts (grain, kind, period, act, section, station_code, station_district, drafts, finalized)
  SELECT 'D', 3, DATE(created_at + INTERVAL 330 MINUTE), '', '', '', station_district,
         SUM(status = 1), SUM(status = 2)
  FROM firs GROUP BY DATE(created_at + INTERVAL 330 MINUTE), station_district;
INSERT INTO fir_counts (grain, kind, period, act, section, station_code, station_district, drafts, finalized)
  SELECT 'M', kind, period - INTERVAL (DAYOFMONTH(period) - 1) DAY, act, section, station_code, station_district,
         SUM(drafts), SUM(finalized)
  FROM fir_counts WHERE grain = 'D' AND kind IN (0, 1, 2)
  GROUP BY kind, period - INTERVAL (DAYOFMONTH(period) - 1) DAY, act, section, station_code, station_district;
INSERT INTO fir_counts (grain, kind, period, act, section, station_code, station_district, drafts, finalized)
  SELECT 'Y', kind, MAKEDATE(YEAR(period), 1), act, section, station_code, station_district,
         SUM(drafts), SUM(finalized)
  FROM fir_counts WHERE grain = 'M'
  GROUP BY kind, MAKEDATE(YEAR(period), 1), act, section, station_code, station_district;

-- The daily counts of 0003 were recomputed by a job per write and never read.
DROP TABLE fir_daily_counts;

-- A list page with a `section` filter reads fir_sections in the page's order,
-- within the caller's station or district: both are copied here (neither
-- changes once an FIR exists), and so is the FIR's updated_at (written with it).
ALTER TABLE fir_sections
  ADD COLUMN station_code VARCHAR(16) NOT NULL DEFAULT '',
  ADD COLUMN station_district VARCHAR(100) NOT NULL DEFAULT '',
  ADD COLUMN updated_at DATETIME(6) NOT NULL DEFAULT '1970-01-01 00:00:00';
UPDATE fir_sections s JOIN firs f ON f.pk = s.fir_pk
  SET s.station_code = f.station_code, s.station_district = f.station_district, s.updated_at = f.updated_at;
ALTER TABLE fir_sections
  ADD KEY ix_fir_sections_station (section, station_code, created_at, fir_pk),
  ADD KEY ix_fir_sections_district (section, station_district, created_at, fir_pk),
  ADD KEY ix_fir_sections_updated (section, updated_at, fir_pk),
  ADD KEY ix_fir_sections_station_updated (section, station_code, updated_at, fir_pk),
  ADD KEY ix_fir_sections_district_updated (section, station_district, updated_at, fir_pk);

-- A list page reads its rows in order from the index of its scope (all FIRs,
-- a station, a district), with or without a status, in either time order: the
-- rows it examines are the rows it returns, whatever the data.
ALTER TABLE firs
  ADD KEY ix_firs_district_status_created (station_district, status, created_at, pk),
  ADD KEY ix_firs_station_updated (station_code, updated_at, pk),
  ADD KEY ix_firs_district_updated (station_district, updated_at, pk),
  ADD KEY ix_firs_status_updated (status, updated_at, pk),
  ADD KEY ix_firs_station_status_updated (station_code, status, updated_at, pk),
  ADD KEY ix_firs_district_status_updated (station_district, status, updated_at, pk);
