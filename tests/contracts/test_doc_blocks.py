"""The documentation's shell blocks, read without a stack: every block either runs in
tests/docs/test_shell_blocks.py or says in a comment why not; this module lists the
ones that do not run (each is a skipped test with the reason) and fails on a block or a
comment the doc test could misread."""

from __future__ import annotations

import re

import pytest

from tests.docs.shell_blocks import DIRECTIVE, FENCE, HTTP_ERRORS, ROOT, Block, blocks, directives, doc_files

NOT_RUN = [block for path in doc_files() for block in blocks(path) if block.shell and not block.runs]


def test_every_fenced_block_names_its_language() -> None:
    unnamed = [block.where for path in doc_files() for block in blocks(path) if not block.language]
    assert unnamed == []


def test_every_doc_test_comment_is_well_formed_and_stands_before_a_shell_block() -> None:
    misplaced = []
    for path in doc_files():
        lines = path.read_text().splitlines()
        for number, line in directives(path):
            directive = DIRECTIVE.match(line)
            following = next((text for text in lines[number:] if text.strip()), "")
            fence = FENCE.match(following)
            well_formed = directive is not None and directive["reason"] != ""
            if directive is not None and directive["kind"] == "run":
                well_formed = directive["reason"] == HTTP_ERRORS
            language = fence["info"].strip().split()[0] if fence and fence["info"].strip() else ""
            if not well_formed or language not in ("sh", "bash", "shell", "console"):
                misplaced.append(f"{path.relative_to(ROOT)}:{number}")
    assert misplaced == []


def test_most_documented_commands_run() -> None:
    runnable = [block for path in doc_files() for block in blocks(path) if block.runs]
    assert len(runnable) > len(NOT_RUN)


def test_no_block_uses_a_placeholder_the_shell_would_read_as_a_redirection() -> None:
    """``ID=<job id>`` runs as a redirection from a file named ``job``: a runnable block must
    compute such values; one that cannot is marked not run."""
    placeholders = [
        block.where
        for path in doc_files()
        for block in blocks(path)
        if block.runs and re.search(r"<[a-z][a-z ]*>", re.sub(r"<<-?'?[A-Z]+'?", "", block.text))
    ]
    assert placeholders == []


@pytest.mark.parametrize("block", NOT_RUN, ids=lambda b: b.where)
def test_block_not_run(block: Block) -> None:
    """Listed, with its reason, in pytest's summary of skipped tests."""
    pytest.skip(f"{block.where} not run: {block.reason}")
