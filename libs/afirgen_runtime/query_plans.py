"""What an ``EXPLAIN FORMAT=JSON`` says about a statement: :func:`parse_plan` flattens
it, :func:`problems` flags full scans and unindexed sorts of large tables, with the
index that would serve the statement.

The database logs the plan of a slow statement with them
(:meth:`afirgen_runtime.db.Database.explain_later`); the fir service's query-plan check
(``python -m afirgen_fir.entrypoints.query_plans``) judges every statement it issues.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

LARGE_TABLE_ROWS = 1000


@dataclass
class TablePlan:
    """How one table is read."""

    table: str
    access_type: str
    key: str | None
    rows: int
    condition: str = ""


@dataclass
class Plan:
    """The plan of one statement."""

    name: str
    tables: list[TablePlan] = field(default_factory=list)
    filesort: bool = False
    temporary: bool = False
    grouped: bool = False
    order_columns: list[str] = field(default_factory=list)


def _walk(node: Any, plan: Plan) -> None:
    if isinstance(node, dict):
        if "table_name" in node and "access_type" in node:
            plan.tables.append(
                TablePlan(
                    table=str(node["table_name"]),
                    access_type=str(node["access_type"]),
                    key=node.get("key"),
                    rows=int(node.get("rows", 0) or 0),
                    condition=str(node.get("attached_condition", "")),
                )
            )
        for key, value in node.items():
            if key == "filesort":
                plan.filesort = True
            if key == "temporary_table":
                plan.temporary = True
            _walk(value, plan)
    elif isinstance(node, list):
        for item in node:
            _walk(item, plan)


def parse_plan(name: str, sql: str, explain_json: str) -> Plan:
    """Flatten MariaDB/MySQL ``EXPLAIN FORMAT=JSON`` output."""
    plan = Plan(name=name)
    _walk(json.loads(explain_json), plan)
    upper = sql.upper()
    plan.grouped = " GROUP BY " in upper
    order = re.search(r"ORDER BY (.+?)(?: LIMIT| FOR UPDATE|$)", sql, re.I | re.S)
    if order:
        plan.order_columns = [c.strip().split()[0] for c in order.group(1).split(",")]
    return plan


def _condition_columns(condition: str) -> list[str]:
    return list(dict.fromkeys(re.findall(r"`\w+`\.`(\w+)`\s*(?:=|<|>|<=|>=| in| between)", condition, re.I)))


def problems(plan: Plan, large: int = LARGE_TABLE_ROWS) -> list[str]:
    """Why a plan is not acceptable on large tables (empty when it is)."""
    found: list[str] = []
    for table in plan.tables:
        # <subqueryN>/<derivedN> are materialised results, already read through an index.
        if table.access_type == "ALL" and table.rows > large and not table.table.startswith("<"):
            columns = _condition_columns(table.condition) + plan.order_columns
            hint = f"; an index on ({', '.join(dict.fromkeys(columns))}) would serve it" if columns else ""
            found.append(f"full scan of {table.table} (~{table.rows} rows){hint}")
    if plan.filesort and not plan.grouped:
        biggest = max((t.rows for t in plan.tables), default=0)
        if biggest > large:
            found.append(
                f"sort of ~{biggest} rows without an index; an index ending in ({', '.join(plan.order_columns)})"
                " would return rows in order"
            )
    return found
