"""The shell blocks of the documentation, as the doc test runs them.

Every fenced block tagged ``sh``, ``bash``, ``shell`` or ``console`` in :data:`DOC_FILES` is a
command a reader may paste, so the test runs it against the test stack
(tests/docs/test_shell_blocks.py). A block that cannot run there says so, and why, in an HTML
comment on the line before its fence (invisible in the rendered page)::

    <!-- not run: stops the stack the test session runs on -->

A block whose commands are meant to answer HTTP errors (examples of error bodies) says::

    <!-- run: http errors expected -->

and runs with plain ``curl``; every other block's ``curl`` fails on an HTTP error status.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHELL = frozenset({"sh", "bash", "shell", "console"})
DIRECTIVE = re.compile(r"^\s*<!--\s*(?P<kind>not run|run):\s*(?P<reason>.*?)\s*-->\s*$")
HTTP_ERRORS = "http errors expected"
FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")


def doc_files() -> list[Path]:
    """README.md, every page under docs/, and the other READMEs that give commands."""
    extra = [ROOT / "deploy" / "README.md", ROOT / "evaluation" / "README.md", ROOT / "bench" / "README.md"]
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md")), *[p for p in extra if p.exists()]]


@dataclass(frozen=True)
class Block:
    """One fenced block of a markdown file."""

    path: str
    """Relative to the repository root."""
    line: int
    """1-based line of the opening fence."""
    language: str
    text: str
    """The block's lines with the fence's indentation removed (console blocks: the commands only)."""
    directive: str
    """``run`` (no comment), ``not run`` or ``run: <reason>`` as written before the fence."""
    reason: str

    @property
    def shell(self) -> bool:
        return self.language in SHELL

    @property
    def runs(self) -> bool:
        return self.shell and self.directive != "not run"

    @property
    def expects_http_errors(self) -> bool:
        return self.directive == "run" and self.reason == HTTP_ERRORS

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"


def blocks(path: Path) -> list[Block]:
    """Every fenced block of ``path``, in order."""
    lines = path.read_text().splitlines()
    found: list[Block] = []
    i = 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        indent, fence, info = opening["indent"], opening["fence"], opening["info"].strip()
        body: list[str] = []
        j = i + 1
        while j < len(lines) and not re.match(rf"^\s*{re.escape(fence)}\s*$", lines[j]):
            body.append(lines[j][len(indent) :] if lines[j].startswith(indent) else lines[j].lstrip())
            j += 1
        previous = next((lines[k] for k in range(i - 1, -1, -1) if lines[k].strip()), "")
        directive = DIRECTIVE.match(previous)
        language = info.split()[0] if info else ""
        if language == "console":
            body = [line[2:] for line in body if line.startswith("$ ")]
        found.append(
            Block(
                path=str(path.relative_to(ROOT)),
                line=i + 1,
                language=language,
                text="\n".join(body) + "\n",
                directive=directive["kind"] if directive else "run",
                reason=directive["reason"] if directive else "",
            )
        )
        i = j + 1
    return found


def shell_blocks() -> list[Block]:
    """The shell blocks of every documentation file."""
    return [block for path in doc_files() for block in blocks(path) if block.shell]


def directives(path: Path) -> list[tuple[int, str]]:
    """(line, text) of every doc-test comment in ``path``."""
    return [(n, line) for n, line in enumerate(path.read_text().splitlines(), 1) if re.match(r"\s*<!--.*run:", line)]
