"""Backups of the stack's MariaDB (``python -m scripts.devstack.backup create|restore|verify``).

``create``   a consistent physical backup of the running stack's server with ``mariadb-backup``
             (InnoDB pages copied while the server works, plus the redo written meanwhile; the
             backup ends at one commit and records that commit's binlog position), prepared so it
             is ready to copy back, then read by a throw-away server that counts and checksums
             every table of ``fir`` and ``jobs``. Written to ``backups/<UTC time>/`` only once
             complete (``data/``, ``manifest.json``, the tools' logs), owner-only: it holds the
             personal data of complainants.
``restore``  copies a backup into a fresh data directory of a stopped (or new) stack, after
             moving the old data directory and binary logs aside (nothing is deleted), starts
             MariaDB, checks every table against the manifest, then creates the accounts,
             applies newer migrations and starts the rest of the stack.
``verify``   checks a backup's files against its manifest; with ``--run-dir``, a stack's tables too.

The operator's guide, with point-in-time recovery from the binary logs, is
docs/runbooks/backup-and-restore.md.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pymysql

from scripts.devstack.backup_manifest import Manifest, damaged_files, differences, file_hashes, table_state
from scripts.devstack.config import REPO, StackConfig
from scripts.devstack.stack import MARIADB_USER, SCHEMAS, Stack

BACKUP_ROOT = REPO / "backups"
DEFAULT_RUN_DIR = REPO / ".run" / "stack"
MARIADB_BACKUP = "/usr/bin/mariadb-backup"
MARIADBD = "/usr/sbin/mariadbd"
MARIADB_BINLOG = "/usr/bin/mariadb-binlog"
MARIADB_CLIENT = "/usr/bin/mariadb"
BINLOG_BASENAME = "mariadb-bin"
SCRATCH_SERVER_SECONDS = 60.0


class BackupError(RuntimeError):
    """A backup or restore could not be made; the message says why and where the log is."""


@dataclass(frozen=True)
class Restored:
    """What a restore did."""

    backup: Path
    moved_aside: Path | None
    seconds: dict[str, float]


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


def _run(args: list[str], log: Path, what: str) -> None:
    """Run a tool with its output appended to ``log``; BackupError with the log's tail on failure."""
    with log.open("ab") as out:
        proc = subprocess.run(args, stdout=out, stderr=subprocess.STDOUT, check=False)
    if proc.returncode != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:])
        raise BackupError(f"{what} failed (exit {proc.returncode}); {log}:\n{tail}")


def _chown_tree(path: Path, user: str) -> None:
    subprocess.run(["chown", "-R", f"{user}:{user}", str(path)], check=True)


def _owner_only(path: Path) -> None:
    """The tree at ``path`` owned by the caller, directories 0700 and files 0600."""
    subprocess.run(["chown", "-R", f"{os.getuid()}:{os.getgid()}", str(path)], check=True)
    for directory, _dirs, files in os.walk(path):
        os.chmod(directory, 0o700)
        for name in files:
            os.chmod(os.path.join(directory, name), 0o600)


@contextlib.contextmanager
def _scratch_server(data: Path) -> Iterator[Path]:
    """A throw-away MariaDB on ``data`` (as the mysql user, no network, no accounts, no binlog);
    yields its socket and shuts it down cleanly, so ``data`` stays a clean data directory."""
    socket = data / "verify.sock"
    _chown_tree(data, MARIADB_USER)
    proc = subprocess.Popen(
        [
            MARIADBD,
            "--no-defaults",
            f"--user={MARIADB_USER}",
            f"--datadir={data}",
            f"--socket={socket}",
            f"--pid-file={data / 'verify.pid'}",
            f"--log-error={data / 'verify.err'}",
            "--skip-networking",
            "--skip-grant-tables",
            "--skip-log-bin",
            "--innodb-buffer-pool-size=64M",
            "--innodb-log-file-size=8M",
            "--innodb-buffer-pool-dump-at-shutdown=OFF",
            "--innodb-buffer-pool-load-at-startup=OFF",
            "--character-set-server=utf8mb4",
            "--collation-server=utf8mb4_unicode_ci",
            "--default-time-zone=+00:00",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + SCRATCH_SERVER_SECONDS
        while True:
            try:
                pymysql.connect(unix_socket=str(socket), user="root").close()
                break
            except pymysql.err.OperationalError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    log = (data / "verify.err").read_text(errors="replace") if (data / "verify.err").exists() else ""
                    raise BackupError(f"the backup does not start as a server:\n{log[-3000:]}") from None
                time.sleep(0.2)
        yield socket
    finally:
        if proc.poll() is None:
            with contextlib.suppress(pymysql.err.MySQLError):
                conn = pymysql.connect(unix_socket=str(socket), user="root")
                with conn.cursor() as cur:
                    cur.execute("SHUTDOWN")
                conn.close()
            try:
                proc.wait(SCRATCH_SERVER_SECONDS)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _binlog_position(data: Path) -> dict[str, object]:
    """``xtrabackup_binlog_info``: the binlog file, offset and GTID of the backup's last commit."""
    info = data / "xtrabackup_binlog_info"
    if not info.exists():
        return {}
    file, position, *gtid = info.read_text().split()
    return {"file": file, "position": int(position), "gtid": gtid[0] if gtid else ""}


def _tool_version() -> str:
    proc = subprocess.run([MARIADB_BACKUP, "--version"], capture_output=True, text=True, check=False)
    return (proc.stdout + proc.stderr).strip().splitlines()[0] if proc.returncode == 0 else "mariadb-backup"


def _unique(root: Path, stamp: str) -> Path:
    target, n = root / stamp, 1
    while target.exists():
        n += 1
        target = root / f"{stamp}-{n}"
    return target


def create(cfg: StackConfig, out_root: Path = BACKUP_ROOT) -> Path:
    """Back up the running stack of ``cfg`` into ``out_root/<UTC time>/``; returns that directory."""
    if not Path(MARIADB_BACKUP).exists():
        raise BackupError(f"{MARIADB_BACKUP} is missing: `make install` installs the mariadb-backup package")
    started = time.monotonic()
    try:
        conn = pymysql.connect(unix_socket=str(cfg.mysql_socket), user="root")
    except pymysql.err.OperationalError as exc:
        raise BackupError(f"the stack's MariaDB ({cfg.mysql_socket}) is not running: `make up` first") from exc
    with conn.cursor() as cur:
        cur.execute("SELECT VERSION()")
        version = str(cur.fetchone()[0])  # type: ignore[index]
    conn.close()
    stamp = _stamp()
    # Built beside the stack (which the mysql user may pass through) and moved into place when
    # complete, so backups/ never holds half a backup.
    staging = cfg.run_dir / f"backup-{stamp}.partial"
    staging.mkdir(mode=0o711)
    os.chmod(staging, 0o711)  # noqa: S103 - the mysql user passes through (never lists it)
    data, log = staging / "data", staging / "mariadb-backup.log"
    seconds: dict[str, float] = {}
    try:
        step = time.monotonic()
        _run(
            [
                MARIADB_BACKUP,
                "--no-defaults",
                "--backup",
                f"--target-dir={data}",
                f"--socket={cfg.mysql_socket.resolve()}",
                "--user=root",
            ],
            log,
            "mariadb-backup --backup",
        )
        seconds["backup"] = time.monotonic() - step
        step = time.monotonic()
        _run([MARIADB_BACKUP, "--no-defaults", "--prepare", f"--target-dir={data}"], log, "mariadb-backup --prepare")
        seconds["prepare"] = time.monotonic() - step
        step = time.monotonic()
        with _scratch_server(data) as socket:
            reader = pymysql.connect(unix_socket=str(socket), user="root")
            try:
                schemas = table_state(reader, SCHEMAS)
            finally:
                reader.close()
        (data / "verify.err").replace(staging / "verify.log")  # the throw-away server's log, not data
        for name in ("verify.pid", "multi-master.info"):
            (data / name).unlink(missing_ok=True)
        seconds["verify"] = time.monotonic() - step
        _owner_only(staging)
        step = time.monotonic()
        files = file_hashes(staging, "data")
        seconds["hash"] = time.monotonic() - step
        seconds["total"] = time.monotonic() - started
        manifest = Manifest(
            created_at=datetime.now(UTC).isoformat(timespec="seconds"),
            server_version=version,
            tool=_tool_version(),
            binlog=_binlog_position(data),
            schemas=schemas,
            files=files,
            seconds={k: round(v, 3) for k, v in seconds.items()},
        )
        manifest.write(staging)
        out_root.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(out_root, 0o700)
        target = _unique(out_root, stamp)
        shutil.move(str(staging), str(target))
        os.chmod(target, 0o700)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def latest(root: Path = BACKUP_ROOT) -> Path:
    """The newest complete backup under ``root``."""
    found = sorted(p for p in root.glob("*") if (p / "manifest.json").exists()) if root.exists() else []
    if not found:
        raise BackupError(f"no backups in {root}: `make backup` makes one")
    return found[-1]


def _move_aside(cfg: StackConfig, stamp: str) -> Path | None:
    """Move the stack's data directory and binary logs to ``mariadb/before-restore-<stamp>/``."""
    present = [p for p in (cfg.mysql_data_dir, cfg.mysql_binlog_dir) if p.exists() and any(p.iterdir())]
    if not present:
        for path in (cfg.mysql_data_dir, cfg.mysql_binlog_dir):
            if path.exists():
                path.rmdir()
        return None
    aside = cfg.run_dir / "mariadb" / f"before-restore-{stamp}"
    aside.mkdir(mode=0o700)
    for path in (cfg.mysql_data_dir, cfg.mysql_binlog_dir):
        if path.exists():
            path.rename(aside / path.name)
    return aside


def binlog_files(binlogs: Path, first: str) -> list[Path]:
    """The binary logs in ``binlogs`` from ``first`` on, in order."""
    files = sorted(p for p in binlogs.glob(f"{BINLOG_BASENAME}.[0-9]*") if p.name >= first)
    if not files or files[0].name != first:
        raise BackupError(f"{binlogs} lacks {first}, where the backup ends: no point-in-time recovery from it")
    return files


def replay(stack: Stack, manifest: Manifest, binlogs: Path, until: datetime) -> None:
    """Apply the changes logged after the backup and before ``until`` (UTC), from the binary logs
    in ``binlogs``, to the restored server (before any migration or service touches it)."""
    if not manifest.binlog:
        raise BackupError("the backup has no binlog position (made without --log-bin): no point-in-time recovery")
    files = binlog_files(binlogs, str(manifest.binlog["file"]))
    log = stack.cfg.run_dir / "mariadb" / "restore.log"
    with log.open("ab") as out:
        reader = subprocess.Popen(
            [
                MARIADB_BINLOG,
                "--no-defaults",
                f"--start-position={manifest.binlog['position']}",
                f"--stop-datetime={until.astimezone(UTC):%Y-%m-%d %H:%M:%S}",
                *map(str, files),
            ],
            stdout=subprocess.PIPE,
            stderr=out,
            env=os.environ | {"TZ": "UTC"},  # --stop-datetime is read in the local time zone
        )
        assert reader.stdout is not None
        applied = subprocess.run(
            [MARIADB_CLIENT, "--no-defaults", f"--socket={stack.cfg.mysql_socket}", "--user=root", "--binary-mode"],
            stdin=reader.stdout,
            stdout=out,
            stderr=subprocess.STDOUT,
            check=False,
        )
        reader.stdout.close()
        read = reader.wait()
    if read != 0 or applied.returncode != 0:
        raise BackupError(f"replaying the binary logs failed; see {log}")


def restore(
    backup: Path,
    cfg: StackConfig,
    *,
    database_only: bool = False,
    until: datetime | None = None,
    binlogs: Path | None = None,
) -> Restored:
    """Bring ``backup`` into a fresh data directory of the (stopped or new) stack of ``cfg``, check
    it against the manifest and start the stack (only MariaDB and Redis if ``database_only``).

    With ``until``, replay the binary logs (``binlogs``; by default the stack's own, which this
    restore moves aside) from the backup's position up to that moment first: point-in-time recovery."""
    started = time.monotonic()
    manifest = Manifest.read(backup)
    damaged = damaged_files(backup, manifest)
    if damaged:
        raise BackupError(f"{backup} is damaged, not restoring it: " + "; ".join(damaged[:10]))
    seconds = {"check_files": time.monotonic() - started}
    stack = Stack(cfg)
    if stack.supervisor_running():
        raise BackupError(f"the stack in {cfg.run_dir} is running: stop it first (`make down`)")
    if until is not None:  # before anything moves: is there a log to replay from the backup on?
        if not manifest.binlog:
            raise BackupError("the backup has no binlog position (made without --log-bin): no point-in-time recovery")
        binlog_files(binlogs or cfg.mysql_binlog_dir, str(manifest.binlog["file"]))
    step = time.monotonic()
    (cfg.run_dir / "mariadb").mkdir(parents=True, exist_ok=True)
    aside = _move_aside(cfg, _stamp())
    if until is not None and binlogs is None:
        assert aside is not None  # the stack's binary logs were there a moment ago
        binlogs = aside / cfg.mysql_binlog_dir.name
    try:
        _copy_back(backup, cfg)
        seconds["copy_back"] = time.monotonic() - step
        step = time.monotonic()
        stack.start_database()
        seconds["start"] = time.monotonic() - step
        step = time.monotonic()
        _check_tables(stack, manifest)
        seconds["check_tables"] = time.monotonic() - step
        if until is not None and binlogs is not None:
            step = time.monotonic()
            replay(stack, manifest, binlogs, until)
            seconds["replay"] = time.monotonic() - step
        step = time.monotonic()
        stack.up(database_only=database_only)  # accounts of this stack, newer migrations, the services
        seconds["up"] = time.monotonic() - step
    except BackupError as exc:
        if aside is not None:
            raise BackupError(f"{exc}\nthe previous data directory and binary logs are in {aside}") from exc
        raise
    seconds["total"] = time.monotonic() - started
    return Restored(backup, aside, {k: round(v, 3) for k, v in seconds.items()})


def _copy_back(backup: Path, cfg: StackConfig) -> None:
    """The backup's data directory into the stack's (absent or empty), owned by mysql."""
    _run(
        [
            MARIADB_BACKUP,
            "--no-defaults",
            "--copy-back",
            f"--target-dir={(backup / 'data').resolve()}",
            f"--datadir={cfg.mysql_data_dir.resolve()}",
        ],
        cfg.run_dir / "mariadb" / "restore.log",
        "mariadb-backup --copy-back",
    )
    _chown_tree(cfg.mysql_data_dir, MARIADB_USER)


def _check_tables(stack: Stack, manifest: Manifest) -> None:
    """Every table of fir and jobs as the manifest says, before anything else touches them."""
    conn = stack.root_connection()
    try:
        wrong = differences(manifest.schemas, table_state(conn, SCHEMAS))
    finally:
        conn.close()
    if wrong:
        raise BackupError("the restored tables differ from the backup's manifest: " + "; ".join(wrong))


def verify(backup: Path, cfg: StackConfig | None) -> list[str]:
    """What is wrong with ``backup`` (its files; with ``cfg``, that stack's tables against it)."""
    manifest = Manifest.read(backup)
    problems = damaged_files(backup, manifest)
    if cfg is not None:
        conn = pymysql.connect(unix_socket=str(cfg.mysql_socket), user="root")
        try:
            problems += differences(manifest.schemas, table_state(conn, SCHEMAS))
        finally:
            conn.close()
    return problems


def _utc(text: str) -> datetime:
    """A command-line time, read as UTC unless it names its offset."""
    when = datetime.fromisoformat(text)
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.devstack.backup", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="action", required=True)
    make = sub.add_parser("create", help="back up the running stack")
    make.add_argument("--run-dir", type=Path, default=DEFAULT_RUN_DIR)
    make.add_argument("--out", type=Path, default=BACKUP_ROOT, help="where backups go (default backups/)")
    back = sub.add_parser("restore", help="restore a backup into a fresh data directory and start the stack")
    back.add_argument("backup", type=Path, nargs="?", help="a backup directory (default: the newest in backups/)")
    back.add_argument("--run-dir", type=Path, default=DEFAULT_RUN_DIR)
    back.add_argument("--database-only", action="store_true", help="start MariaDB and Redis only")
    back.add_argument(
        "--until",
        type=_utc,
        help="point-in-time recovery: replay the binary logs up to this UTC time ('2026-11-28 10:14:00')",
    )
    back.add_argument("--binlogs", type=Path, help="binary logs to replay (default: those the restore moves aside)")
    check = sub.add_parser("verify", help="check a backup's files (and a quiet stack's tables) against its manifest")
    check.add_argument("backup", type=Path)
    check.add_argument("--run-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    try:
        if args.action == "create":
            target = create(StackConfig(run_dir=args.run_dir.resolve()), args.out.resolve())
            manifest = Manifest.read(target)
            rows = {schema: sum(t["rows"] for t in tables.values()) for schema, tables in manifest.schemas.items()}
            print(f"backup {target}: rows {rows}, binlog {manifest.binlog}, seconds {manifest.seconds}")
        elif args.action == "restore":
            source = (args.backup or latest()).resolve()
            done = restore(
                source,
                StackConfig(run_dir=args.run_dir.resolve()),
                database_only=args.database_only,
                until=args.until,
                binlogs=args.binlogs.resolve() if args.binlogs else None,
            )
            if done.moved_aside:
                print(f"the previous data directory and binary logs are in {done.moved_aside}")
            print(f"restored {source} into {args.run_dir}; seconds {done.seconds}")
        else:
            cfg = StackConfig(run_dir=args.run_dir.resolve()) if args.run_dir else None
            problems = verify(args.backup.resolve(), cfg)
            for problem in problems:
                print(problem)
            print(f"{args.backup}: " + ("OK" if not problems else f"{len(problems)} problems"))
            return 1 if problems else 0
    except BackupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
