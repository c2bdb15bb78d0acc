"""The mesh under test: a stack of our own on free ports, or ``make up``'s (``--attach``),
and the credentials the bench calls it with.

Every request carries an identity, as a real deployment is called: through Envoy an
OIDC access token of an officer from the stack's identity provider, straight to a
service the ``x-afirgen-claims`` header Envoy would have forwarded for that officer.
"""

from __future__ import annotations

import contextlib
import dataclasses
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from afirgen_runtime.identity import CLAIMS_HEADER, encode_claims
from google.protobuf import descriptor_pb2
from grpc_health.v1 import health_pb2

from scripts.devstack.config import REPO, StackConfig
from scripts.devstack.edge import RateLimits
from scripts.devstack.identity import IdentityProvider
from scripts.devstack.stack import Stack

EDGE_PROTOSET = REPO / "edge" / "generated" / "afirgen.pb"
READER = "auditor"
"""The role of reads: it reads every station and changes nothing."""
WRITER = "sho"
"""The role of writes: the station house officer of the FIR's own station (creates, edits, finalizes)."""
OPERATOR = "operator"
"""The role of the operations endpoints (``/v1/cache:stats``, jobs)."""
UNTHROTTLED = RateLimits(
    calls_per_second=1_000_000, call_burst=1_000_000, generations_per_minute=100_000, generation_burst=100_000
)
"""Edge limits of the bench's own stack: per-subject limits would throttle the load generators."""
TOKEN_REFRESH_S = 45 * 60
"""Tokens live an hour; one older than this is fetched again (a full run can take half an hour)."""


class Credentials:
    """Access tokens of bench officers, one per (role, station), made on demand in the stack's
    identity provider (the officer is created, then signs in) and kept until they near expiry."""

    def __init__(self, idp_url: str, admin_password: str) -> None:
        self._idp = IdentityProvider(idp_url, admin_password)
        self._tokens: dict[tuple[str, str], tuple[str, float]] = {}
        self._lock = threading.Lock()

    def close(self) -> None:
        """Close the identity provider's connections."""
        self._idp.close()

    def token(self, role: str, station: str = "") -> str:
        """An access token of the bench officer with ``role`` at ``station`` (empty: no station)."""
        key = (role, station)
        with self._lock:
            cached = self._tokens.get(key)
            if cached is None or time.monotonic() - cached[1] > TOKEN_REFRESH_S:
                username = username_of(role, station)
                self._idp.ensure_officer(username, role, station)
                cached = self._tokens[key] = (self._idp.token(username), time.monotonic())
            return cached[0]


def username_of(role: str, station: str) -> str:
    """The bench officer's user name, e.g. ``bench-sho-bw-7`` or ``bench-auditor-all``."""
    return f"bench-{role}-{station or 'all'}".lower().replace("_", "-")


def claims_of(role: str, station: str = "") -> str:
    """The ``x-afirgen-claims`` value Envoy would forward for the bench officer (direct calls to a service)."""
    claims: dict[str, object] = {
        "sub": f"direct-{username_of(role, station)}",
        "preferred_username": username_of(role, station),
    }
    return encode_claims(claims | {"roles": [role], "station": station, "district": ""})


@dataclass(frozen=True)
class Target:
    """Addresses of one running mesh (all on loopback)."""

    stack: Stack
    owned: bool
    """True when the bench started this stack (and may pause its background worker)."""
    credentials: Credentials

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

    def headers(self, role: str = READER, station: str = "") -> dict[str, str]:
        """The Authorization header of the bench officer with ``role`` at ``station`` (REST and gRPC via Envoy)."""
        return {"authorization": f"Bearer {self.credentials.token(role, station)}"}

    def metadata(self, address: str, role: str = READER, station: str = "") -> dict[str, str]:
        """gRPC metadata of that officer for a call to ``address``: the token when it is Envoy,
        else the claims header Envoy would forward (a direct call to a service)."""
        if address == self.envoy:
            return self.headers(role, station)
        return {CLAIMS_HEADER: claims_of(role, station)}

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


ATTACHED_LIMITS_NOTE = (
    "attached to make up's stack: its edge limits each token subject (StackConfig.rate_limits, default"
    " 50 calls/s, 6 generations/min), so loads through Envoy above that are refused and count as errors"
)


@contextlib.contextmanager
def running_target(run_dir: Path, *, attach: bool, keep: bool = False) -> Iterator[Target]:
    """A healthy mesh for the duration of the block.

    ``attach``: use ``make up``'s stack (default ports) and leave it running;
    its per-subject rate limits apply. Otherwise start a fresh stack on free
    ports in ``run_dir``, without effective rate limits, and stop it afterwards
    (unless ``keep``)."""
    if attach:
        stack = Stack(StackConfig(run_dir=REPO / ".run" / "stack"))
        if not stack.envoy_ready():
            raise RuntimeError("no stack to attach to: run `make up` first")
        print(f"note: {ATTACHED_LIMITS_NOTE}", flush=True)
        with _target(stack, owned=False) as target:
            yield target
        return
    stack = Stack(dataclasses.replace(StackConfig.for_tests(run_dir), rate_limits=UNTHROTTLED), owned=True)
    try:
        stack.up()
        with _target(stack, owned=True) as target:
            yield target
    finally:
        if keep:
            stack.release()
            print(f"stack kept running: {stack.urls()}")
        else:
            stack.down()


@contextlib.contextmanager
def _target(stack: Stack, *, owned: bool) -> Iterator[Target]:
    """``stack`` as a Target, with credentials from its identity provider for the block."""
    credentials = Credentials(stack.cfg.idp_url, stack.cfg.idp_admin_password)
    try:
        yield Target(stack, owned=owned, credentials=credentials)
    finally:
        credentials.close()


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
