"""Test data: a large ``firs`` table seeded straight into MariaDB, and a hot set made through the API.

The large table is filled by multi-row ``INSERT ... SELECT`` statements over
MariaDB's SEQUENCE engine (``seq_1_to_N``): the rows are built inside the
server, 100k per statement, so a million FIRs take a minute or two instead of
a long client-side loop. Seeded FIRs use stations ``BN-001``..``BN-200``; a
re-run on the same database only adds the rows that are missing. The seed writes
around the repository (which keeps ``fir_counts`` in each write's transaction),
so it recounts them from ``firs`` after adding rows (about a minute at a million).

The hot set are ~2 KB FIRs created through Envoy's REST side, half of them
finalized: what a read-heavy client asks for again and again. Each is created
and finalized by the station house officer of its station (``BH-00``..``BH-04``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pymysql

from bench.target import WRITER, Target

STATIONS = 200
HOT_STATIONS = 5
SECTIONS = ("303", "304", "305", "309", "318", "115", "117", "118", "351", "329")
BATCH = 100_000
SPAN_SECONDS = 2 * 365 * 86400
_SECTION_LIST = ", ".join(f"'{s}'" for s in SECTIONS)

# Values are computed by MariaDB from the sequence number n; nothing comes from input.
_INSERT_FIRS = (
    "INSERT INTO firs (id, station_code, station_name, station_district, station_state, fir_year, fir_seq,"
    " fir_number, status, complainant, incident, accused, witnesses, properties, complaint_source,"
    " complaint_language, complaint_text, summary, narrative, legal_sections, action_taken, officer_name,"
    " officer_rank, generation, revision, created_at, updated_at, finalized_at)"
    " SELECT UUID(), st, CONCAT('Bench Station ', st), CONCAT('Bench District ', MOD(n, 20)), 'Delhi',"
    " YEAR(created), n, CONCAT(st, '/', YEAR(created), '/', LPAD(n, 7, '0')),"
    " IF(MOD(n, 10) < 7, 1, 2),"
    " JSON_OBJECT('name', CONCAT('Complainant ', n), 'phone', CONCAT('+91 98', LPAD(MOD(n * 7919, 100000000), 8, '0')),"
    "   'address', CONCAT(MOD(n, 500), ' Ring Road, New Delhi'), 'nationality', 'Indian'),"
    " JSON_OBJECT('occurred_from', DATE_FORMAT(created - INTERVAL 2 HOUR, '%%Y-%%m-%%dT%%H:%%i:%%sZ'),"
    "   'place', CONCAT('Market lane ', MOD(n, 300)), 'distance_km', MOD(n, 9) + 0.5),"
    " JSON_ARRAY(JSON_OBJECT('description', 'unknown man, about 30 years old')), JSON_ARRAY(),"
    " JSON_ARRAY(JSON_OBJECT('description', 'mobile phone', 'value_inr', 5000 + MOD(n, 40000))),"
    " 1, 'en', CONCAT('Complaint ', n, ': my phone was taken near the market while I was waiting for a bus.'),"
    " 'Mobile phone snatched near the market',"
    " CONCAT('On the evening of the incident the complainant was waiting near the market when an unknown man',"
    "   ' snatched the mobile phone and ran towards the main road. Case ', n, '.'),"
    " JSON_ARRAY(JSON_OBJECT('act', 'BNS', 'section', ELT(1 + MOD(n, 10), {sections}), 'title', 'Seeded')),"
    " 'Case registered and investigation taken up', 'SI Bench', 'Sub-Inspector', NULL, 1, created, created,"
    " IF(MOD(n, 10) < 7, NULL, created)"
    " FROM (SELECT seq AS n, CONCAT('BN-', LPAD(MOD(seq, {stations}) + 1, 3, '0')) AS st,"
    " %s - INTERVAL (({total} - seq) * {step}) MICROSECOND AS created FROM seq_{first}_to_{last}) AS g"
)
_INSERT_SECTIONS = (
    "INSERT IGNORE INTO fir_sections (fir_pk, act, section, created_at, updated_at, station_code, station_district)"
    " SELECT pk, 'BNS', ELT(1 + MOD(fir_seq, 10), {sections}), created_at, updated_at, station_code,"
    " station_district FROM firs WHERE pk > %s AND station_code LIKE 'BN-%%'"
)
_COUNTERS = (
    "INSERT INTO fir_counters (station_code, fir_year, last_seq)"
    " SELECT station_code, fir_year, MAX(fir_seq) FROM firs WHERE station_code LIKE 'BN-%%'"
    " GROUP BY station_code, fir_year ON DUPLICATE KEY UPDATE last_seq = GREATEST(last_seq, VALUES(last_seq))"
)


def seed_table(mysql: dict[str, Any], rows: int, log: Callable[[str], None] = print) -> dict[str, float]:
    """Make sure ``rows`` seeded FIRs exist; returns counts and timing."""
    conn = pymysql.connect(**mysql)
    started = time.monotonic()
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT COUNT(*), COALESCE(MAX(fir_seq), 0) FROM firs WHERE station_code LIKE 'BN-%%'")
            existing, last_seq = cur.fetchone()
            cur.execute("SELECT COALESCE(MAX(pk), 0) FROM firs")
            (max_pk,) = cur.fetchone()
            cur.execute("SELECT UTC_TIMESTAMP(6)")
            (now,) = cur.fetchone()
            cur.execute("SET SESSION unique_checks = 0, foreign_key_checks = 0")
            step = SPAN_SECONDS * 1_000_000 // max(rows, 1)
            first = int(last_seq) + 1
            target_last = int(last_seq) + max(0, rows - int(existing))
            while first <= target_last:
                last = min(first + BATCH - 1, target_last)
                sql = _INSERT_FIRS.format(
                    sections=_SECTION_LIST, stations=STATIONS, total=target_last, step=step, first=first, last=last
                )
                cur.execute(sql, (now,))
                log(f"seeded FIRs {first - int(last_seq)}..{last - int(last_seq)} of {target_last - int(last_seq)}")
                first = last + 1
            if target_last > int(last_seq):
                cur.execute(_INSERT_SECTIONS.format(sections=_SECTION_LIST), (max_pk,))
                cur.execute(_COUNTERS)
                log("counting the seeded FIRs (fir_counts, as the repository keeps them)")
                _recount(conn, cur)
                cur.execute("ANALYZE TABLE firs, fir_sections, fir_counts")
                cur.fetchall()
            cur.execute("SELECT COUNT(*) FROM firs")
            (total,) = cur.fetchone()
    finally:
        conn.close()
    return {"seed.rows_total": float(total), "seed.seconds": time.monotonic() - started}


def _recount(conn: Any, cur: Any) -> None:
    """Recompute ``fir_counts`` from ``firs``: the seed writes around the repository, which
    otherwise keeps the counts in each write's transaction."""
    from datetime import timedelta

    from afirgen_fir.adapters import count_sql
    from afirgen_fir.settings import FirSettings

    conn.begin()
    for stmt, args in count_sql.rebuild(timedelta(minutes=FirSettings.numbering_utc_offset_minutes)):
        cur.execute(stmt.sql, args)
    conn.commit()


def sample_ids(mysql: dict[str, Any], count: int, *, status: int = 1) -> list[str]:
    """Ids of seeded FIRs nobody read yet (the newest of a status), for cache misses."""
    conn = pymysql.connect(**mysql)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT id FROM firs WHERE station_code LIKE 'BN-%%' AND status = %s ORDER BY pk DESC LIMIT %s",
                (status, count),
            )
            return [row[0] for row in cur.fetchall()]
    finally:
        conn.close()


def hot_station(i: int) -> str:
    """Station code of hot FIR ``i``."""
    return f"BH-{i % HOT_STATIONS:02d}"


def hot_fir_body(i: int) -> dict[str, Any]:
    """A complete FIR of about 2 KB in JSON (what the cached read serves)."""
    return {
        "station": {"code": hot_station(i), "name": "Connaught Place", "district": "New Delhi", "state": "Delhi"},
        "complainant": {
            "name": f"Asha Verma {i}",
            "parent_or_spouse_name": "Mohan Verma",
            "date_of_birth": {"year": 1990, "month": 4, "day": 12},
            "nationality": "Indian",
            "occupation": "Teacher",
            "address": "17 Park Street, Connaught Place, New Delhi 110001",
            "phone": "+91 98100 12345",
            "email": "asha.verma@example.org",
        },
        "incident": {
            "occurred_from": "2026-11-01T18:30:00Z",
            "occurred_to": "2026-11-01T18:45:00Z",
            "place": "Janpath bus stop",
            "address": "Janpath Road, near Palika Bazaar gate 3",
            "distance_km": 1.5,
            "direction_from_station": "south-east",
            "reporting_delay_hours": 2,
            "delay_reason": "the complainant first went home to inform her family",
        },
        "accused": [
            {"name": "unknown", "description": "man of about 25, red helmet, black jacket, rode the motorcycle"},
            {"name": "unknown", "description": "man of about 30, pillion rider, grabbed the phone"},
        ],
        "witnesses": [{"name": "Ravi Kumar", "address": "Shop 12, Janpath", "description": "shopkeeper"}],
        "properties": [
            {"description": "mobile phone, black, dual SIM", "value_inr": 18000},
            {"description": "leather wallet with 2,000 rupees", "value_inr": 2500},
        ],
        "complaint": {
            "source": "COMPLAINT_SOURCE_MANUAL",
            "text": "Two men on a motorcycle snatched my phone and wallet at the Janpath bus stop.",
            "language": "en",
        },
        "summary": "Mobile phone and wallet snatched by two men on a motorcycle at the Janpath bus stop",
        "narrative": (
            "At about 18:30 the complainant was waiting at the Janpath bus stop when two men on a black "
            "motorcycle stopped beside her. The pillion rider snatched her mobile phone and wallet from her "
            "hand and the rider drove off towards Connaught Place. The complainant raised an alarm; a "
            "shopkeeper, Ravi Kumar, saw the motorcycle but could not note its registration number. "
        ),
        "legal_sections": [
            {"act": "BNS", "section": "304", "title": "Snatching", "reason": "phone taken by sudden force"},
            {"act": "BNS", "section": "3(5)", "title": "Common intention", "reason": "two men acted together"},
        ],
        "action_taken": "FIR registered; beat staff informed; CCTV footage of Janpath requested",
        "investigating_officer": {"name": "SI Sharma", "rank": "Sub-Inspector"},
    }


@dataclass
class HotSet:
    """FIRs made through the API: the read working set."""

    drafts: list[str] = field(default_factory=list)
    finalized: list[str] = field(default_factory=list)
    response_bytes: int = 0
    """Size of one GetFir REST answer (JSON, no gzip)."""


async def create_hot_set(target: Target, count: int, run_id: str) -> HotSet:
    """Create ``count`` FIRs (idempotent per ``run_id``), finalize every second one."""
    hot = HotSet()
    limits = httpx.Limits(max_connections=8)
    officers = {i: target.headers(WRITER, hot_station(i)) for i in range(min(count, HOT_STATIONS))}
    async with httpx.AsyncClient(base_url=target.base_url, timeout=30, limits=limits) as rest:

        async def one(i: int) -> None:
            officer = officers[i % HOT_STATIONS]
            key = {"Idempotency-Key": f"bench-{run_id}-{i}"}
            resp = await rest.post("/v1/firs", json=hot_fir_body(i), headers=officer | key)
            resp.raise_for_status()
            fir = resp.json()
            if i % 2:
                done = await rest.post(f"/v1/firs/{fir['id']}:finalize", json={"etag": fir["etag"]}, headers=officer)
                if done.status_code == 200:
                    hot.finalized.append(fir["id"])
                    return
            hot.drafts.append(fir["id"])

        for start in range(0, count, 8):
            await asyncio.gather(*(one(i) for i in range(start, min(count, start + 8))))
        if hot.drafts:
            reader = target.headers() | {"Accept-Encoding": "identity"}
            got = await rest.get(f"/v1/firs/{hot.drafts[0]}", headers=reader)
            hot.response_bytes = len(got.content)
    return hot
