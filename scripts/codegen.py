"""Generate Python code, the Envoy descriptor set and the OpenAPI document from ``protos/``.

One command for every generated artefact::

    python scripts/codegen.py          # write gen/python, edge/generated, third_party, docs/api.md
    python scripts/codegen.py --check  # exit 1 if anything committed is stale

Outputs:
- ``gen/python/afirgen/**``: ``*_pb2.py`` and ``*_pb2_grpc.py`` (protoc, grpcio-tools),
  one importable package (``import afirgen.fir.v1.fir_pb2``), with ``*_pb2.pyi`` and
  ``*_pb2_grpc.pyi`` stubs from mypy-protobuf (``protoc-gen-mypy``, ``protoc-gen-mypy_grpc``,
  pinned in pyproject.toml): typed messages, enums, ``grpc.aio`` stubs and servicer
  base classes, which ``mypy`` follows.
- ``edge/generated/afirgen.pb``: descriptor set (with imports) of every contract, for
  gRPC clients that read one (grpcurl, ghz); it includes ``google/rpc/error_details.proto``
  so the edge can print ``ErrorInfo``/``BadRequest`` details as JSON.
- ``edge/generated/transcoder.pb``: the same set as Envoy's gRPC-JSON transcoder reads it:
  the methods of ``JSON_BODIES`` answer a ``google.api.HttpBody`` there, because fir sends
  REST callers of those methods the JSON body itself (rendered once and kept, instead of
  printed by the edge on every read: ``services/fir/afirgen_fir/entrypoints/rest_json.py``).
- ``third_party/googleapis``: the google.api / google.rpc protos our contracts
  import, copied from the pinned googleapis-common-protos wheel (buf reads them).
- ``third_party/stubs``: that wheel's own ``*_pb2.pyi`` stubs of those protos (and of
  ``google/rpc/code.proto``). The wheel ships them without a ``py.typed`` marker, so
  mypy would not read them where they are installed; ``mypy_path`` names this copy.
- ``edge/generated/openapi.json``: one OpenAPI v2 document of the public REST
  surface (every method with a ``google.api.http`` annotation; internal RPCs have
  none), made by grpc-gateway's ``protoc-gen-openapiv2`` (``.tools/bin``, pinned in
  scripts/install/tools.sh) with the options of ``edge/openapi-options.yaml``, then
  adjusted to what the edge really answers (``_as_the_edge_answers``). The edge
  serves it at ``GET /openapi.json``.
- ``docs/api.md``: the reference page rendered from that document.
"""

from __future__ import annotations

import argparse
import filecmp
import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import google.api
import grpc_tools
from google.protobuf import descriptor_pb2
from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent.parent
PROTOS = ROOT / "protos"
THIRD_PARTY = Path("third_party/googleapis")
THIRD_PARTY_STUBS = Path("third_party/stubs")
GEN_PYTHON = Path("gen/python")
DESCRIPTOR = Path("edge/generated/afirgen.pb")
TRANSCODER_DESCRIPTOR = Path("edge/generated/transcoder.pb")
JSON_BODIES = {"afirgen/fir/v1/fir.proto": {"FirService": ("GetFir", "ListFirs")}}
"""Methods whose REST callers fir answers with the JSON body (proto file, service, methods):
Envoy passes those bodies on as they are instead of printing the message."""
OPENAPI = Path("edge/generated/openapi.json")
API_DOC = Path("docs/api.md")
OPENAPI_PLUGIN = ROOT / ".tools" / "bin" / "protoc-gen-openapiv2"
STUB_PLUGINS = Path(sys.executable).parent
"""Where mypy-protobuf's ``protoc-gen-mypy`` and ``protoc-gen-mypy_grpc`` are (the venv's bin)."""
OPENAPI_OPTIONS = ROOT / "edge" / "openapi-options.yaml"
PUBLIC_PROTOS = [
    # The first one carries the document-level options (edge/openapi-options.yaml).
    "afirgen/fir/v1/fir.proto",
    "afirgen/jobs/v1/jobs.proto",
    "afirgen/inference/v1/inference.proto",
    "afirgen/cache/v1/cache.proto",
]
"""Protos with services behind the edge; only their annotated methods become paths."""
OPENAPI_PLUGIN_OPTIONS = [
    "allow_merge=true",
    "merge_file_name=openapi",
    # The edge prints (preserve_proto_field_names) and reads proto field names.
    "json_names_for_fields=false",
    "openapi_naming_strategy=simple",
    # The edge does not infer update_mask from the body: it is a query parameter.
    "allow_patch_feature=false",
    "ignore_go_package_option=true",
    f"openapi_configuration={OPENAPI_OPTIONS}",
]
BINARY_RESPONSES = {"FirService_GetFirDocument": "application/pdf"}
"""google.api.HttpBody responses: the edge answers the raw bytes with this content type."""
GOOGLE_PROTOS = [
    "google/api/annotations.proto",
    "google/api/http.proto",
    "google/api/field_behavior.proto",
    "google/api/httpbody.proto",
    "google/rpc/status.proto",
    "google/rpc/error_details.proto",
]
GOOGLE_STUBS = [rel.removesuffix(".proto") + "_pb2.pyi" for rel in GOOGLE_PROTOS] + ["google/rpc/code_pb2.pyi"]
"""Stubs of the google modules the generated stubs and our code import."""


def _run_protoc(args: list[str]) -> None:
    wkt = Path(grpc_tools.__file__).parent / "_proto"
    argv = ["grpc_tools.protoc", f"-I{PROTOS}", f"-I{ROOT / THIRD_PARTY}", f"-I{wkt}", *args]
    if protoc.main(argv) != 0:
        raise SystemExit(f"protoc failed: {' '.join(argv)}")


def generate(out: Path) -> None:
    """Write every generated artefact below ``out`` (the repo root or a scratch dir)."""
    googleapis_root = Path(next(iter(google.api.__path__))).parent.parent
    for rel in GOOGLE_PROTOS:
        dest = out / THIRD_PARTY / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(googleapis_root / rel, dest)
    for rel in GOOGLE_STUBS:
        dest = out / THIRD_PARTY_STUBS / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(googleapis_root / rel, dest)

    sources = sorted(str(p.relative_to(PROTOS)) for p in PROTOS.rglob("*.proto"))
    py_out = out / GEN_PYTHON
    if py_out.exists():
        shutil.rmtree(py_out)
    py_out.mkdir(parents=True)
    _run_protoc(
        [
            f"--python_out={py_out}",
            f"--grpc_python_out={py_out}",
            f"--plugin=protoc-gen-mypy={STUB_PLUGINS / 'protoc-gen-mypy'}",
            f"--plugin=protoc-gen-mypy_grpc={STUB_PLUGINS / 'protoc-gen-mypy_grpc'}",
            f"--mypy_out=quiet:{py_out}",
            # Every service and client uses grpc.aio: stubs and servicers typed for it only.
            f"--mypy_grpc_out=quiet,only_async:{py_out}",
            *sources,
        ]
    )
    for directory in [py_out / "afirgen", *(d for d in (py_out / "afirgen").rglob("*") if d.is_dir())]:
        (directory / "__init__.py").touch()
    (py_out / "afirgen" / "py.typed").touch()

    (out / DESCRIPTOR).parent.mkdir(parents=True, exist_ok=True)
    _run_protoc(
        [
            "--include_imports",
            f"--descriptor_set_out={out / DESCRIPTOR}",
            *sources,
            "google/rpc/error_details.proto",
        ]
    )

    _write_transcoder_descriptor(out / DESCRIPTOR, out / TRANSCODER_DESCRIPTOR)

    document = _openapi()
    (out / OPENAPI).write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    (out / API_DOC).parent.mkdir(parents=True, exist_ok=True)
    (out / API_DOC).write_text(render_api_doc(document))


def _openapi() -> dict[str, Any]:
    """The merged OpenAPI v2 document of the public REST surface."""
    if not OPENAPI_PLUGIN.is_file():
        raise SystemExit(f"{OPENAPI_PLUGIN} is missing: run scripts/install/tools.sh")
    with tempfile.TemporaryDirectory() as scratch:
        _run_protoc(
            [
                f"--plugin=protoc-gen-openapiv2={OPENAPI_PLUGIN}",
                f"--openapiv2_out={scratch}",
                f"--openapiv2_opt={','.join(OPENAPI_PLUGIN_OPTIONS)}",
                *PUBLIC_PROTOS,
            ]
        )
        document: dict[str, Any] = json.loads((Path(scratch) / "openapi.swagger.json").read_text())
    return _as_the_edge_answers(document)


def _refs(node: Any) -> set[str]:
    """Names of the definitions ``node`` refers to directly."""
    if isinstance(node, dict):
        found = {node["$ref"].rsplit("/", 1)[-1]} if isinstance(node.get("$ref"), str) else set()
        return found.union(*(_refs(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(_refs(value) for value in node))
    return set()


def _closure(definitions: dict[str, Any], roots: set[str]) -> set[str]:
    """``roots`` and every definition they refer to, transitively."""
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        name = todo.pop()
        if name not in seen and name in definitions:
            seen.add(name)
            todo += _refs(definitions[name])
    return seen


def _as_the_edge_answers(document: dict[str, Any]) -> dict[str, Any]:
    """Adjust the plugin's document to Envoy's gRPC-JSON transcoder (edge/envoy.yaml.tmpl).

    - A server-streaming method answers one JSON array of its messages (grpc-gateway
      would wrap each message in ``{"result": ...}``).
    - A ``google.api.HttpBody`` response is the raw body, not an HttpBody message.
    - Responses may leave out ``google.api.field_behavior = REQUIRED`` fields (a
      ``read_mask`` selects fields; a partial update sends only the changed ones), so
      ``required`` stays only on request-only messages; the field's description says
      it is required on create.
    - Errors (the ``default`` response) are described as the edge sends them.
    - Tags of services without any routed method, and definitions nothing refers to,
      are left out.
    """
    definitions: dict[str, Any] = document["definitions"]
    operations = [op for methods in document["paths"].values() for op in methods.values()]
    for methods in document["paths"].values():
        for parameter in methods.get("patch", {}).get("parameters", []):
            if parameter["in"] == "body":  # a partial update: only the fields of update_mask
                parameter["schema"].pop("required", None)
    for op in operations:
        responses = op["responses"]
        ok = responses["200"]
        streamed = ok["schema"].get("properties", {}).get("result")
        if ok["description"].endswith("(streaming responses)") and streamed:
            ok["description"] = "A JSON array of the streamed messages, in order."
            ok["schema"] = {"type": "array", "items": streamed}
        if ok["schema"].get("$ref") == "#/definitions/HttpBody":
            media_type = BINARY_RESPONSES.get(op["operationId"], "application/octet-stream")
            ok["description"] = f"The document ({media_type})."
            ok["schema"] = {"type": "file"}
            op["produces"] = [media_type, "application/json"]
        responses["default"]["description"] = (
            "An error: a google.rpc.Status with an ErrorInfo reason (and BadRequest field violations"
            " for bad input), from the service or from the edge itself (401, 403, 404, 413, 429...)."
        )

    answered = _closure(definitions, set().union(*(_refs(op["responses"]["200"]) for op in operations)))
    for name in sorted(answered):
        schema = definitions[name]
        for field in schema.pop("required", []):
            prop = schema["properties"][field]
            prop["description"] = (prop.get("description", "") + " Required on create.").strip()

    used = {tag for op in operations for tag in op.get("tags", [])}
    document["tags"] = [tag for tag in document.get("tags", []) if tag["name"] in used]
    referenced = _closure(definitions, _refs(document["paths"]))
    document["definitions"] = {name: s for name, s in definitions.items() if name in referenced}
    return document


def _schema_name(schema: dict[str, Any]) -> str:
    """A short name for a schema: its definition, ``array of X``, or its type."""
    if "$ref" in schema:
        return f"`{schema['$ref'].rsplit('/', 1)[-1]}`"
    if schema.get("type") == "array":
        return f"array of {_schema_name(schema.get('items', {}))}"
    if schema.get("type") == "object" and "properties" in schema:
        return "object: " + ", ".join(f"`{name}`" for name in schema["properties"])
    kind = schema.get("type", "any")
    return f"{kind} ({schema['format']})" if "format" in schema else kind


def _cell(text: str) -> str:
    """Text for one Markdown table cell."""
    return " ".join(text.split()).replace("|", "\\|")


def render_api_doc(document: dict[str, Any]) -> str:
    """docs/api.md: one section per path and method of the OpenAPI document."""
    info = document["info"]
    lines = [
        f"# {info['title']} ({info['version']})",
        "",
        "<!-- Generated by scripts/codegen.py from edge/generated/openapi.json: do not edit, run `make proto`. -->",
        "",
        " ".join(info.get("description", "").split()),
        "",
        "Every operation needs the `bearer` security scheme (`Authorization: Bearer <token>`), and"
        " every one answers errors as its `default` response, a `Status`. Schemas are the"
        " `definitions` of [`edge/generated/openapi.json`](../edge/generated/openapi.json).",
        "",
        "| method | path | summary |",
        "|---|---|---|",
    ]
    operations = [
        (method.upper(), path, op) for path, methods in document["paths"].items() for method, op in methods.items()
    ]
    for method, path, op in operations:
        # GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens.
        anchor = "".join(c for c in f"{method} {path}".lower() if c.isalnum() or c in " -_").replace(" ", "-")
        summary = _cell(op.get("summary", "")).split(". ")[0].rstrip(".")
        lines.append(f"| {method} | [`{path}`](#{anchor}) | {summary} |")
    for method, path, op in operations:
        lines += ["", f"## {method} {path}", ""]
        lines += [f"`{op['operationId']}` ({', '.join(op.get('tags', []))})", ""]
        lines += [" ".join(op.get(key, "").split()) for key in ("summary", "description") if op.get(key)]
        parameters = [p for p in op.get("parameters", []) if p["in"] != "body"]
        if parameters:
            lines += ["", "| parameter | in | type | required | description |", "|---|---|---|---|---|"]
            for p in parameters:
                kind = _schema_name(p)
                required = "yes" if p.get("required") else "no"
                lines.append(f"| `{p['name']}` | {p['in']} | {kind} | {required} | {_cell(p.get('description', ''))} |")
        for body in (p for p in op.get("parameters", []) if p["in"] == "body"):
            lines += ["", f"Request body: {_schema_name(body['schema'])}"]
        lines += ["", "| response | schema | description |", "|---|---|---|"]
        for status, response in op["responses"].items():
            schema = _schema_name(response["schema"]) if "schema" in response else "none"
            lines.append(f"| {status} | {schema} | {_cell(response.get('description', ''))} |")
    return "\n".join(lines) + "\n"


def _write_transcoder_descriptor(source: Path, target: Path) -> None:
    """``source`` with the methods of ``JSON_BODIES`` answering ``google.api.HttpBody``."""
    files = descriptor_pb2.FileDescriptorSet.FromString(source.read_bytes())
    changed = set()
    for proto in files.file:
        for service in proto.service:
            for method in service.method:
                if method.name in JSON_BODIES.get(proto.name, {}).get(service.name, ()):
                    method.output_type = ".google.api.HttpBody"
                    changed.add((proto.name, service.name, method.name))
    wanted = {(f, s, m) for f, services in JSON_BODIES.items() for s, methods in services.items() for m in methods}
    if changed != wanted:
        raise SystemExit(f"JSON_BODIES names methods the protos do not have: {sorted(wanted - changed)}")
    target.write_bytes(files.SerializeToString(deterministic=True))


def _tree(base: Path, rel: Path) -> dict[str, Path]:
    root = base / rel
    if root.is_file():
        return {str(rel): root}
    return {str(p.relative_to(base)): p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts}


def check() -> int:
    """Regenerate into a scratch dir and compare with the working tree."""
    with tempfile.TemporaryDirectory() as scratch:
        generate(Path(scratch))
        stale: list[str] = []
        for rel in (GEN_PYTHON, DESCRIPTOR, TRANSCODER_DESCRIPTOR, THIRD_PARTY, THIRD_PARTY_STUBS, OPENAPI, API_DOC):
            fresh, committed = _tree(Path(scratch), rel), _tree(ROOT, rel)
            for name in sorted(fresh.keys() | committed.keys()):
                if (
                    name not in fresh
                    or name not in committed
                    or not filecmp.cmp(fresh[name], committed[name], shallow=False)
                ):
                    stale.append(name)
    if stale:
        print("stale generated files (run `make proto`):", *stale, sep="\n  ")
        return 1
    print("generated code is up to date")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if generated files are stale")
    args = parser.parse_args()
    if args.check:
        return check()
    generate(ROOT)
    return 0


if __name__ == "__main__":
    sys.exit(main())
