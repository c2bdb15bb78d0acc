"""The mesh under test: a stack of our own on free ports, or ``make up``'s (``--attach``)."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from google.protobuf import descriptor_pb2
from grpc_health.v1 import health_pb2

from scripts.devstack.config import REPO, StackConfig
from scripts.devstack.stack import Stack

EDGE_PROTOSET = REPO / "edge" / "generated" / "afirgen.pb"


@dataclass(frozen=True)
class Target:
    """Addresses of one running mesh (all on loopback)."""

    stack: Stack
    owned: bool
    """True when the bench started this stack (and may pause its background worker)."""

    @property
    def cfg(self) -> StackConfig:
        return self.stack.cfg

    @property
    def envoy(self) -> str:
        return f"127.0.0.1:{self.cfg.envoy_port}"

    @property
    def fir(self) -> str:
        return f"127.0.0.1:{self.cfg.fir_port}"

    @property
    def cache(self) -> str:
        return f"127.0.0.1:{self.cfg.cache_port}"

    @property
    def base_url(self) -> str:
        return self.cfg.base_url

    def mysql_args(self, database: str = "fir") -> dict[str, object]:
        """pymysql.connect() arguments, as the services connect (TCP, user afirgen)."""
        return {
            "host": "127.0.0.1",
            "port": self.cfg.mysql_port,
            "user": "afirgen",
            "password": self.cfg.mysql_password,
            "database": database,
            "autocommit": True,
            "charset": "utf8mb4",
        }


def port_open(port: int) -> bool:
    """True when something listens on ``127.0.0.1:port``."""
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@contextlib.contextmanager
def running_target(run_dir: Path, *, attach: bool, keep: bool = False) -> Iterator[Target]:
    """A healthy mesh for the duration of the block.

    ``attach``: use ``make up``'s stack (default ports) and leave it running.
    Otherwise start a fresh stack on free ports in ``run_dir`` and stop it
    afterwards (unless ``keep``)."""
    if attach:
        stack = Stack(StackConfig(run_dir=REPO / ".run" / "stack"))
        if not stack.envoy_ready():
            raise RuntimeError("no stack to attach to: run `make up` first")
        yield Target(stack, owned=False)
        return
    stack = Stack(StackConfig.for_tests(run_dir))
    try:
        stack.up()
        yield Target(stack, owned=True)
    finally:
        if keep:
            print(f"stack kept running: {stack.urls()}")
        else:
            stack.down()


def build_protoset(out: Path) -> Path:
    """The edge descriptor set plus ``grpc.health.v1`` (ghz needs both, Envoy has no reflection route)."""
    fds = descriptor_pb2.FileDescriptorSet()
    fds.ParseFromString(EDGE_PROTOSET.read_bytes())
    if not any(f.name == health_pb2.DESCRIPTOR.name for f in fds.file):
        health = descriptor_pb2.FileDescriptorProto()
        health_pb2.DESCRIPTOR.CopyToProto(health)
        fds.file.append(health)
    out.write_bytes(fds.SerializeToString())
    return out
