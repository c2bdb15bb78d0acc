"""``python -m afirgen_jobs.worker``: a worker process until SIGTERM.

Run any number of them. Each claims due jobs from MySQL, delivers them to the
owning service and records the outcome; a SIGTERM lets running jobs finish
(or releases them after the grace period).
"""

import os

from afirgen_runtime import secrets, server, settings

from afirgen_jobs.bootstrap import build_worker
from afirgen_jobs.settings import WorkerSettings


def _build() -> server.WorkerApp:
    config = settings.load(WorkerSettings)
    # The worker has no gRPC server, but the same environment and tracing settings as one
    # (AFIRGEN_SERVER_*): its job runs are spans of the traces that enqueued the jobs.
    process = settings.load(settings.ServerSettings, prefix="AFIRGEN_SERVER")
    server.prepare("jobs-worker", config.log, process.tracing)
    secrets.check("AFIRGEN_MYSQL_PASSWORD", config.mysql.password, environment=process.environment)
    os.nice(config.niceness)
    return build_worker(config).app


if __name__ == "__main__":
    server.main(_build)
