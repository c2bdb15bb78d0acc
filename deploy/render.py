"""Render the generated files of deploy/ from their sources, or check they are current.

    .venv/bin/python -m deploy.render           # (re)write them all
    .venv/bin/python -m deploy.render --check   # exit 1 and name the stale ones

What is generated:

* the Envoy edge configs for docker-compose and Kubernetes, from edge/envoy.yaml.tmpl (the
  same template and cluster tuning as the local stack, scripts/devstack/supervisor.py), with
  upstreams found by DNS instead of on 127.0.0.1;
* copies Kubernetes needs inside the kustomize tree (kustomize loads no file from outside
  it): the transcoder's descriptor set edge/generated/transcoder.pb, the OpenAPI document the edge
  serves (edge/generated/openapi.json) and, for the dev overlay only, the
  development realm scripts/devstack/identity/afirgen-realm.json;
* the PrometheusRule, from ops/prometheus/alerts.yml (deploy/k8s/render_rules.py).
"""

from __future__ import annotations

import string
import sys
from dataclasses import dataclass
from pathlib import Path

from deploy.k8s import render_rules
from scripts.devstack import edge as devstack_edge
from scripts.devstack.supervisor import _TRACING, _cluster, _otlp_cluster

REPO = Path(__file__).resolve().parents[1]
TEMPLATE = REPO / "edge" / "envoy.yaml.tmpl"
DESCRIPTOR = REPO / "edge" / "generated" / "transcoder.pb"
REALM = REPO / "scripts" / "devstack" / "identity" / "afirgen-realm.json"
K8S = REPO / "deploy" / "k8s"

ENVOY_PORT = 8080
ENVOY_ADMIN_PORT = 9901
DESCRIPTOR_IN_CONTAINER = "/etc/envoy/transcoder.pb"
OPENAPI = REPO / "edge" / "generated" / "openapi.json"
OPENAPI_IN_CONTAINER = "/etc/envoy/openapi.json"
LIMITS = devstack_edge.RateLimits()
JWT_AUDIENCE = "afirgen-api"
"""Audience the afirgen realm's clients put into access tokens (scripts/devstack/identity)."""


@dataclass(frozen=True)
class Edge:
    """One deployment target of the edge: where the upstreams are and which issuer to trust."""

    output: Path
    upstreams: tuple[tuple[str, str, int], ...]
    """(Envoy cluster, DNS name, gRPC port) of fir, jobs, inference and cache."""
    otlp: tuple[str, int]
    """OTLP/gRPC collector Envoy reports its spans to."""
    keycloak: tuple[str, int]
    """Where Envoy fetches the JWKS (the in-network Keycloak)."""
    issuer: str
    """``iss`` of accepted tokens: Keycloak's configured hostname plus the realm path."""
    hosts: tuple[str, ...] = ()
    """Public host names the edge answers for (the Host allow-list), beside localhost."""

    @property
    def jwks_uri(self) -> str:
        host, port = self.keycloak
        return f"http://{host}:{port}/realms/afirgen/protocol/openid-connect/certs"


def _grpc_upstreams(inference_host: str) -> tuple[tuple[str, str, int], ...]:
    return (
        ("fir", "fir", 50051),
        ("jobs", "jobs", 50054),
        ("inference", inference_host, 50052),
        ("cache", "cache", 50053),
    )


K8S_OTLP = ("otel-collector.observability.svc", 4317)
"""The cluster's OpenTelemetry collector (not part of these manifests; see deploy/README.md)."""

EDGES = (
    Edge(
        output=REPO / "deploy" / "compose" / "envoy.yaml",
        upstreams=_grpc_upstreams("inference"),
        otlp=("otel-collector", 4317),
        keycloak=("keycloak", 8080),
        issuer="http://keycloak:8080/realms/afirgen",
        hosts=("edge", "edge:8080"),
    ),
    Edge(
        output=K8S / "base" / "edge" / "envoy.yaml",
        upstreams=_grpc_upstreams("inference-proxy"),
        otlp=K8S_OTLP,
        keycloak=("keycloak", 8080),
        issuer="http://keycloak:8080/realms/afirgen",
        hosts=("edge", "edge:8080", "afirgen.local"),
    ),
    Edge(
        output=K8S / "overlays" / "production" / "edge" / "envoy.yaml",
        upstreams=_grpc_upstreams("inference-proxy"),
        otlp=K8S_OTLP,
        keycloak=("keycloak", 8080),
        # PLACEHOLDER: the public URL of the production IdP (Keycloak's KC_HOSTNAME).
        issuer="https://id.afirgen.example/realms/afirgen",
        hosts=("afirgen.example", "api.afirgen.example"),
    ),
)

COPIES = (
    (DESCRIPTOR, K8S / "base" / "edge" / "transcoder.pb"),
    (OPENAPI, K8S / "base" / "edge" / "openapi.json"),
    (REALM, K8S / "overlays" / "dev" / "identity" / "afirgen-realm.json"),
)


class TemplateChanged(RuntimeError):
    """edge/envoy.yaml.tmpl no longer has a line this renderer adapts: update deploy/render.py."""


def _replace_once(text: str, old: str, new: str, where: str) -> str:
    if text.count(old) != 1:
        raise TemplateChanged(f"{where}: expected exactly one {old!r}")
    return text.replace(old, new)


def _strict_dns(static: str) -> str:
    """A STATIC cluster of the local stack turned into one whose addresses come from DNS."""
    return _replace_once(
        static, "type: STATIC\n", "type: STRICT_DNS\n      dns_lookup_family: V4_PREFERRED\n", "cluster"
    )


def _dns_cluster(static: str, host: str) -> str:
    """A cluster of the local stack (STATIC, 127.0.0.1) pointed at ``host`` found by DNS."""
    return _replace_once(_strict_dns(static), "address: 127.0.0.1,", f"address: {host},", "cluster")


def render_edge(edge: Edge, template_text: str | None = None) -> str:
    """The envoy.yaml of one target."""
    text = TEMPLATE.read_text() if template_text is None else template_text
    for port in ("${ENVOY_PORT}", "${ENVOY_ADMIN_PORT}"):
        # In a container the listener and the admin interface face the container network
        # (compose publishes admin on 127.0.0.1 only; Kubernetes limits it by NetworkPolicy).
        text = _replace_once(
            text, f"{{address: 127.0.0.1, port_value: {port}}}", f"{{address: 0.0.0.0, port_value: {port}}}", "listener"
        )
    # One endpoint per upstream: its DNS name has an address per replica (STRICT_DNS uses them all).
    clusters = "".join(_dns_cluster(_cluster(name, (port,)), host) for name, host, port in edge.upstreams)
    otlp_host, otlp_port = edge.otlp
    clusters += _strict_dns(_otlp_cluster(otlp_host, otlp_port))
    clusters += devstack_edge.idp_cluster(edge.keycloak[0], edge.keycloak[1], dns=True)
    values = {
        "TRACING": _TRACING.rstrip("\n"),
        "ENVOY_PORT": ENVOY_PORT,
        "ENVOY_ADMIN_PORT": ENVOY_ADMIN_PORT,
        "DESCRIPTOR": DESCRIPTOR_IN_CONTAINER,
        "MAX_REQUEST_BYTES": devstack_edge.MAX_GENERATION_BYTES,
        "MAX_BODY_BYTES": devstack_edge.MAX_BODY_BYTES,
        "MAX_CONNECTIONS": LIMITS.max_connections,
        "ALLOWED_HOSTS": devstack_edge.allowed_hosts(ENVOY_PORT, edge.hosts),
        "ROUTES": devstack_edge.routes(LIMITS, OPENAPI_IN_CONTAINER),
        "RBAC_POLICIES": devstack_edge.rbac_policies(),
        "JWT_ISSUER": edge.issuer,
        "JWT_AUDIENCE": JWT_AUDIENCE,
        "JWKS_URI": edge.jwks_uri,
    }
    try:
        body = string.Template(text).substitute(
            values, CLUSTERS=string.Template(clusters.rstrip("\n")).substitute(values)
        )
    except KeyError as missing:
        raise TemplateChanged(
            f"edge/envoy.yaml.tmpl needs ${{{missing.args[0]}}}: add it to deploy/render.py"
        ) from None
    header = (
        f"# Generated by deploy/render.py from edge/envoy.yaml.tmpl for {edge.output.relative_to(REPO)}: do not edit.\n"
    )
    return header + body


def outputs() -> dict[Path, bytes]:
    """Every generated file and its wanted content."""
    files = {edge.output: render_edge(edge).encode() for edge in EDGES}
    files |= {target: source.read_bytes() for source, target in COPIES}
    files[render_rules.OUTPUT] = render_rules.render().encode()
    return files


def stale() -> list[str]:
    """Generated files that differ from what their sources give (repository-relative)."""
    return sorted(
        str(path.relative_to(REPO))
        for path, data in outputs().items()
        if not path.exists() or path.read_bytes() != data
    )


def main(argv: list[str]) -> int:
    if "--check" in argv:
        old = stale()
        for name in old:
            print(f"stale: {name} (run .venv/bin/python -m deploy.render)", file=sys.stderr)
        return 1 if old else 0
    for path, data in outputs().items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        print(f"wrote {path.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
