"""Bring one local stack up and down (``python -m scripts.devstack up|down|status``)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import grpc
import pymysql
from grpc_health.v1 import health_pb2, health_pb2_grpc

from scripts.devstack import identity, observe
from scripts.devstack.config import REPO, VENV, StackConfig, service_python
from scripts.devstack.supervisor import programs, replica_name, write_configs

SCHEMAS = ("fir", "jobs")
MODEL_SERVERS = {"llm": "llm_port", "asr": "asr_port", "ocr": "ocr_port"}
MODEL_START_SECONDS = 300.0
IDP_START_SECONDS = 180.0
MARIADB_USER = "mysql"
"""The system user Debian's mariadb-server package creates; MariaDB runs as it."""
"""Keycloak starts in 15-40 s on two idle cores; several times that while models load beside it."""
"""Model servers load weights at start-up; on a busy 2-core machine that can take minutes."""


LEGAL_DATA = REPO.parent / "shared" / "data" / "legal"


def statute_files() -> list[str]:
    """``legal_import`` arguments for the full BNS, when the shared statute files are there."""
    sections, schedule = LEGAL_DATA / "bns_sections.jsonl", LEGAL_DATA / "bns_offence_schedule.jsonl"
    if not sections.exists():
        return []
    return ["--sections", str(sections), "--schedule", str(schedule)]


class StackError(RuntimeError):
    """The stack did not come up; the message says which part and where its log is."""


class Stack:
    """One supervisord with MariaDB, the services and Envoy below it."""

    def __init__(self, cfg: StackConfig, *, owned: bool = False) -> None:
        """``owned``: the stack belongs to this process (a test session, a bench run) and is
        shut down when it exits, however it exits (``scripts/devstack/reaper.py``), unless
        ``release()`` keeps it."""
        self.cfg = cfg.with_secrets()
        self.conf = cfg.run_dir / "supervisord.conf"
        self._owned = owned
        self._reaper: subprocess.Popen[bytes] | None = None

    # --- supervisord -------------------------------------------------------
    def ctl(self, *args: str, check: bool = True) -> str:
        """Run supervisorctl against this stack."""
        proc = subprocess.run(
            [str(VENV / "bin" / "supervisorctl"), "-c", str(self.conf), *args],
            capture_output=True,
            text=True,
            check=False,
        )
        if check and proc.returncode not in (0,):
            raise StackError(f"supervisorctl {' '.join(args)} failed: {proc.stdout}{proc.stderr}")
        return proc.stdout

    def supervisor_running(self) -> bool:
        if not (self.cfg.run_dir / "supervisor.sock").exists():
            return False
        return "RUNNING" in self.ctl("pid", check=False) or self.ctl("pid", check=False).strip().isdigit()

    def _start_supervisor(self) -> None:
        write_configs(self.cfg)
        if self.supervisor_running():
            self.ctl("reread")
            self.ctl("update")
            return
        subprocess.run([str(VENV / "bin" / "supervisord"), "-c", str(self.conf)], check=True)
        self._wait(lambda: self.supervisor_running(), 15, "supervisord")
        if self._owned:
            supervisord = (self.cfg.run_dir / "supervisord.pid").read_text().strip()
            self._reaper = subprocess.Popen(
                [sys.executable, "-m", "scripts.devstack.reaper", str(os.getpid()), supervisord, str(self.conf)],
                cwd=REPO,
                start_new_session=True,  # a signal to this process's group does not reach it
                stdin=subprocess.DEVNULL,
            )

    def release(self) -> None:
        """Keep an owned stack running after this process exits (``--keep-stack``)."""
        if self._reaper is not None:
            self._reaper.kill()
            self._reaper.wait()
            self._reaper = None

    def start(self, *names: str) -> None:
        out = self.ctl("start", *names, check=False)
        if "ERROR" in out and "already started" not in out:
            raise StackError(f"could not start {names}: {out.strip()}; logs in {self.cfg.run_dir / 'logs'}")

    # --- waiting ------------------------------------------------------------
    @staticmethod
    def _wait(probe: object, timeout: float, what: str, log: Path | None = None) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if probe():  # type: ignore[operator]
                    return
            except Exception:  # noqa: S110 - not up yet
                pass
            time.sleep(0.2)
        tail = ""
        if log and log.exists():
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-30:])
        raise StackError(f"{what} not ready after {timeout:.0f}s" + (f"; last log lines:\n{tail}" if tail else ""))

    def grpc_serving(self, port: int) -> bool:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            reply = stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=1)
            return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)

    def http_ok(self, url: str) -> bool:
        """True when ``url`` (a health URL on 127.0.0.1) answers 200."""
        with urllib.request.urlopen(url, timeout=2) as resp:  # noqa: S310 - loopback
            return bool(resp.status == 200)

    def service_ports(self) -> dict[str, int]:
        """The gRPC port of every service process, by program name (``fir``, ``fir-2``...)."""
        c = self.cfg
        ports = {replica_name("fir", i): port for i, port in enumerate(c.fir_ports, 1)}
        ports |= {replica_name("inference", i): port for i, port in enumerate(c.inference_ports, 1)}
        return ports | {"jobs": c.jobs_port, "cache": c.cache_port}

    def envoy_ready(self) -> bool:
        with urllib.request.urlopen(f"{self.cfg.base_url}/healthz", timeout=1) as resp:  # noqa: S310 - loopback
            return bool(resp.status == 200)

    # --- MariaDB ------------------------------------------------------------
    def _init_mariadb(self) -> None:
        """A data directory owned by the ``mysql`` system user: MariaDB never runs as root."""
        home = self.cfg.run_dir / "mariadb"
        data = self.cfg.mysql_data_dir
        # mysql must be able to pass through the run dir (never to list it).
        self.cfg.run_dir.chmod(self.cfg.run_dir.stat().st_mode | 0o011)
        self._init_binlog_dir()
        self._init_private_dir(home / "tmp")
        if (data / "mysql").exists():
            if data.owner() != MARIADB_USER:  # a data dir made when MariaDB still ran as root
                subprocess.run(["chown", "-R", f"{MARIADB_USER}:{MARIADB_USER}", str(home)], check=True)
            return
        data.mkdir(parents=True, exist_ok=True)
        shutil.chown(home, MARIADB_USER, MARIADB_USER)
        shutil.chown(data, MARIADB_USER, MARIADB_USER)
        subprocess.run(
            [
                "mariadb-install-db",
                "--no-defaults",
                f"--datadir={data}",
                f"--user={MARIADB_USER}",
                "--auth-root-authentication-method=socket",
                "--skip-test-db",
            ],
            check=True,
            capture_output=True,
        )

    @staticmethod
    def _init_private_dir(path: Path) -> None:
        """A directory only MariaDB reads and writes (its temporary tables)."""
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        if path.owner() != MARIADB_USER:
            shutil.chown(path, MARIADB_USER, MARIADB_USER)

    def _init_binlog_dir(self) -> None:
        """The binary logs' directory: MariaDB's own, readable by nobody else (they hold every change)."""
        binlog = self.cfg.mysql_binlog_dir
        binlog.mkdir(mode=0o700, parents=True, exist_ok=True)
        for path in (binlog.parent, binlog):
            if path.owner() != MARIADB_USER:
                shutil.chown(path, MARIADB_USER, MARIADB_USER)

    def wait_database(self) -> None:
        """Until MariaDB answers on its socket."""
        log = self.cfg.run_dir / "logs" / "mariadb.log"
        self._wait(lambda: self.root_connection().close() or True, 60, "MariaDB", log)

    def start_database(self) -> None:
        """MariaDB and Redis only (``infra:*``), as they are: no accounts, no migrations."""
        self._init_mariadb()
        self._start_supervisor()
        self.start("infra:*")
        self.wait_database()

    def root_connection(self) -> pymysql.connections.Connection:
        return pymysql.connect(unix_socket=str(self.cfg.mysql_socket), user="root", autocommit=True)

    def _bootstrap_databases(self) -> None:
        conn = self.root_connection()
        with conn.cursor() as cur:
            pw = self.cfg.mysql_password
            for user_host in ("'afirgen'@'127.0.0.1'", "'afirgen'@'localhost'"):
                cur.execute(f"CREATE USER IF NOT EXISTS {user_host} IDENTIFIED BY %s", (pw,))
                cur.execute(f"ALTER USER {user_host} IDENTIFIED BY %s", (pw,))
            for user_host in ("'afirgen'@'127.0.0.1'", "'afirgen'@'localhost'"):
                # Scratch schemas for tools such as the query-plan check.
                cur.execute(f"GRANT ALL PRIVILEGES ON `afirgen\\_scratch%`.* TO {user_host}")
            for schema in SCHEMAS:
                cur.execute(
                    f"CREATE DATABASE IF NOT EXISTS `{schema}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
                )
                for user_host in ("'afirgen'@'127.0.0.1'", "'afirgen'@'localhost'"):
                    cur.execute(f"GRANT ALL PRIVILEGES ON `{schema}`.* TO {user_host}")
        conn.close()

    def migrate(self) -> None:
        env = os.environ | {
            "AFIRGEN_MYSQL_HOST": "127.0.0.1",
            "AFIRGEN_MYSQL_PORT": str(self.cfg.mysql_port),
            "AFIRGEN_MYSQL_USER": "afirgen",
            "AFIRGEN_MYSQL_PASSWORD": self.cfg.mysql_password,
        }
        steps = [(schema, ["-m", "afirgen_runtime.migrate", "up", "--schema", schema]) for schema in SCHEMAS]
        # The legal knowledge base: the whole BNS (358 sections and the offence schedule) with the
        # curated seed's search keywords (an idempotent upsert).
        steps.append(("legal sections", ["-m", "afirgen_fir.entrypoints.legal_import", "--seed", *statute_files()]))
        python, path = service_python("fir")  # the fir image runs both (deploy/docker/Dockerfile.services)
        for what, args in steps:
            proc = subprocess.run(
                [python, *args],
                env=env | path | {"AFIRGEN_MYSQL_DATABASE": "fir"},
                capture_output=True,
                text=True,
                check=False,
            )
            if proc.returncode != 0:
                raise StackError(f"{what} failed:\n{proc.stdout}{proc.stderr}")
            print(proc.stdout.strip())

    # --- whole stack --------------------------------------------------------
    def up(self, *, database_only: bool = False) -> None:
        """Start everything and wait until healthy (idempotent). ``database_only``: MariaDB
        and Redis with the accounts and migrations, nothing else (backup tests, restores)."""
        started = time.monotonic()
        logs = self.cfg.run_dir / "logs"
        self._init_mariadb()
        self._start_supervisor()
        self.start("infra:*")
        if not database_only:
            self.start("identity:*")  # Keycloak and the models start while the database comes up
            self.start("models:*")
        self.wait_database()
        self._bootstrap_databases()
        self.migrate()
        if database_only:
            print(f"database up in {time.monotonic() - started:.1f}s")
            return
        self.start("services:*")
        for name, port in self.service_ports().items():
            self._wait(lambda p=port: self.grpc_serving(p), 60, f"service {name}", logs / f"{name}.log")
        for name, attr in MODEL_SERVERS.items():
            url = f"http://127.0.0.1:{getattr(self.cfg, attr)}/health"
            self._wait(lambda u=url: self.http_ok(u), MODEL_START_SECONDS, f"model server {name}", logs / f"{name}.log")
        self._wait(lambda: identity.ready(self.cfg.idp_url), IDP_START_SECONDS, "identity provider", logs / "idp.log")
        self.start("edge:*")
        self._wait(self.envoy_ready, 30, "Envoy", logs / "envoy.log")
        print(f"stack up in {time.monotonic() - started:.1f}s")

    def down(self) -> None:
        """Stop every process (services drain first, MariaDB last)."""
        if not self.supervisor_running():
            print("stack is not running")
            return
        self.ctl("stop", "edge:*", check=False)
        self.ctl("stop", "services:*", check=False)
        self.ctl("stop", "models:*", check=False)
        self.ctl("stop", "identity:*", check=False)
        self.ctl("stop", "infra:*", check=False)
        self.ctl("shutdown", check=False)
        self._wait(lambda: not (self.cfg.run_dir / "supervisord.pid").exists(), 30, "supervisord shutdown")
        if self._reaper is not None:  # it exits once supervisord has
            self._reaper.wait(30)
            self._reaper = None
        print("stack down")

    def destroy(self) -> None:
        """Stop and delete all data of the stack."""
        self.down()
        shutil.rmtree(self.cfg.run_dir, ignore_errors=True)

    def status(self) -> str:
        return self.ctl("status", check=False)

    def urls(self) -> str:
        c = self.cfg
        return "\n".join(
            [
                f"REST + gRPC (Envoy):  {c.base_url}",
                f"Envoy admin:          http://127.0.0.1:{c.envoy_admin_port}",
                f"fir (gRPC, direct):   {', '.join(f'127.0.0.1:{port}' for port in c.fir_ports)}",
                f"MariaDB:              127.0.0.1:{c.mysql_port} (socket {c.mysql_socket})",
                f"Identity (Keycloak):  {c.idp_url}/realms/{identity.REALM}  (token: make token USER=si.a)",
                f"Redis:                127.0.0.1:{c.redis_port} (cache service 127.0.0.1:{c.cache_port})",
                f"logs:                 {c.run_dir / 'logs'}",
            ]
        )


def main(argv: list[str]) -> int:
    cfg = observe.traced(StackConfig(run_dir=REPO / ".run" / "stack"))  # spans to `make observe`'s Jaeger
    stack = Stack(cfg)
    action = argv[0] if argv else "status"
    if action == "up":
        stack.up()
        print(stack.status())
        print(stack.urls())
    elif action == "down":
        stack.down()
    elif action == "status":
        print(stack.status() if stack.supervisor_running() else "stack is not running")
    elif action == "programs":
        for p in programs(cfg):
            print(p.name, p.command)
    else:
        print("usage: python -m scripts.devstack up|down|status", file=sys.stderr)
        return 2
    return 0
