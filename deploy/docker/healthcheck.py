#!/usr/bin/env python3
"""Container health probe for docker-compose (Kubernetes uses its native probes).

    afirgen-healthcheck grpc 50051                         # grpc.health.v1 says SERVING
    afirgen-healthcheck http http://127.0.0.1:9106/metrics # answers 200

Exit status 0 when healthy, 1 otherwise. The ``http`` mode needs only the standard
library, so the model-server image uses it too.
"""

from __future__ import annotations

import sys
import urllib.request


def grpc_serving(port: int) -> bool:
    """True when the gRPC server on ``port`` reports SERVING for the whole server."""
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=""), timeout=2)
    return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)


def http_ok(url: str) -> bool:
    """True when ``url`` (a loopback URL) answers 200."""
    if not url.startswith("http://127.0.0.1:"):
        raise ValueError(f"only loopback http URLs are probed, got {url!r}")
    with urllib.request.urlopen(url, timeout=2) as resp:  # noqa: S310 - loopback only, checked above
        return bool(resp.status == 200)


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in {"grpc", "http"}:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        healthy = grpc_serving(int(argv[1])) if argv[0] == "grpc" else http_ok(argv[1])
    except Exception as exc:  # any failure to answer is "unhealthy"
        print(f"unhealthy: {exc}", file=sys.stderr)
        return 1
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
