""".env.example lists every AFIRGEN_* setting each process reads, with its default
(scripts/env_example.py). It fails when the file is stale, when a variable the
settings loader reads is missing from it, when a listed default does not load
back as the built-in one, and when an entry point loads settings the generator
does not know."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from afirgen_runtime import settings

from scripts import env_example
from scripts.env_example import PROCESSES, Process

ROOT = Path(__file__).resolve().parents[2]


class RecordingEnv(Mapping[str, str]):
    """An empty environment that remembers every variable name it was asked about."""

    def __init__(self) -> None:
        self.asked: set[str] = set()

    def __contains__(self, key: object) -> bool:
        if isinstance(key, str):
            self.asked.add(key)
        return False

    def __getitem__(self, key: str) -> str:
        self.asked.add(key)
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def section(process: Process) -> dict[str, str]:
    """``NAME=value`` lines of the process's section of the committed file."""
    text = (ROOT / ".env.example").read_text()
    start = text.index(f"# {process.name}: `{process.command}`")
    end = text.find("\n# ====", text.index("\n# ====", start) + 1)
    found: dict[str, str] = {}
    for line in text[start : end if end != -1 else len(text)].splitlines():
        if line and not line.startswith("#"):
            name, sep, value = line.partition("=")
            assert sep, f"not NAME=value: {line!r}"
            assert name not in found, f"{name} twice in the {process.name} section"
            found[name] = value
    return found


def test_env_example_is_current() -> None:
    assert (ROOT / ".env.example").read_text() == env_example.render(), (
        ".env.example is stale: run `.venv/bin/python -m scripts.env_example`"
    )


def test_check_command_passes() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "scripts.env_example", "--check"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("process", PROCESSES, ids=[p.name for p in PROCESSES])
def test_every_variable_the_loader_reads_is_listed(process: Process) -> None:
    env = RecordingEnv()
    settings.load(process.settings, env)
    assert env.asked, "the loader asked for nothing"
    assert set(section(process)) == env.asked


@pytest.mark.parametrize("process", PROCESSES, ids=[p.name for p in PROCESSES])
def test_listed_defaults_load_as_the_built_in_ones(process: Process) -> None:
    listed = section(process)
    secrets = {v.name for v in env_example.variables(env_example.process_group(process)) if v.secret}
    assert all(listed[name] == "" for name in secrets), "secrets must be left empty"
    loaded = settings.load(process.settings, {k: v for k, v in listed.items() if k not in secrets})
    assert loaded == process.settings()


def _load_calls(path: Path) -> Iterator[tuple[str, str | None]]:
    """``(class name, prefix)`` of every ``load(SomeSettings, ...)`` call in ``path``."""
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.Call) or not node.args or not isinstance(node.args[0], ast.Name):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        if name != "load" or not node.args[0].id.endswith("Settings"):
            continue
        prefix = next(
            (kw.value.value for kw in node.keywords if kw.arg == "prefix" and isinstance(kw.value, ast.Constant)),
            None,
        )
        yield node.args[0].id, prefix


def _nested_prefixes(cls: type[Any], prefix: str = settings.PREFIX) -> Iterator[tuple[str, str]]:
    hints = settings.hints_of(cls)
    for field in cls.__dataclass_fields__.values():
        kind = hints[field.name]
        if hasattr(kind, "__dataclass_fields__"):
            name = f"{prefix}_{field.name.upper()}"
            yield kind.__name__, name
            yield from _nested_prefixes(kind, name)


def test_every_entry_point_loads_settings_the_generator_covers() -> None:
    """A new process (or a tool reading a new group) must be added to scripts/env_example.py."""
    whole = {p.settings.__name__ for p in PROCESSES}
    groups = {pair for p in PROCESSES for pair in _nested_prefixes(p.settings)}
    calls = [
        (path.relative_to(ROOT), call)
        for path in sorted((ROOT / "services").glob("*/afirgen_*/**/*.py"))
        for call in _load_calls(path)
    ]
    assert len(calls) >= len(PROCESSES)
    for path, (cls_name, prefix) in calls:
        if prefix is None or prefix == settings.PREFIX:
            assert cls_name in whole, f"{path} loads {cls_name}, which .env.example does not list"
        else:
            assert (cls_name, prefix) in groups, f"{path} loads {cls_name} from {prefix}_*, not listed"
