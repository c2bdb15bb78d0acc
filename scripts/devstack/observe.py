"""The operator's view of a local stack (``make observe``): Prometheus scraping every service
and Envoy with the alert rules of ``ops/prometheus`` loaded, and Jaeger receiving the traces
of Envoy and every service over OTLP, with a page per trace.

It runs under a supervisord of its own in ``<stack run dir>/observe`` (so it starts and stops
beside the stack's processes without touching them), and leaves a marker there that makes
the stack's services and Envoy export their spans to Jaeger from their next start on
(:func:`traced`); ``python -m scripts.devstack.observe up`` restarts them once so they do.

Jaeger is v1's all-in-one (collector, in-memory storage and query API in one process), built
from the Go module proxy by ``scripts/install/jaeger.sh``. The Go module carries no build of
Jaeger's own web UI, so Jaeger serves ``ops/traceview/`` instead: a page that lists recent
requests, finds one by its request id, and draws one trace's spans from Jaeger's query API.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

from scripts.devstack.config import REPO, VENV, StackConfig, free_port
from scripts.devstack.supervisor import Program, render_supervisord

PROMETHEUS = Path("/usr/bin/prometheus")
JAEGER_INSTALL = REPO / "scripts" / "install" / "jaeger.sh"
PROMETHEUS_DIR = REPO / "ops" / "prometheus"
TRACEVIEW_DIR = REPO / "ops" / "traceview"
MARKER = "observed.json"
"""In the observe run dir while Jaeger runs: the OTLP endpoint the stack exports to."""
SCRAPE_JOBS = {
    # job of ops/prometheus/prometheus.yml: the StackConfig ports it scrapes (one per replica)
    "fir": ("fir_metrics_port", "fir_2_metrics_port"),
    "inference": ("inference_metrics_port", "inference_2_metrics_port"),
    "cache": ("cache_metrics_port",),
    "jobs": ("jobs_metrics_port",),
    "jobs-worker": ("jobs_worker_metrics_port",),
    "envoy": ("envoy_admin_port",),
}
START_SECONDS = 60.0


@dataclass(frozen=True)
class ObserveConfig:
    """Ports of Prometheus and Jaeger, all on 127.0.0.1."""

    stack: StackConfig
    """The stack observed: its metrics ports are scraped, its run dir holds ours."""
    prometheus_port: int = 9090
    jaeger_port: int = 16686
    """Jaeger's query API and the trace page."""
    otlp_port: int = 4317
    """OTLP/gRPC: where Envoy and the services send spans."""
    otlp_http_port: int = 4318
    jaeger_query_grpc_port: int = 16685
    jaeger_collector_http_port: int = 14268
    jaeger_collector_grpc_port: int = 14250
    jaeger_admin_port: int = 14269
    """Jaeger's health check (``/``) and its own metrics."""
    scrape_seconds: int = 5
    """Scrape and rule evaluation interval (alerts' ``for`` clauses count in these)."""

    @classmethod
    def for_tests(cls, stack: StackConfig) -> ObserveConfig:
        """Free ports, so a test's view never collides with `make observe`."""
        ports = {f.name: free_port() for f in dataclasses.fields(cls) if f.name.endswith("_port")}
        return cls(stack=stack, **ports)

    @property
    def run_dir(self) -> Path:
        return self.stack.run_dir / "observe"

    @property
    def otlp_endpoint(self) -> str:
        return f"127.0.0.1:{self.otlp_port}"

    @property
    def prometheus_url(self) -> str:
        return f"http://127.0.0.1:{self.prometheus_port}"

    @property
    def jaeger_url(self) -> str:
        return f"http://127.0.0.1:{self.jaeger_port}"


def traced(stack: StackConfig) -> StackConfig:
    """``stack`` exporting its spans to the running ``make observe`` Jaeger, if there is one."""
    marker = stack.run_dir / "observe" / MARKER
    if stack.otlp_endpoint or not marker.exists():
        return stack
    return dataclasses.replace(stack, otlp_endpoint=json.loads(marker.read_text())["otlp_endpoint"])


def prometheus_config(cfg: ObserveConfig) -> str:
    """``ops/prometheus/prometheus.yml`` pointed at this stack's ports, with the rules of
    ``ops/prometheus/alerts.yml`` by absolute path."""
    config = yaml.safe_load((PROMETHEUS_DIR / "prometheus.yml").read_text())
    config["global"] = {"scrape_interval": f"{cfg.scrape_seconds}s", "evaluation_interval": f"{cfg.scrape_seconds}s"}
    config["rule_files"] = [str(PROMETHEUS_DIR / name) for name in config["rule_files"]]
    for job in config["scrape_configs"]:
        ports = [getattr(cfg.stack, name) for name in SCRAPE_JOBS[job["job_name"]]]
        job["static_configs"] = [{"targets": [f"127.0.0.1:{port}" for port in ports]}]
    return yaml.safe_dump(config, sort_keys=False)


def programs(cfg: ObserveConfig, jaeger: Path) -> list[Program]:
    """Prometheus and Jaeger (the binary at ``jaeger``), each listening on 127.0.0.1 only."""
    run = cfg.run_dir
    prometheus = Program(
        name="prometheus",
        group="observe",
        command=" ".join(
            [
                f"{PROMETHEUS} --config.file={run / 'prometheus.yml'} --storage.tsdb.path={run / 'prometheus'}",
                f"--storage.tsdb.retention.time=2d --web.listen-address=127.0.0.1:{cfg.prometheus_port}",
            ]
        ),
    )
    listen = {
        "collector.otlp.grpc": cfg.otlp_port,
        "collector.otlp.http": cfg.otlp_http_port,
        "collector.grpc-server": cfg.jaeger_collector_grpc_port,
        "collector.http-server": cfg.jaeger_collector_http_port,
        "query.http-server": cfg.jaeger_port,
        "query.grpc-server": cfg.jaeger_query_grpc_port,
        "admin.http": cfg.jaeger_admin_port,
    }
    jaeger_program = Program(
        name="jaeger",
        group="observe",
        command=" ".join(
            [
                str(jaeger),
                *(f"--{flag}.host-port=127.0.0.1:{port}" for flag, port in listen.items()),
                # Spans stay in memory: the newest 100,000 traces, gone at a restart.
                f"--memory.max-traces=100000 --query.static-files={TRACEVIEW_DIR}",
            ]
        ),
        env={"SPAN_STORAGE_TYPE": "memory"},
    )
    return [prometheus, jaeger_program]


def install_jaeger() -> Path:
    """The pinned Jaeger binary, built into the cache on first use (minutes), else found there."""
    proc = subprocess.run(["bash", str(JAEGER_INSTALL)], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"installing Jaeger failed:\n{proc.stdout}{proc.stderr}")
    return Path(proc.stdout.strip().splitlines()[-1])


class Observer:
    """Prometheus and Jaeger of one stack, under their own supervisord."""

    def __init__(self, cfg: ObserveConfig) -> None:
        self.cfg = cfg
        # render_supervisord puts the socket, pid file and logs in the run dir it is given.
        self._sup = dataclasses.replace(cfg.stack, run_dir=cfg.run_dir)
        self.conf = cfg.run_dir / "supervisord.conf"

    def ctl(self, *args: str) -> str:
        """Run supervisorctl against the observe supervisord."""
        command = [str(VENV / "bin" / "supervisorctl"), "-c", str(self.conf), *args]
        proc = subprocess.run(command, capture_output=True, text=True, check=False)
        return proc.stdout + proc.stderr

    def running(self) -> bool:
        return (self.cfg.run_dir / "supervisor.sock").exists() and self.ctl("pid").strip().isdigit()

    def up(self, jaeger: Path) -> None:
        """Start (or keep) Prometheus and Jaeger and wait until both answer."""
        (self.cfg.run_dir / "logs").mkdir(parents=True, exist_ok=True)
        (self.cfg.run_dir / "prometheus.yml").write_text(prometheus_config(self.cfg))
        self.conf.write_text(render_supervisord(self._sup, programs(self.cfg, jaeger)))
        if self.running():
            self.ctl("reread")
            self.ctl("update")
        else:
            subprocess.run([str(VENV / "bin" / "supervisord"), "-c", str(self.conf)], check=True)
            _wait(self.running, 15, "the observe supervisord")
        out = self.ctl("start", "observe:*")
        if "ERROR" in out and "already started" not in out:
            raise RuntimeError(f"could not start Prometheus and Jaeger: {out.strip()}; logs in {self.cfg.run_dir}")
        _wait(lambda: _http_ok(f"{self.cfg.prometheus_url}/-/ready"), START_SECONDS, "Prometheus")
        _wait(lambda: _http_ok(f"http://127.0.0.1:{self.cfg.jaeger_admin_port}/"), START_SECONDS, "Jaeger")
        (self.cfg.run_dir / MARKER).write_text(json.dumps({"otlp_endpoint": self.cfg.otlp_endpoint}))

    def down(self) -> bool:
        """Stop both (False: they were not running); the stack exports no spans from its next start on."""
        (self.cfg.run_dir / MARKER).unlink(missing_ok=True)
        if not self.running():
            return False
        self.ctl("stop", "observe:*")
        self.ctl("shutdown")
        _wait(lambda: not (self.cfg.run_dir / "supervisord.pid").exists(), 30, "the observe supervisord to stop")
        return True

    def urls(self) -> str:
        return "\n".join(
            [
                f"Prometheus (targets, alerts):  {self.cfg.prometheus_url}/classic/targets",
                f"Traces (recent requests):      {self.cfg.jaeger_url}/",
                f"One request's trace:           {self.cfg.jaeger_url}/trace/<trace id>   (or search by request id)",
                f"OTLP/gRPC receiver:            {self.cfg.otlp_endpoint}",
            ]
        )


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:  # noqa: S310 - loopback
            return bool(resp.status == 200)
    except OSError:
        return False


def _wait(probe: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not probe():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} not ready after {timeout:.0f}s")
        time.sleep(0.2)


def main(argv: list[str]) -> int:
    """``up``: start Prometheus and Jaeger beside the `make up` stack (starting the stack when
    it is down) and restart its services and Envoy so they send their spans to Jaeger;
    ``down``: stop both; ``status``."""
    from scripts.devstack.stack import Stack

    cfg = ObserveConfig(stack=StackConfig(run_dir=REPO / ".run" / "stack"))
    observer = Observer(cfg)
    action = argv[0] if argv else "status"
    if action == "up":
        observer.up(install_jaeger())
        stack = Stack(traced(cfg.stack))
        stack.up()  # services whose settings changed restart with the OTLP endpoint set
        stack.ctl("restart", "edge:*")  # Envoy reads its (now tracing) config only at start
        _wait(lambda: _http_ok(f"{stack.cfg.base_url}/healthz"), START_SECONDS, "Envoy")
        print(observer.urls())
    elif action == "down":
        if observer.down():
            print("Prometheus and Jaeger stopped")
    elif action == "status":
        print(observer.ctl("status") if observer.running() else "observe is not running")
    else:
        print("usage: python -m scripts.devstack.observe up|down|status", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
