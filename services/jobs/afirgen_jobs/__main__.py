"""``python -m afirgen_jobs``: run the jobs API service until SIGTERM."""

from afirgen_runtime import logging, server, settings

from afirgen_jobs.bootstrap import build
from afirgen_jobs.settings import JobsSettings


def _build() -> tuple[server.ServiceApp, settings.ServerSettings]:
    config = settings.load(JobsSettings)
    logging.configure("jobs", config.log)
    return build(config).app, config.server


if __name__ == "__main__":
    server.main(_build)
