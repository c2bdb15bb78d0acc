-- Facts a drafted FIR's complaint states (dates, times, amounts, vehicle and
-- phone numbers), each with the span of the complaint it was read from.
-- Written once when the FIR is drafted; NULL for FIRs entered by hand.
-- depends: 0003_fir_jobs

ALTER TABLE firs ADD COLUMN facts JSON NULL AFTER generation;
