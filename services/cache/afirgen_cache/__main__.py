"""``python -m afirgen_cache``: run the cache service until SIGTERM."""

from afirgen_runtime import secrets, server, settings

from afirgen_cache.bootstrap import build
from afirgen_cache.settings import CacheSettings


def _build() -> tuple[server.ServiceApp, settings.ServerSettings]:
    config = settings.load(CacheSettings)
    server.prepare("cache", config.log, config.server.tracing)
    secrets.check("AFIRGEN_REDIS_PASSWORD", config.redis.password, environment=config.server.environment)
    return build(config).app, config.server


if __name__ == "__main__":
    server.main(_build)
