-- The durable job queue: jobs and every attempt to run them.
-- depends:

-- One row per job. `active` is 1 while the job can still run (QUEUED, RUNNING,
-- FAILED) so the claim index holds only live work, however many finished jobs
-- accumulate. `due_at` is when a worker may next claim it: the run time or the
-- backoff for QUEUED/FAILED jobs, the lease expiry for RUNNING ones (a worker
-- that died stops renewing it, and the job becomes claimable again).
CREATE TABLE jobs (
  pk               BIGINT UNSIGNED   NOT NULL AUTO_INCREMENT,
  id               CHAR(36)          CHARACTER SET ascii NOT NULL,
  type             VARCHAR(128)      CHARACTER SET ascii NOT NULL,
  payload          MEDIUMTEXT        NOT NULL,
  priority         TINYINT UNSIGNED  NOT NULL,
  status           TINYINT UNSIGNED  NOT NULL,
  active           TINYINT UNSIGNED  NOT NULL,
  run_at           DATETIME(6)       NOT NULL,
  due_at           DATETIME(6)       NOT NULL,
  max_attempts     SMALLINT UNSIGNED NOT NULL,
  attempt_count    SMALLINT UNSIGNED NOT NULL DEFAULT 0,
  -- Attempts that do not count against max_attempts (before an operator
  -- retry, or released by a worker that shut down).
  attempt_base     SMALLINT UNSIGNED NOT NULL DEFAULT 0,
  idempotency_key  VARCHAR(128)      CHARACTER SET ascii COLLATE ascii_bin NULL,
  request_hash     CHAR(64)          CHARACTER SET ascii NOT NULL DEFAULT '',
  lease_owner      VARCHAR(128)      NOT NULL DEFAULT '',
  lease_token      CHAR(32)          CHARACTER SET ascii NULL,
  last_error       TEXT              NOT NULL,
  trace_parent     VARCHAR(64)       CHARACTER SET ascii NOT NULL DEFAULT '',
  created_at       DATETIME(6)       NOT NULL,
  updated_at       DATETIME(6)       NOT NULL,
  finished_at      DATETIME(6)       NULL,
  PRIMARY KEY (pk),
  UNIQUE KEY uq_jobs_id (id),
  UNIQUE KEY uq_jobs_idempotency (idempotency_key),
  -- Claim: live jobs, highest priority first, then longest due.
  KEY ix_jobs_claim (active, priority DESC, due_at, pk),
  -- Next wake-up of an idle worker: MIN(due_at) of live jobs.
  KEY ix_jobs_due (active, due_at),
  -- Lease renewal and fencing by the worker that holds the lease.
  KEY ix_jobs_lease (lease_token),
  -- Listing, newest first, optionally by status or type.
  KEY ix_jobs_created (created_at, pk),
  KEY ix_jobs_status_created (status, created_at, pk),
  KEY ix_jobs_type_created (type, created_at, pk)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Every attempt with its worker, timing, outcome and error.
CREATE TABLE job_attempts (
  job_pk      BIGINT UNSIGNED   NOT NULL,
  number      SMALLINT UNSIGNED NOT NULL,
  worker      VARCHAR(128)      NOT NULL,
  started_at  DATETIME(6)       NOT NULL,
  ended_at    DATETIME(6)       NULL,
  outcome     VARCHAR(32)       CHARACTER SET ascii NOT NULL DEFAULT '',
  error       TEXT              NOT NULL,
  detail      VARCHAR(512)      NOT NULL DEFAULT '',
  PRIMARY KEY (job_pk, number),
  CONSTRAINT fk_job_attempts_job FOREIGN KEY (job_pk) REFERENCES jobs (pk) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
