"""Generate Python code and the Envoy descriptor set from ``protos/``.

One command for every generated artefact::

    python scripts/codegen.py          # write gen/python, edge/generated, third_party
    python scripts/codegen.py --check  # exit 1 if anything committed is stale

Outputs:
- ``gen/python/afirgen/**``: ``*_pb2.py``, ``*_pb2.pyi`` and ``*_pb2_grpc.py``,
  one importable package (``import afirgen.fir.v1.fir_pb2``).
- ``edge/generated/afirgen.pb``: descriptor set (with imports) for Envoy's
  gRPC-JSON transcoder; it includes ``google/rpc/error_details.proto`` so the
  edge can print ``ErrorInfo``/``BadRequest`` details as JSON.
- ``third_party/googleapis``: the google.api / google.rpc protos our contracts
  import, copied from the pinned googleapis-common-protos wheel (buf reads them).
"""

from __future__ import annotations

import argparse
import filecmp
import shutil
import sys
import tempfile
from pathlib import Path

import google.api
import grpc_tools
from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent.parent
PROTOS = ROOT / "protos"
THIRD_PARTY = Path("third_party/googleapis")
GEN_PYTHON = Path("gen/python")
DESCRIPTOR = Path("edge/generated/afirgen.pb")
GOOGLE_PROTOS = [
    "google/api/annotations.proto",
    "google/api/http.proto",
    "google/api/field_behavior.proto",
    "google/api/httpbody.proto",
    "google/rpc/status.proto",
    "google/rpc/error_details.proto",
]


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

    sources = sorted(str(p.relative_to(PROTOS)) for p in PROTOS.rglob("*.proto"))
    py_out = out / GEN_PYTHON
    if py_out.exists():
        shutil.rmtree(py_out)
    py_out.mkdir(parents=True)
    _run_protoc([f"--python_out={py_out}", f"--pyi_out={py_out}", f"--grpc_python_out={py_out}", *sources])
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
        for rel in (GEN_PYTHON, DESCRIPTOR, THIRD_PARTY):
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
