"""``python -m afirgen_fir``: run the FIR service until SIGTERM."""

from afirgen_runtime import server, settings

from afirgen_fir.bootstrap import build
from afirgen_fir.settings import FirSettings


def _build() -> tuple[server.ServiceApp, settings.ServerSettings]:
    config = settings.load(FirSettings)
    server.prepare("fir", config.log, config.server)
    return build(config).app, config.server


if __name__ == "__main__":
    server.main(_build)
