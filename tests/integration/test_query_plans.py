"""Every FIR statement has an acceptable plan on 100k FIRs, and none is missed.
Plan shapes only: the time of each statement at a million FIRs is gated by the
benchmark (`make bench`, scenario `database`)."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pytest
from afirgen_fir.adapters import sql
from afirgen_fir.adapters.statement_catalog import WHOLE_TABLE
from afirgen_fir.entrypoints import query_plans
from afirgen_runtime.db import Database
from afirgen_runtime.query_plans import parse_plan, problems

from scripts.devstack.stack import Stack
from tests.conftest import mysql_settings
from tests.waiting import until

pytestmark = pytest.mark.integration
ADAPTERS = Path(sql.__file__).parent


def test_catalog_names_every_statement_of_the_fir_adapters() -> None:
    """A Statement added to an adapter without a catalog entry fails here."""
    literal_names: set[str] = set()
    for path in ADAPTERS.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "Statement" and node.args:
                first = node.args[0]
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    literal_names.add(first.value)
    catalog_names = {stmt.name for stmt, _ in query_plans.catalog()}
    assert literal_names, "the scan found no statements"
    missing = literal_names - catalog_names - {"health.ping"}
    assert not missing, f"statements without a plan check: {sorted(missing)}"


def test_the_checker_flags_full_scans_and_unindexed_sorts() -> None:
    scan = parse_plan(
        "t.scan",
        "SELECT a FROM firs WHERE summary = %s ORDER BY summary LIMIT 5",
        '{"query_block": {"select_id": 1, "filesort": {"sort_key": "summary", "table": {"table_name": "firs",'
        ' "access_type": "ALL", "rows": 90000, "attached_condition": "`fir`.`firs`.`summary` = \'x\'"}}}}',
    )
    found = problems(scan)
    assert any("full scan of firs" in p and "(summary" in p for p in found)
    assert any("sort of ~90000 rows" in p for p in found)
    fine = parse_plan(
        "t.ok",
        "SELECT a FROM firs WHERE id = %s",
        '{"query_block": {"table": {"table_name": "firs", "access_type": "const", "key": "uq_firs_id", "rows": 1}}}',
    )
    assert problems(fine) == []


@pytest.mark.timeout(300)
async def test_every_statement_has_an_indexed_plan_on_100k_firs(stack: Stack) -> None:
    settings = mysql_settings(stack)
    query_plans.prepare_schema(settings)
    db = Database(dataclasses.replace(settings, database=query_plans.SCRATCH, slow_query_seconds=3600))
    try:
        await query_plans.seed(db, 100_000)
        plans = await query_plans.explain_all(db, query_plans.catalog())
    finally:
        await db.close()
    assert len(plans) == len(query_plans.catalog())
    bad = {plan.name: problems(plan) for plan in plans if problems(plan) and plan.name not in WHOLE_TABLE}
    assert not bad, bad
    keyset = [p for p in plans if p.name == "fir.list"]
    assert keyset and all(t.key for p in keyset for t in p.tables if not t.table.startswith("<"))


async def test_slow_statements_are_logged_with_their_plan(stack: Stack) -> None:
    import io
    import json

    from afirgen_runtime import logging as runtime_logging
    from afirgen_runtime.db import Statement
    from afirgen_runtime.settings import LogSettings

    stream = io.StringIO()
    runtime_logging.configure("test", LogSettings(), stream=stream)
    db = Database(dataclasses.replace(mysql_settings(stack), slow_query_seconds=0.0))
    try:
        await db.fetch_all(
            Statement("test.sleepy_scan", "SELECT SLEEP(0.01), COUNT(*) FROM firs WHERE summary = %s"), ["x"]
        )
        # The plan is looked up off the request path, after the statement answered.
        await until(lambda: "slow statement plan" in stream.getvalue(), every=0.1, what="the slow statement's plan")
    finally:
        await db.close()
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    plan = next(line for line in lines if line["message"] == "slow statement plan")
    assert plan["context"]["statement"] == "test.sleepy_scan"
    assert any(t.startswith("firs:ALL") for t in plan["context"]["tables"])
    assert "x" not in json.dumps(plan["context"]["tables"])  # arguments never reach the log
