"""``python -m afirgen_inference``: run the inference proxy until SIGTERM."""

import logging as std_logging

from afirgen_runtime import server, settings

from afirgen_inference.bootstrap import build
from afirgen_inference.settings import InferenceSettings


def _build() -> tuple[server.ServiceApp, settings.ServerSettings]:
    config = settings.load(InferenceSettings)
    server.prepare("inference", config.log, config.server.tracing)
    # One line per health probe (every replica, every second or two) drowns the log.
    std_logging.getLogger("httpx").setLevel(std_logging.WARNING)
    return build(config).app, config.server


if __name__ == "__main__":
    server.main(_build)
