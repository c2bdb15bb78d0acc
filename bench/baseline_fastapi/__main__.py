"""``python -m bench.baseline_fastapi --port P --mysql-port M --mysql-password X --redis-port R``
(plus ``--redis-password Y`` when that Redis has a password)."""

from __future__ import annotations

import argparse

import uvicorn

from bench.baseline_fastapi.app import Settings, create_app


def main() -> None:
    """Serve the baseline with uvicorn (uvloop, httptools, no access log), one process."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--mysql-port", type=int, required=True)
    parser.add_argument("--mysql-password", required=True)
    parser.add_argument("--redis-port", type=int, required=True)
    parser.add_argument("--redis-password", default="", help="the Redis requirepass, if any")
    args = parser.parse_args()
    settings = Settings(
        mysql_port=args.mysql_port,
        mysql_password=args.mysql_password,
        redis_port=args.redis_port,
        redis_password=args.redis_password,
    )
    uvicorn.run(
        create_app(settings),
        host="127.0.0.1",
        port=args.port,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_level="warning",
    )


if __name__ == "__main__":
    main()
