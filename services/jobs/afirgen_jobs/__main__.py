"""``python -m afirgen_jobs``: run the jobs API service until SIGTERM."""

from afirgen_runtime import secrets, server, settings

from afirgen_jobs.bootstrap import build
from afirgen_jobs.settings import JobsSettings


def _build() -> tuple[server.ServiceApp, settings.ServerSettings]:
    config = settings.load(JobsSettings)
    server.prepare("jobs", config.log, config.server.tracing)
    env = config.server.environment
    secrets.check("AFIRGEN_PAGE_TOKEN_SECRET", config.page_token_secret, environment=env)
    secrets.check("AFIRGEN_MYSQL_PASSWORD", config.mysql.password, environment=env)
    return build(config).app, config.server


if __name__ == "__main__":
    server.main(_build)
