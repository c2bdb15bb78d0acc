"""The contracts: buf lint, generated code in sync, REST annotations, error reasons."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from afirgen.common.v1 import common_pb2
from afirgen.fir.v1 import fir_pb2
from google.api import annotations_pb2

ROOT = Path(__file__).resolve().parents[2]


def test_buf_lint_passes() -> None:
    proc = subprocess.run([str(ROOT / "node_modules/.bin/buf"), "lint"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_generated_code_is_not_stale() -> None:
    proc = subprocess.run([sys.executable, "scripts/codegen.py", "--check"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_architecture_rest_paths_are_annotated() -> None:
    expected = {
        "CreateFir": ("post", "/v1/firs"),
        "GenerateFir": ("post", "/v1/firs:generate"),
        "GetFir": ("get", "/v1/firs/{id}"),
        "ListFirs": ("get", "/v1/firs"),
        "UpdateFir": ("patch", "/v1/firs/{fir.id}"),
        "RegenerateFir": ("post", "/v1/firs/{id}:regenerate"),
        "FinalizeFir": ("post", "/v1/firs/{id}:finalize"),
        "GetFirStats": ("get", "/v1/firs:stats"),
    }
    service = fir_pb2.DESCRIPTOR.services_by_name["FirService"]
    for name, (verb, path) in expected.items():
        rule = service.methods_by_name[name].GetOptions().Extensions[annotations_pb2.http]
        assert getattr(rule, verb) == path, name


def test_every_error_reason_raised_in_code_is_declared() -> None:
    """Reasons are part of the contract: a client may switch on them."""
    declared = {v.name.removeprefix("ERROR_REASON_") for v in common_pb2.ErrorReason.DESCRIPTOR.values}
    used: set[str] = set()
    for path in [*ROOT.glob("libs/**/*.py"), *ROOT.glob("services/**/*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            value = None
            if isinstance(node, ast.keyword) and node.arg in ("reason", "default_reason"):
                value = node.value
            elif isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "default_reason" for t in node.targets):
                value = node.value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                used.add(value.value)
    assert used, "found no reasons: the scan is broken"
    assert used <= declared, f"undeclared reasons: {sorted(used - declared)}"
