"""``python -m afirgen_fir``: run the FIR service until SIGTERM."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from afirgen_runtime import server, settings


def _build() -> tuple[server.ServiceApp, settings.ServerSettings]:
    from afirgen_runtime import secrets, server, settings

    from afirgen_fir.bootstrap import build
    from afirgen_fir.settings import FirSettings

    config = settings.load(FirSettings)
    server.prepare("fir", config.log, config.server.tracing)
    env = config.server.environment
    secrets.check("AFIRGEN_PAGE_TOKEN_SECRET", config.page_token_secret, environment=env)
    secrets.check("AFIRGEN_WEBHOOK_SECRET", config.webhook_secret, environment=env, required=bool(config.webhook_url))
    secrets.check("AFIRGEN_MYSQL_PASSWORD", config.mysql.password, environment=env)
    return build(config).app, config.server


def main() -> None:
    """Serve until SIGTERM."""
    from afirgen_runtime import server

    server.main(_build)


if __name__ == "__main__":
    main()
