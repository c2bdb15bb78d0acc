"""Ports, paths and secrets of one local stack."""

from __future__ import annotations

import dataclasses
import json
import os
import random
import secrets
import socket
from dataclasses import dataclass
from pathlib import Path

from scripts.devstack.edge import RateLimits

REPO = Path(__file__).resolve().parents[2]
LLMS = {
    # name: (locate.py key of the GGUF, llama.cpp chat template to force, model alias)
    "smollm2": ("smollm2_gguf", "", "smollm2"),
    "gemma3": ("gemma3_gguf", "gemma", "gemma3-270m"),
}
SECRET_FIELDS = ("page_token_secret", "webhook_secret", "mysql_password", "redis_password", "idp_admin_password")
VENV = REPO / ".venv"
"""The project's virtualenv: every service's dependencies, the stack's and the tools'."""
SERVICE_VENVS = REPO / ".venvs"
"""One virtualenv per service image (fir, inference, cache, jobs), each exactly its lock
(requirements/<service>.txt, byte-compiled; scripts/install/python.sh). The stack runs each
service with the packages its image has and no others: a module missing from a lock fails
here as in the image, and optional imports of packages the service does not need (httpx's
command line, redis-py under purgatory) do not load. They did from .venv: 12 MiB more in
each fir and inference process."""
SERVICE_SOURCES = ("libs", "gen/python", "services/fir", "services/inference-proxy", "services/cache", "services/jobs")
"""The project's code as a service finds it: the ``PYTHONPATH`` of deploy/docker/Dockerfile.services."""


def service_python(image: str) -> tuple[str, dict[str, str]]:
    """The interpreter of a service image's virtualenv (``fir``, ``inference``, ``cache`` or
    ``jobs``) and the environment that puts the project's code on its path."""
    pythonpath = os.pathsep.join(str(REPO / source) for source in SERVICE_SOURCES)
    return str(SERVICE_VENVS / image / "bin" / "python"), {"PYTHONPATH": pythonpath}


EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")
LOWEST_PORT = 10_000


def free_port(taken: frozenset[int] = frozenset()) -> int:
    """A TCP port that is free on the loopback interface right now, not in ``taken``.

    Chosen below the kernel's ephemeral range: a port from that range (what binding port 0
    gives) can be taken by any outgoing connection, such as the stack's own readiness probes,
    between this choice and the moment a process of the stack binds it."""
    ephemeral_low = int(EPHEMERAL_RANGE.read_text().split()[0]) if EPHEMERAL_RANGE.exists() else 32768
    while True:
        port = random.randrange(LOWEST_PORT, max(ephemeral_low, LOWEST_PORT + 1000))
        if port in taken:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port


@dataclass(frozen=True)
class StackConfig:
    """Everything that differs between two stacks on one machine."""

    run_dir: Path
    envoy_port: int = 8080
    envoy_admin_port: int = 9901
    fir_port: int = 50051
    """The first fir replica (``services:fir``); the second (``services:fir-2``) is on ``fir_2_port``."""
    inference_port: int = 50052
    """The first inference proxy (``services:inference``); the second on ``inference_2_port``."""
    cache_port: int = 50053
    jobs_port: int = 50054
    fir_2_port: int = 50055
    inference_2_port: int = 50056
    llm_port: int = 8090
    """llama-server (OpenAI-compatible chat), bound to 127.0.0.1."""
    asr_port: int = 8091
    """faster-whisper-server (OpenAI-compatible transcriptions), bound to 127.0.0.1."""
    ocr_port: int = 8092
    """Tesseract OCR HTTP server, bound to 127.0.0.1."""
    mysql_port: int = 3307
    redis_port: int = 6380
    supervisor_port: int = 9001
    fir_metrics_port: int = 9102
    inference_metrics_port: int = 9103
    cache_metrics_port: int = 9104
    jobs_metrics_port: int = 9105
    jobs_worker_metrics_port: int = 9106
    fir_2_metrics_port: int = 9107
    inference_2_metrics_port: int = 9108
    idp_port: int = 8180
    """The OIDC identity provider (Keycloak), bound to 127.0.0.1."""
    otlp_endpoint: str = ""
    """OTLP/gRPC collector every service and Envoy export spans to (empty: tracing off)."""
    page_token_secret: str = ""
    """HMAC secret of page tokens; empty: generated for the stack (see :meth:`with_secrets`)."""
    log_level: str = "INFO"
    mysql_password: str = ""
    """Password of the services' MariaDB user; empty: generated for the stack."""
    redis_password: str = ""
    """Redis ``requirepass``; empty: generated for the stack."""
    idp_admin_password: str = ""
    """Password of the identity provider's bootstrap admin; empty: generated for the stack."""
    webhook_port: int = 0
    """Port of a local receiver of FIR webhooks (0: no webhook); tests run one."""
    webhook_secret: str = ""
    """HMAC key of webhook signatures; empty: generated for the stack."""
    llm: str = "smollm2"
    """The local LLM: ``smollm2`` (SmolLM2-135M-Instruct) or ``gemma3`` (Gemma 3 270M); see LLMS."""
    edge_workers: int = 1
    """Envoy worker threads. 1 where the services share the machine's cores: on 2 cores, cached
    GetFir through the REST side served 1,713-1,896 requests/s with 1 worker against 1,549-1,608
    with 2 (three alternating rounds each, 50 connections), Envoy spending 370-403 against
    503-527 us of CPU a request. An edge with cores of its own wants one per core."""
    llm_threads: int = 1
    """CPU threads of the LLM server: 1 on a machine that does other work, 2 on a quiet 2-core one."""
    rate_limits: RateLimits = dataclasses.field(default_factory=RateLimits)
    """Per-subject request limits and the connection cap of the edge."""

    @classmethod
    def for_tests(cls, run_dir: Path) -> StackConfig:
        """A stack on free ports, so tests never collide with `make up`."""
        ports: dict[str, int] = {}
        for f in dataclasses.fields(cls):
            if f.name.endswith("_port"):
                ports[f.name] = free_port(frozenset(ports.values()))
        return cls(run_dir=run_dir, **ports)

    def with_secrets(self) -> StackConfig:
        """This config with every empty secret filled from ``run_dir/secrets.json``.

        The file is made on first use with fresh random values, readable by its owner only,
        so no secret of a running stack is committed anywhere."""
        path = self.run_dir / "secrets.json"
        if path.exists():
            stored = json.loads(path.read_text())
        else:
            stored = {name: secrets.token_urlsafe(32) for name in SECRET_FIELDS}
            self.run_dir.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w") as out:
                json.dump(stored, out)
        return dataclasses.replace(self, **{name: stored[name] for name in SECRET_FIELDS if not getattr(self, name)})

    @property
    def fir_ports(self) -> tuple[int, ...]:
        """gRPC ports of the fir replicas, the first one first."""
        return (self.fir_port, self.fir_2_port)

    @property
    def fir_metrics_ports(self) -> tuple[int, ...]:
        """The metrics port of each fir replica."""
        return (self.fir_metrics_port, self.fir_2_metrics_port)

    @property
    def inference_ports(self) -> tuple[int, ...]:
        """gRPC ports of the inference proxy replicas, the first one first."""
        return (self.inference_port, self.inference_2_port)

    @property
    def idp_url(self) -> str:
        return f"http://127.0.0.1:{self.idp_port}"

    @property
    def mysql_socket(self) -> Path:
        return self.run_dir / "mariadb" / "mysqld.sock"

    @property
    def mysql_data_dir(self) -> Path:
        """MariaDB's data directory (owned by the ``mysql`` user)."""
        return self.run_dir / "mariadb" / "data"

    @property
    def mysql_binlog_dir(self) -> Path:
        """MariaDB's binary logs, beside the data directory (not in it), so a restore into a fresh
        data directory keeps them for point-in-time recovery."""
        return self.run_dir / "mariadb" / "binlog"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.envoy_port}"


def replicas_target(ports: tuple[int, ...]) -> str:
    """The gRPC target of the replicas on ``ports`` of 127.0.0.1: the channel spreads calls over them."""
    return "ipv4:" + ",".join(f"127.0.0.1:{port}" for port in ports)
