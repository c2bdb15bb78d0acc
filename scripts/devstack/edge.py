"""What the Envoy edge routes, who may call it, and how much: rendered into
edge/envoy.yaml.tmpl for the local stack (scripts/devstack/supervisor.py) and
for compose and Kubernetes (deploy/render.py).

Routes match gRPC method paths: the transcoder turns a REST call into its gRPC
method and routing starts again. Two REST prefixes are routes of their own,
only so that the body limit (applied before transcoding) can be larger for
generation; they never reach an upstream as REST.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_BODY_BYTES = 1024 * 1024
"""Body limit of every route but generation."""
MAX_GENERATION_BYTES = 12 * 1024 * 1024
"""Body limit of generation: a scanned page or a recording, base64 in JSON."""
OPENAPI_PATH = "/openapi.json"
"""Where the edge serves edge/generated/openapi.json, without a token (the jwt_authn rules of
edge/envoy.yaml.tmpl let it through; route_config's max_direct_response_body_size_bytes bounds it)."""


@dataclass(frozen=True)
class RateLimits:
    """Per token subject: tokens per interval and the burst, for most calls and for generation."""

    calls_per_second: int = 50
    call_burst: int = 100
    generations_per_minute: int = 6
    generation_burst: int = 3
    max_connections: int = 1024


FIR_READERS = ("constable", "sub_inspector", "sho", "district_sp", "auditor")

ONE_FIR = ("GetFir", "UpdateFir", "RegenerateFir", "FinalizeFir", "ListFirEvents", "GetFirDocument")
"""FIR methods of one FIR. Their REST calls go to the fir replica the FIR's id hashes to
(``lb_policy`` MAGLEV on the fir cluster, the id read from the REST path the transcoder keeps in
``x-envoy-original-path``), so the replica that answers a write answers the reads after it: its
near cache, which the write refreshed, serves drafts as they are now. Other calls (lists,
statistics, creations, gRPC clients, whose path names no FIR) go to any replica. When the
replicas change (one fails its health checks, one comes back) a FIR moves; the replica it moves
to serves its copy only while the invalidation feed is live, which bounds how stale
(afirgen_runtime/near_cache.py)."""
HASH_BY_FIR = (
    "hash_policy: [{header: {header_name: x-envoy-original-path,"
    " regex_rewrite: {pattern: {regex: '^/v1/firs/([^/:?]+).*$'}, substitution: '\\1'}}}]"
)
CLUSTER_LB = {"fir": "MAGLEV"}
"""Load balancing of a cluster where it is not LEAST_REQUEST: fir's routes of one FIR hash its id."""

NEVER_SENT = "connect-failure,refused-stream,reset-before-request"
"""Failures after which the upstream never saw the call: any call may be repeated on another replica."""
IDEMPOTENT = NEVER_SENT + ",reset,unavailable"
"""Failures after which only a call that is safe to repeat may be: the replica died or hung mid-call
(``reset``, also a per-try timeout) or answered gRPC UNAVAILABLE."""
PER_TRY_SECONDS = 5
"""How long one try of a short call (a read, a keyed create, a finalization) may take before it is
repeated on another replica: a frozen replica costs a call at most this much."""
READS = {
    "afirgen.fir.v1.FirService": ("GetFir", "ListFirs", "GetFirStats", "ListFirEvents", "GetFirDocument"),
    "afirgen.jobs.v1.JobService": ("GetJob", "ListJobs"),
}
"""Methods that only read, so any failure of theirs may be retried."""
IDEMPOTENCY_KEY = "{headers: [{name: idempotency-key, present_match: true}]}"


def retry_policy(retry_on: str, per_try_seconds: int = 0) -> str:
    """A route's retry policy: up to two more tries, each on a replica not tried yet."""
    per_try = f" per_try_timeout: {per_try_seconds}s," if per_try_seconds else ""
    return (
        f"retry_policy: {{retry_on: {retry_on!r}, num_retries: 2,{per_try}"
        " retry_host_predicate: [{name: envoy.retry_host_predicates.previous_hosts, typed_config: {'@type':"
        " type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate}}],"
        " host_selection_retry_max_attempts: 3, retry_back_off: {base_interval: 0.025s, max_interval: 0.25s}}"
    )


READ_RETRY = retry_policy(IDEMPOTENT, PER_TRY_SECONDS)
WRITE_RETRY = retry_policy(NEVER_SENT)


def _role(role: str) -> str:
    return (
        "{sourced_metadata: {metadata_matcher: {filter: envoy.filters.http.jwt_authn,"
        " path: [{key: jwt_payload}, {key: roles}],"
        f" value: {{list_match: {{one_of: {{string_match: {{exact: {role}}}}}}}}}}}}}}}"
    )


def _paths(*paths: str) -> str:
    rules = ", ".join(
        f"{{url_path: {{path: {{prefix: {p!r}}}}}}}" if p.endswith("/") else f"{{url_path: {{path: {{exact: {p!r}}}}}}}"
        for p in paths
    )
    return f"[{{or_rules: {{rules: [{rules}]}}}}]"


def rbac_policies(indent: int = 26) -> str:
    """RBAC ALLOW policies: FIR methods for officers and auditors, operations for operators."""
    pad = " " * indent
    policies = {
        "fir-records": (_paths("/afirgen.fir.v1.FirService/"), [_role(r) for r in FIR_READERS]),
        "public-reference": (
            _paths(
                "/afirgen.fir.v1.LegalSectionService/",
                "/afirgen.inference.v1.InferenceService/ListModels",
                "/grpc.health.v1.Health/",
                OPENAPI_PATH,
            ),
            ["{any: true}"],
        ),
        "operations": (
            _paths(
                "/afirgen.jobs.v1.JobService/GetJob",
                "/afirgen.jobs.v1.JobService/ListJobs",
                "/afirgen.jobs.v1.JobService/CancelJob",
                "/afirgen.jobs.v1.JobService/RetryJob",
                "/afirgen.cache.v1.CacheService/GetCacheStats",
            ),
            [_role("operator")],
        ),
    }
    lines = []
    for name, (permissions, principals) in policies.items():
        lines += [f"{pad}{name}:", f"{pad}  permissions: {permissions}"]
        lines += [f"{pad}  principals: [{', '.join(principals)}]"]
    return "\n".join(lines)


def _buffer(limit: int) -> str:
    return (
        "envoy.filters.http.buffer: {'@type':"
        " type.googleapis.com/envoy.extensions.filters.http.buffer.v3.BufferPerRoute,"
        f" buffer: {{max_request_bytes: {limit}}}}}"
    )


def _rate_limit(name: str, tokens: int, fill_seconds: int, burst: int) -> str:
    hundred = "{numerator: 100, denominator: HUNDRED}"
    return (
        "envoy.filters.http.local_ratelimit: {'@type': type.googleapis.com/envoy.extensions.filters.http."
        f"local_ratelimit.v3.LocalRateLimit, stat_prefix: {name},"
        " token_bucket: {max_tokens: 1000000, tokens_per_fill: 1000000, fill_interval: 1s},"
        f" filter_enabled: {{runtime_key: edge.rl.{name}.enabled, default_value: {hundred}}},"
        f" filter_enforced: {{runtime_key: edge.rl.{name}.enforced, default_value: {hundred}}},"
        f" descriptors: [{{entries: [{{key: subject}}], token_bucket: {{max_tokens: {burst},"
        f" tokens_per_fill: {tokens}, fill_interval: {fill_seconds}s}}}}],"
        " max_dynamic_descriptors: 20000,"
        " rate_limits: [{actions: [{request_headers: {header_name: x-afirgen-sub, descriptor_key: subject}}]}]}"
    )


def _openapi_route(document: str, pad: str) -> list[str]:
    """The OpenAPI document of the REST surface, answered by the edge itself from ``document`` (a file
    path Envoy reads when it loads the config). The transcoder is off for it: it would refuse a path
    that maps to no gRPC method (reject_unknown_method)."""
    disabled = "{'@type': type.googleapis.com/envoy.config.route.v3.FilterConfig, disabled: true}"
    return [
        f'{pad}- match: {{path: "{OPENAPI_PATH}"}}',
        f'{pad}  direct_response: {{status: 200, body: {{filename: "{document}"}}}}',
        f"{pad}  response_headers_to_add:",
        f"{pad}    - header: {{key: content-type, value: application/json}}",
        f"{pad}      append_action: OVERWRITE_IF_EXISTS_OR_ADD",
        f"{pad}  typed_per_filter_config:",
        f"{pad}    envoy.filters.http.grpc_json_transcoder: {disabled}",
    ]


def routes(limits: RateLimits, openapi: str, indent: int = 24) -> str:
    """The routes of the edge's virtual host, most specific first; ``openapi`` is the path of
    edge/generated/openapi.json as Envoy sees it."""
    pad = " " * indent
    calls = _rate_limit("calls", limits.calls_per_second, 1, limits.call_burst)
    generations = _rate_limit(
        "generations", 1, max(1, 60 // max(1, limits.generations_per_minute)), limits.generation_burst
    )
    big = _buffer(MAX_GENERATION_BYTES)
    # Every route may repeat a call the upstream never saw; reads, finalizations (idempotent by
    # their etag) and creations carrying an Idempotency-Key header also one a replica died or hung
    # in. A generation is repeated without a per-try timeout (it may take minutes) and not on
    # UNAVAILABLE (the model server it waited on is down for every replica).
    generate = retry_policy(NEVER_SENT + ",reset")
    keyed = ", " + IDEMPOTENCY_KEY[1:-1]
    fir = "/afirgen.fir.v1.FirService/"
    table = [
        # REST prefixes, seen before transcoding: only the body limit differs.
        ('{prefix: "/v1/firs:generate"}', "{cluster: fir, timeout: 180s}", [big]),
        ('{prefix: "/v1/firs:streamGenerate"}', "{cluster: fir, timeout: 0s, idle_timeout: 120s}", [big]),
        # gRPC methods, after transcoding. Generation waits on model servers.
        (
            f'{{path: "{fir}GenerateFir"{keyed}}}',
            f"{{cluster: fir, timeout: 180s, {generate}}}",
            [big, generations],
        ),
        (f'{{path: "{fir}GenerateFir"}}', f"{{cluster: fir, timeout: 180s, {WRITE_RETRY}}}", [big, generations]),
        (
            f'{{path: "{fir}StreamGenerateFir"{keyed}}}',
            f"{{cluster: fir, timeout: 0s, idle_timeout: 120s, {generate}}}",
            [big, generations],
        ),
        (
            f'{{path: "{fir}StreamGenerateFir"}}',
            f"{{cluster: fir, timeout: 0s, idle_timeout: 120s, {WRITE_RETRY}}}",
            [big, generations],
        ),
        (f'{{path: "{fir}RegenerateFir"}}', f"{{cluster: fir, timeout: 180s, {WRITE_RETRY}}}", [generations]),
        (f'{{path: "{fir}CreateFir"{keyed}}}', f"{{cluster: fir, timeout: 15s, {READ_RETRY}}}", [calls]),
        (f'{{path: "{fir}FinalizeFir"}}', f"{{cluster: fir, timeout: 15s, {READ_RETRY}}}", [calls]),
        *(
            (
                f'{{path: "/{service}/{method}"}}',
                f"{{cluster: {service.split('.')[1]}, timeout: 15s, {READ_RETRY}}}",
                [calls],
            )
            for service, methods in READS.items()
            for method in methods
        ),
        ('{prefix: "/afirgen.fir.v1.LegalSectionService/"}', f"{{cluster: fir, timeout: 15s, {READ_RETRY}}}", [calls]),
        (f'{{path: "{fir}UpdateFir"}}', f"{{cluster: fir, timeout: 15s, {WRITE_RETRY}}}", [calls]),
        ('{prefix: "/afirgen.fir.v1."}', f"{{cluster: fir, timeout: 15s, {WRITE_RETRY}}}", [calls]),
        *(
            (f'{{path: "/afirgen.jobs.v1.JobService/{m}"}}', f"{{cluster: jobs, timeout: 15s, {WRITE_RETRY}}}", [calls])
            for m in ("CancelJob", "RetryJob")
        ),
        (
            '{path: "/afirgen.inference.v1.InferenceService/ListModels"}',
            f"{{cluster: inference, timeout: 15s, {READ_RETRY}}}",
            [calls],
        ),
        (
            '{path: "/afirgen.cache.v1.CacheService/GetCacheStats"}',
            f"{{cluster: cache, timeout: 15s, {READ_RETRY}}}",
            [calls],
        ),
        # gRPC health of the fir service through the edge (load balancers, ceiling benchmarks).
        ('{prefix: "/grpc.health.v1.Health/"}', f"{{cluster: fir, timeout: 5s, {READ_RETRY}}}", []),
    ]
    lines = _openapi_route(openapi, pad)
    one_fir = {f'{{path: "{fir}{method}"' for method in ONE_FIR}
    for match, action, per_filter in table:
        if any(match.startswith(prefix) for prefix in one_fir):
            action = f"{action[:-1]}, {HASH_BY_FIR}}}"
        lines.append(f"{pad}- match: {match}")
        lines.append(f"{pad}  route: {action}")
        if per_filter:
            lines.append(f"{pad}  typed_per_filter_config:")
            lines += [f"{pad}    {config}" for config in per_filter]
    return "\n".join(lines)


def allowed_hosts(port: int, extra: tuple[str, ...] = ()) -> str:
    """The Host allow-list: the loopback names with and without the port, and any public names."""
    names = [f"127.0.0.1:{port}", f"localhost:{port}", "127.0.0.1", "localhost", *extra]
    return ", ".join(f'"{n}"' for n in names)


def idp_cluster(host: str, port: int, *, dns: bool = False) -> str:
    """The cluster Envoy fetches the identity provider's JWKS from."""
    kind = "STRICT_DNS\n      dns_lookup_family: V4_PREFERRED" if dns else "STATIC"
    return f"""    - name: idp
      type: {kind}
      connect_timeout: 1s
      load_assignment:
        cluster_name: idp
        endpoints:
          - lb_endpoints:
              - endpoint:
                  address:
                    socket_address: {{address: {host}, port_value: {port}}}
"""
