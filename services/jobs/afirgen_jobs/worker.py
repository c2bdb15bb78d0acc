"""``python -m afirgen_jobs.worker``: a worker process until SIGTERM.

Run any number of them. Each claims due jobs from MySQL, delivers them to the
owning service and records the outcome; a SIGTERM lets running jobs finish
(or releases them after the grace period).
"""

from afirgen_runtime import secrets, server, settings

from afirgen_jobs.bootstrap import build_worker
from afirgen_jobs.settings import WorkerSettings


def _build() -> server.WorkerApp:
    config = settings.load(WorkerSettings)
    server.prepare("jobs-worker", config.log, settings.TracingSettings())
    environment = settings.load(settings.ServerSettings, prefix="AFIRGEN_SERVER").environment
    secrets.check("AFIRGEN_MYSQL_PASSWORD", config.mysql.password, environment=environment)
    return build_worker(config).app


if __name__ == "__main__":
    server.main(_build)
