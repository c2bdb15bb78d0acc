"""MySQL access shared by the services that own a schema (fir, jobs).

- A lazily opened aiomysql pool: nothing connects at construction; the
  readiness check and the first query open it, and a pool lost with the
  server is rebuilt by itself.
- Every statement has a name (:class:`Statement`), used in logs, metrics and
  the query plan checks; slow statements are logged with their name.
- Transient failures (lost connection, deadlock, lock wait timeout) are
  retried with exponential backoff and jitter (tenacity), a whole transaction
  at a time; when the database stays down the caller gets
  :class:`~afirgen_runtime.errors.Unavailable`.
- DATETIME columns hold UTC without a zone: :func:`to_db_time` and
  :func:`from_db_time` convert on the way in and out.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import aiomysql
import pymysql
from loguru import logger
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_random_exponential

from afirgen_runtime import metrics, tracing
from afirgen_runtime.errors import Unavailable
from afirgen_runtime.query_plans import parse_plan, problems
from afirgen_runtime.settings import MySQLSettings

T = TypeVar("T")

# Connection-level failures: the server went away or never answered.
CONNECTION_ERRORS = frozenset({2003, 2006, 2013, 2055, 1927, 1053})
# Statement-level failures that succeed on retry.
RETRYABLE_ERRORS = CONNECTION_ERRORS | {1213, 1205}

PLAN_COOLDOWN = 300.0  # seconds between two plan logs of one statement
ISOLATION_LEVELS = {name: name for name in ("READ UNCOMMITTED", "READ COMMITTED", "REPEATABLE READ", "SERIALIZABLE")}


@dataclass(frozen=True)
class Statement:
    """A named SQL statement (``%s`` placeholders). Names are ``area.verb_what``."""

    name: str
    sql: str


def to_db_time(when: datetime) -> datetime:
    """A time for a DATETIME column: UTC, naive (naive values are taken as UTC already)."""
    return when.astimezone(UTC).replace(tzinfo=None) if when.tzinfo else when


def from_db_time(value: datetime | None) -> datetime | None:
    """A DATETIME column's value as an aware UTC time."""
    return None if value is None else value.replace(tzinfo=UTC)


def _error_code(exc: BaseException) -> int | None:
    if isinstance(exc, pymysql.err.MySQLError) and exc.args and isinstance(exc.args[0], int):
        return exc.args[0]
    return None


def is_transient(exc: BaseException) -> bool:
    """True for failures worth retrying."""
    if isinstance(exc, ConnectionError | asyncio.TimeoutError | OSError):
        return True
    return _error_code(exc) in RETRYABLE_ERRORS


class Connection:
    """One connection, inside or outside a transaction."""

    def __init__(self, conn: aiomysql.Connection, db: Database) -> None:
        self._conn = conn
        self._db = db

    async def _run(self, stmt: Statement, args: Sequence[Any] | None, fetch: str) -> Any:
        started = time.perf_counter()
        with tracing.span(f"SQL {stmt.name}", **{"db.system": "mysql", "db.statement.name": stmt.name}):
            result = await self._execute(stmt, args, fetch)
        elapsed = time.perf_counter() - started
        self._db.observe(stmt.name, elapsed)
        if elapsed >= self._db.settings.slow_query_seconds:
            self._db.explain_later(stmt, args)
        return result

    async def _execute(self, stmt: Statement, args: Sequence[Any] | None, fetch: str) -> Any:
        async with self._conn.cursor() as cur:
            await cur.execute(stmt.sql, args)
            if fetch == "all":
                result = await cur.fetchall()
            elif fetch == "one":
                result = await cur.fetchone()
            else:
                result = cur.rowcount if fetch == "rowcount" else cur.lastrowid
        return result

    async def fetch_all(self, stmt: Statement, args: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        """All rows."""
        return list(await self._run(stmt, args, "all"))

    async def fetch_one(self, stmt: Statement, args: Sequence[Any] | None = None) -> tuple[Any, ...] | None:
        """The first row or ``None``."""
        row: tuple[Any, ...] | None = await self._run(stmt, args, "one")
        return row

    async def execute(self, stmt: Statement, args: Sequence[Any] | None = None) -> int:
        """Affected row count."""
        count: int = await self._run(stmt, args, "rowcount")
        return count

    async def insert(self, stmt: Statement, args: Sequence[Any] | None = None) -> int:
        """The AUTO_INCREMENT id of the inserted row, or the value a ``LAST_INSERT_ID(expr)`` in
        the statement set (the insert id of its OK packet)."""
        last_id: int = await self._run(stmt, args, "lastrowid")
        return last_id

    async def execute_many(self, stmt: Statement, rows: Sequence[Sequence[Any]]) -> int:
        """One statement for many rows (multi-row INSERT)."""
        if not rows:
            return 0
        started = time.perf_counter()
        async with self._conn.cursor() as cur:
            await cur.executemany(stmt.sql, rows)
            count: int = cur.rowcount
        self._db.observe(stmt.name, time.perf_counter() - started)
        return count


class Database:
    """A pool over one schema, opened on first use."""

    def __init__(self, settings: MySQLSettings) -> None:
        self.settings = settings
        self._pool: aiomysql.Pool | None = None
        self._lock = asyncio.Lock()
        self._waiting = 0
        self._explained: dict[str, float] = {}
        self._plan_tasks: set[asyncio.Task[None]] = set()

    def observe(self, name: str, seconds: float) -> None:
        """Record one statement's duration (slow-query log and metrics)."""
        metrics.SQL_DURATION.labels(name).observe(seconds)
        if seconds >= self.settings.slow_query_seconds:
            metrics.SQL_SLOW.labels(name).inc()
            logger.warning("slow statement", statement=name, duration_ms=round(seconds * 1000, 1))

    def explain_later(self, stmt: Statement, args: Sequence[Any] | None) -> None:
        """Log the plan of a slow statement (at most once per statement per cooldown)."""
        now = time.monotonic()
        if stmt.sql.lstrip()[:6].upper() != "SELECT" or now - self._explained.get(stmt.name, -1e9) < PLAN_COOLDOWN:
            return
        self._explained[stmt.name] = now
        task = asyncio.get_running_loop().create_task(self._log_plan(stmt, args))
        self._plan_tasks.add(task)
        task.add_done_callback(self._plan_tasks.discard)

    async def _log_plan(self, stmt: Statement, args: Sequence[Any] | None) -> None:
        try:
            row = await self.fetch_one(Statement("explain." + stmt.name, "EXPLAIN FORMAT=JSON " + stmt.sql), args)
        except Exception as exc:
            logger.info("could not explain slow statement", statement=stmt.name, error=type(exc).__name__)
            return
        if row is None:
            return
        plan = parse_plan(stmt.name, stmt.sql, str(row[0]))
        logger.warning(
            "slow statement plan",
            statement=stmt.name,
            tables=[f"{t.table}:{t.access_type}:{t.key or '-'}:{t.rows}" for t in plan.tables],
            filesort=plan.filesort,
            temporary=plan.temporary,
            problems=problems(plan),
        )

    def _pool_gauges(self, pool: aiomysql.Pool) -> None:
        name = self.settings.database
        metrics.DB_POOL_SIZE.labels(name).set(pool.size)
        metrics.DB_POOL_IN_USE.labels(name).set(pool.size - pool.freesize)
        metrics.DB_POOL_MAX.labels(name).set(pool.maxsize)
        metrics.DB_POOL_WAITING.labels(name).set(self._waiting)

    @property
    def pool(self) -> aiomysql.Pool | None:
        """The pool, once opened (for pool metrics)."""
        return self._pool

    async def _open(self) -> aiomysql.Pool:
        async with self._lock:
            if self._pool is None or self._pool.closed:
                s = self.settings
                self._pool = await aiomysql.create_pool(
                    host=s.host,
                    port=s.port,
                    user=s.user,
                    password=s.password,
                    db=s.database,
                    minsize=min(s.pool_min, s.pool_max),
                    maxsize=s.pool_max,
                    connect_timeout=s.connect_timeout_seconds,
                    autocommit=True,
                    charset="utf8mb4",
                    init_command="SET time_zone = '+00:00'",
                    pool_recycle=600,
                )
            return self._pool

    async def _attempt(
        self, work: Callable[[Connection], Awaitable[T]], transaction: bool, isolation: str | None = None
    ) -> T:
        pool = self._pool if self._pool is not None and not self._pool.closed else await self._open()
        waited = time.perf_counter()
        self._waiting += 1
        try:
            conn = await pool.acquire()
        finally:
            self._waiting -= 1
        metrics.DB_ACQUIRE.labels(self.settings.database).observe(time.perf_counter() - waited)
        self._pool_gauges(pool)
        try:
            if transaction:
                if isolation:
                    async with conn.cursor() as cur:  # applies to the next transaction only
                        await cur.execute(f"SET TRANSACTION ISOLATION LEVEL {ISOLATION_LEVELS[isolation]}")
                await conn.begin()
            try:
                result = await work(Connection(conn, self))
                if transaction:
                    await conn.commit()
                return result
            except BaseException:
                if transaction and not conn.closed:
                    try:
                        await conn.rollback()
                    except Exception:
                        conn.close()
                raise
        except BaseException as exc:
            if _error_code(exc) in CONNECTION_ERRORS or isinstance(exc, OSError | ConnectionError):
                conn.close()  # a closed connection is discarded by release()
            raise
        finally:
            pool.release(conn)
            self._pool_gauges(pool)

    async def run(
        self,
        work: Callable[[Connection], Awaitable[T]],
        *,
        transaction: bool = False,
        isolation: str | None = None,
    ) -> T:
        """Run ``work`` on one connection (in a transaction if asked), retrying transient failures.

        ``isolation`` (``"READ COMMITTED"``...) sets the level of that one
        transaction; queues use READ COMMITTED so ``FOR UPDATE SKIP LOCKED``
        scans take no gap locks that would block concurrent inserts."""
        try:
            async for attempt in AsyncRetrying(
                retry=retry_if_exception(is_transient),
                stop=stop_after_attempt(self.settings.query_retries),
                wait=wait_random_exponential(multiplier=0.05, max=1.0),
                reraise=True,
            ):
                with attempt:
                    return await self._attempt(work, transaction, isolation)
        except BaseException as exc:
            if is_transient(exc):
                logger.error("database unavailable", error=type(exc).__name__, code=_error_code(exc))
                raise Unavailable("the database is unavailable; retry later") from exc
            raise
        raise AssertionError("unreachable")

    async def fetch_all(self, stmt: Statement, args: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        """Run one read statement outside a transaction."""
        return await self.run(lambda c: c.fetch_all(stmt, args))

    async def fetch_one(self, stmt: Statement, args: Sequence[Any] | None = None) -> tuple[Any, ...] | None:
        """Run one read statement and return its first row."""
        return await self.run(lambda c: c.fetch_one(stmt, args))

    async def ping(self) -> bool:
        """Readiness: True when a connection answers."""
        try:
            row = await self.fetch_one(Statement("health.ping", "SELECT 1"))
        except Exception:
            return False
        return row == (1,)

    async def close(self) -> None:
        """Close the pool after in-flight statements finished."""
        if self._pool is not None:
            self._pool.close()
            await self._pool.wait_closed()
            self._pool = None
