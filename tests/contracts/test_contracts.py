"""The contracts: buf lint, generated code in sync, REST annotations, error reasons."""

from __future__ import annotations

import ast
import importlib
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import grpc
from afirgen.cache.v1 import cache_pb2
from afirgen.common.v1 import common_pb2
from afirgen.fir.v1 import fir_pb2
from afirgen.inference.v1 import inference_pb2
from afirgen.jobs.v1 import jobs_pb2
from afirgen_runtime import errors
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


def _error_classes() -> list[type[errors.AfirgenError]]:
    """The whole exception tree: the runtime's classes and each service's own."""
    for module in ("afirgen_fir.domain.errors", "afirgen_jobs.domain.errors", "afirgen_inference.domain.errors"):
        importlib.import_module(module)
    return errors.error_classes()


def test_every_error_class_carries_a_declared_reason() -> None:
    """Reasons are part of the contract: a client may switch on them."""
    declared = {v.name.removeprefix("ERROR_REASON_") for v in common_pb2.ErrorReason.DESCRIPTOR.values}
    classes = _error_classes()
    undeclared = {f"{c.__name__}: {c.reason}" for c in classes if c.reason not in declared}
    assert not undeclared, f"reasons missing from afirgen.common.v1.ErrorReason: {sorted(undeclared)}"
    assert all(c.code_name in grpc.StatusCode.__members__ for c in classes)
    own = [c for c in classes if "reason" in vars(c)]  # the others travel as their parent
    pairs = [(c.code_name, c.reason) for c in own]
    assert len(pairs) == len(set(pairs)), "two classes share a code and a reason: a status could not say which"
    for cls in classes:  # a subclass names a failure of its parent's code
        parent = cls.__mro__[1]
        if parent is not errors.AfirgenError and issubclass(parent, errors.AfirgenError):
            assert cls.code_name == parent.code_name, cls
    undocumented = [c.__name__ for c in own if c.__name__ not in (errors.__doc__ or "")]
    assert not undocumented, f"add them to the tree at the top of afirgen_runtime/errors.py: {undocumented}"


def test_every_declared_reason_is_raised_by_a_class_or_answered_by_the_edge() -> None:
    declared = {v.name.removeprefix("ERROR_REASON_") for v in common_pb2.ErrorReason.DESCRIPTOR.values}
    carried = {c.reason for c in _error_classes()}
    unused = declared - carried - errors.EDGE_REASONS - {"UNSPECIFIED"}
    assert not unused, f"no class raises these and the edge does not answer them: {sorted(unused)}"
    envoy = (ROOT / "edge" / "envoy.yaml.tmpl").read_text()
    assert all(reason in envoy for reason in errors.EDGE_REASONS)


def test_no_call_site_passes_a_reason_string() -> None:
    """A failure is raised as the class that carries its reason (afirgen_runtime.errors)."""
    found = []
    for path in [*ROOT.glob("libs/**/*.py"), *ROOT.glob("services/**/*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and any(
                k.arg == "reason" and isinstance(k.value, ast.Constant) and isinstance(k.value.value, str)
                for k in node.keywords
            ):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not found, found
