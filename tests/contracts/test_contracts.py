"""The contracts: buf lint, generated code in sync, REST annotations, error reasons."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from afirgen.cache.v1 import cache_pb2
from afirgen.common.v1 import common_pb2
from afirgen.fir.v1 import fir_pb2
from afirgen.inference.v1 import inference_pb2
from afirgen.jobs.v1 import jobs_pb2
from google.api import annotations_pb2

ROOT = Path(__file__).resolve().parents[2]


def test_buf_lint_passes() -> None:
    proc = subprocess.run([str(ROOT / "node_modules/.bin/buf"), "lint"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_generated_code_is_not_stale() -> None:
    proc = subprocess.run([sys.executable, "scripts/codegen.py", "--check"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _openapi() -> dict[str, Any]:
    document: dict[str, Any] = json.loads((ROOT / "edge" / "generated" / "openapi.json").read_text())
    return document


def test_openapi_document_has_every_annotated_method_and_nothing_else() -> None:
    """Internal RPCs (no google.api.http annotation) stay out of the public document."""
    annotated = set()
    for module in (fir_pb2, jobs_pb2, inference_pb2, cache_pb2):
        for service in module.DESCRIPTOR.services_by_name.values():
            for method in service.methods:
                rule = method.GetOptions().Extensions[annotations_pb2.http]
                verb = rule.WhichOneof("pattern")
                if verb:
                    annotated.add((verb, getattr(rule, verb), f"{service.name}_{method.name}"))
    documented = {
        (verb, path, op["operationId"]) for path, methods in _openapi()["paths"].items() for verb, op in methods.items()
    }
    assert documented == annotated
    internal = {"JobService_CreateJob", "InferenceService_Generate", "CacheService_GetEntry"}
    assert not internal & {op for _, _, op in documented}


def test_openapi_document_uses_proto_field_names() -> None:
    """The edge prints proto field names (preserve_proto_field_names), so the document does too."""

    def names(node: Any) -> set[str]:
        if isinstance(node, list):
            return set().union(*(names(v) for v in node))
        if not isinstance(node, dict):
            return set()
        found = set(node["properties"]) if isinstance(node.get("properties"), dict) else set()
        return found.union(*(names(v) for v in node.values()))

    fields = names(_openapi()) - {"@type"}  # google.protobuf.Any's type URL
    assert {"fir_number", "next_page_token", "legal_sections"} <= fields
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", f) for f in fields), sorted(fields)


def test_openapi_document_fits_the_edge_direct_response_limit() -> None:
    template = (ROOT / "edge" / "envoy.yaml.tmpl").read_text()
    limit = int(re.search(r"max_direct_response_body_size_bytes: (\d+)", template).group(1))  # type: ignore[union-attr]
    assert (ROOT / "edge" / "generated" / "openapi.json").stat().st_size <= limit


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
