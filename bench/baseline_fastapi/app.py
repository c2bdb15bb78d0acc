"""FastAPI cache-aside reads: one FIR, and the first keyset page of a station (or of every FIR)
with its total; Redis first, MariaDB on a miss (then cached)."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiomysql
import redis.asyncio as redis
from fastapi import FastAPI, HTTPException, Response

STATUS = {1: "FIR_STATUS_DRAFT", 2: "FIR_STATUS_FINALIZED"}
SOURCE = {
    1: "COMPLAINT_SOURCE_TEXT",
    2: "COMPLAINT_SOURCE_AUDIO",
    3: "COMPLAINT_SOURCE_IMAGE",
    4: "COMPLAINT_SOURCE_MANUAL",
}
COLUMNS = (
    "id, fir_number, status, station_code, station_name, station_district, station_state, complainant, incident,"
    " accused, witnesses, properties, complaint_source, complaint_language, complaint_text, summary, narrative,"
    " legal_sections, action_taken, officer_name, officer_rank, revision, created_at, updated_at, finalized_at"
)
SELECT = f"SELECT {COLUMNS} FROM firs WHERE id = %s"  # noqa: S608 - constant column list
PAGE = f"SELECT {COLUMNS}, pk FROM firs {{where}} ORDER BY created_at DESC, pk DESC LIMIT %s"  # noqa: S608
COUNT = "SELECT COUNT(*) AS n FROM firs {where}"
LIST_TTL_SECONDS = 60


@dataclass(frozen=True)
class Settings:
    """Where the baseline reads from."""

    mysql_host: str = "127.0.0.1"
    mysql_port: int = 3307
    mysql_user: str = "afirgen"
    mysql_password: str = ""
    mysql_database: str = "fir"
    redis_port: int = 6380
    redis_password: str = ""
    """The stack's Redis ``requirepass`` (empty: a Redis without one)."""
    ttl_seconds: int = 300
    key_prefix: str = "bench:fastapi:fir:"


def _time(value: datetime | None) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ") if value else None


def fir_json(row: dict[str, Any]) -> bytes:
    """The FIR as the mesh's REST side renders it (same field names, enums as names)."""
    return json.dumps(fir_dict(row), separators=(",", ":")).encode()


def fir_dict(row: dict[str, Any]) -> dict[str, Any]:
    """The FIR's JSON object, without empty fields."""
    body = {
        "id": row["id"],
        "fir_number": row["fir_number"],
        "status": STATUS.get(row["status"], "FIR_STATUS_UNSPECIFIED"),
        "station": {
            "code": row["station_code"],
            "name": row["station_name"],
            "district": row["station_district"],
            "state": row["station_state"],
        },
        "complainant": json.loads(row["complainant"]),
        "incident": json.loads(row["incident"]),
        "accused": json.loads(row["accused"]),
        "witnesses": json.loads(row["witnesses"]),
        "properties": json.loads(row["properties"]),
        "complaint": {
            "source": SOURCE.get(row["complaint_source"], ""),
            "text": row["complaint_text"],
            "language": row["complaint_language"],
        },
        "summary": row["summary"],
        "narrative": row["narrative"],
        "legal_sections": json.loads(row["legal_sections"]),
        "action_taken": row["action_taken"],
        "investigating_officer": {"name": row["officer_name"], "rank": row["officer_rank"]},
        "create_time": _time(row["created_at"]),
        "update_time": _time(row["updated_at"]),
        "finalize_time": _time(row["finalized_at"]),
        "etag": hashlib.sha256(f"{row['id']}:{row['revision']}".encode()).hexdigest()[:20],  # as the mesh's
    }
    return _without_defaults(body)


def _without_defaults(obj: dict[str, Any]) -> dict[str, Any]:
    """``obj`` without its members that hold a default value (``None``, ``""``, ``0``, ``false``,
    ``[]``), at every depth, as proto3 JSON leaves them out on the mesh's side; an object stays,
    even when it ends up empty, as a set message field does there (``"incident":{}``). Without
    this, a sparse FIR (the bench's own writes) came out about twice the size of the mesh's."""
    kept: dict[str, Any] = {}
    for key, value in obj.items():
        if isinstance(value, dict):
            kept[key] = _without_defaults(value)
        elif isinstance(value, list):
            if value:
                kept[key] = [_without_defaults(v) if isinstance(v, dict) else v for v in value]
        elif value is not None and value != "" and (value is True or value != 0):
            kept[key] = value
    return kept


def page_json(rows: list[dict[str, Any]], total: int, page_size: int) -> bytes:
    """A list page as the mesh's REST side renders it, with a keyset token after its last row."""
    token = ""
    if len(rows) == page_size:
        last = rows[-1]
        token = base64.urlsafe_b64encode(f"{_time(last['created_at'])}|{last['pk']}".encode()).decode()
    body = {"firs": [fir_dict(r) for r in rows], "next_page_token": token, "total_size": str(total)}
    return json.dumps(body, separators=(",", ":")).encode()


def create_app(settings: Settings) -> FastAPI:
    """The app; pools open at startup and close at shutdown."""
    state: dict[str, Any] = {}

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        state["pool"] = await aiomysql.create_pool(
            host=settings.mysql_host,
            port=settings.mysql_port,
            user=settings.mysql_user,
            password=settings.mysql_password,
            db=settings.mysql_database,
            minsize=1,
            maxsize=20,
            autocommit=True,
            charset="utf8mb4",
        )
        state["redis"] = redis.Redis(
            host="127.0.0.1", port=settings.redis_port, password=settings.redis_password or None, max_connections=100
        )
        yield
        state["pool"].close()
        await state["pool"].wait_closed()
        await state["redis"].aclose()

    app = FastAPI(lifespan=lifespan, openapi_url=None, docs_url=None, redoc_url=None)

    @app.get("/healthz")
    async def healthz() -> Response:
        return Response(b"ok", media_type="text/plain")

    @app.get("/v1/firs/{fir_id}")
    async def get_fir(fir_id: str) -> Response:
        key = settings.key_prefix + fir_id
        cached = await state["redis"].get(key)
        if cached is not None:
            return Response(cached, media_type="application/json")
        async with state["pool"].acquire() as conn, conn.cursor(aiomysql.DictCursor) as cur:
            await cur.execute(SELECT, (fir_id,))
            row = await cur.fetchone()
        if row is None:
            raise HTTPException(status_code=404, detail="no FIR with this id")
        body = fir_json(row)
        await state["redis"].set(key, body, ex=settings.ttl_seconds)
        return Response(body, media_type="application/json")

    @app.get("/v1/firs")
    async def list_firs(station: str = "", page_size: int = 20) -> Response:
        """First page, newest first: of ``station``, or of every FIR (keyset order, total by COUNT)."""
        size = max(1, min(page_size, 100))
        key = f"{settings.key_prefix}list:{station}:{size}"
        cached = await state["redis"].get(key)
        if cached is not None:
            return Response(cached, media_type="application/json")
        where, args = ("WHERE station_code = %s", (station,)) if station else ("", ())
        async with state["pool"].acquire() as conn, conn.cursor(aiomysql.DictCursor) as cur:
            await cur.execute(PAGE.format(where=where), (*args, size))
            rows = list(await cur.fetchall())
            await cur.execute(COUNT.format(where=where), args)
            total = int((await cur.fetchone())["n"])
        body = page_json(rows, total, size)
        await state["redis"].set(key, body, ex=LIST_TTL_SECONDS)
        return Response(body, media_type="application/json")

    return app
