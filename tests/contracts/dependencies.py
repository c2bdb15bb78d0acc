"""What the Python code imports and what the locks install, read without installing anything.

``pyproject.toml`` pins every direct dependency (core plus one extra per service image);
``requirements/<lock>.txt`` is the hash-locked closure made from it by ``make lock``
(scripts/lock.sh); the import closure of a service is every third-party top-level module
that its entry modules reach through our own packages (function-level imports included).
"""

from __future__ import annotations

import ast
import functools
import importlib.metadata
import re
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REQUIREMENTS = ROOT / "requirements"
SERVICE_LOCKS = ("fir", "inference", "cache", "jobs")
"""The extras that are service images (deploy/docker/Dockerfile.services, build arg SERVICE)."""
DEV_EXTRAS = (*SERVICE_LOCKS, "stack", "dev")
"""The extras of requirements/dev.txt, the local virtualenv."""
OUR_PACKAGES = {
    "afirgen_runtime": ROOT / "libs",
    "afirgen_fir": ROOT / "services" / "fir",
    "afirgen_inference": ROOT / "services" / "inference-proxy",
    "afirgen_cache": ROOT / "services" / "cache",
    "afirgen_jobs": ROOT / "services" / "jobs",
    "afirgen": ROOT / "gen" / "python",
}
"""Top-level packages of this repository and the directory each sits in."""


def normalize(name: str) -> str:
    """A distribution name as PEP 503 compares them."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class Pin:
    name: str
    version: str


def parse_requirement(text: str) -> tuple[str, str, tuple[str, ...]]:
    """``name[extra,...]==version`` -> (normalized name, version or "", extras)."""
    match = re.fullmatch(r"\s*([A-Za-z0-9._-]+)(?:\[([^\]]*)\])?\s*(?:==\s*([^\s;]+))?\s*", text)
    assert match, f"not a pinned requirement: {text!r}"
    extras = tuple(e.strip() for e in (match.group(2) or "").split(",") if e.strip())
    return normalize(match.group(1)), match.group(3) or "", extras


@functools.cache
def pyproject() -> dict[str, object]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def direct_pins(*extras: str) -> dict[str, str]:
    """Name -> pinned version of the core dependencies plus those of ``extras`` (self-references
    such as ``afirgen[mysql]`` followed)."""
    project = pyproject()["project"]
    assert isinstance(project, dict)
    optional: dict[str, list[str]] = project["optional-dependencies"]
    pins: dict[str, str] = {}
    todo, seen = [None, *extras], set()
    while todo:
        extra = todo.pop()
        if extra in seen:
            continue
        seen.add(extra)
        for requirement in project["dependencies"] if extra is None else optional[extra]:
            name, version, wanted = parse_requirement(requirement)
            if name == normalize(project["name"]):
                todo.extend(wanted)
                continue
            assert pins.get(name, version) == version, f"{name} pinned twice differently"
            pins[name] = version
    return pins


@dataclass(frozen=True)
class LockEntry:
    version: str
    hashes: tuple[str, ...]
    via: tuple[str, ...]


def read_lock(name: str) -> dict[str, LockEntry]:
    """Entries of ``requirements/<name>.txt`` as uv writes them: ``name==version \\``,
    ``--hash=sha256:...`` lines, then ``# via`` annotations."""
    entries: dict[str, LockEntry] = {}
    current: tuple[str, str] | None = None
    hashes: list[str] = []
    via: list[str] = []

    def close() -> None:
        if current:
            entries[current[0]] = LockEntry(current[1], tuple(hashes), tuple(via))

    for line in (REQUIREMENTS / f"{name}.txt").read_text().splitlines():
        stripped = line.strip()
        if not line.startswith((" ", "#")) and stripped:
            close()
            requirement = stripped.removesuffix("\\").strip()
            dist, version, _ = parse_requirement(requirement)
            current, hashes, via = (dist, version), [], []
        elif stripped.startswith("--hash="):
            hashes.append(stripped.removeprefix("--hash=").removesuffix("\\").strip())
        elif stripped.startswith("# via"):
            via.extend(v for v in [stripped.removeprefix("# via").strip()] if v)
        elif stripped.startswith("#   ") or (stripped.startswith("#") and current and line.startswith("    #")):
            via.append(stripped.lstrip("#").strip())
    close()
    return entries


def locked_directly(lock: dict[str, LockEntry]) -> dict[str, str]:
    """Name -> version of the entries the lock has because pyproject.toml asks for them."""
    return {name: e.version for name, e in lock.items() if any(v.startswith("afirgen (pyproject.toml)") for v in e.via)}


@functools.cache
def modules_of_distributions() -> dict[str, frozenset[str]]:
    """Normalized distribution name -> the top-level modules it installs (from .venv's metadata)."""
    found: dict[str, set[str]] = {}
    for module, dists in importlib.metadata.packages_distributions().items():
        for dist in dists:
            found.setdefault(normalize(dist), set()).add(module)
    return {dist: frozenset(modules) for dist, modules in found.items()}


def provided_modules(lock: dict[str, LockEntry]) -> set[str]:
    """Top-level modules an environment installed from ``lock`` can import."""
    known = modules_of_distributions()
    return {module for dist in lock for module in known.get(dist, ())}


def _module_file(module: str) -> Path | None:
    top = module.split(".")[0]
    if top not in OUR_PACKAGES:
        return None
    base = OUR_PACKAGES[top].joinpath(*module.split("."))
    if base.with_suffix(".py").is_file():
        return base.with_suffix(".py")
    if (base / "__init__.py").is_file():
        return base / "__init__.py"
    return None


def third_party_imports(*entries: str) -> set[str]:
    """Third-party top-level modules reachable from ``entries`` (module names, as after
    ``python -m``) through this repository's packages."""
    seen: set[str] = set()
    third: set[str] = set()
    todo = [*entries, *(f"{e}.__main__" for e in entries)]
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        path = _module_file(module)
        if path is None:
            continue
        parts = module.split(".")
        todo.extend(".".join(parts[:i]) for i in range(1, len(parts)))
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text())):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                    base = f"{anchor}.{base}" if base else anchor
                names = [base, *(f"{base}.{alias.name}" for alias in node.names)]
            for name in names:
                top = name.split(".")[0]
                if top in OUR_PACKAGES:
                    todo.append(name)
                elif top and top not in sys.stdlib_module_names:
                    third.add(top)
    return third
